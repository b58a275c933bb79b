#!/usr/bin/env python3
"""swiftconv speed against baselines measured in the same run (``make bench``).

For every case (issue 6's table) and every thread count, time swiftconv and

* always: a plain NumPy baseline, im2col + matmul (its BLAS limited to the same thread
  count through threadpoolctl when that is installed);
* PyTorch when importable (``torch.set_num_threads`` to the same count);
* ONNX Runtime when ``onnx`` and ``onnxruntime`` are importable (forward cases only; the
  model is built in memory with ``onnx.helper``, weights as initializers,
  ``intra_op_num_threads`` to the same count).

Each implementation is warmed up, then timed call by call with ``time.perf_counter``; the
table shows the median and best call of swiftconv, GFLOP/s and % of peak from the median,
and the ratio swiftconv / baseline of medians (< 1: swiftconv is faster). Every result is
verified against the float64 NumPy reference (``swiftconv._reference``) within the shared
dot-product error bound, so a fast but wrong kernel (or a misconfigured baseline) shows up
as FAIL. Raw samples go to
``benchmarks/results/latest.json``.

    PYTHONPATH=python python3 benchmarks/bench.py [--quick] [--cases a,b] [--threads 1,2]
                                                 [--repeat N] [--json PATH]

Exit status 1 if any verification fails.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

import swiftconv as sc
from swiftconv import _reference as ref

try:
    import torch
except ImportError:  # optional baseline
    torch = None
try:
    import onnx
    import onnx.helper
    import onnx.numpy_helper
    import onnxruntime as ort
except ImportError:  # optional baseline
    onnx = ort = None
try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:
    threadpool_info = threadpool_limits = None

ASSUMED_CLOCK_GHZ = 3.1  # the first machine's measured clock (docs/DESIGN.md); a VM does not report its turbo clock


def vector_bits() -> int:
    """Widest FMA vectors this CPU has (the ones swiftconv's kernel tiers use)."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return 256
    if "avx512f" in flags:
        return 512
    return 256 if "fma" in flags and "avx2" in flags else 128


def peak_gflops_per_core() -> Dict[str, float]:
    """Two FMA units x lanes x 2 flops x the assumed clock, per dtype."""
    lanes32 = vector_bits() // 32
    f32 = 2 * lanes32 * 2 * ASSUMED_CLOCK_GHZ
    return {"float32": f32, "float64": f32 / 2}


PEAK_GFLOPS_PER_CORE = peak_gflops_per_core()
PEAK_SOURCE = [f"estimated: 2 FMA units x {vector_bits()}-bit vectors x {ASSUMED_CLOCK_GHZ} GHz assumed"]


def kernel_tier() -> str:
    """The micro-kernel build swiftconv runs ("kernels: AVX-512 build" in explain), if shown."""
    one = np.zeros((1, 1, 1, 1), np.float32)
    m = re.search(r"^\s*kernels: (.*)$", sc.explain("conv2d", one, one), re.M)
    return m.group(1) if m else "not reported by explain"


def use_measured_peak() -> None:
    """%peak against the measured multiply-add peak of the tier swiftconv runs (fma_peak.py,
    needs swiftc), instead of the estimate; the estimate stays when it cannot be measured."""
    import fma_peak  # benchmarks/fma_peak.py
    peak, why = fma_peak.measure(kernel_tier())
    if peak is None:
        PEAK_SOURCE[0] += f" ({why})"
        return
    PEAK_GFLOPS_PER_CORE.update(float32=peak.float32, float64=peak.float64)
    PEAK_SOURCE[0] = f"{peak.tier} tier, {peak.how}"
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"

Pair = Tuple[int, int]
Arrays = Tuple[np.ndarray, ...]
Call = Callable[[], Arrays]


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One benchmark: an op on fixed shapes. Weight layout as in torch / swiftconv."""

    name: str
    op: str  # conv2d | conv_transpose2d | conv2d_backward | conv_transpose2d_backward
    input: Tuple[int, int, int, int]
    weight: Tuple[int, int, int, int]
    stride: Pair = (1, 1)
    padding: Pair = (0, 0)
    dilation: Pair = (1, 1)
    groups: int = 1
    output_padding: Pair = (0, 0)
    dtype: str = "float32"

    @property
    def transposed(self) -> bool:
        return self.op.startswith("conv_transpose2d")

    @property
    def backward(self) -> bool:
        return self.op.endswith("_backward")

    @property
    def out_channels(self) -> int:
        return self.weight[1] * self.groups if self.transposed else self.weight[0]

    def output_shape(self) -> Tuple[int, int, int, int]:
        """Shape of the forward result (the grad_output of a backward case)."""
        n, _, h, w = self.input
        k = self.weight[2:]
        if self.transposed:
            hw = [ref.transposed_output_size(i, kk, s, p, op, d) for i, kk, s, p, op, d in
                  zip((h, w), k, self.stride, self.padding, self.output_padding, self.dilation)]
        else:
            hw = [ref.output_size(i, kk, s, p, p, d) for i, kk, s, p, d in
                  zip((h, w), k, self.stride, self.padding, self.dilation)]
        return (n, self.out_channels, hw[0], hw[1])

    def forward_flops(self) -> float:
        """2 x multiply-adds of the forward convolution."""
        kk = self.weight[2] * self.weight[3]
        if self.transposed:  # each input element meets C_out/groups * kH*kW weights
            n, c_in, h, w = self.input
            return 2.0 * n * c_in * h * w * self.weight[1] * kk
        n, c_out, ho, wo = self.output_shape()
        return 2.0 * n * c_out * ho * wo * self.weight[1] * kk

    def flops(self) -> float:
        """Forward: the convolution; backward: grad_input + grad_weight (bias is noise)."""
        return self.forward_flops() * (2 if self.backward else 1)

    def describe(self) -> str:
        n, c_in, h, w = self.input
        parts = [f"N{n} {c_in}->{self.out_channels} {h}x{w} k{self.weight[2]}"]
        for label, value, default in (("s", self.stride, (1, 1)), ("p", self.padding, (0, 0)),
                                      ("d", self.dilation, (1, 1))):
            if value != default:
                parts.append(f"{label}{value[0]}" if value[0] == value[1] else f"{label}{value}")
        if self.groups > 1:
            parts.append(f"g{self.groups}")
        if self.dtype != "float32":
            parts.append(self.dtype)
        return " ".join(parts)


def backward_of(case: Case, name: str) -> Case:
    """The backward (all three gradients) of a forward case."""
    op = "conv_transpose2d_backward" if case.transposed else "conv2d_backward"
    return Case(name, op, case.input, case.weight, case.stride, case.padding, case.dilation,
                case.groups, case.output_padding, case.dtype)


RESNET_3X3 = Case("resnet_3x3", "conv2d", (1, 64, 56, 56), (64, 64, 3, 3), padding=(1, 1))
DEPTHWISE = Case("depthwise", "conv2d", (1, 144, 56, 56), (144, 1, 3, 3), padding=(1, 1),
                 groups=144)
DCGAN_UP = Case("dcgan_up", "conv_transpose2d", (8, 512, 4, 4), (512, 256, 4, 4),
                stride=(2, 2), padding=(1, 1))
CASES: List[Case] = [
    RESNET_3X3,
    Case("resnet_3x3_b8", "conv2d", (8, 64, 56, 56), (64, 64, 3, 3), padding=(1, 1)),
    Case("resnet_1x1", "conv2d", (1, 256, 56, 56), (64, 256, 1, 1)),
    Case("resnet_deep", "conv2d", (1, 512, 7, 7), (512, 512, 3, 3), padding=(1, 1)),
    Case("resnet_stem", "conv2d", (1, 3, 224, 224), (64, 3, 7, 7), stride=(2, 2),
         padding=(3, 3)),
    DEPTHWISE,
    Case("resnext", "conv2d", (1, 128, 56, 56), (128, 4, 3, 3), padding=(1, 1), groups=32),
    DCGAN_UP,
    Case("unet_up", "conv_transpose2d", (1, 128, 56, 56), (128, 64, 2, 2), stride=(2, 2)),
    backward_of(RESNET_3X3, "resnet_3x3_bwd"),
    backward_of(DEPTHWISE, "depthwise_bwd"),
    backward_of(DCGAN_UP, "dcgan_up_bwd"),
    Case("notebook", "conv2d", (1, 2, 10, 10), (4, 2, 3, 3), stride=(2, 2), padding=(1, 1),
         dilation=(2, 2)),
    Case("resnet_3x3_f64", "conv2d", (1, 64, 56, 56), (64, 64, 3, 3), padding=(1, 1),
         dtype="float64"),
]


def make_data(case: Case, seed: int = 0) -> Dict[str, np.ndarray]:
    """Standard-normal operands of the case's dtype: x, w, b, and go for a backward case."""
    rng = np.random.default_rng(seed)
    data = {
        "x": rng.standard_normal(case.input).astype(case.dtype),
        "w": rng.standard_normal(case.weight).astype(case.dtype),
        "b": rng.standard_normal(case.out_channels).astype(case.dtype),
    }
    if case.backward:
        data["go"] = rng.standard_normal(case.output_shape()).astype(case.dtype)
    return data


# --------------------------------------------------------------------------- NumPy baseline


def numpy_call(case: Case, d: Dict[str, np.ndarray]) -> Call:
    """The NumPy im2col + matmul baseline for a case (swiftconv._reference.baseline_*)."""
    c = case
    if c.op == "conv2d":
        return lambda: (ref.baseline_conv(d["x"], d["w"], d["b"], c.stride, c.padding, c.dilation,
                                          c.groups),)
    if c.op == "conv_transpose2d":
        return lambda: (ref.baseline_conv_transpose(d["x"], d["w"], d["b"], c.stride, c.padding,
                                                    c.output_padding, c.groups, c.dilation),)
    if c.op == "conv2d_backward":
        return lambda: ref.baseline_conv_backward(d["go"], d["x"], d["w"], c.stride, c.padding,
                                                  c.dilation, c.groups)
    return lambda: ref.baseline_conv_transpose_backward(d["go"], d["x"], d["w"], c.stride,
                                                        c.padding, c.output_padding, c.groups,
                                                        c.dilation)


# --------------------------------------------------------------------------- implementations


def swiftconv_call(case: Case, d: Dict[str, np.ndarray]) -> Call:
    """swiftconv with algorithm "auto"."""
    c = case
    if c.op == "conv2d":
        return lambda: (sc.conv2d(d["x"], d["w"], d["b"], c.stride, c.padding, c.dilation, c.groups),)
    if c.op == "conv_transpose2d":
        return lambda: (sc.conv_transpose2d(d["x"], d["w"], d["b"], c.stride, c.padding,
                                            c.output_padding, c.groups, c.dilation),)
    if c.op == "conv2d_backward":
        return lambda: sc.conv2d_backward(d["go"], d["x"], d["w"], c.stride, c.padding,
                                          c.dilation, c.groups)
    return lambda: sc.conv_transpose2d_backward(d["go"], d["x"], d["w"], c.stride, c.padding,
                                                c.output_padding, c.groups, c.dilation)


def torch_call(case: Case, d: Dict[str, np.ndarray]) -> Optional[Call]:
    """PyTorch: torch.nn.functional forward, aten.convolution_backward for the gradients."""
    if torch is None:
        return None
    c = case
    t = {k: torch.from_numpy(v) for k, v in d.items()}
    F = torch.nn.functional
    if c.op == "conv2d":
        fn = lambda: F.conv2d(t["x"], t["w"], t["b"], c.stride, c.padding, c.dilation, c.groups)  # noqa: E731
    elif c.op == "conv_transpose2d":
        fn = lambda: F.conv_transpose2d(t["x"], t["w"], t["b"], c.stride, c.padding,  # noqa: E731
                                        c.output_padding, c.groups, c.dilation)
    else:
        def fn() -> Any:
            return torch.ops.aten.convolution_backward(
                t["go"], t["x"], t["w"], [c.out_channels], list(c.stride), list(c.padding),
                list(c.dilation), c.transposed, list(c.output_padding), c.groups,
                [True, True, True])

    def call() -> Arrays:
        with torch.no_grad():
            result = fn()
        return tuple(r.numpy() for r in (result if isinstance(result, tuple) else (result,)))
    return call


def onnx_model(case: Case, d: Dict[str, np.ndarray]) -> bytes:
    """A one-node ONNX model (Conv or ConvTranspose), weight and bias as initializers."""
    helper, c = onnx.helper, case
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(c.dtype))
    attrs = dict(kernel_shape=list(c.weight[2:]), strides=list(c.stride),
                 pads=[c.padding[0], c.padding[1], c.padding[0], c.padding[1]],
                 dilations=list(c.dilation), group=c.groups)
    if c.transposed:
        attrs["output_padding"] = list(c.output_padding)
    node = helper.make_node("ConvTranspose" if c.transposed else "Conv", ["X", "W", "B"], ["Y"], **attrs)
    graph = helper.make_graph(
        [node], c.name,
        [helper.make_tensor_value_info("X", elem, list(c.input))],
        [helper.make_tensor_value_info("Y", elem, list(c.output_shape()))],
        initializer=[onnx.numpy_helper.from_array(d["w"], "W"),
                     onnx.numpy_helper.from_array(d["b"], "B")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def ort_call(case: Case, d: Dict[str, np.ndarray], threads: int) -> Optional[Call]:
    """ONNX Runtime (CPU provider, forward cases only); None if unavailable for the case."""
    if ort is None or case.backward:
        return None
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(onnx_model(case, d), options,
                                       providers=["CPUExecutionProvider"])
        session.run(None, {"X": d["x"]})
    except Exception as exc:  # e.g. no float64 Conv kernel
        print(f"  onnxruntime unavailable for {case.name}: {type(exc).__name__}: "
              f"{str(exc).splitlines()[0][:100]}", file=sys.stderr)
        return None
    return lambda: tuple(session.run(None, {"X": d["x"]}))


# --------------------------------------------------------------------------- verification


def params(case: Case) -> Dict[str, Any]:
    """The case's keyword arguments for its op."""
    p: Dict[str, Any] = dict(stride=case.stride, padding=case.padding, dilation=case.dilation,
                             groups=case.groups)
    if case.transposed:
        p["output_padding"] = case.output_padding
    return p


def reference(case: Case, d: Dict[str, np.ndarray]) -> Tuple[Arrays, Arrays, Tuple[int, ...]]:
    """(float64 results, scales sum|a*b|, terms K) from the NumPy reference."""
    b = None if case.backward else d["b"]
    args = (case.op, d["x"], d["w"], b, d.get("go"))
    k = ref.terms(case.op, case.input, case.weight, case.output_shape(), case.groups,
                  bias=b is not None)
    return ref.compute(*args, **params(case)), ref.scale(*args, **params(case)), k


@dataclass
class Verdict:
    """How far one implementation's result is from the float64 reference."""

    max_abs_diff: float
    worst_share_of_bound: float
    passed: bool


def verify(results: Arrays, want: Arrays, scales: Arrays, k: Sequence[int], dtype: str) -> Verdict:
    """Elementwise |result - reference| <= 4*K*eps*sum|a*b| + tiny (ref.error_bound) for
    every result array."""
    max_diff, worst, passed = 0.0, 0.0, True
    for got, expected, scale, kk in zip(results, want, scales, k):
        got = np.asarray(got)
        if got.shape != expected.shape:
            return Verdict(float("inf"), float("inf"), False)
        diff = np.abs(got.astype(np.float64) - expected)
        max_diff = max(max_diff, float(diff.max(initial=0.0)))
        worst = max(worst, ref.share_of_bound(got, expected, scale, kk, dtype))
        passed = passed and bool(np.all(ref.within_bound(got, expected, scale, kk, dtype)))
    return Verdict(max_diff, worst, passed)


# --------------------------------------------------------------------------- timing


@dataclass
class Timing:
    """Per-call wall times (seconds) of one implementation at one thread count."""

    samples: List[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def best(self) -> float:
        return min(self.samples)


def median_block(fn: Call, seconds: float, clock: Callable[[], float] = time.perf_counter) -> float:
    """The median of single calls of ``fn`` over one timing block of at least ``seconds``
    (and three calls) by ``clock``: the unit the old-vs-new scripts interleave."""
    samples: List[float] = []
    t0 = clock()
    while True:
        s = clock(); fn(); e = clock()
        samples.append(e - s)
        if e - t0 > seconds and len(samples) >= 3:
            return statistics.median(samples)


def measure(fn: Call, repeat: int, min_time: float, max_time: float) -> Timing:
    """Warm up, then time single calls: at least ``repeat`` samples, more for fast calls
    (until ``min_time`` seconds of samples, at most 2000), fewer (>= 2) past ``max_time``."""
    warm_start = time.perf_counter()
    for i in range(20):
        fn()
        if i >= 1 and time.perf_counter() - warm_start > 0.05:
            break
    samples: List[float] = []
    total = 0.0
    while True:
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        samples.append(elapsed)
        total += elapsed
        enough = len(samples) >= repeat and total >= min_time
        if enough or len(samples) >= 2000 or (len(samples) >= 2 and total >= max_time):
            return Timing(samples)


class BlasThreads:
    """Limit NumPy's BLAS to n threads for the block (no-op without threadpoolctl)."""

    def __init__(self, n: int) -> None:
        self.limiter = threadpool_limits(limits=n, user_api="blas") if threadpool_limits else None

    def __enter__(self) -> "BlasThreads":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.limiter is not None:
            self.limiter.restore_original_limits()


def set_threads(n: int) -> None:
    """One thread count for swiftconv and PyTorch (ORT: per session; NumPy: BlasThreads)."""
    sc.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)


# --------------------------------------------------------------------------- running


@dataclass
class Row:
    """One case at one thread count: timings and verdicts of every implementation."""

    case: Case
    threads: int
    timings: Dict[str, Timing] = field(default_factory=dict)
    verdicts: Dict[str, Verdict] = field(default_factory=dict)

    def gflops(self, impl: str = "swiftconv") -> float:
        return self.case.flops() / self.timings[impl].median / 1e9

    def peak_share(self) -> float:
        return self.gflops() / (PEAK_GFLOPS_PER_CORE[self.case.dtype] * self.threads)

    def ratio(self, impl: str) -> Optional[float]:
        if impl not in self.timings:
            return None
        return self.timings["swiftconv"].median / self.timings[impl].median

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts.values())


def run_case(case: Case, thread_counts: Sequence[int], repeat: int, min_time: float,
             max_time: float, passes: int, progress: Callable[[str], None]) -> List[Row]:
    """Every implementation of one case at every thread count, verified once per count.

    The timing is split into ``passes`` blocks per implementation, interleaved (A B C A B C
    ...), so a change of the machine's load during the case hits every implementation alike;
    blocks rather than single calls so one library's spinning workers do not slow the next."""
    data = make_data(case)
    want, scales, k = reference(case, data)
    rows = []
    for n in thread_counts:
        set_threads(n)
        row = Row(case, n)
        impls = {name: fn for name, fn in (
            ("swiftconv", swiftconv_call(case, data)),
            ("numpy", numpy_call(case, data)),
            ("torch", torch_call(case, data)),
            ("onnxruntime", ort_call(case, data, n))) if fn is not None}
        with BlasThreads(n):
            for name, fn in impls.items():
                row.verdicts[name] = verify(fn(), want, scales, k, case.dtype)
            for p in range(passes):
                for name, fn in impls.items():
                    progress(f"{case.name} [{n} thread{'s' if n > 1 else ''}] {name} "
                             f"(pass {p + 1}/{passes})")
                    timing = measure(fn, -(-repeat // passes), min_time / passes,
                                     max_time / passes)
                    row.timings.setdefault(name, Timing([])).samples.extend(timing.samples)
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- reporting


def fmt_time(seconds: float) -> str:
    """21.3 us / 3.67 ms / 1.84 s."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def fmt_ratio(r: Optional[float]) -> str:
    return "—" if r is None else f"{r:.2f}x"


def table(rows: Sequence[Row]) -> str:
    """The aligned result table."""
    headers = ["case", "shape", "thr", "median", "best", "GFLOP/s", "%peak",
               "numpy", "vs np", "torch", "vs torch", "ort", "vs ort", "check"]
    lines = []
    for r in rows:
        t = r.timings
        other = lambda impl: fmt_time(t[impl].median) if impl in t else "—"  # noqa: E731
        failed = [name for name, v in r.verdicts.items() if not v.passed]
        lines.append([r.case.name, r.case.describe(), str(r.threads),
                      fmt_time(t["swiftconv"].median), fmt_time(t["swiftconv"].best),
                      f"{r.gflops():.1f}", f"{100 * r.peak_share():.0f}%",
                      other("numpy"), fmt_ratio(r.ratio("numpy")),
                      other("torch"), fmt_ratio(r.ratio("torch")),
                      other("onnxruntime"), fmt_ratio(r.ratio("onnxruntime")),
                      "ok" if not failed else "FAIL " + ",".join(failed)])
    widths = [max(len(h), *(len(l[i]) for l in lines)) for i, h in enumerate(headers)]
    left = {0, 1, 13}
    fmt = lambda cells: "  ".join(c.ljust(w) if i in left else c.rjust(w)  # noqa: E731
                                  for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return "\n".join([fmt(headers), fmt(["-" * w for w in widths])] + [fmt(l) for l in lines])


def scaling(rows: Sequence[Row]) -> str:
    """swiftconv's speed-up from the smallest to the largest thread count, per case."""
    by_case: Dict[str, Dict[int, Row]] = {}
    for r in rows:
        by_case.setdefault(r.case.name, {})[r.threads] = r
    out = []
    for name, per in by_case.items():
        if len(per) < 2:
            continue
        lo, hi = per[min(per)], per[max(per)]
        best = lo.timings["swiftconv"].best / hi.timings["swiftconv"].best
        med = lo.timings["swiftconv"].median / hi.timings["swiftconv"].median
        out.append(f"  {name:16s} {hi.threads} vs {lo.threads} threads: best-of {best:.2f}x, "
                   f"median {med:.2f}x")
    return "\n".join(out)


def blas_description() -> str:
    """Which BLAS NumPy uses (threadpoolctl if installed) and the OpenBLAS env knobs."""
    env = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("OPENBLAS"))
    if threadpool_info is not None:
        libs = [f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, "
                f"{i.get('num_threads')} threads)"
                for i in threadpool_info() if i.get("user_api") == "blas"]
        text = "; ".join(libs) or "unknown"
    else:
        try:
            blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
            text = f"{blas.get('name')} {blas.get('version')} (threadpoolctl missing: BLAS threads not limited)"
        except Exception:
            text = "unknown (threadpoolctl missing: BLAS threads not limited)"
    return text + (f"; env {env}" if env else "; no OPENBLAS_* variables set")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment() -> Dict[str, Any]:
    """What the numbers were measured with."""
    return {
        "cpu": cpu_model(),
        "cpus_available": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "swiftconv": sc.__version__,
        "numpy": np.__version__,
        "numpy_blas": blas_description(),
        "torch": torch.__version__ if torch is not None else None,
        "onnxruntime": ort.__version__ if ort is not None else None,
        "peak_gflops_per_core": PEAK_GFLOPS_PER_CORE,
        "peak_source": PEAK_SOURCE[0],
        "load_average_before": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def to_json(rows: Sequence[Row], env: Dict[str, Any], args: argparse.Namespace) -> Dict[str, Any]:
    """Raw results: every sample of every implementation."""
    return {
        "environment": env,
        "settings": {"repeat": args.repeat, "passes": args.passes, "quick": args.quick,
                     "threads": args.threads},
        "results": [{
            "case": r.case.name, "op": r.case.op, "shape": r.case.describe(),
            "dtype": r.case.dtype, "flops": r.case.flops(), "threads": r.threads,
            "implementations": {
                name: {"median_s": t.median, "best_s": t.best,
                       "gflops": r.case.flops() / t.median / 1e9, "samples_s": t.samples,
                       "verified": r.verdicts[name].passed,
                       "max_abs_diff": r.verdicts[name].max_abs_diff,
                       "worst_share_of_bound": r.verdicts[name].worst_share_of_bound}
                for name, t in r.timings.items()},
        } for r in rows],
    }


# --------------------------------------------------------------------------- main


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    names = [c.name for c in CASES]
    parser = argparse.ArgumentParser(
        description="Time swiftconv against NumPy im2col+matmul, PyTorch and ONNX Runtime "
                    "(when installed), measured in the same run.",
        epilog="cases: " + ", ".join(names))
    parser.add_argument("--quick", action="store_true", help="fewer and shorter repetitions")
    parser.add_argument("--cases", default=",".join(names), help="comma-separated case names")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--repeat", type=int, default=None,
                        help="timed calls per measurement, at least (default 20; --quick 5)")
    parser.add_argument("--passes", type=int, default=3,
                        help="interleaved timing blocks per implementation (default 3)")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write raw results")
    args = parser.parse_args(argv)
    unknown = [c for c in args.cases.split(",") if c not in names]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(names)}")
    try:
        args.threads = [int(t) for t in args.threads.split(",")]
    except ValueError:
        parser.error(f"--threads must be comma-separated ints, got {args.threads!r}")
    if args.repeat is None:
        args.repeat = 5 if args.quick else 20
    if args.repeat < 1 or args.passes < 1:
        parser.error("--repeat and --passes must be >= 1")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    selected = [c for c in CASES if c.name in args.cases.split(",")]
    min_time, max_time = (0.05, 2.0) if args.quick else (0.3, 10.0)
    use_measured_peak()
    env = environment()
    tty = sys.stderr.isatty()

    def progress(text: str) -> None:
        sys.stderr.write(("\r\033[K" + text) if tty else text + "\n")
        sys.stderr.flush()

    rows: List[Row] = []
    args.json.parent.mkdir(parents=True, exist_ok=True)
    for i, case in enumerate(selected, 1):
        rows += run_case(case, args.threads, args.repeat, min_time, max_time, args.passes,
                         lambda text, i=i: progress(f"[{i}/{len(selected)}] {text}"))
        env["load_average_after"] = os.getloadavg() if hasattr(os, "getloadavg") else None
        env["complete"] = i == len(selected)
        args.json.write_text(json.dumps(to_json(rows, env, args), indent=1))  # partial on a crash
    if tty:
        progress("")
    print(f"swiftconv {env['swiftconv']} on {env['cpu']} ({env['cpus_available']} CPUs); "
          f"numpy {env['numpy']}, torch {env['torch'] or '—'}, onnxruntime {env['onnxruntime'] or '—'}")
    print(f"numpy BLAS: {env['numpy_blas']}")
    if env["load_average_before"] is not None:
        load = lambda key: "/".join(f"{v:.2f}" for v in env[key])  # noqa: E731
        print(f"load average (1/5/15 min) before {load('load_average_before')}, after "
              f"{load('load_average_after')} — other work on the machine makes timings noisy")
    print("median/best: swiftconv per call; GFLOP/s and %peak from the median (peak "
          f"{PEAK_GFLOPS_PER_CORE['float32']:.1f} GFLOP/s per thread float32, "
          f"{PEAK_GFLOPS_PER_CORE['float64']:.1f} float64; {PEAK_SOURCE[0]}); vs X = swiftconv median / X median "
          "(< 1: swiftconv faster); backward = all three gradients\n")
    print(table(rows))
    scale = scaling(rows)
    if scale:
        print("\nswiftconv thread scaling:\n" + scale)
    failed = [f"{r.case.name}@{r.threads}" for r in rows if not r.passed]
    print(f"\nverification (every result vs the float64 NumPy reference, within "
          f"4*K*eps*sum|a*b| + tiny): "
          + ("all ok" if not failed else "FAILED: " + ", ".join(failed)))
    print(f"raw results: {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
