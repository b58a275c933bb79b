"""``python -m swiftconv`` (= ``make demo``): a walk through the notebook swiftconv grows from.

Every result is checked against the PyTorch output saved in ``python/tests/fixtures``:

(a) the notebook's conv2d example with every conv2d algorithm;
(b) the notebook's transposed example with every conv_transpose2d algorithm;
(c) the notebook's backward, by ``conv2d_backward`` and by the notebook's two formulations
    built only from public swiftconv calls and NumPy:
    (i)  gradients as convolutions: grad_input is a transposed convolution of grad_output,
         grad_weight a convolution of the input with grad_output (batch and channel axes
         swapped, one call per group), grad_bias a sum;
    (ii) grad_input as a transposed convolution (each grad_output pixel scatters
         value x kernel), grad_weight as unfold (a NumPy im2col of the input) + one GEMM;
(d) every rank: conv1d, conv3d, their transposed ops and backward passes on saved PyTorch
    cases (all parameters in play), every algorithm of each;
(e) prepared layers (``swiftconv.prepare``): planned and packed once, bit for bit the
    function's result, and the time per call against the function's;
(f) a short speed table: swiftconv "auto" against a plain NumPy im2col + matmul baseline
    (``swiftconv._reference.baseline_conv``).

Pass criterion (elementwise), the error bound the tests use too
(``swiftconv._reference.error_bound``): |swiftconv - torch| <= 4 * K * eps * sum_i |a_i * b_i|
+ tiny, where K is the number of products summed into the element and eps the machine
epsilon of the dtype (2**-23 for float32). That is twice the classical worst-case error
bound 2*gamma(K) ~= K*eps of a K-term floating-point dot product rounded on both sides
(swiftconv and PyTorch); ``sum |a_i * b_i|`` is saved with every fixture (``scale_*``). For
the notebook's shapes (K <= 72) it amounts to a few 1e-5 relative to the magnitudes involved.

Exit status: 0 when every check passes, 1 otherwise. ``--quick``: fewer repetitions and a
smaller speed section. ``--json``: one JSON document on stdout instead of the tables.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

import swiftconv as sc
from swiftconv import _reference as ref

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
CONV2D_ALGORITHMS = ("direct", "im2col", "taps", "auto", "reference")
TRANSPOSED_ALGORITHMS = ("scatter", "upsample", "phase", "auto", "reference")
GRADS = ("grad_input", "grad_weight", "grad_bias")
TOLERANCE_TEXT = ("pass if |swiftconv - torch| <= 4*K*eps*sum|a*b| + tiny elementwise, "
                  "eps = 2^-23 (float32): twice the worst-case error 2*gamma(K) of a K-term "
                  "float32 dot product rounded on both sides")

Pair = Tuple[int, int]


# --------------------------------------------------------------------------- fixtures


@dataclass
class Fixture:
    """One saved PyTorch case: its arrays, its swiftconv kwargs and its term counts."""

    name: str
    arrays: Dict[str, np.ndarray]
    kwargs: Dict[str, Any]
    terms: Dict[str, int]

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]


def load_fixture(stem: str) -> Fixture:
    """Load ``fixtures/<stem>.npz`` (format: python/tools/make_fixtures.py)."""
    path = FIXTURES / f"{stem}.npz"
    if not path.exists():
        raise SystemExit(f"swiftconv demo: missing fixture {path} (regenerate with `make fixtures`)")
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files if k != "params"}
        params = json.loads(str(data["params"]))
    return Fixture(stem, arrays, params.get("kwargs", {}), params.get("terms", {}))


# --------------------------------------------------------------------------- checking


@dataclass
class Check:
    """One row of the result table."""

    what: str
    algorithm: str
    max_abs_diff: float
    bound_used: float  # max over elements of |diff| / bound (<= 1 passes)
    passed: bool
    time_us: float
    detail: str = ""


def compare(result: np.ndarray, fixture: Fixture, key: str) -> Tuple[float, float, bool, str]:
    """(max |diff|, worst diff/bound, passed, detail) of ``result`` against ``fixture[key]``."""
    expected = fixture[key]
    if result.shape != expected.shape:
        return float("inf"), float("inf"), False, f"shape {result.shape} != {expected.shape}"
    if result.dtype != expected.dtype:
        return float("inf"), float("inf"), False, f"dtype {result.dtype} != {expected.dtype}"
    diff = np.abs(result.astype(np.float64) - expected.astype(np.float64))
    args = (result, expected, fixture[f"scale_{key}"], fixture.terms[key], expected.dtype)
    max_diff = float(diff.max()) if diff.size else 0.0
    passed = bool(np.all(np.isfinite(result)) and np.all(ref.within_bound(*args)))
    return max_diff, ref.share_of_bound(*args), passed, ""


def median_time_us(fn: Callable[[], Any], repeat: int) -> float:
    """Median wall time of ``fn()`` in microseconds, after one warm-up call."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def check(what: str, algorithm: str, fn: Callable[[], Any], fixture: Fixture,
          keys: Sequence[str], repeat: int) -> List[Check]:
    """Run ``fn`` (returning one array per key), compare each with the fixture, time it."""
    try:
        results = fn()
    except Exception as exc:  # an engine error is a failed check, not a crash of the demo
        return [Check(what, algorithm, float("inf"), float("inf"), False, 0.0,
                      f"{type(exc).__name__}: {exc}")]
    elapsed = median_time_us(fn, repeat)
    rows = []
    for key, result in zip(keys, results):
        label = what if len(keys) == 1 else f"{what}: {key}"
        max_diff, worst, passed, detail = compare(np.asarray(result), fixture, key)
        rows.append(Check(label, algorithm, max_diff, worst, passed, elapsed, detail))
    return rows


# --------------------------------------------------------------------------- the notebook's backward


def grad_input_output_padding(input_shape: Sequence[int], grad_output_shape: Sequence[int],
                              kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> Pair:
    """The output_padding that makes conv_transpose2d(grad_output) as large as the input:
    the rows/columns the forward's floor division dropped."""
    return tuple(size - ref.transposed_output_size(o, k, s, p, 0, d)  # type: ignore[return-value]
                 for size, o, k, s, p, d in zip(input_shape[2:], grad_output_shape[2:],
                                                kernel, stride, padding, dilation))


def grads_as_convolutions(go: np.ndarray, x: np.ndarray, w: np.ndarray, stride: Pair,
                          padding: Pair, dilation: Pair, groups: int) -> Tuple[np.ndarray, ...]:
    """Formulation (i): every gradient is itself a convolution.

    grad_input  = conv_transpose2d(grad_output, weight) (zero-insertion + flipped kernel:
                  the "upsample" algorithm), output_padding restoring the input's size.
    grad_weight = conv2d(input with N and C swapped, grad_output with N and C swapped,
                  stride = forward dilation, dilation = forward stride), per group,
                  cropped to the kernel size and swapped back.
    grad_bias   = grad_output summed over N, H, W.
    """
    kernel = (w.shape[2], w.shape[3])
    op = grad_input_output_padding(x.shape, go.shape, kernel, stride, padding, dilation)
    grad_input = sc.conv_transpose2d(go, w, None, stride, padding, op, groups, dilation,
                                     algorithm="upsample")
    c_in_g, c_out_g = x.shape[1] // groups, go.shape[1] // groups
    grad_weight = np.empty_like(w)
    for g in range(groups):
        xg = x[:, g * c_in_g:(g + 1) * c_in_g].transpose(1, 0, 2, 3)       # (C_in_g, N, H, W)
        gg = go[:, g * c_out_g:(g + 1) * c_out_g].transpose(1, 0, 2, 3)    # (C_out_g, N, Ho, Wo)
        gw = sc.conv2d(xg, gg, None, stride=dilation, padding=padding, dilation=stride)
        grad_weight[g * c_out_g:(g + 1) * c_out_g] = \
            gw[:, :, :kernel[0], :kernel[1]].transpose(1, 0, 2, 3)
    grad_bias = go.sum(axis=(0, 2, 3))
    return grad_input, grad_weight, grad_bias


def grads_by_unfold(go: np.ndarray, x: np.ndarray, w: np.ndarray, stride: Pair,
                    padding: Pair, dilation: Pair, groups: int) -> Tuple[np.ndarray, ...]:
    """Formulation (ii): grad_input as a transposed convolution (each grad_output pixel
    scatters value x kernel: the "scatter" algorithm); grad_weight as unfold + one GEMM:
    grad_weight[g] = grad_output[g] (C_out_g x N*L) @ unfold(input)[g]^T (N*L x C_in_g*k*k),
    batched over the groups; grad_bias a sum."""
    kernel = (w.shape[2], w.shape[3])
    op = grad_input_output_padding(x.shape, go.shape, kernel, stride, padding, dilation)
    grad_input = sc.conv_transpose2d(go, w, None, stride, padding, op, groups, dilation,
                                     algorithm="scatter")
    n, c_out = go.shape[:2]
    cols = ref.im2col(x, kernel, stride, tuple((p, p) for p in padding), dilation)  # (N, C_in*kk, L)
    grad_weight = ref.gemm_weight_grad(go.reshape(n, c_out, -1), cols, groups, w.shape)
    grad_bias = go.sum(axis=(0, 2, 3))
    return grad_input, grad_weight, grad_bias


# --------------------------------------------------------------------------- sections (a)-(e)


def kernel_name(op: str, *args: Any, **kwargs: Any) -> str:
    """The kernel "auto" resolves to, from ``sc.explain`` (its step lines, joined)."""
    try:
        lines = sc.explain(op, *args, **kwargs).splitlines()[1:]
    except Exception as exc:  # explain is a debugging aid; never fail the demo over it
        return f"? ({type(exc).__name__})"
    # The kernel names only (the im2col schedule in parentheses is for `explain` readers).
    return ", ".join(line.split(":", 1)[-1].split(" (")[0].strip() for line in lines
                     if not line.strip().startswith(("weights:", "depth lowering:", "kernels:")))


def section_forward(repeat: int) -> List[Check]:
    """(a) the notebook's conv2d example with every conv2d algorithm."""
    fx = load_fixture("conv2d__notebook")
    x, w, b = fx["input"], fx["weight"], fx["bias"]
    rows = []
    for algorithm in CONV2D_ALGORITHMS:
        label = algorithm
        if algorithm == "auto":
            label = f"auto -> {kernel_name('conv2d', x, w, b, **fx.kwargs)}"
        rows += check("conv2d", label,
                      lambda a=algorithm: [sc.conv2d(x, w, b, **fx.kwargs, algorithm=a)],
                      fx, ["output"], repeat)
    return rows


def section_transposed(repeat: int) -> List[Check]:
    """(b) the notebook's transposed example with every conv_transpose2d algorithm."""
    fx = load_fixture("conv_transpose2d__notebook")
    x, w, b = fx["input"], fx["weight"], fx["bias"]
    rows = []
    for algorithm in TRANSPOSED_ALGORITHMS:
        label = algorithm
        if algorithm == "auto":
            label = f"auto -> {kernel_name('conv_transpose2d', x, w, b, **fx.kwargs)}"
        rows += check("conv_transpose2d", label,
                      lambda a=algorithm: [sc.conv_transpose2d(x, w, b, **fx.kwargs, algorithm=a)],
                      fx, ["output"], repeat)
    return rows


def section_backward(repeat: int) -> List[Check]:
    """(c) the notebook's backward: conv2d_backward and the two formulations."""
    fx = load_fixture("conv2d_backward__notebook")
    go, x, w = fx["grad_output"], fx["input"], fx["weight"]
    kw = fx.kwargs
    stride, padding, dilation = (ref.per_axis(kw.get(k, v), 2) for k, v in
                                 (("stride", 1), ("padding", 0), ("dilation", 1)))
    groups = int(kw.get("groups", 1))
    rows = check("conv2d_backward", "conv2d_backward",
                 lambda: sc.conv2d_backward(go, x, w, **kw), fx, GRADS, repeat)
    rows += check("backward (i)", "grads as convolutions",
                  lambda: grads_as_convolutions(go, x, w, stride, padding, dilation, groups),
                  fx, GRADS, repeat)
    rows += check("backward (ii)", "transposed + unfold/GEMM",
                  lambda: grads_by_unfold(go, x, w, stride, padding, dilation, groups),
                  fx, GRADS, repeat)
    return rows


def section_ranks(repeat: int) -> List[Check]:
    """(d) 1-D and 3-D: forward with every algorithm, transposed with every algorithm, and
    the backward passes, each on a saved PyTorch case with several parameters at once."""
    rows: List[Check] = []
    for stem in ("conv1d__combined", "conv3d__combined", "conv_transpose1d__combined",
                 "conv_transpose3d__nonuniform_all"):
        fx = load_fixture(stem)
        op = stem.split("__")[0]
        fn = getattr(sc, op)
        x, w, b = fx["input"], fx["weight"], fx.arrays.get("bias")
        for algorithm in sc.algorithms(op):
            if algorithm == "dot":
                continue  # (1x1 convs of one input pixel only, not these cases)
            rows += check(stem, algorithm,
                          lambda a=algorithm: [fn(x, w, b, **fx.kwargs, algorithm=a)], fx, ["output"], repeat)
    for stem in ("conv1d_backward__combined", "conv3d_backward__combined"):
        fx = load_fixture(stem)
        op = stem.split("__")[0]
        fn = getattr(sc, op)
        rows += check(stem, "auto", lambda: fn(fx["grad_output"], fx["input"], fx["weight"], **fx.kwargs),
                      fx, list(GRADS), repeat)
    return rows


def section_prepared(repeat: int) -> List[Check]:
    """(e) prepared layers: the notebook's conv and a 3-D case, bitwise equal to the
    function (checked against the saved PyTorch output like every other row), with the
    function's time in the detail column."""
    rows: List[Check] = []
    for stem in ("conv2d__notebook", "conv3d__combined"):
        fx = load_fixture(stem)
        op = stem.split("__")[0]
        fn = getattr(sc, op)
        x, w, b = fx["input"], fx["weight"], fx.arrays.get("bias")
        p = sc.prepare(op, w, b, **fx.kwargs)
        same = bool(np.array_equal(p(x), fn(x, w, b, **fx.kwargs)))
        plain_us = median_time_us(lambda: fn(x, w, b, **fx.kwargs), max(repeat, 200))
        found = check(f"prepare('{op}')(x)", "prepared", lambda: [p(x)], fx, ["output"], max(repeat, 200))
        for c in found:
            c.passed = c.passed and same
            c.detail = "; ".join(filter(None, [f"function {plain_us:.1f} us" if same
                                               else "NOT bitwise equal to the function", c.detail]))
        rows += found
    return rows


# --------------------------------------------------------------------------- section (f)


@dataclass
class Layer:
    """A realistic layer shape for the speed table."""

    name: str
    input: Tuple[int, int, int, int]
    weight: Tuple[int, int, int, int]
    transposed: bool = False
    kwargs: Dict[str, Any] = field(default_factory=dict)

    def flops(self) -> float:
        """2 x multiply-adds of the layer (groups and transposition accounted for)."""
        n, _, h, w = self.input
        g = self.kwargs.get("groups", 1)
        if self.transposed:  # every input pixel meets (C_out/g)*kH*kW weights per channel
            c_in, c_out_g, kh, kw = self.weight
            return 2.0 * n * c_in * h * w * c_out_g * kh * kw
        c_out, c_in_g, kh, kw = self.weight
        s, p, d = (ref.per_axis(self.kwargs.get(k, v), 2) for k, v in
                   (("stride", 1), ("padding", 0), ("dilation", 1)))
        ho, wo = (ref.output_size(h, kh, s[0], p[0], p[0], d[0]),
                  ref.output_size(w, kw, s[1], p[1], p[1], d[1]))
        return 2.0 * n * c_out * ho * wo * c_in_g * kh * kw


SPEED_LAYERS = [
    Layer("resnet 3x3", (1, 64, 56, 56), (64, 64, 3, 3), kwargs=dict(padding=1)),
    Layer("resnet 1x1", (1, 256, 56, 56), (64, 256, 1, 1)),
    Layer("depthwise", (1, 144, 56, 56), (144, 1, 3, 3), kwargs=dict(padding=1, groups=144)),
    Layer("dcgan up (T)", (8, 512, 4, 4), (512, 256, 4, 4), transposed=True,
          kwargs=dict(stride=2, padding=1)),
]
QUICK_LAYERS = ("resnet 3x3", "depthwise", "dcgan up (T)")


@dataclass
class Speed:
    """One row of the speed table (median times in ms)."""

    layer: str
    shape: str
    kernel: str
    swiftconv_ms: float
    numpy_ms: float
    speedup: float
    gflops: float
    agrees: bool


def shape_text(layer: Layer) -> str:
    """A compact description: N1 64->64 56x56 k3 p1."""
    n, c_in, h, w = layer.input
    c_out = layer.weight[1] * layer.kwargs.get("groups", 1) if layer.transposed else layer.weight[0]
    extra = " ".join(f"{k[0]}{v}" if k != "groups" else f"g{v}" for k, v in layer.kwargs.items())
    return f"N{n} {c_in}->{c_out} {h}x{w} k{layer.weight[2]} {extra}".strip()


def run_layer(layer: Layer, repeat: int) -> Speed:
    """Time swiftconv "auto" and the NumPy baseline on one layer; check they agree."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(layer.input, dtype=np.float32)
    w = rng.standard_normal(layer.weight, dtype=np.float32)
    kw = layer.kwargs
    if layer.transposed:
        ours = lambda: sc.conv_transpose2d(x, w, **kw)  # noqa: E731
        base = lambda: ref.baseline_conv_transpose(x, w, **kw)  # noqa: E731
        op = "conv_transpose2d"
    else:
        ours = lambda: sc.conv2d(x, w, **kw)  # noqa: E731
        base = lambda: ref.baseline_conv(x, w, **kw)  # noqa: E731
        op = "conv2d"
    expected, got = base(), ours()
    agrees = got.shape == expected.shape and bool(
        np.allclose(got, expected, rtol=1e-4, atol=1e-4 * float(np.abs(expected).max())))
    t_ours = median_time_us(ours, repeat) / 1e3
    t_base = median_time_us(base, repeat) / 1e3
    return Speed(layer.name, shape_text(layer), kernel_name(op, x, w, **kw), t_ours, t_base,
                 t_base / t_ours, layer.flops() / (t_ours * 1e6), agrees)


def section_speed(quick: bool, repeat: int, show_progress: bool) -> List[Speed]:
    """(f) swiftconv auto vs NumPy im2col + matmul, with a progress line on stderr."""
    layers = [l for l in SPEED_LAYERS if not quick or l.name in QUICK_LAYERS]
    rows = []
    for i, layer in enumerate(layers, 1):
        progress(f"speed [{i}/{len(layers)}] {layer.name} ...", show_progress)
        rows.append(run_layer(layer, repeat))
    progress("", show_progress, done=True)
    return rows


def progress(text: str, enabled: bool, done: bool = False) -> None:
    """A one-line progress indicator on stderr (rewritten in place on a terminal)."""
    if not enabled:
        return
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K" + ("" if done else text))
    elif not done:
        sys.stderr.write(text + "\n")
    sys.stderr.flush()


# --------------------------------------------------------------------------- output


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]],
                 right: Sequence[bool]) -> str:
    """An aligned plain-text table."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(wd) if r else c.ljust(wd)
                         for c, wd, r in zip(cells, widths, right)).rstrip()
    return "\n".join([line(headers), line(["-" * wd for wd in widths])] + [line(r) for r in rows])


def check_table(checks: Sequence[Check]) -> str:
    """The correctness table: what, algorithm, max |diff| vs torch, share of bound, time."""
    rows = [[c.what, c.algorithm, f"{c.max_abs_diff:.2e}", f"{c.bound_used:.3f}",
             ("pass" if c.passed else "FAIL") + (f" ({c.detail})" if c.detail else ""),
             f"{c.time_us:9.1f}"] for c in checks]
    return format_table(["what", "algorithm", "max|diff| vs torch", "diff/bound", "result",
                         "time (us)"], rows, [False, False, True, True, False, True])


def speed_table(speeds: Sequence[Speed]) -> str:
    """The speed table: median ms of swiftconv auto and the NumPy baseline."""
    rows = [[s.layer, s.shape, s.kernel, f"{s.swiftconv_ms:.3f}", f"{s.gflops:.1f}",
             f"{s.numpy_ms:.3f}", f"{s.speedup:.2f}x", "yes" if s.agrees else "NO"]
            for s in speeds]
    return format_table(["layer", "shape", "auto kernel", "swiftconv ms", "GFLOP/s",
                         "numpy ms", "speedup", "agrees"], rows,
                        [False, False, False, True, True, True, True, False])


def print_report(sections: Sequence[Tuple[str, List[Check]]], speeds: List[Speed],
                 repeat: int, speed_repeat: int, passed: bool) -> None:
    """Everything, as tables on stdout."""
    print(f"swiftconv {sc.__version__} — the notebook, checked against saved PyTorch outputs "
          f"({sc.get_num_threads()} threads; times are medians of {repeat} calls)")
    print(f"tolerance: {TOLERANCE_TEXT}; diff/bound is the worst element's share of it.\n")
    for title, checks in sections:
        print(title)
        print(check_table(checks))
        print()
    if speeds:
        print("(f) speed: swiftconv 'auto' vs a plain NumPy im2col + matmul baseline "
              f"(float32, medians of {speed_repeat}; speedup = numpy / swiftconv;\n"
              "    agrees: |swiftconv - numpy| <= 1e-4*|numpy| + 1e-4*max|numpy|, "
              "float32 sums of up to 2304 products)")
        print(speed_table(speeds))
        print()
    n_checks = sum(len(c) for _, c in sections) + len(speeds)
    n_failed = sum(not c.passed for _, cs in sections for c in cs) + sum(not s.agrees for s in speeds)
    print(f"{n_checks - n_failed}/{n_checks} checks passed" + ("" if passed else " — FAILED"))


def json_report(sections: Sequence[Tuple[str, List[Check]]], speeds: List[Speed],
                repeat: int, passed: bool) -> str:
    """Everything, as one JSON document."""
    return json.dumps({
        "version": sc.__version__,
        "threads": sc.get_num_threads(),
        "repeat": repeat,
        "tolerance": TOLERANCE_TEXT,
        "sections": [{"title": t, "checks": [asdict(c) for c in cs]} for t, cs in sections],
        "speed": [asdict(s) for s in speeds],
        "passed": passed,
    }, indent=2, default=lambda v: None)


# --------------------------------------------------------------------------- main


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m swiftconv",
        description="Walk through the notebook swiftconv grows from: every algorithm and both "
                    "backward formulations checked against saved PyTorch outputs, then a short "
                    "speed table against NumPy im2col + matmul. Exit status 1 if a check fails.")
    parser.add_argument("--quick", action="store_true",
                        help="fewer repetitions and a smaller speed section")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON document on stdout instead of the tables")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    repeat = 5 if args.quick else 25
    speed_repeat = 3 if args.quick else 9
    sections = [
        ("(a) conv2d, the notebook's example: N1 2->4 10x10 k3 s2 p1 d2", section_forward(repeat)),
        ("(b) conv_transpose2d, the notebook's example: N1 4->8 2x2 k3 groups 2",
         section_transposed(repeat)),
        ("(c) backward, the notebook's example: N1 4->8 11x11 k3 s2 p1 d2",
         section_backward(repeat)),
        ("(d) every rank: conv1d, conv3d, transposed and backward, every algorithm", section_ranks(repeat)),
        ("(e) prepared layers: planned and packed once (time per call; the function's in the detail)",
         section_prepared(repeat)),
    ]
    speeds = section_speed(args.quick, speed_repeat, show_progress=True)
    passed = all(c.passed for _, cs in sections for c in cs) and all(s.agrees for s in speeds)
    if args.json:
        print(json_report(sections, speeds, repeat, passed))
    else:
        print_report(sections, speeds, repeat, speed_repeat, passed)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
