"""Depthwise convolutions on small NCHW planes (issue 10): the channel-interleaved tiles'
transposes end in a tail of 1-4 pixels moved one by one (8x8 Double: 1-2) or in an
overlapping 16x16 block, and 3x3 / 5x5 kernels run register blocks with constant tap counts.
Every plane size below puts a different remainder at the end of a transpose (pixel counts
17, 20, 21, 33, 49, 196, 25, 1) and the channel counts a partial channel block at the end;
each result agrees with the NumPy reference and is bitwise the same at 1, 2 and 3 threads."""
from __future__ import annotations

import numpy as np
import pytest

import swiftconv as sc

from _hardening import assert_matches_reference, rng_array, run

# (channels, height, width, kernel, stride, padding)
SHAPES = [
    (19, 1, 17, (1, 3), 1, (0, 1)),
    (16, 4, 5, (3, 3), 1, 1),
    (33, 7, 3, (3, 3), 1, 1),
    (17, 3, 11, (5, 5), 1, 2),
    (40, 7, 7, (3, 3), 1, 1),
    (21, 7, 7, (5, 5), 1, 2),
    (18, 14, 14, (3, 3), 2, 1),
    (20, 14, 14, (5, 5), 1, 2),
    (9, 5, 5, (3, 5), 1, (1, 2)),
    (24, 1, 1, (3, 3), 1, 1),
]


@pytest.fixture(autouse=True)
def restore_threads():
    before = sc.get_num_threads()
    yield
    sc.set_num_threads(before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ["conv2d", "conv_transpose2d", "conv2d_backward"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}x{s[2]}k{s[3][0]}{s[3][1]}s{s[4]}")
def test_small_planes(shape, op, dtype):
    c, h, wd, kernel, stride, padding = shape
    rng = np.random.default_rng(c * 1000 + h * 10 + wd)
    x = rng_array(rng, (2, c, h, wd), dtype)
    w = rng_array(rng, (c, 1) + kernel, dtype)
    params = dict(stride=stride, padding=padding, groups=c)
    b = rng_array(rng, (c,), dtype) if op != "conv2d_backward" else None
    gy = None
    if op == "conv2d_backward":
        gy = rng_array(rng, sc.conv2d(x, w, None, **params).shape, dtype)
    results = []
    for threads in (1, 2, 3):
        sc.set_num_threads(threads)
        results.append(run(op, x, w, b, gy, **params))
    assert_matches_reference(results[0], op, x, w, b, gy, **params)
    for other in results[1:]:
        for got, first in zip(other, results[0]):
            assert np.array_equal(got, first), "results differ between thread counts"
