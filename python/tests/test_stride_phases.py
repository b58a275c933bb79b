"""The stride-phase forward (the planner's `splitsStridePhases`: a strided conv's input split
into its stride phases once, then packed from them or, on AVX-512, read in place on a phase
plane's grid): within the reference's error bound, bitwise the same at 1, 2 and 3 threads, and
bitwise the same on the AVX2 tier (which packs from the phases: no grid block function)."""
import sys
from pathlib import Path

import numpy as np

if str(Path(__file__).resolve().parent) not in sys.path:  # e.g. --import-mode=importlib
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import results_on_tier

import swiftconv as sc
from swiftconv import _reference as R

# (batch, in, out, height, width, kernel, stride, padding, dilation, groups, dtype): shapes the
# planner takes the phases for (outputs >= 56 wide, <= 32 output channels per group, >= 16
# input channels per group), odd sizes, stride 3, dilation, groups and a batch among them.
SHAPES = [
    (1, 32, 32, 112, 112, 3, 2, 1, 1, 1, "float32"),
    (1, 16, 24, 117, 121, 3, 2, 1, 1, 1, "float32"),
    (2, 16, 16, 60, 170, 3, 3, 2, 2, 1, "float32"),
    (1, 32, 32, 115, 114, 5, 2, 2, 1, 2, "float32"),
    (1, 16, 8, 113, 118, 3, 2, 1, 1, 1, "float64"),
]


def _case(i):
    n, ci, co, h, w, k, s, p, d, g, dt = SHAPES[i]
    rng = np.random.default_rng(100 + i)
    x = rng.standard_normal((n, ci, h, w)).astype(dt)
    wt = rng.standard_normal((co, ci // g, k, k)).astype(dt)
    b = rng.standard_normal(co).astype(dt)
    return x, wt, b, dict(stride=s, padding=p, dilation=d, groups=g)


def _results(threads):
    saved = sc.get_num_threads()
    sc.set_num_threads(threads)
    try:
        return [sc.conv2d(*_case(i)[:3], **_case(i)[3]) for i in range(len(SHAPES))]
    finally:
        sc.set_num_threads(saved)


def _bits(a):
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


def test_planner_takes_the_phases():
    for i in range(len(SHAPES)):
        x, wt, b, params = _case(i)
        assert "stride phases" in sc.explain("conv2d", x, wt, b, **params), SHAPES[i]


def test_within_the_reference_bound():
    for i, y in enumerate(_results(1)):
        x, wt, b, params = _case(i)
        want = R.compute("conv2d", x, wt, b, **params)[0]
        scale = R.scale("conv2d", x, wt, b, **params)[0]
        terms = R.terms("conv2d", x.shape, wt.shape, groups=params["groups"], bias=True)[0]
        R.assert_close(y, want, scale, terms, x.dtype, f"shape {SHAPES[i]}")


def test_bitwise_across_threads_and_tiers(tmp_path):
    ours = {t: _results(t) for t in (1, 2, 3)}
    for t in (2, 3):
        for a, b in zip(ours[1], ours[t]):
            assert np.array_equal(_bits(a), _bits(b))
    theirs = results_on_tier("avx2", "test_stride_phases", "results = t._results(2)", tmp_path)
    assert len(theirs) == len(ours[1])
    for i, (a, b) in enumerate(zip(ours[1], theirs)):
        assert a.shape == b.shape and np.array_equal(_bits(a), _bits(b)), SHAPES[i]
