"""float16 and bfloat16 (issue 11, item 2): every op, rank and algorithm, padding modes,
output_size, prepared objects, layouts, threads and bad input.

swiftconv widens half-precision arrays exactly to float32, runs the float32 plan and rounds
each result once to nearest even, so its result must be, bit for bit, the float32 result of
the widened arrays rounded once by NumPy (float16) or ml_dtypes (bfloat16):

    sc.conv2d(x16, w16) == sc.conv2d(x16.astype(f32), w16.astype(f32)).astype(f16)

That is checked here for every saved half-precision fixture and every formulation, and for
random cases of every op and rank; parity with PyTorch (within the float32 accumulation
bound plus one rounding of the result's type, see test_parity.py) is in test_parity.py.
bfloat16 needs ml_dtypes (NumPy's bfloat16 type): without it those tests are skipped with
that reason, and the package itself must still import and say what to install.
"""
from __future__ import annotations

import itertools
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from _hardening import general_algorithms
from conftest import BFLOAT16, FORWARD_OPS, fixture_paths, load_case, needs_ml_dtypes, op_rank

import swiftconv as sc

F32 = np.float32
HALF_FIXTURES = [p for p in fixture_paths() if "__f16_" in p.stem or "__bf16_" in p.stem]
HALF_TYPES = ["float16", pytest.param("bfloat16", marks=needs_ml_dtypes)]
PYTHON_PATH = str(Path(sc.__file__).resolve().parents[1])


def half_dtype(name):
    return np.dtype(np.float16) if name == "float16" else BFLOAT16


def bits(a):
    """The bit patterns of a half-precision array (compared exactly, NaN payloads too)."""
    a = np.ascontiguousarray(a)
    assert a.dtype.itemsize == 2, a.dtype
    return a.view(np.uint16)


def widened(a):
    return None if a is None else np.asarray(a).astype(F32)


def assert_rounded_once(got, want32, dtype, what=""):
    """`got` (half) is `want32` (float32) rounded once to `dtype`, bit for bit."""
    dtype = np.dtype(dtype)
    assert got.dtype == dtype, (what, got.dtype, dtype)
    assert got.flags.c_contiguous and got.dtype.isnative, what
    want = want32.astype(dtype)
    diff = bits(got) != bits(want)
    assert not diff.any(), (f"{what}: {int(diff.sum())} of {diff.size} elements are not the float32 result "
                            f"rounded once, e.g. {got[diff][:3]} vs {want[diff][:3]}")


def run(op, args, **kwargs):
    return getattr(sc, op)(*args, **kwargs)


def check_op(op, x, w, b=None, go=None, **kwargs):
    """op on half arrays == op on the widened arrays, rounded once (every result)."""
    dtype = x.dtype
    if op.endswith("_backward"):
        got = run(op, (go, x, w), **kwargs)
        want = run(op, (widened(go), widened(x), widened(w)), **kwargs)
        for name, g, f in zip(("grad_input", "grad_weight", "grad_bias"), got, want):
            if f is None:
                assert g is None
                continue
            assert_rounded_once(g, f, dtype, f"{op} {name} {kwargs}")
        return got
    got = run(op, (x, w, b), **kwargs)
    assert_rounded_once(got, run(op, (widened(x), widened(w), widened(b)), **kwargs), dtype, f"{op} {kwargs}")
    return got


# ------------------------------------------------------------------ the saved torch cases


@pytest.mark.parametrize("path", HALF_FIXTURES, ids=[p.stem for p in HALF_FIXTURES])
def test_fixture_is_the_float32_result_rounded_once(path):
    """Every half-precision fixture, with every formulation of its op (forward) or every
    output_mask (backward): exactly the float32 computation of the widened arrays, rounded
    once."""
    params, arrays = load_case(path)
    op, kwargs = params["op"], params["kwargs"]
    x, w, b = arrays["input"], arrays["weight"], arrays.get("bias")
    if op in FORWARD_OPS:
        for algorithm in general_algorithms(op):
            check_op(op, x, w, b, algorithm=algorithm, **kwargs)
    else:
        for mask in itertools.product((True, False), repeat=3):
            check_op(op, x, w, go=arrays["grad_output"], output_mask=mask, **kwargs)


def test_half_fixtures_cover_every_op_and_rank():
    names = {(p.stem.split("__")[0], p.stem.split("__")[1].split("_")[0]) for p in HALF_FIXTURES}
    for op in FORWARD_OPS:
        for o in (op, op + "_backward"):
            assert (o, "f16") in names and (o, "bf16") in names, o


# ------------------------------------------------------------------ random cases


def random_cases(rank, rng):
    """(op, shapes, kwargs) for every op of `rank`, with groups, stride, dilation, padding
    forms and modes, output_size and unbatched input."""
    sp = (7, 6, 5)[:rank]
    k = (3, 2, 3)[:rank]
    cases = []
    for mode in ("zeros", "reflect", "replicate", "circular"):
        kw = dict(padding=1, stride=(2, 1, 2)[:rank], padding_mode=mode)
        cases.append((f"conv{rank}d", (2, 4, *sp), (6, 2, *k), dict(groups=2, **kw)))
        cases.append((f"conv{rank}d_backward", (2, 4, *sp), (6, 2, *k), dict(groups=2, **kw)))
    cases += [
        (f"conv{rank}d", (3, *sp), (5, 3, *k), dict(padding="same", dilation=2)),
        (f"conv{rank}d", (1, 6, *sp), (6, 1, *k), dict(groups=6, padding=((1, 0),) * rank)),
        (f"conv_transpose{rank}d", (2, 4, *sp), (4, 3, *k), dict(stride=2, padding=1, output_padding=1)),
        (f"conv_transpose{rank}d", (2, 4, *sp), (4, 1, *k), dict(groups=2, dilation=2)),
        (f"conv_transpose{rank}d", (1, 2, *sp), (2, 3, *k),
         dict(stride=3, output_size=[(s - 1) * 3 + kk + 1 for s, kk in zip(sp, k)])),
        (f"conv_transpose{rank}d_backward", (2, 4, *sp), (4, 3, *k), dict(stride=2, padding=1)),
        (f"conv_transpose{rank}d_backward", (4, *sp), (4, 2, *k), dict(groups=2)),
    ]
    return cases


@pytest.mark.parametrize("dtype", HALF_TYPES)
@pytest.mark.parametrize("rank", (1, 2, 3))
def test_every_op_and_algorithm_is_the_float32_result_rounded_once(rank, dtype):
    rng = np.random.default_rng(rank)
    dt = half_dtype(dtype)
    for op, xs, ws, kw in random_cases(rank, rng):
        x = rng.standard_normal(xs).astype(F32).astype(dt)
        w = rng.standard_normal(ws).astype(F32).astype(dt)
        transposed = "transpose" in op
        cout = ws[1] * kw.get("groups", 1) if transposed else ws[0]
        b = rng.standard_normal(cout).astype(F32).astype(dt)
        if op.endswith("_backward"):
            y = getattr(sc, op[:-len("_backward")])(x, w, **kw)
            go = rng.standard_normal(y.shape).astype(F32).astype(dt)
            check_op(op, x, w, go=go, **kw)
            continue
        for algorithm in general_algorithms(op):
            y = check_op(op, x, w, b, algorithm=algorithm, **kw)
            assert y.dtype == dt and y.shape == getattr(sc, op)(widened(x), widened(w), widened(b), **kw).shape


@pytest.mark.parametrize("dtype", HALF_TYPES)
def test_larger_layers_and_thread_counts(dtype):
    """Layers large enough for the packed GEMM, the threads and the parallel conversions:
    the same bits for 1 and several threads, and the float32 result rounded once."""
    rng = np.random.default_rng(7)
    dt = half_dtype(dtype)
    x = rng.standard_normal((2, 32, 40, 40)).astype(F32).astype(dt)
    w = (rng.standard_normal((48, 32, 3, 3)) * 0.1).astype(F32).astype(dt)
    wd = rng.standard_normal((32, 1, 3, 3)).astype(F32).astype(dt)
    saved = sc.get_num_threads()
    try:
        results = []
        for n in (1, 3):
            sc.set_num_threads(n)
            results.append([check_op("conv2d", x, w, padding=1),
                            check_op("conv2d", x, wd, groups=32, padding=1),
                            check_op("conv2d_backward", x, w, go=np.ones((2, 48, 40, 40), dt), padding=1)[1]])
        for a, b in zip(*results):
            assert np.array_equal(bits(a), bits(b))
    finally:
        sc.set_num_threads(saved)


# Depthwise and one-input-channel-per-group layers whose kernels convert their own tiles
# (ConvPlan's halfKernel step): (input shape, weight shape, kwargs, the forward ops convert,
# the adjoint ops convert).
HALF_KERNEL_CASES = [
    ((2, 20, 9, 30), (20, 1, 3, 3), dict(groups=20, stride=2, padding=1), True, True),
    ((1, 33, 5, 7), (33, 1, 3, 3), dict(groups=33, padding=2, dilation=2), True, True),
    ((2, 17, 14, 14), (17, 1, 5, 5), dict(groups=17, padding=2), True, True),
    # Direct planes; the adjoint (stride 1, one output channel per group) and the weight
    # gradient on direct planes too.
    ((1, 24, 6, 58), (24, 1, 3, 3), dict(groups=24, padding=1), True, True),
    ((2, 16, 12, 60), (16, 1, 3, 3), dict(groups=16, padding=1), True, True),
    ((1, 12, 6, 57), (24, 1, 3, 3), dict(groups=12, padding=1), True, False),  # multiplier 2
    # 3x3 stride 1 direct planes through the ring of widened rows (directPlaneHalf3x3):
    # odd heights (rows two at a time, then one), rows under 16 wide (8-wide vectors), a
    # top padding of 2 and of 0 (output rows whose inputs leave x, pairs from the top).
    # conv2d_backward's grad_input takes the ring only for planes over 32 KB of float32
    # (HalfKernels.wholePlaneBytes; below, the widened dy plane): 57x57 does not, 73x57 does.
    ((1, 8, 57, 57), (8, 1, 3, 3), dict(groups=8, padding=1), True, True),
    ((1, 6, 9, 12), (12, 1, 3, 3), dict(groups=6, padding=1), True, False),
    ((2, 5, 11, 40), (10, 1, 3, 3), dict(groups=5, padding=(2, 1)), True, False),
    ((1, 4, 8, 20), (8, 1, 3, 3), dict(groups=4, padding=(0, 1)), True, False),
    ((1, 2, 73, 57), (2, 1, 3, 3), dict(groups=2, padding=1), True, True),
    # Plain 3x3 56 wide with 96+ channels: direct planes (half once ran the tiles there).
    ((2, 100, 5, 56), (100, 1, 3, 3), dict(groups=100, padding=1), True, True),
    # Narrow planes (rows under 16 pixels; from 14 wide transposed straight into the tile rows): whole
    # planes, and tall planes whose tiles hold some rows (the chunked row transposes).
    ((1, 20, 300, 14), (20, 1, 5, 5), dict(groups=20, stride=2, padding=2), True, True),
    ((1, 20, 60, 9), (20, 1, 3, 3), dict(groups=20, padding=1), True, True),
    ((2, 18, 40, 15), (18, 1, 3, 3), dict(groups=18, padding=1), True, True),
    # Whole small planes of full 16-channel blocks (AVX-512: the 16 x 16 register transposes
    # of half values): 49 pixels (one left to the scalar tail), 25 (an overlapping last
    # block), 36 (four in the tail), a stride-2 tile.
    ((2, 48, 7, 7), (48, 1, 3, 3), dict(groups=48, padding=1), True, True),
    ((1, 32, 5, 5), (32, 1, 5, 5), dict(groups=32, padding=2), True, True),
    ((1, 32, 6, 6), (32, 1, 3, 3), dict(groups=32, padding=1), True, True),
    ((1, 32, 14, 14), (32, 1, 3, 3), dict(groups=32, stride=2, padding=1), True, True),
    # The half bias gradient: small planes summed in groups of 64 channels (130 = 64 + 64 +
    # 2), and planes over 4096 pixels widened in pieces.
    ((2, 130, 7, 7), (130, 1, 3, 3), dict(groups=130, padding=1), True, True),
    ((1, 3, 70, 70), (3, 1, 3, 3), dict(groups=3, padding=1), True, True),
]
TILE_TEXT = "rounded to nearest even as each tile is written back"


def _check_half_kernels(dt, threads):
    """Every op on HALF_KERNEL_CASES: the float32 result rounded once, the same bits for
    every thread count, and explain() says which calls convert in the kernel."""
    rng = np.random.default_rng(5)
    saved = sc.get_num_threads()
    try:
        for xs, ws, kw, fwd, adj in HALF_KERNEL_CASES:
            x = rng.standard_normal(xs).astype(F32).astype(dt)
            w = rng.standard_normal(ws).astype(F32).astype(dt)
            b = rng.standard_normal(ws[0]).astype(F32).astype(dt)
            y = sc.conv2d(x, w, b, **kw)
            go = rng.standard_normal(y.shape).astype(F32).astype(dt)
            calls = [("conv2d", (x, w, b), kw, fwd),
                     ("conv2d_backward", (go, x, w), dict(kw, output_mask=(True, False, False)), adj),
                     # With the weight gradient: a depthwise conv_backward converts in its
                     # kernels (weight gradient tiles, grad_input tiles); the others widen.
                     ("conv2d_backward", (go, x, w), dict(kw, output_mask=(True, True, False)), adj),
                     ("conv2d_backward", (go, x, w), kw, adj)]
            if ws[0] == xs[1]:  # depthwise: the transposed ops too
                yt = sc.conv_transpose2d(go, w, b, **kw)
                gt = rng.standard_normal(yt.shape).astype(F32).astype(dt)
                calls += [("conv_transpose2d", (go, w, b), kw, adj),
                          ("conv_transpose2d_backward", (gt, go, w), dict(kw, output_mask=(True, False, False)), fwd)]
            for op, args, kwargs, converts in calls:
                if op.endswith("_backward"):
                    text = sc.explain(op, args[1], args[2], grad_output=args[0], **kwargs)
                else:
                    text = sc.explain(op, *args, **kwargs)
                assert (TILE_TEXT in text) == converts, (op, kwargs, text)
                results = []
                for n in threads:
                    sc.set_num_threads(n)
                    got = run(op, args, **kwargs)
                    want = run(op, tuple(widened(a) for a in args), **kwargs)
                    got, want = (got, want) if op.endswith("_backward") else ((got,), (want,))
                    for g, f in zip(got, want):
                        if f is not None:
                            assert_rounded_once(g, f, dt, f"{op} {kwargs} {n} threads")
                    results.append([bits(g) for g in got if g is not None])
                for r in results[1:]:
                    assert all(np.array_equal(a, c) for a, c in zip(results[0], r)), (op, kwargs)
    finally:
        sc.set_num_threads(saved)


@pytest.mark.parametrize("dtype", HALF_TYPES)
def test_half_kernels_are_the_float32_result_rounded_once(dtype):
    _check_half_kernels(half_dtype(dtype), (1, 2, 3))


@pytest.mark.parametrize("dtype", HALF_TYPES)
def test_depthwise_backward_never_widens_grad_output(dtype):
    """conv2d_backward of a depthwise conv with all three gradients: the bias gradient sums
    the half grad_output itself, so only the weights are widened whole."""
    dt = half_dtype(dtype)
    x, w = np.ones((1, 8, 20, 20), dt), np.ones((8, 1, 3, 3), dt)
    text = sc.explain("conv2d_backward", x, w, grad_output=np.ones((1, 8, 20, 20), dt), padding=1, groups=8)
    assert f"  {dtype} -> float32: weight widened" in text, text
    assert f"channel sums of the {dtype} grad_output" in text, text
    assert f"float32 -> {dtype}: grad_weight, grad_bias rounded" in text, text


@pytest.mark.parametrize("dtype", HALF_TYPES)
def test_direct_plane_backward_widens_each_plane_once(dtype):
    """conv2d_backward of a depthwise conv on direct planes (plain 3x3, 56+ wide): with
    grad_input and grad_weight, one step computes every asked gradient from one widening of
    each plane; with grad_weight and grad_bias only, the bias is summed from the planes the
    weight gradient widens. No bias step of its own either way, and the float32 result
    rounded once, at batch 1 and 3, for 1 and 3 threads (the same bits)."""
    dt = half_dtype(dtype)
    rng = np.random.default_rng(11)
    saved = sc.get_num_threads()
    try:
        for n in (1, 3):
            x = rng.standard_normal((n, 6, 5, 58)).astype(F32).astype(dt)
            w = rng.standard_normal((6, 1, 3, 3)).astype(F32).astype(dt)
            go = (rng.standard_normal((n, 6, 5, 58)) * 100).astype(F32).astype(dt)
            for mask, step in [((True, True, True), "weight gradient and channel sums from one widening"),
                               ((True, True, False), "weight gradient and channel sums from one widening"),
                               ((False, True, True), "direct planes weight gradient and channel sums")]:
                text = sc.explain("conv2d_backward", x, w, grad_output=go, padding=1, groups=6, output_mask=mask)
                assert step in text, text
                assert "  bias gradient:" not in text and "transposed conv" not in text, text
                assert f"  {dtype} -> float32: weight widened" in text, text
                results = []
                for threads in (1, 3):
                    sc.set_num_threads(threads)
                    got = check_op("conv2d_backward", x, w, go=go, padding=1, groups=6, output_mask=mask)
                    results.append([bits(g) for g in got if g is not None])
                assert all(np.array_equal(a, c) for a, c in zip(*results)), mask
    finally:
        sc.set_num_threads(saved)


def check_on_tier(tier, module, function):
    """Runs ``module.function(dtype, (1, 3))`` (a test module's check, given the dtype and the
    thread counts) for float16 and, with ml_dtypes, bfloat16 in a Python process on the lower
    CPU tier `tier` (SWIFTCONV_KERNEL_TIER, read at import), and checks that tier ran."""
    code = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
        import numpy as np, {module}
        from conftest import BFLOAT16
        {module}.{function}(np.dtype(np.float16), (1, 3))
        if BFLOAT16 is not None:
            {module}.{function}(BFLOAT16, (1, 3))
        import swiftconv as sc
        assert "{ {'avx2': 'AVX2', 'baseline': 'aseline'}[tier] }" in sc.explain("conv2d", np.ones((1, 1, 3, 3), np.float16),
                                                                            np.ones((1, 1, 1, 1), np.float16)), "tier"
    """)
    import os
    env = dict(os.environ, SWIFTCONV_KERNEL_TIER=tier, PYTHONPATH=PYTHON_PATH)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("tier", ["avx2", "baseline"])
def test_half_kernels_on_lower_tiers(tier):
    """The same on the lower CPU tiers."""
    check_on_tier(tier, "test_half", "_check_half_kernels")


# ------------------------------------------------------------------ numerics


@pytest.mark.parametrize("dtype", HALF_TYPES)
def test_nan_inf_overflow_and_subnormals(dtype):
    dt = half_dtype(dtype)
    big = 300.0 if dtype == "float16" else 1e19  # 9e4 > float16's 65504; 1e38 * 9 > bfloat16's 3.4e38
    x = np.full((1, 1, 3, 3), big, F32).astype(dt)
    w = np.full((1, 1, 3, 3), big, F32).astype(dt)
    y = sc.conv2d(x, w)
    assert y.dtype == dt and np.isposinf(y.astype(F32)).all(), y
    assert np.isneginf(sc.conv2d(x, -w).astype(F32)).all()
    # NaN and Inf inputs propagate exactly as in float32.
    x = np.ones((1, 2, 5, 5), F32)
    x[0, 0, 2, 2], x[0, 1, 0, 0] = np.nan, np.inf
    w = np.ones((3, 2, 3, 3), F32)
    y = sc.conv2d(x.astype(dt), w.astype(dt), padding=1)
    y32 = sc.conv2d(x, w, padding=1)
    np.testing.assert_array_equal(np.isnan(y.astype(F32)), np.isnan(y32))
    np.testing.assert_array_equal(np.isinf(y.astype(F32)), np.isinf(y32))
    # Results in the subnormal range round exactly (no flush to zero).
    tiny = 2.0**-20 if dtype == "float16" else 2.0**-130  # bfloat16: subnormal inputs too
    x = (np.arange(1, 26, dtype=F32).reshape(1, 1, 5, 5) * tiny).astype(dt)
    w = (np.array([[[[0.3, -0.7], [0.35, 0.55]]]], F32)).astype(dt)
    y = check_op("conv2d", x, w)
    smallest_normal = 2.0**-14 if dtype == "float16" else 2.0**-126
    assert (y.astype(F32) != 0).all() and (np.abs(y.astype(F32)) < smallest_normal).all(), y


@pytest.mark.parametrize("dtype", HALF_TYPES)
def test_every_pattern_survives_a_1x1_conv(dtype):
    """A 1x1 conv with weight 1 returns its input: all 65536 patterns (a NaN stays a NaN;
    -0 gives +0, as in float32: a sum starts at +0)."""
    dt = half_dtype(dtype)
    patterns = np.arange(0, 1 << 16, dtype=np.uint32).astype(np.uint16)
    patterns[0x8000] = 0
    x = patterns.view(dt).reshape(1, 1, -1)
    y = sc.conv1d(x, np.ones((1, 1, 1), dt))
    x32 = x.astype(F32)
    finite = ~np.isnan(x32)
    np.testing.assert_array_equal(bits(y)[finite], patterns.reshape(1, 1, -1)[finite])
    assert np.isnan(y.astype(F32)[~finite]).all()


@pytest.mark.parametrize("dtype", HALF_TYPES)
def test_ties_round_to_even_and_overflow(dtype):
    """A 1x1 conv over 3 channels with weights 1 sums them exactly in float32 (values chosen
    so), then rounds the sum once: ties to even, past the largest finite value to infinity."""
    dt = half_dtype(dtype)
    u = 2.0**-10 if dtype == "float16" else 2.0**-7  # the ulp at 1
    top = 65504.0 if dtype == "float16" else 2.0**127 * (2 - 2.0**-7)  # the largest finite value
    half_top = 16.0 if dtype == "float16" else 2.0**119  # half the ulp at the largest finite value
    cases = [
        ([1.0, u / 2, 0.0], 1.0),                   # tie: to the even 1
        ([1.0 + u, u / 2, 0.0], 1.0 + 2 * u),       # tie: to the even 1 + 2u
        ([1.0, u / 2, u / 2**10], 1.0 + u),         # just above the tie
        ([-1.0, -u / 2, 0.0], -1.0),
        ([1.0, -u / 4, 0.0], 1.0),                  # tie below 1 (spacing u/2 there): to 1
        ([top, half_top, 0.0], np.inf),             # tie at the top: to infinity (even)
        ([top, half_top, -half_top / 2**8], top),   # just below it
        ([-top, -half_top, 0.0], -np.inf),
    ]
    for channels, want in cases:
        x = np.array(channels, F32).astype(dt)
        assert np.array_equal(x.astype(np.float64), np.array(channels)), channels  # representable
        y = sc.conv1d(x.reshape(1, 3, 1), np.ones((1, 3, 1), dt))
        exact = np.float64(channels[0]) + channels[1] + channels[2]
        assert np.float32(exact) == exact  # the float32 sum is exact
        assert y.astype(np.float64).item() == want, (channels, y, want)
        with np.errstate(over="ignore"):
            assert bits(y).item() == bits(np.array([exact], F32).astype(dt)).item()  # NumPy / ml_dtypes agree


# ------------------------------------------------------------------ layouts, shapes


@pytest.mark.parametrize("dtype", HALF_TYPES)
def test_any_layout_gives_the_same_bits(dtype):
    dt = half_dtype(dtype)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 9, 8)).astype(F32).astype(dt)
    w = rng.standard_normal((4, 3, 3, 3)).astype(F32).astype(dt)
    b = rng.standard_normal(4).astype(F32).astype(dt)
    want = sc.conv2d(x, w, b, padding=1)
    buf = np.zeros(x.nbytes + 1, np.uint8)
    unaligned = buf[1:].view(dt).reshape(x.shape)
    unaligned[...] = x
    # (Channels-last memory gives channels-last results: test_channels_last.py.)
    layouts = [np.asfortranarray(x), np.flip(np.flip(x, -1).copy(), -1), unaligned, np.repeat(x, 2, axis=-1)[..., ::2]]
    if dtype == "float16":
        layouts.append(x.astype(">f2"))
    for v in layouts:
        np.testing.assert_array_equal(v.astype(F32), x.astype(F32))
        got = sc.conv2d(v, w, b, padding=1)
        assert got.dtype == dt and got.dtype.isnative and got.flags.c_contiguous
        assert np.array_equal(bits(got), bits(want))
    # big-endian float16 weights and bias too
    if dtype == "float16":
        assert np.array_equal(bits(sc.conv2d(x, w.astype(">f2"), b.astype(">f2"), padding=1)), bits(want))


@pytest.mark.parametrize("dtype", HALF_TYPES)
def test_empty_and_unbatched(dtype):
    dt = half_dtype(dtype)
    w = np.ones((4, 3, 3, 3), dt)
    y = sc.conv2d(np.zeros((0, 3, 5, 5), dt), w)
    assert y.shape == (0, 4, 3, 3) and y.dtype == dt
    gi, gw, gb = sc.conv2d_backward(np.zeros((0, 4, 3, 3), dt), np.zeros((0, 3, 5, 5), dt), w)
    assert gi.shape == (0, 3, 5, 5) and gi.dtype == dt
    assert not bits(gw).any() and gw.dtype == dt and gb.dtype == dt and not bits(gb).any()
    y = sc.conv2d(np.ones((3, 5, 5), dt), w, padding=1)
    assert y.shape == (4, 5, 5) and y.dtype == dt
    assert gi is not None and sc.conv2d_backward(np.ones((4, 5, 5), dt), np.ones((3, 5, 5), dt), w, padding=1,
                                                 output_mask=(False, False, False)) == (None, None, None)


# ------------------------------------------------------------------ prepared objects


@pytest.mark.parametrize("dtype", HALF_TYPES)
@pytest.mark.parametrize("op", ["conv1d", "conv2d", "conv3d", "conv_transpose2d"])
def test_prepared_matches_the_function_and_keeps_float32_packed_weights(op, dtype):
    dt = half_dtype(dtype)
    r = op_rank(op)
    rng = np.random.default_rng(4)
    transposed = "transpose" in op
    w = rng.standard_normal((8, 6, *(3,) * r) if not transposed else (6, 8, *(3,) * r)).astype(F32).astype(dt)
    b = rng.standard_normal(8).astype(F32).astype(dt)
    kw = dict(padding=1) if transposed else dict(padding=1, padding_mode="reflect")
    p = sc.prepare(op, w, b, **kw)
    assert p.weight.dtype == dt and not p.weight.flags.writeable
    fn = getattr(sc, op)
    for shape in ((2, 6, *(7,) * r), (1, 6, *(5,) * r), (6, *(6,) * r)):
        x = rng.standard_normal(shape).astype(F32).astype(dt)
        y = p(x)
        assert np.array_equal(bits(y), bits(fn(x, w, b, **kw)))
        assert_rounded_once(y, fn(widened(x), widened(w), widened(b), **kw), dt, op)
        go = rng.standard_normal(y.shape).astype(F32).astype(dt)
        for g, f in zip(p.backward(go, x), getattr(sc, op + "_backward")(go, x, w, **kw)):
            assert np.array_equal(bits(g), bits(f))
    if not transposed:
        # The packed panels are float32's: the same bytes as a float32 prepared object's.
        assert p.packed_bytes == sc.prepare(op, widened(w), widened(b), **kw).packed_bytes > 0
        text = p.explain(x)
        assert f"{dtype} -> float32: input, bias widened exactly" in text, text
        assert f"float32 -> {dtype}: output rounded to nearest even" in text, text
        assert f"from the {dtype} weights widened to float32 once" in text, text
    q = pickle.loads(pickle.dumps(p))
    assert q.weight.dtype == dt and np.array_equal(bits(q(x)), bits(p(x)))
    p.update(w * dt.type(0.5) if dtype == "float16" else (w.astype(F32) * 0.5).astype(dt), b)
    assert np.array_equal(bits(p(x)), bits(fn(x, (w.astype(F32) * 0.5).astype(dt), b, **kw)))
    assert f"weight=({', '.join(map(str, w.shape))}) {dtype}" in repr(p)


# ------------------------------------------------------------------ explain


@pytest.mark.parametrize("dtype", HALF_TYPES)
def test_explain_shows_the_conversion_steps(dtype):
    dt = half_dtype(dtype)
    x, w = np.ones((1, 2, 5, 5), dt), np.ones((3, 2, 3, 3), dt)
    # (a padding mode's copy is a step of its own, so this plan converts at the boundary;
    # the GEMM that converts in chunks is test_half_gemm.py's)
    text = sc.explain("conv2d", x, w, np.ones(3, dt), padding=1, padding_mode="reflect")
    lines = text.splitlines()
    assert lines[1].startswith(f"  {dtype} -> float32: input, weight, bias widened exactly"), text
    assert lines[-2].startswith(f"  float32 -> {dtype}: output rounded to nearest even"), text
    text = sc.explain("conv2d_backward", x, w, grad_output=np.ones((1, 3, 3, 3), dt), output_mask=(True, False, True))
    assert f"{dtype} -> float32: weight, grad_output widened" in text, text
    assert f"float32 -> {dtype}: grad_input, grad_bias rounded" in text, text
    if dtype == "float16":
        assert "F16C" in text or "bit operations" in text
    assert "float32 -> " not in sc.explain("conv2d", x.astype(F32), w.astype(F32))


# ------------------------------------------------------------------ bad input


def _all_types():
    types = [np.float32, np.float64, np.float16]
    if BFLOAT16 is not None:
        types.append(BFLOAT16)
    return [np.dtype(t) for t in types]


@pytest.mark.parametrize("arg", ["weight", "bias", "grad_output"])
def test_mixed_dtypes_name_both(arg):
    for a, b in itertools.permutations(_all_types(), 2):
        x = np.ones((1, 2, 5, 5), a)
        w = np.ones((3, 2, 3, 3), b if arg == "weight" else a)
        bias = np.ones(3, b if arg == "bias" else a)
        go = np.ones((1, 3, 3, 3), b if arg == "grad_output" else a)
        with pytest.raises(TypeError) as e:
            if arg == "grad_output":
                sc.conv2d_backward(go, x, w)
            else:
                sc.conv2d(x, w, bias)
        msg = str(e.value)
        assert f"input type ({a.name})" in msg and f"{arg} type ({b.name})" in msg, msg
        assert "should be the same" in msg and f"{arg}.astype(input.dtype)" in msg, msg


def test_float16_weight_with_float32_input_is_a_type_error_naming_both():
    x, w = np.ones((1, 2, 5, 5), F32), np.ones((3, 2, 3, 3), np.float16)
    with pytest.raises(TypeError, match=r"conv2d: input type \(float32\) and weight type \(float16\) should be the same"):
        sc.conv2d(x, w)
    with pytest.raises(TypeError, match=r"conv_transpose1d: input type \(float16\) and weight type \(float32\)"):
        sc.conv_transpose1d(np.ones((1, 2, 5), np.float16), np.ones((2, 1, 3), F32))
    p = sc.prepare("conv2d", w)
    with pytest.raises(TypeError, match=r"input type \(float32\) and weight type \(float16\)"):
        p(x)
    with pytest.raises(TypeError, match=r"input type \(float32\) and weight type \(float16\)"):
        p.backward(np.ones((1, 3, 3, 3), F32), x)
    with pytest.raises(TypeError, match=r"weight type \(float16\) and bias type \(float32\)"):
        sc.prepare("conv2d", w, np.ones(3, F32))


class _Bfloat16Tensor:
    """Stands in for a torch.bfloat16 tensor: NumPy cannot convert it."""
    dtype = "torch.bfloat16"
    shape = (1, 2, 5, 5)

    def __array__(self, dtype=None, copy=None):
        raise TypeError("Got unsupported ScalarType BFloat16")


def test_unconvertible_bfloat16_says_what_to_install():
    with pytest.raises(TypeError, match=r"conv2d: input has dtype torch\.bfloat16.*pip install ml_dtypes"):
        sc.conv2d(_Bfloat16Tensor(), np.ones((3, 2, 3, 3), F32))
    with pytest.raises(TypeError, match=r"conv2d_backward: grad_output has dtype torch\.bfloat16.*ml_dtypes\.bfloat16"):
        sc.conv2d_backward(_Bfloat16Tensor(), np.ones((1, 2, 5, 5), F32), np.ones((3, 2, 3, 3), F32))


def test_dtype_helper():
    assert sc.DTYPES == ("float32", "float64", "float16", "bfloat16")
    assert sc.dtype("float16") == np.float16 and sc.dtype(np.float32) == np.float32
    assert sc.dtype(">f2") == np.float16 and sc.dtype(">f2").isnative
    for bad in ("int8", np.complex64, "bool"):
        with pytest.raises(TypeError, match="is not one of float32, float64, float16, bfloat16"):
            sc.dtype(bad)
    with pytest.raises(TypeError, match="not a NumPy dtype"):
        sc.dtype("no-such-type")
    if BFLOAT16 is not None:
        assert sc.dtype("bfloat16") == BFLOAT16 and sc.dtype(BFLOAT16) == BFLOAT16


def _child(code):
    """Runs `code` in a fresh interpreter with this swiftconv; returns its stdout."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env={"PYTHONPATH": PYTHON_PATH, "PATH": "/usr/bin:/bin"}, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_import_swiftconv_does_not_import_ml_dtypes():
    out = _child("""
        import sys, numpy as np
        import swiftconv as sc
        sc.conv2d(np.ones((1, 1, 3, 3), np.float16), np.ones((1, 1, 2, 2), np.float16))
        sc.explain("conv2d", np.ones((1, 1, 3, 3), np.float32), np.ones((1, 1, 2, 2), np.float32))
        print("ml_dtypes" in sys.modules)
    """)
    assert out.strip() == "False"


def test_without_ml_dtypes_bfloat16_is_a_clear_type_error():
    """With ml_dtypes unimportable, swiftconv imports, float16 works, and asking for
    bfloat16 says `pip install ml_dtypes`."""
    out = _child("""
        import sys
        sys.modules["ml_dtypes"] = None  # as if it were not installed
        import numpy as np
        import swiftconv as sc
        y = sc.conv2d(np.ones((1, 1, 3, 3), np.float16), np.ones((1, 1, 2, 2), np.float16))
        assert y.dtype == np.float16 and (y == 4).all()
        try:
            sc.dtype("bfloat16")
        except TypeError as e:
            print(e)
        class T:
            dtype = "torch.bfloat16"
            def __array__(self, dtype=None, copy=None):
                raise TypeError("Got unsupported ScalarType BFloat16")
        try:
            sc.conv2d(T(), np.ones((1, 1, 2, 2), np.float32))
        except TypeError as e:
            print(e)
    """)
    lines = out.strip().splitlines()
    assert len(lines) == 2, out
    assert "pip install ml_dtypes" in lines[0] and "bfloat16" in lines[0], lines[0]
    assert "conv2d: input has dtype torch.bfloat16" in lines[1] and "pip install ml_dtypes" in lines[1], lines[1]


@pytest.mark.parametrize("dtype", HALF_TYPES)
def test_direct_plane_rounding_edges(dtype):
    """The 3x3 direct planes (rows wide enough for the AVX-512 row pairs, which round each
    output vector in registers; bfloat16 by vcvtne2ps2bf16 where the CPU has it, the integer
    rule for vectors with a subnormal lane): subnormal results in some vectors of a row and
    not others, ties, infinities and NaNs are the float32 result rounded once, NaNs quiet
    with their sign and top payload bits (the bfloat16 rule: the top half, quiet bit set)."""
    dt = half_dtype(dtype)
    rng = np.random.default_rng(21)
    tiny = 2.0**-20 if dtype == "float16" else 2.0**-128
    x = rng.standard_normal((2, 3, 9, 53)).astype(F32)
    x[0, 0, :, :20] *= tiny  # subnormal sums in the first vectors of each row only
    x[0, 1, 4, 30] = np.inf
    x[0, 1, 6, 7] = -np.inf
    x[1, 2, 3, 40] = np.nan
    x[1, 2, 5, 11] = -np.nan
    # Channel 0's kernel: the centre 1 and its right neighbour half an ulp of 1, so that
    # inputs 1 and 3 give ties of the half type (1 + half an ulp, 1 + 3 half ulps).
    half_ulp = 2.0**-11 if dtype == "float16" else 2.0**-8
    x[1, 0] = 1 + 2 * rng.integers(0, 2, (9, 53))
    x = x.astype(dt)
    w = rng.standard_normal((3, 1, 3, 3)).astype(F32)
    w[0, 0] = [[0, 0, 0], [0, 1, half_ulp], [0, 0, 0]]
    w = w.astype(dt)
    for b in (None, (rng.standard_normal(3) * [0, 1, 1]).astype(F32).astype(dt)):  # (channel 0: no bias)
        got = run("conv2d", (x, w, b), padding=1, groups=3)
        want32 = run("conv2d", (widened(x), widened(w), widened(b)), padding=1, groups=3)
        nan = np.isnan(want32)
        assert nan.any() and np.isinf(want32).any()
        smallest_normal = 2.0**-14 if dtype == "float16" else 2.0**-126
        sub = (np.abs(want32) < smallest_normal) & (want32 != 0)
        assert sub.any() and (~sub & ~nan & (want32 != 0)).any()
        assert np.array_equal(bits(got)[~nan], bits(want32.astype(dt))[~nan])
        got_nan = bits(got)[nan]
        if dtype == "bfloat16":
            assert np.array_equal(got_nan, ((want32[nan].view(np.uint32) | 0x0040_0000) >> 16).astype(np.uint16))
        else:
            assert np.isnan(got[nan].astype(F32)).all()


@pytest.mark.parametrize("dtype", HALF_TYPES)
def test_depthwise_tile_rounding_edges(dtype):
    """The same on the depthwise tiles (16 channels, 16 pixels per block rounded in
    registers; bfloat16 by vcvtne2ps2bf16 where the CPU has it, the integer rule for blocks
    with a subnormal lane): subnormal results in some blocks, infinities, NaNs."""
    dt = half_dtype(dtype)
    rng = np.random.default_rng(22)
    tiny = 2.0**-20 if dtype == "float16" else 2.0**-128
    x = rng.standard_normal((1, 32, 7, 7)).astype(F32)
    x[0, :16, :3] *= tiny  # subnormal sums in the first pixel blocks of channels 0-15
    x[0, 20, 3, 3], x[0, 27, 0, 6], x[0, 30, 5, 1] = np.inf, -np.inf, np.nan
    x = x.astype(dt)
    w = rng.standard_normal((32, 1, 3, 3)).astype(F32)
    w[:16] = 0
    w[:16, 0, 1, 1] = 1  # channels 0-15: the centre tap only, so the tiny rows stay tiny
    w = w.astype(dt)
    assert "depthwise on the" in sc.explain("conv2d", x, w, padding=1, groups=32)
    got = run("conv2d", (x, w), padding=1, groups=32)
    want32 = run("conv2d", (widened(x), widened(w)), padding=1, groups=32)
    nan = np.isnan(want32)
    smallest_normal = 2.0**-14 if dtype == "float16" else 2.0**-126
    sub = (np.abs(want32) < smallest_normal) & (want32 != 0)
    assert nan.any() and np.isinf(want32).any() and sub.any()
    assert np.array_equal(bits(got)[~nan], bits(want32.astype(dt))[~nan])
    if dtype == "bfloat16":
        assert np.array_equal(bits(got)[nan], ((want32[nan].view(np.uint32) | 0x0040_0000) >> 16).astype(np.uint16))
    else:
        assert np.isnan(got[nan].astype(F32)).all()
