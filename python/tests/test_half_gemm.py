"""float16 / bfloat16 convolutions on the GEMM that converts chunk by chunk (ConvPlan's
halfGemm step, HalfGemmConvolution.swift): the forward conv on the im2col GEMM (1x1, dense,
strided, dilated, grouped), the stride-1 transposed conv whose upsample conv is such a GEMM,
and the grad_input calls that are one of those GEMMs.

The path before this step widened each whole array to float32, ran the float32 plan and
rounded the whole result once; that computation is exactly ``op(widened arrays)`` rounded
once by NumPy / ml_dtypes (round to nearest even, test_half.py and ConversionTests check the
conversions), so every result here must equal it bit for bit: for every thread count, kernel
tier, prepared object, chunk layout (columns across image boundaries, chunks of 16 columns,
row blocks) and for values that overflow or underflow the half type. explain() must show
that the new step ran (otherwise these tests would check the old path against itself).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_half import HALF_TYPES, assert_rounded_once, bits, check_on_tier, half_dtype, widened

import swiftconv as sc

F32 = np.float32
GEMM_TEXT = "widened chunk by chunk into the GEMM's float32 B operand"
GRID_TEXT = "read in place on their padded-width grid"

# (op, input shape, weight shape, kwargs): each one halfGemm step.
CASES = [
    ("conv2d", (1, 40, 23, 29), (24, 40, 1, 1), {}),                     # columns not a multiple of 16
    ("conv2d", (5, 24, 7, 7), (36, 24, 1, 1), {}),                       # batch folded: chunks cross images
    ("conv2d", (2, 4200, 5, 5), (8, 4200, 1, 1), {}),                    # deep: 16-column chunks
    ("conv2d", (1, 300, 5, 9), (1400, 300, 1, 1), {}),                   # big weights: row blocks, GEMM packs A
    # Deep inputs with packed weights: chunks within one image have their B panels widened
    # as the GEMM packs them, strips of 64 columns (the last partial, a partial panel); chunks
    # across images the widened chunk (both in one call); big A: one GEMM call per chunk.
    ("conv2d", (1, 256, 9, 15), (40, 256, 1, 1), {}),
    ("conv2d", (2, 256, 24, 24), (20, 256, 1, 1), {}),
    ("conv2d", (1, 512, 6, 7), (800, 512, 1, 1), {}),
    ("conv2d", (3, 12, 9, 11), (18, 4, 1, 1), dict(groups=3)),
    ("conv2d", (2, 16, 8, 8), (32, 16, 1, 1), dict(dilation=2)),
    ("conv1d", (3, 33, 50), (20, 33, 1), {}),
    ("conv1d", (40, 17), (8, 40, 1), {}),                                 # unbatched
    ("conv_transpose2d", (2, 48, 9, 13), (48, 20, 1, 1), {}),
    ("conv_transpose2d", (3, 24, 7, 5), (24, 6, 1, 1), dict(groups=4)),
    ("conv_transpose1d", (2, 64, 70), (64, 30, 1), {}),
    # Dense and strided: the widened, zero-padded sub-image of each chunk's input rows.
    ("conv2d", (1, 24, 37, 41), (16, 24, 3, 3), dict(padding=1)),                  # chunks of rows
    ("conv2d", (1, 600, 23, 19), (8, 600, 3, 3), dict(padding=(1, 2))),           # one row per chunk
    ("conv2d", (6, 20, 7, 6), (12, 20, 3, 3), dict(padding=1)),                    # whole images per chunk
    ("conv2d", (2, 16, 13, 17), (24, 16, 3, 3), dict(padding=1, stride=2)),
    ("conv2d", (3, 8, 9, 9), (12, 4, 3, 3), dict(groups=2, padding=2, dilation=2)),
    # 1x1 strided: the sampled pixels gathered as they are widened (stride 2 in vectors of
    # 16 while the 32 values they load lie in the row: even and odd widths, the last vector
    # overlapping, chunks across rows and images; other strides lane by lane).
    ("conv2d", (1, 64, 30, 20), (40, 64, 1, 1), dict(stride=2)),
    ("conv2d", (2, 24, 40, 56), (20, 24, 1, 1), dict(stride=2)),
    ("conv2d", (3, 16, 9, 35), (12, 16, 1, 1), dict(stride=2)),
    ("conv2d", (1, 40, 50, 50), (16, 40, 1, 1), dict(stride=(3, 2))),
    ("conv2d", (2, 32, 17, 17), (8, 32, 1, 1), dict(stride=3)),
    ("conv2d", (1, 4200, 10, 40), (8, 4200, 1, 1), dict(stride=2)),              # 16-column chunks: parts of rows
    ("conv2d", (2, 48, 8, 8), (24, 16, 1, 1), dict(stride=2, groups=3)),
    ("conv1d", (2, 24, 101), (16, 24, 1), dict(stride=2)),
    ("conv2d", (2, 12, 17, 16), (10, 12, 2, 3), dict(stride=3, padding=1)),        # compact rows: kH 2, stride 3
    ("conv2d", (1, 3, 11, 11), (5, 3, 5, 5), {}),                                  # every window inside
    ("conv1d", (2, 5, 40), (7, 5, 5), dict(padding=2)),
    # Stride 1 on the padded-width grid of the sub-image read in place (AVX-512: the planner's
    # readsPaddedGrid): chunks of rows, the last one shorter; dilated; big weights in row
    # blocks; the transposed conv's upsample formulation.
    ("conv2d", (1, 16, 20, 64), (24, 16, 3, 3), dict(padding=1)),
    ("conv2d", (1, 8, 18, 96), (12, 8, 3, 3), dict(padding=2, dilation=2)),
    ("conv2d", (1, 64, 12, 64), (600, 64, 3, 3), dict(padding=1)),
    ("conv_transpose2d", (1, 16, 20, 62), (16, 8, 3, 3), dict(padding=1)),
    ("conv_transpose2d", (2, 20, 11, 9), (20, 12, 3, 3), dict(padding=1)),
    ("conv_transpose2d", (1, 16, 6, 8), (16, 6, 3, 3), dict(padding=2, dilation=2, groups=2)),
]


def _calls(op, x, w, b, kw, rng, dt):
    """(name, fn(arrays) -> tuple of results, half arrays): the op with bias and without, its
    prepared object, and the grad_input call of its backward that is the other GEMM of this kind."""
    fn = getattr(sc, op)
    back = getattr(sc, op + "_backward")
    y = fn(x, w, b, **kw)
    gy = rng.standard_normal(y.shape).astype(F32).astype(dt)
    p = sc.prepare(op, w, b, **kw)
    only_input = dict(kw, output_mask=(True, False, False))
    return [
        (op, lambda a: (fn(*a, **kw),), (x, w, b)),
        (op + " no bias", lambda a: (fn(*a, **kw),), (x, w, None)),
        (op + " prepared", lambda a: (p(a[0]) if a[0].dtype == dt else fn(a[0], widened(w), widened(b), **kw),), (x,)),
        (op + "_backward grad_input", lambda a: back(*a, **only_input)[:1], (gy, x, w)),
    ]


def _check(dt, threads, cases=CASES):
    rng = np.random.default_rng(11)
    saved = sc.get_num_threads()
    try:
        for op, xs, ws, kw in cases:
            x = rng.standard_normal(xs).astype(F32).astype(dt)
            w = (rng.standard_normal(ws) * 0.2).astype(F32).astype(dt)
            transposed = "transpose" in op
            b = rng.standard_normal(ws[1] * kw.get("groups", 1) if transposed else ws[0]).astype(F32).astype(dt)
            for name, call, args in _calls(op, x, w, b, kw, rng, dt):
                if name.endswith("grad_input"):
                    text = sc.explain(op + "_backward", args[1], args[2], grad_output=args[0], output_mask=(True, False, False), **kw)
                    text32 = sc.explain(op + "_backward", widened(args[1]), widened(args[2]), grad_output=widened(args[0]),
                                        output_mask=(True, False, False), **kw)
                elif name.endswith("prepared"):
                    text = sc.prepare(op, w, b, **kw).explain(x)
                else:
                    text = sc.explain(op, *args, **kw)
                # The forward calls run this GEMM unless float32's "auto" runs the channel-blocked
                # conv (half follows float32's kernel); a grad_input call when the float32 plan
                # runs its im2col GEMM (not when "auto" scatters, e.g. every strided conv).
                forward32 = sc.explain(op, widened(x), widened(w), **kw)
                converts = ("forward conv: im2col" in text32 if name.endswith("grad_input")
                            else "forward conv: blocked" not in forward32)
                assert (GEMM_TEXT in text) == converts, (name, xs, kw, text)
                if converts and not name.endswith("grad_input"):
                    # Stride-1 chunks read on the padded-width grid exactly when the float32
                    # plan reads its zero-padded copy so (AVX-512; the planner's rule).
                    text32 = forward32
                    assert (GRID_TEXT in text) == ("-wide grid" in text32), (name, xs, kw, text, text32)
                want = call(tuple(widened(a) for a in args))
                results = []
                for n in threads:
                    sc.set_num_threads(n)
                    got = call(args)
                    for g, f in zip(got, want):
                        assert_rounded_once(g, f, dt, f"{name} {xs} {kw} {n} threads")
                    results.append([bits(g) for g in got])
                for r in results[1:]:
                    assert all(np.array_equal(a, c) for a, c in zip(results[0], r)), (name, xs, kw)
    finally:
        sc.set_num_threads(saved)


@pytest.mark.parametrize("dtype", HALF_TYPES)
def test_half_gemm_is_the_float32_result_rounded_once(dtype):
    _check(half_dtype(dtype), (1, 2, 3))


@pytest.mark.parametrize("dtype", HALF_TYPES)
def test_overflow_underflow_and_nan_through_the_half_gemm(dtype):
    """Sums past the half type's range become infinities, tiny ones subnormals or zeros, NaN
    inputs NaN outputs: the same bits as the float32 result rounded once."""
    dt = half_dtype(dtype)
    rng = np.random.default_rng(3)
    big = 6e4 if dtype == "float16" else 3e38
    x = (rng.standard_normal((2, 20, 6, 7)) * big / 4).astype(F32).astype(dt)
    x[0, 3, 2, 2] = np.nan
    w = rng.standard_normal((18, 20, 1, 1)).astype(F32).astype(dt)
    tiny = np.full((1, 20, 5, 5), 1e-7 if dtype == "float16" else 1e-38, F32).astype(dt)
    for xx in (x, tiny):
        got = sc.conv2d(xx, w)
        with np.errstate(over="ignore", invalid="ignore"):  # the rounding to the half type overflows
            assert_rounded_once(got, sc.conv2d(widened(xx), widened(w)), dt, dtype)
    assert np.isinf(sc.conv2d(x, w).astype(F32)).any() and np.isnan(sc.conv2d(x, w).astype(F32)).any()


def test_only_single_gemm_plans_convert_in_the_gemm():
    """A backward that also wants grad_weight, a padding mode (its padded copy is a step of
    its own), a strided transposed conv and the other algorithms keep the widen / narrow
    passes (their steps are not this GEMM)."""
    x, w = np.ones((1, 8, 6, 6), np.float16), np.ones((4, 8, 1, 1), np.float16)
    assert GEMM_TEXT not in sc.explain("conv2d_backward", x, w, grad_output=np.ones((1, 4, 6, 6), np.float16))
    assert GEMM_TEXT not in sc.explain("conv2d", x, np.ones((4, 8, 3, 3), np.float16), padding=1, padding_mode="reflect")
    assert GEMM_TEXT not in sc.explain("conv_transpose2d", np.ones((1, 4, 6, 6), np.float16), np.ones((4, 8, 3, 3), np.float16),
                                       stride=2)
    assert GEMM_TEXT not in sc.explain("conv2d", x.astype(F32), w.astype(F32))
    assert GEMM_TEXT in sc.explain("conv2d", x, w, algorithm="im2col")
    assert GEMM_TEXT not in sc.explain("conv2d", x, w, algorithm="direct")


@pytest.mark.parametrize("tier", ["avx2", "baseline"])
def test_half_gemm_on_lower_tiers(tier):
    """The same on the lower CPU tiers."""
    check_on_tier(tier, "test_half_gemm", "_check")
