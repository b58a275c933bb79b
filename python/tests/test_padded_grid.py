"""The padded-grid forward (AVX-512: a stride-1 convolution's unfolded input read in place
from its zero-padded copy, no packing) gives bitwise the results of the packed im2col path,
which the AVX2 build runs (the two builds' GEMMs give the same bits): forward and the
gradients (grad_input runs the same forward with the flipped kernel), at 1 and 2 threads."""
import sys
from pathlib import Path

import numpy as np
import pytest

if str(Path(__file__).resolve().parent) not in sys.path:  # e.g. --import-mode=importlib
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import results_on_tier

import swiftconv as sc

# (batch, in, out, height, width, kernel, padding, dilation, groups, bias): planes wide enough
# for the planner's grid rule (KernelSelector.readsPaddedGrid), odd widths among them.
SHAPES = [
    (1, 3, 5, 9, 61, 3, 1, 1, 1, True),
    (2, 8, 6, 11, 57, 3, 1, 1, 2, False),
    (1, 4, 25, 6, 90, 5, 2, 1, 1, True),
    (2, 6, 13, 5, 120, 3, 2, 2, 1, True),
    (1, 70, 30, 4, 58, 3, 1, 1, 1, False),
]


def _results(threads):
    """Forward and conv2d_backward of every shape at `threads` threads, as one flat list."""
    saved = sc.get_num_threads()
    sc.set_num_threads(threads)
    try:
        out = []
        for i, (n, ci, co, h, w, k, pad, dil, g, has_bias) in enumerate(SHAPES):
            rng = np.random.default_rng(i)
            x = rng.standard_normal((n, ci, h, w), dtype=np.float32)
            wt = rng.standard_normal((co, ci // g, k, k), dtype=np.float32)
            b = rng.standard_normal(co, dtype=np.float32) if has_bias else None
            y = sc.conv2d(x, wt, b, padding=pad, dilation=dil, groups=g, algorithm="im2col")
            go = rng.standard_normal(y.shape, dtype=np.float32)
            grads = sc.conv2d_backward(go, x, wt, padding=pad, dilation=dil, groups=g)
            out += [y] + [a for a in grads if a is not None]
        return out
    finally:
        sc.set_num_threads(saved)


def _explain(shape):
    """What the planner picks for the forward (im2col) and for the gradients."""
    n, ci, co, h, w, k, pad, dil, g, _ = shape
    x = np.zeros((n, ci, h, w), np.float32)
    wt = np.zeros((co, ci // g, k, k), np.float32)
    params = dict(padding=pad, dilation=dil, groups=g)
    return (sc.explain("conv2d", x, wt, algorithm="im2col", **params)
            + sc.explain("conv2d_backward", x, wt, grad_output=sc.conv2d(x, wt, **params), **params))


def test_grid_is_bitwise_the_packed_path(tmp_path):
    if "AVX-512" not in _explain(SHAPES[0]):
        pytest.skip("the padded grid is an AVX-512 path")
    for shape in SHAPES:
        text = _explain(shape)
        # Forward and grad_input (the upsample adjoint's forward) both on the grid.
        assert text.count("grid") == 2, text
    ours = {t: _results(t) for t in (1, 2)}
    for a, b in zip(ours[1], ours[2]):
        assert np.array_equal(a.view(np.uint32), b.view(np.uint32))
    theirs = results_on_tier("avx2", "test_padded_grid", """
        assert "AVX2" in t._explain(t.SHAPES[0]) and "grid" not in t._explain(t.SHAPES[0])
        results = t._results(2)
    """, tmp_path)
    assert len(theirs) == len(ours[1])
    for i, (a, b) in enumerate(zip(ours[1], theirs)):
        assert a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32)), i
