#!/usr/bin/env python3
"""swiftconv on whole networks: every conv layer of ResNet-50, MobileNetV2, EfficientNet-B0,
the DCGAN generator and a U-Net decoder (``benchmarks/networks.py``), against baselines
measured in the same run.

For every network, batch size, thread count and mode, each distinct layer shape is timed
(median over interleaved blocks: swiftconv, torch, onnxruntime, numpy, swiftconv, ...), and
the network's total is the sum of the layer medians times how often the network runs the
layer.

* forward: ``swiftconv.conv2d`` / ``conv_transpose2d`` with the layer's bias (or none);
* training: the forward plus all three gradients (``*_backward`` with output_mask all true);

against the NumPy im2col + matmul baseline (``swiftconv._reference.baseline_*``) always and,
when importable, PyTorch (``torch.nn.functional`` forward, ``torch.ops.aten.
convolution_backward`` for the gradients) and ONNX Runtime (forward only: a one-node
Conv/ConvTranspose model built in memory), all at the same thread count. The calls, the ONNX
models, the thread settings and the verification come from ``benchmarks/bench.py``.

Checks (bench.py's ``verify``: the float64 NumPy reference ``swiftconv._reference``, within
``4*K*eps*sum|a*b| + tiny``): swiftconv's result of every layer, batch and mode, and
bitwise equality of its results across thread counts; the baselines' at the smallest batch.
A result outside the bound is a FAIL (exit status 1).

Output: per network the totals and ratios, every implementation's thread scaling, and the
layers that lose the most time against the best baseline with the kernels
``swiftconv.explain`` reports; progress on stderr; raw results in
``benchmarks/results/networks.json`` (git-ignored). benchmarks/README.md has the details.

    PYTHONPATH=python python3 benchmarks/network_bench.py [--quick] [--networks a,b]
        [--batches 1,8] [--threads 1,2] [--modes forward,training] [--top 10] [--json PATH]
        [--layout both] [--clock cpu]

``--layout both`` also times swiftconv on channels-last activations (``x`` and ``go`` in
(N, H, W, C) memory, viewed as NCHW; the results come back channels-last), interleaved
with the NCHW calls, and prints its total against NCHW per network.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (benchmarks/bench.py: calls, ONNX models, verification, environment)
import fma_peak  # noqa: E402  (benchmarks/fma_peak.py: the measured FMA peak of the tier in use)
from bench import Arrays, Call, Case, Timing, Verdict, fmt_time, fmt_ratio  # noqa: E402
from networks import NETWORKS, Layer, Network, distinct  # noqa: E402

import swiftconv as sc  # noqa: E402

torch, ort, onnx = bench.torch, bench.ort, bench.onnx
RESULTS = Path(__file__).resolve().parent / "results" / "networks.json"
MODES = ("forward", "training")
BASELINES = ("numpy", "torch", "onnxruntime")


# --------------------------------------------------------------------------- calls


def cases(layer: Layer, batch: int) -> Tuple[Case, Case]:
    """bench.py's forward case of a layer at a batch size, and its backward."""
    fwd = Case(layer.name, layer.op, (batch, *layer.input), layer.weight_shape(), layer.stride,
               layer.padding, layer.dilation, layer.groups, layer.output_padding)
    return fwd, bench.backward_of(fwd, layer.name)


def make_data(layer: Layer, bwd: Case) -> Dict[str, Optional[np.ndarray]]:
    """bench.py's standard-normal x, w, b, go; b is None for a layer without bias."""
    d: Dict[str, Optional[np.ndarray]] = dict(bench.make_data(bwd))
    if not layer.bias:
        d["b"] = None
    return d


def torch_forward(case: Case, d: Dict[str, Optional[np.ndarray]]) -> Optional[Call]:
    """torch.nn.functional forward, bias optional (bench.torch_call always passes one)."""
    if torch is None:
        return None
    if d["b"] is not None:
        return bench.torch_call(case, d)  # type: ignore[arg-type]
    x, w, c, F = torch.from_numpy(d["x"]), torch.from_numpy(d["w"]), case, torch.nn.functional

    def call() -> Arrays:
        with torch.no_grad():
            if c.transposed:
                y = F.conv_transpose2d(x, w, None, c.stride, c.padding, c.output_padding, c.groups,
                                       c.dilation)
            else:
                y = F.conv2d(x, w, None, c.stride, c.padding, c.dilation, c.groups)
        return (y.numpy(),)
    return call


def ort_forward(case: Case, d: Dict[str, Optional[np.ndarray]], threads: int) -> Optional[Call]:
    """bench.py's one-node ONNX model in ONNX Runtime; without bias, the model's B input is
    dropped (bench.onnx_model always adds one)."""
    if ort is None:
        return None
    if d["b"] is not None:
        return bench.ort_call(case, d, threads)  # type: ignore[arg-type]
    zeros = np.zeros(case.out_channels, case.dtype)
    model = onnx.load_from_string(bench.onnx_model(case, {**d, "b": zeros}))  # type: ignore[dict-item]
    del model.graph.node[0].input[2]
    kept = [t for t in model.graph.initializer if t.name != "B"]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(model.SerializeToString(), options,
                                       providers=["CPUExecutionProvider"])
    except Exception as exc:
        print(f"  onnxruntime unavailable for {case.name}: {type(exc).__name__}", file=sys.stderr)
        return None
    x = d["x"]
    return lambda: tuple(session.run(None, {"X": x}))


def chain(*fns: Optional[Call]) -> Optional[Call]:
    """One call running each of ``fns`` in turn (their results concatenated); None if any is."""
    if any(f is None for f in fns):
        return None
    return lambda: tuple(r for f in fns for r in f())  # type: ignore[misc]


def channels_last(a: Optional[np.ndarray]) -> Optional[np.ndarray]:
    """The same (N, C, H, W) values in channels-last memory: (N, H, W, C) C-contiguous, as
    its transposed view (what ``x_nhwc.transpose(0, 3, 1, 2)`` gives)."""
    return None if a is None else np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


#: --clock: wall time, or this process's CPU time (one thread only: on a machine shared with
#: other jobs it leaves out the time they take the CPU away; with several threads it would
#: add the threads' times up).
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
CLOCK = ["wall"]

#: swiftconv on channels-last activations (--layout both): not a baseline, the layout's cost.
NHWC = "swiftconv_nhwc"
#: swiftconv through `sc.prepare` (--prepared): the weights validated and packed once, before
#: the timing, as ONNX Runtime packs them when its session is made. Not a baseline.
PREPARED = "swiftconv_prepared"
#: swiftconv's own variants: never the "best baseline".
VARIANTS = ("swiftconv", NHWC, PREPARED)


def prepared_call(mode: str, fwd: Case, d: Dict[str, Optional[np.ndarray]]) -> Call:
    """The layer as a prepared convolution, made once here: forward p(x), or training
    p(x) followed by p.backward(grad_output, x) (all three gradients, as conv2d_backward)."""
    c = fwd
    params = dict(stride=c.stride, padding=c.padding, dilation=c.dilation, groups=c.groups)
    if c.op == "conv_transpose2d":
        params["output_padding"] = c.output_padding
    p = sc.prepare(c.op, d["w"], d["b"], **params)
    x, go = d["x"], d["go"]
    if mode == "forward":
        return lambda: (p(x),)
    return lambda: (p(x),) + tuple(p.backward(go, x))


def implementations(mode: str, fwd: Case, bwd: Case, d: Dict[str, Optional[np.ndarray]],
                    threads: int, baselines: Sequence[str], layouts: Sequence[str] = ("nchw",),
                    prepared: bool = False) -> Dict[str, Call]:
    """swiftconv and the selected baselines (those available) for one layer in one mode;
    with "nhwc" in ``layouts``, swiftconv on channels-last input and grad_output too (its
    results are channels-last); with ``prepared``, swiftconv through ``sc.prepare``."""
    no_none = {k: v for k, v in d.items() if v is not None}
    dl = dict(d, x=channels_last(d["x"]), go=channels_last(d["go"]))
    if mode == "forward":
        makers: Dict[str, Callable[[], Optional[Call]]] = {
            "swiftconv": lambda: bench.swiftconv_call(fwd, d),  # type: ignore[arg-type]
            "numpy": lambda: bench.numpy_call(fwd, d),  # type: ignore[arg-type]
            "torch": lambda: torch_forward(fwd, d),
            "onnxruntime": lambda: ort_forward(fwd, d, threads),
            NHWC: lambda: bench.swiftconv_call(fwd, dl),  # type: ignore[arg-type]
            PREPARED: lambda: prepared_call(mode, fwd, d)}
    else:
        makers = {
            "swiftconv": lambda: chain(bench.swiftconv_call(fwd, d), bench.swiftconv_call(bwd, d)),  # type: ignore[arg-type]
            "numpy": lambda: chain(bench.numpy_call(fwd, d), bench.numpy_call(bwd, d)),  # type: ignore[arg-type]
            "torch": lambda: chain(torch_forward(fwd, d), bench.torch_call(bwd, no_none)),
            NHWC: lambda: chain(bench.swiftconv_call(fwd, dl), bench.swiftconv_call(bwd, dl)),  # type: ignore[arg-type]
            PREPARED: lambda: prepared_call(mode, fwd, d)}
    impls = {k: make() for k, make in makers.items()
             if k == "swiftconv" or k in baselines or (k == NHWC and "nhwc" in layouts) or (k == PREPARED and prepared)}
    return {k: v for k, v in impls.items() if v is not None}


# --------------------------------------------------------------------------- kernels


def explain(layer: Layer, mode: str, fwd: Case, bwd: Case, d: Dict[str, Optional[np.ndarray]]) -> str:
    """swiftconv.explain for the layer's forward (training: and its backward), full text."""
    kw: Dict[str, Any] = dict(stride=fwd.stride, padding=fwd.padding, dilation=fwd.dilation,
                              groups=fwd.groups)
    if fwd.transposed:
        kw["output_padding"] = fwd.output_padding
    text = sc.explain(fwd.op, d["x"], d["w"], d["b"], **kw)
    if mode == "training":
        text += "\n" + sc.explain(bwd.op, d["x"], d["w"], None, d["go"], **kw)
    return text


def short_kernels(text: str) -> str:
    """The kernel names of an explain text, details dropped: 'im2col' for a forward,
    'fwd im2col; gi upsample>im2col; gw gemm' for a training step (gi/gw: grad_input/weight)."""
    blocks = re.split(r"\n(?=conv)", text)  # one block per explain call
    steps = []
    for block in blocks:
        head, *lines = block.splitlines()
        label = "" if len(blocks) == 1 else "gi " if "_backward" in head.split()[0] else "fwd "
        for line in lines:
            line = re.sub(r"\s*\([^)]*\)", "", line.strip())
            if line.startswith(("bias gradient", "kernels:")):  # always channel sums; the tier
                continue
            line = line.replace(", then forward conv: ", ">")
            if line.startswith("weight gradient: "):
                steps.append("gw " + line.split(": ", 1)[1])
            else:
                steps.append(label + (line.split(": ", 1)[1] if ": " in line else line))
    return "; ".join(steps)


# --------------------------------------------------------------------------- measuring


class OtherLoad:
    """CPU time the rest of the machine used (and the hypervisor stole) while a block ran, in
    vCPUs on average: busy time from /proc/stat minus this process's own CPU time, over the
    wall time. On a 2-vCPU machine anything above ~0.1 means the timings competed."""

    def __init__(self) -> None:
        self.start = self.snapshot()

    @staticmethod
    def snapshot() -> Optional[Tuple[float, float, float]]:
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        busy = sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0)  # minus idle, iowait
        t = os.times()
        return time.perf_counter(), busy / os.sysconf("SC_CLK_TCK"), t.user + t.system

    def vcpus(self) -> Optional[float]:
        end = self.snapshot()
        if self.start is None or end is None or end[0] <= self.start[0]:
            return None
        wall, busy, own = (e - s for e, s in zip(end, self.start))
        return max(0.0, (busy - own) / wall)


@dataclass
class Result:
    """One distinct layer of a network at one batch size, thread count and mode."""

    network: str
    layer: Layer
    batch: int
    threads: int
    mode: str
    kernels: str = ""
    timings: Dict[str, Timing] = field(default_factory=dict)
    verdicts: Dict[str, Verdict] = field(default_factory=dict)
    pass_medians: Dict[str, List[float]] = field(default_factory=dict)
    bitwise: Optional[bool] = None  # swiftconv == its result at the first thread count
    load: Optional[float] = None  # 1-minute load average when the measurement started
    others: Optional[float] = None  # vCPUs the rest of the machine used during the timing

    def median(self, impl: str) -> Optional[float]:
        return self.timings[impl].median if impl in self.timings else None

    def best_baseline(self) -> Tuple[Optional[str], Optional[float]]:
        times = [(t.median, name) for name, t in self.timings.items() if name not in VARIANTS]
        if not times:
            return None, None
        t, name = min(times)
        return name, t

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts.values())


def timing_order(impls: Dict[str, Call]) -> List[str]:
    """swiftconv, torch, onnxruntime, numpy: NumPy last (see time_interleaved)."""
    return sorted(impls, key=lambda k: k == "numpy")


def time_interleaved(impls: Dict[str, Call], expected: Dict[str, float], passes: int,
                     block_time: float, max_block: int, settle: float,
                     blas_idle: float) -> Tuple[Dict[str, Timing], Dict[str, List[float]]]:
    """Timed call by call in ``passes`` blocks per implementation, interleaved (A B C A B C),
    NumPy last in each pass: each block runs at least one call and until ``block_time``
    seconds (at most ``max_block`` calls). Returns every implementation's samples and
    per-block medians.

    With several threads, a library's idle workers keep spinning for a while after its last
    call and take the vCPU the next library's workers need (measured on the 2-vCPU machines:
    the next library's calls 1.5-7x slower for ~10-40 ms after PyTorch or ONNX Runtime, and
    swiftconv 2x slower for ~0.1 s after NumPy's OpenBLAS). So each block first settles: for
    ``settle`` seconds it runs untimed calls (when a call, ``expected``, is shorter than that;
    they also bring its data back into the caches) or sleeps (longer calls); and after a
    NumPy block the run sleeps ``blas_idle`` seconds, until OpenBLAS's workers stop spinning.
    ``settle`` = ``blas_idle`` = 0 at one thread."""
    samples: Dict[str, List[float]] = {k: [] for k in impls}
    medians: Dict[str, List[float]] = {k: [] for k in impls}
    order = timing_order(impls)
    clock = CLOCKS[CLOCK[0]]
    for _ in range(passes):
        for name in order:
            fn = impls[name]
            if settle > 0:
                if expected[name] < settle:
                    end = clock() + settle
                    while clock() < end:
                        fn()
                else:
                    time.sleep(settle)
            block: List[float] = []
            end = clock() + block_time
            while True:
                t0 = clock()
                fn()
                t1 = clock()
                block.append(t1 - t0)
                if t1 >= end or len(block) >= max_block:
                    break
            samples[name] += block
            medians[name].append(statistics.median(block))
            if name == "numpy" and blas_idle > 0:
                time.sleep(blas_idle)
    return {k: Timing(v) for k, v in samples.items()}, medians


def oracle(mode: str, fwd: Case, bwd: Case, d: Dict[str, Optional[np.ndarray]],
           cache: Dict[str, Any]) -> Tuple[Arrays, Arrays, Tuple[int, ...]]:
    """bench.reference (float64 results, scales, terms) for the mode, computed once per layer."""
    if "forward" not in cache:
        cache["forward"] = bench.reference(fwd, d)  # type: ignore[arg-type]
    if mode == "forward":
        return cache["forward"]
    if "backward" not in cache:
        cache["backward"] = bench.reference(bwd, d)  # type: ignore[arg-type]
    (wf, sf, kf), (wb, sb, kb) = cache["forward"], cache["backward"]
    return wf + wb, sf + sb, kf + kb


def run_layer(net: str, layer: Layer, batch: int, args: argparse.Namespace) -> List[Result]:
    """Every thread count and mode of one layer at one batch size.

    Each implementation's first call is checked, its second is a warm-up (the first calls
    of a shape fault in workspaces), then the interleaved timing. Checks: swiftconv against
    the float64 reference at the first thread count and bitwise against that result at the
    others (the engine's results do not depend on the thread count); the baselines against
    the reference at the first thread count and the smallest batch (``--verify-all``: every
    implementation at every batch and thread count)."""
    fwd, bwd = cases(layer, batch)
    d = make_data(layer, bwd)
    cache: Dict[str, Any] = {}
    first: Dict[str, Arrays] = {}  # swiftconv's result per mode at the first thread count
    kernels = {mode: explain(layer, mode, fwd, bwd, d) for mode in args.modes}
    check_baselines = args.verify_all or batch == min(args.batches)
    results = []
    for ti, threads in enumerate(args.threads):
        bench.set_threads(threads)
        with bench.BlasThreads(threads):
            for mode in args.modes:
                r = Result(net, layer, batch, threads, mode, kernels[mode],
                           load=os.getloadavg()[0] if hasattr(os, "getloadavg") else None)
                impls = implementations(mode, fwd, bwd, d, threads, args.baselines, args.layouts, args.prepared)
                expected: Dict[str, float] = {}
                several = threads > 1
                for name in timing_order(impls):  # first call: checked; second: warm-up
                    fn = impls[name]
                    t0 = time.perf_counter()
                    out = fn()
                    expected[name] = time.perf_counter() - t0
                    if name == "swiftconv" and mode in first:
                        r.bitwise = all(np.array_equal(a, b) for a, b in zip(out, first[mode]))
                    if (name == "swiftconv" and (mode not in first or not r.bitwise or args.verify_all)) \
                            or (name != "swiftconv" and (ti == 0 and check_baselines or args.verify_all)):
                        want, scales, k = oracle(mode, fwd, bwd, d, cache)
                        r.verdicts[name] = bench.verify(out, want, scales, k, fwd.dtype)
                    if name == "swiftconv":
                        first.setdefault(mode, out)
                    del out
                    t0 = time.perf_counter()
                    fn()
                    expected[name] = min(expected[name], time.perf_counter() - t0)
                    if name == "numpy" and several:
                        time.sleep(args.blas_idle)
                meter = OtherLoad()
                r.timings, r.pass_medians = time_interleaved(
                    impls, expected, args.passes, args.block_time, args.max_block,
                    args.settle if several else 0.0, args.blas_idle if several else 0.0)
                r.others = meter.vcpus()
                results.append(r)
    return results


# --------------------------------------------------------------------------- reporting


Config = Tuple[str, int, int, str]  # network, batch, threads, mode


def totals(results: Sequence[Result]) -> Dict[Config, Dict[str, float]]:
    """Per (network, batch, threads, mode) and implementation: sum of count x median over the
    network's layers (an implementation missing a layer gets no total)."""
    groups: Dict[Config, List[Result]] = {}
    for r in results:
        groups.setdefault((r.network, r.batch, r.threads, r.mode), []).append(r)
    out: Dict[Config, Dict[str, float]] = {}
    for cfg, rs in groups.items():
        impls = set.intersection(*(set(r.timings) for r in rs))
        out[cfg] = {i: sum(r.layer.count * r.timings[i].median for r in rs) for i in sorted(impls)}
    return out


def flops(net: Network, batch: int, mode: str) -> float:
    """2 x multiply-adds of every conv layer (training: forward + grad_input + grad_weight)."""
    return 2.0 * net.macs() * batch * (3 if mode == "training" else 1)


def align(headers: List[str], rows: List[List[str]], left: Sequence[int]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    fmt = lambda cells: "  ".join(c.ljust(w) if i in left else c.rjust(w)  # noqa: E731
                                  for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return "\n".join([fmt(headers), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


def others_by_config(results: Sequence[Result]) -> Dict[Config, Optional[float]]:
    """The vCPUs other processes used while a configuration was timed (weighted by time)."""
    acc: Dict[Config, List[float]] = {}
    for r in results:
        if r.others is None:
            continue
        wall = sum(sum(t.samples) for t in r.timings.values())
        a = acc.setdefault((r.network, r.batch, r.threads, r.mode), [0.0, 0.0])
        a[0] += r.others * wall
        a[1] += wall
    return {cfg: (a[0] / a[1] if a[1] else None) for cfg, a in acc.items()}


#: The smallest GEMM (output channels, output pixels at batch 1, depth C_in x taps) counted as
#: dense: below it the layer is bound by memory or call overhead, not FMAs (the SE layers'
#: 1x1 convs on a 1x1 plane, U-Net's 64->2 head), and no FMA-peak share means anything.
DENSE_MINIMUM = 16


def is_dense(layer: Layer) -> bool:
    """The layers of issue 10's peak target: dense (one group) 3x3 and 1x1 convolutions whose
    GEMM has at least `DENSE_MINIMUM` rows, columns and depth."""
    h, w = layer.output_hw()
    depth = layer.in_channels * layer.kernel[0] * layer.kernel[1]
    return (not layer.transposed and layer.groups == 1 and layer.kernel in ((3, 3), (1, 1))
            and min(layer.out_channels, h * w, depth) >= DENSE_MINIMUM)


#: The baselines whose share of the same peak the dense table shows next to swiftconv's: the
#: peak probe is a register-only loop at turbo clock, so what the best libraries reach on the
#: same layers of the same machine says how far any convolution gets below it.
DENSE_BASELINES = ("onnxruntime", "torch")


def dense_table(results: Sequence[Result], peak: fma_peak.Peak) -> str:
    """Per network, batch, threads and mode: the dense 3x3 / 1x1 layers' swiftconv GFLOP/s
    (their flops over the sum of their median times x multiplicity) as a share of the
    measured peak x threads, the layer furthest below it, and each baseline's share of the
    peak on the same layers (where it timed all of them)."""
    groups: Dict[Config, List[Result]] = {}
    for r in results:
        if is_dense(r.layer) and "swiftconv" in r.timings:
            groups.setdefault((r.network, r.batch, r.threads, r.mode), []).append(r)
    rows = []
    for (net, batch, threads, mode), rs in groups.items():
        per_flop = 2.0 * batch * (3 if mode == "training" else 1)
        work = lambda r: per_flop * r.layer.macs() * r.layer.count  # noqa: E731
        seconds = sum(r.layer.count * r.timings["swiftconv"].median for r in rs)
        gflops = sum(work(r) for r in rs) / seconds / 1e9
        top = peak.float32 * threads
        worst = min(rs, key=lambda r: work(r) / r.layer.count / r.timings["swiftconv"].median)
        worst_share = work(worst) / worst.layer.count / worst.timings["swiftconv"].median / 1e9 / top
        shares = []
        for impl in DENSE_BASELINES:
            if all(impl in r.timings for r in rs):
                theirs = sum(work(r) for r in rs) / sum(r.layer.count * r.timings[impl].median for r in rs) / 1e9
                shares.append(f"{100 * theirs / top:.0f}%")
            else:
                shares.append("—")
        rows.append([net, str(batch), str(threads), mode, str(len(rs)),
                     f"{seconds * 1e3:.2f} ms", f"{gflops:.1f}", f"{100 * gflops / top:.0f}%", *shares,
                     f"{worst.layer.describe()} {100 * worst_share:.0f}%"])
    return align(["network", "batch", "thr", "mode", "layers", "time", "GFLOP/s", "% peak",
                  *(f"{impl} % peak" for impl in DENSE_BASELINES), "lowest layer"], rows,
                 left={0, 3, 8 + len(DENSE_BASELINES)})


def summary_table(results: Sequence[Result], tot: Dict[Config, Dict[str, float]]) -> str:
    """One line per network, batch, threads and mode: totals and swiftconv / baseline."""
    failed = {(r.network, r.batch, r.threads, r.mode) for r in results if not r.passed}
    others = others_by_config(results)
    rows = []
    for (net, batch, threads, mode), t in tot.items():
        s = t["swiftconv"]
        ratio = lambda impl: fmt_ratio(s / t[impl]) if impl in t else "—"  # noqa: E731
        time_of = lambda impl: fmt_time(t[impl]) if impl in t else "—"  # noqa: E731
        rows.append([net, str(batch), str(threads), mode, fmt_time(s),
                     f"{flops(NETWORKS[net], batch, mode) / s / 1e9:.1f}",
                     time_of("numpy"), ratio("numpy"), time_of("torch"), ratio("torch"),
                     time_of("onnxruntime"), ratio("onnxruntime"),
                     "—" if others.get((net, batch, threads, mode)) is None
                     else f"{others[(net, batch, threads, mode)]:.2f}",
                     "FAIL" if (net, batch, threads, mode) in failed else "ok"])
    return align(["network", "batch", "thr", "mode", "swiftconv", "GFLOP/s", "numpy", "vs np",
                  "torch", "vs torch", "ort", "vs ort", "others", "check"], rows, left={0, 3, 13})


def scaling_table(tot: Dict[Config, Dict[str, float]], thread_counts: Sequence[int]) -> str:
    """Speed-up from the fewest to the most threads of each implementation's total."""
    lo, hi = min(thread_counts), max(thread_counts)
    rows = []
    for (net, batch, threads, mode), t_lo in tot.items():
        if threads != lo or (net, batch, hi, mode) not in tot:
            continue
        t_hi = tot[(net, batch, hi, mode)]
        cell = lambda impl: f"{t_lo[impl] / t_hi[impl]:.2f}x" if impl in t_lo and impl in t_hi else "—"  # noqa: E731
        rows.append([net, str(batch), mode] + [cell(i) for i in ("swiftconv", "numpy", "torch", "onnxruntime")])
    return align(["network", "batch", "mode", "swiftconv", "numpy", "torch", "ort"], rows,
                 left={0, 2})


def layout_table(tot: Dict[Config, Dict[str, float]]) -> str:
    """swiftconv on channels-last activations against NCHW, per network total (the same
    layers, timed interleaved in the same run)."""
    rows = []
    for (net, batch, threads, mode), t in tot.items():
        if NHWC not in t:
            continue
        rows.append([net, str(batch), str(threads), mode, fmt_time(t["swiftconv"]), fmt_time(t[NHWC]),
                     f"{t[NHWC] / t['swiftconv']:.2f}"])
    return align(["network", "batch", "thr", "mode", "NCHW", "NHWC", "NHWC / NCHW"], rows, left={0, 3})


def prepared_table(tot: Dict[Config, Dict[str, float]]) -> str:
    """swiftconv through sc.prepare (weights packed once, before the timing) per network
    total: against the functional calls and against the baselines (the same layers, timed
    interleaved in the same run)."""
    rows = []
    for (net, batch, threads, mode), t in tot.items():
        if PREPARED not in t:
            continue
        p = t[PREPARED]
        ratio = lambda impl: fmt_ratio(p / t[impl]) if impl in t else "—"  # noqa: E731
        rows.append([net, str(batch), str(threads), mode, fmt_time(t["swiftconv"]), fmt_time(p),
                     f"{p / t['swiftconv']:.2f}", ratio("torch"), ratio("onnxruntime")])
    return align(["network", "batch", "thr", "mode", "function", "prepared", "prep / fn", "prep vs torch",
                  "prep vs ort"], rows, left={0, 3})


def losers(results: Sequence[Result], net: str, mode: str, top: int) -> Optional[str]:
    """The layers of one network that lose the most time against the best baseline, at the
    smallest batch and thread count measured, with their ratios at the other configurations."""
    rs = [r for r in results if r.network == net and r.mode == mode]
    if not rs:
        return None
    batches, threads = sorted({r.batch for r in rs}), sorted({r.threads for r in rs})
    b0, t0 = batches[0], threads[0]
    by_cfg: Dict[Tuple[tuple, int, int], Result] = {(r.layer.key(), r.batch, r.threads): r for r in rs}
    others = [(b, t) for b in batches for t in threads if (b, t) != (b0, t0)]
    ranked = []
    for r in rs:
        if (r.batch, r.threads) != (b0, t0):
            continue
        name, best = r.best_baseline()
        if best is None:
            continue
        lost = r.layer.count * (r.timings["swiftconv"].median - best)
        ranked.append((lost, r, name, best))
    ranked.sort(key=lambda x: -x[0])
    rows = []
    for lost, r, name, best in ranked[:top]:
        sc_t = r.timings["swiftconv"].median
        cells = [r.layer.describe(), str(r.layer.count), fmt_time(sc_t),
                 f"{fmt_time(best)} {name.replace('onnxruntime', 'ort')}", f"{sc_t / best:.2f}x",
                 ("+" if lost >= 0 else "-") + fmt_time(abs(lost))]
        for b, t in others:
            o = by_cfg.get((r.layer.key(), b, t))
            ob = o.best_baseline()[1] if o else None
            cells.append(f"{o.timings['swiftconv'].median / ob:.2f}x" if o and ob else "—")
        cells.append(short_kernels(r.kernels))
        rows.append(cells)
    headers = ["layer", "n", "swiftconv", "best baseline", "ratio", "lost"]
    headers += [f"b{b}t{t}" for b, t in others] + ["swiftconv kernels (explain)"]
    title = (f"{net} {mode}: layers losing the most time at batch {b0}, {t0} thread"
             f"{'s' if t0 > 1 else ''} (lost = n x (swiftconv - best baseline); "
             f"bBtT: ratio at batch B, T threads)")
    return title + "\n" + align(headers, rows, left={0, 3, len(headers) - 1})


def to_json(results: Sequence[Result], tot: Dict[Config, Dict[str, float]], env: Dict[str, Any],
            args: argparse.Namespace) -> Dict[str, Any]:
    return {
        "environment": env,
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "networks": {n: {"title": NETWORKS[n].title, "conv_layers": NETWORKS[n].conv_layers(),
                         "macs_batch1": NETWORKS[n].macs(),
                         "layers": [dict(name=l.name, shape=l.describe(), input=l.input,
                                         out_channels=l.out_channels, kernel=l.kernel,
                                         stride=l.stride, padding=l.padding, dilation=l.dilation,
                                         groups=l.groups, bias=l.bias, transposed=l.transposed,
                                         output_padding=l.output_padding, count=l.count)
                                    for l in distinct(NETWORKS[n].layers)]}
                     for n in args.networks},
        "totals": [{"network": n, "batch": b, "threads": t, "mode": m, "seconds": v}
                   for (n, b, t, m), v in tot.items()],
        "layers": [{
            "network": r.network, "layer": r.layer.name, "shape": r.layer.describe(),
            "count": r.layer.count, "batch": r.batch, "threads": r.threads, "mode": r.mode,
            "explain": r.kernels,
            "implementations": {
                name: {"median_s": t.median, "best_s": t.best, "samples": len(t.samples),
                       "pass_medians_s": r.pass_medians[name],
                       **({"verified": r.verdicts[name].passed,
                           "max_abs_diff": r.verdicts[name].max_abs_diff,
                           "worst_share_of_bound": r.verdicts[name].worst_share_of_bound}
                          if name in r.verdicts else {"verified": None}),
                       **({"bitwise_as_first_thread_count": r.bitwise}
                          if name == "swiftconv" else {})}
                for name, t in r.timings.items()},
            "load_average_1min": r.load, "others_vcpus": r.others,
        } for r in results],
    }


# --------------------------------------------------------------------------- main


def csv(text: str, kind: Callable[[str], Any], choices: Optional[Sequence[Any]], what: str,
        parser: argparse.ArgumentParser) -> List[Any]:
    try:
        values = [kind(v) for v in text.split(",") if v]
    except ValueError:
        parser.error(f"--{what}: expected comma-separated values, got {text!r}")
    bad = [v for v in values if choices is not None and v not in choices]
    if bad or not values:
        parser.error(f"--{what}: unknown {', '.join(map(str, bad)) or 'empty'}; choose from "
                     f"{', '.join(map(str, choices or []))}")
    return values


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Every conv layer of five networks: swiftconv against NumPy, PyTorch and "
                    "ONNX Runtime (when installed), measured in the same run.",
        epilog="networks: " + ", ".join(NETWORKS))
    parser.add_argument("--quick", action="store_true",
                        help="batch 1 only, one short timing block per implementation and "
                             "layer (~3 min)")
    parser.add_argument("--networks", default=",".join(NETWORKS), help="comma-separated networks")
    parser.add_argument("--batches", default=None,
                        help="comma-separated batch sizes (default 1,8; --quick 1)")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--modes", default=",".join(MODES), help="forward,training")
    parser.add_argument("--baselines", default=",".join(BASELINES),
                        help="which baselines to time (default all that are installed)")
    parser.add_argument("--passes", type=int, default=None,
                        help="interleaved timing blocks per implementation and layer (default 3; "
                             "--quick 1)")
    parser.add_argument("--block-time", type=float, default=None,
                        help="seconds per timing block, at least one call (default 0.03; "
                             "--quick 0.01)")
    parser.add_argument("--max-block", type=int, default=100, help="calls per block, at most")
    parser.add_argument("--settle", type=float, default=0.05,
                        help="with several threads: seconds of untimed calls (or sleep, for long "
                             "calls) before each block (default 0.05)")
    parser.add_argument("--blas-idle", type=float, default=0.15,
                        help="with several threads: seconds of sleep after each NumPy block, "
                             "until OpenBLAS's workers stop spinning (default 0.15)")
    parser.add_argument("--layout", default="nchw", choices=("nchw", "both"),
                        help="both: also time swiftconv on channels-last (NHWC) activations, "
                             "interleaved with the NCHW calls, and print the ratio per network")
    parser.add_argument("--prepared", action="store_true",
                        help="also time swiftconv through sc.prepare (weights packed once before the "
                             "timing, as ONNX Runtime packs them at session creation)")
    parser.add_argument("--clock", default="wall", choices=tuple(CLOCKS),
                        help="cpu: time by this process's CPU time (one thread only; for a "
                             "machine shared with other jobs)")
    parser.add_argument("--verify-all", action="store_true",
                        help="check every implementation at every batch and thread count")
    parser.add_argument("--top", type=int, default=10, help="losing layers listed per network")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write raw results")
    args = parser.parse_args(argv)
    args.networks = csv(args.networks, str, list(NETWORKS), "networks", parser)
    args.batches = csv(args.batches or ("1" if args.quick else "1,8"), int, None, "batches", parser)
    args.threads = csv(args.threads, int, None, "threads", parser)
    args.modes = csv(args.modes, str, MODES, "modes", parser)
    args.baselines = csv(args.baselines, str, BASELINES, "baselines", parser)
    args.layouts = ("nchw", "nhwc") if args.layout == "both" else ("nchw",)
    if args.passes is None:
        args.passes = 1 if args.quick else 3
    if args.block_time is None:
        args.block_time = 0.01 if args.quick else 0.03
    if min(args.batches + args.threads) < 1 or args.passes < 1 or args.max_block < 1:
        parser.error("batches, threads, --passes and --max-block must be >= 1")
    if args.clock == "cpu" and max(args.threads) > 1:
        parser.error("--clock cpu measures one thread only (it adds the threads' CPU times up)")
    CLOCK[0] = args.clock
    if min(args.block_time, args.settle, args.blas_idle) < 0:
        parser.error("--block-time, --settle and --blas-idle must be >= 0")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    env = bench.environment()
    env["swiftconv_kernels"] = bench.kernel_tier()
    env["cpu_flags_avx512"] = sorted(set(re.findall(r"\bavx512\w*", Path("/proc/cpuinfo").read_text()))) \
        if Path("/proc/cpuinfo").exists() else []
    # The FMA peak, read before the layers and again after each network and batch: the
    # dense table uses the median of the readings (fma_peak.median_of says why).
    peak, no_peak = fma_peak.measure(env["swiftconv_kernels"])
    peak_readings = [] if peak is None else [peak]

    def record_peak() -> None:
        env["measured_fma_peak"] = None if peak is None else {
            "tier": peak.tier, "float32_gflops_per_thread": peak.float32, "how": peak.how,
            "readings": [r.float32 for r in peak_readings]}

    record_peak()
    start = time.perf_counter()

    def progress(text: str) -> None:
        sys.stderr.write(f"[{time.perf_counter() - start:6.0f}s] {text}\n")
        sys.stderr.flush()

    results: List[Result] = []
    args.json.parent.mkdir(parents=True, exist_ok=True)
    for name in args.networks:
        net = NETWORKS[name]
        layers = distinct(net.layers)
        for batch in args.batches:
            for i, layer in enumerate(layers, 1):
                rs = run_layer(name, layer, batch, args)
                results += rs
                notes = []
                for r in rs:
                    _, best = r.best_baseline()
                    ratio = f" ({r.timings['swiftconv'].median / best:.2f}x best)" if best else ""
                    notes.append(f"{'fwd' if r.mode == 'forward' else 'train'} {r.threads}t {fmt_time(r.timings['swiftconv'].median)}"
                                 f"{ratio}{'' if r.passed else ' FAIL'}")
                others = [r.others for r in rs if r.others is not None]
                progress(f"{name} b{batch} [{i}/{len(layers)}] {layer.describe()} x{layer.count}: "
                         + ", ".join(notes)
                         + (f"; others {max(others):.1f} vCPU" if others else ""))
            if peak is not None:
                reading, _ = fma_peak.measure(env["swiftconv_kernels"])
                if reading is not None:
                    peak_readings.append(reading)
                    peak = fma_peak.median_of(peak_readings)
                    record_peak()
            tot = totals(results)
            env["load_average_after"] = os.getloadavg() if hasattr(os, "getloadavg") else None
            env["seconds"] = time.perf_counter() - start
            args.json.write_text(json.dumps(to_json(results, tot, env, args), indent=1))
    tot = totals(results)
    env["complete"] = True
    env["seconds"] = time.perf_counter() - start
    args.json.write_text(json.dumps(to_json(results, tot, env, args), indent=1))

    print(f"swiftconv {env['swiftconv']} on {env['cpu']} ({env['cpus_available']} CPUs); "
          f"numpy {env['numpy']}, torch {env['torch'] or '—'}, onnxruntime {env['onnxruntime'] or '—'}")
    print(f"numpy BLAS: {env['numpy_blas']}; swiftconv kernels: {env['swiftconv_kernels']}")
    if env["load_average_before"] is not None:
        load = lambda key: "/".join(f"{v:.2f}" for v in env[key])  # noqa: E731
        print(f"load average (1/5/15 min) before {load('load_average_before')}, after "
              f"{load('load_average_after')}; run time {env['seconds']:.0f} s")
    for name in args.networks:
        net = NETWORKS[name]
        print(f"  {name}: {net.title}; {net.conv_layers()} conv layers, "
              f"{len(distinct(net.layers))} distinct, {net.macs() / 1e9:.3f} GMAC per image")
    print("\nTotals over every conv layer (sum of per-layer medians x multiplicity); vs X = "
          "swiftconv / X (< 1: swiftconv faster); training = forward + grad_input + grad_weight "
          "+ grad_bias; GFLOP/s of swiftconv; others = vCPUs other processes used meanwhile "
          "(> ~0.1 on this machine: the timings competed for the CPUs)\n")
    print(summary_table(results, tot))
    if "nhwc" in args.layouts:
        print("\nChannels-last: swiftconv on NHWC activations (input, grad_output; results NHWC) "
              "against NCHW, totals over the same layers timed interleaved (< 1: channels-last faster)\n")
        print(layout_table(tot))
    if args.prepared:
        print("\nPrepared: swiftconv through sc.prepare (weights packed once, before the timing) "
              "against the functional calls and the baselines, totals over the same layers timed "
              "interleaved\n")
        print(prepared_table(tot))
    if peak is None:
        print(f"\nDense 3x3 / 1x1 layers against the measured FMA peak: not shown ({no_peak})")
    else:
        print(f"\nDense 3x3 / 1x1 layers (one group, not transposed, GEMM at least {DENSE_MINIMUM} rows, columns and deep) against the measured FMA peak of "
              f"the {peak.tier} tier: {peak.float32:.1f} GFLOP/s float32 per thread ({peak.how}); "
              "% peak = their GFLOP/s / (peak x threads); issue 10's target: >= 90%\n")
        print(dense_table(results, peak))
    if len(args.threads) > 1:
        print(f"\nThread scaling: total at {min(args.threads)} thread(s) / total at "
              f"{max(args.threads)} threads\n")
        print(scaling_table(tot, args.threads))
    for name in args.networks:
        for mode in args.modes:
            text = losers(results, name, mode, args.top)
            if text:
                print("\n" + text)
    failed = sorted({f"{r.network} b{r.batch} t{r.threads} {r.mode} {r.layer.describe()} "
                     f"({','.join(k for k, v in r.verdicts.items() if not v.passed)})"
                     for r in results if not r.passed})
    checked = sum(len(r.verdicts) for r in results)
    bitwise = [r for r in results if r.bitwise is not None]
    differ = sorted({f"{r.network} b{r.batch} t{r.threads} {r.mode} {r.layer.describe()}"
                     for r in bitwise if not r.bitwise})
    print(f"\nverification: {checked} results vs the float64 NumPy reference, within "
          f"4*K*eps*sum|a*b| + tiny (swiftconv: every layer, batch and mode; baselines: at batch "
          f"{min(args.batches)}{'' if not args.verify_all else ' and every other'}): "
          + ("all ok" if not failed else "FAILED:\n  " + "\n  ".join(failed)))
    if bitwise:
        print(f"swiftconv at {', '.join(map(str, args.threads[1:]))} threads bitwise identical to "
              f"{args.threads[0]} thread{'s' if args.threads[0] > 1 else ''}: "
              + (f"all {len(bitwise)}" if not differ else
                 f"{len(bitwise) - len(differ)} of {len(bitwise)}; differ (then checked against "
                 "the reference):\n  " + "\n  ".join(differ)))
    print(f"raw results: {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
