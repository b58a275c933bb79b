"""Depthwise convolutions on small NCHW planes (issue 10): the channel-interleaved tiles'
transposes end in a tail of 1-4 pixels moved one by one (8x8 Double: 1-2) or in an
overlapping 16x16 block, and 3x3 / 5x5 kernels run register blocks with constant tap counts.
Every plane size below puts a different remainder at the end of a transpose (pixel counts
17, 20, 21, 33, 49, 196, 25, 1) and the channel counts a partial channel block at the end;
each result agrees with the NumPy reference and is bitwise the same at 1, 2 and 3 threads.
Below: the tiles against the direct plane kernel (the same sums but at the padding), and the
upsample formulation's inner conv, on the direct kernel at every plane width."""
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


# The two kernels a depthwise conv runs on, by plane size: the channel-vectorised tiles
# (narrow planes, 5x5, strided) and the direct plane kernel (plain 3x3 stride-1 planes at
# least 56 wide, `KernelSelector.usesDepthwiseKernels`). Both start each output from its bias
# and add its taps in (kh, kw) order by fused multiply-adds (unfused on the baseline tier, in
# both); the tiles add the padding's zeros too, where the direct kernel skips those taps.
# acc + 0 * w == acc for every finite w and acc other than -0.0, so the two agree bit for bit
# on finite weights and a bias without -0.0 ...
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel", [3, 5])
@pytest.mark.parametrize("width", [20, 60])
def test_direct_and_depthwise_tiles_sum_in_the_same_order(kernel, width, dtype):
    rng = np.random.default_rng(kernel * 100 + width)
    c = 20
    x = rng_array(rng, (2, c, 9, width), dtype)
    x[:, :, :3] = 0
    w = rng_array(rng, (c, 1, kernel, kernel), dtype)
    b = rng_array(rng, (c,), dtype)
    for padding in (0, 1, kernel - 1, kernel + 1):
        params = dict(padding=padding, groups=c)
        assert np.array_equal(sc.conv2d(x, w, b, **params, algorithm="direct").view(np.uint8),
                              sc.conv2d(x, w, b, **params, algorithm="depthwise").view(np.uint8)), padding


def negative_zero_and_infinity(dtype, kernel=3):
    """A depthwise conv where skipping a padding tap and adding its zero differ: a -0.0 bias
    on zeros with negative taps except the last column (acc stays -0.0 until 0 * w > 0 adds
    +0.0), and an infinite weight (0 * inf is NaN)."""
    c = 16
    x = np.zeros((1, c, 6, 20), dtype)
    x[:, 8:, :, 10:] = 1
    w = -np.ones((c, 1, kernel, kernel), dtype)
    w[:, :, :, -1] = 1
    w[8:, 0, 0, 0] = np.inf
    return x, w, np.full(c, -0.0, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_direct_and_depthwise_tiles_differ_on_padding_taps(dtype):
    """... and not otherwise (the engine fact behind `KernelSelector.upsampleInner`: if this
    ever fails, the kernels agree and the rule could pick by plane size again)."""
    x, w, b = negative_zero_and_infinity(dtype)
    direct = sc.conv2d(x, w, b, padding=2, groups=16, algorithm="direct")
    tiles = sc.conv2d(x, w, b, padding=2, groups=16, algorithm="depthwise")
    assert np.signbit(direct[0, 0, 0, -1]) and not np.signbit(tiles[0, 0, 0, -1])
    assert not np.isnan(direct[0, 8, 0, 0]) and np.isnan(tiles[0, 8, 0, 0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel,stride", [(3, 1), (3, 2), (5, 1), (5, 2)])
@pytest.mark.parametrize("width", [9, 20, 60])
def test_upsample_inner_conv_is_the_direct_kernel_at_every_width(kernel, stride, width, dtype):
    """The upsample formulation of a depthwise transposed conv runs its stride-1 inner conv
    (zero-inserted dy, flipped kernel, padding dilation*(k-1) - padding) on the direct kernel
    whatever the plane's width, so a narrow piece of a wide call (swiftconv.dask's chunks)
    rounds as the whole call does; with the data above the tiles would give other bits."""
    x, w, b = negative_zero_and_infinity(dtype, kernel)
    x = np.concatenate([x] * 4, axis=-1)[..., :width]
    params = dict(stride=stride, padding=1, output_padding=stride - 1, groups=16)
    text = sc.explain("conv_transpose2d", x, w, b, algorithm="upsample", **params)
    assert "transposed conv: upsample, then forward conv: direct" in text
    got = sc.conv_transpose2d(x, w, b, algorithm="upsample", **params)
    up = np.zeros(x.shape[:2] + ((x.shape[2] - 1) * stride + 1, (width - 1) * stride + 1), dtype)
    up[:, :, ::stride, ::stride] = x
    flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1])
    before = kernel - 1 - params["padding"]  # and output_padding more after
    expected = sc.conv2d(up, flipped, b, padding=((before, before + stride - 1),) * 2, groups=16, algorithm="direct")
    assert got.shape == expected.shape
    assert np.array_equal(got.view(np.uint8), expected.view(np.uint8))


# Calls whose planes exceed 1 MB (source + destination, `KernelSelector.depthwisePrefetchMinBytes`)
# with 3+ multiply-adds per plane element (both shapes below) prefetch each next whole-plane
# task's planes; smaller calls do not. Each output's sum is the
# same either way: a large call agrees with the reference, is bitwise the same at 1, 2 and 3
# threads, and bitwise the batch-1 calls of its images (each under the threshold), with a
# partial last channel block (1000 and 100 channels).
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ["conv2d", "conv_transpose2d"])
@pytest.mark.parametrize("shape", [(1000, 7, 7, 3, 1), (100, 14, 14, 5, 2)], ids=lambda s: f"{s[0]}x{s[1]}k{s[3]}s{s[4]}")
def test_large_calls_match_their_images(shape, op, dtype):
    c, h, wd, k, stride = shape
    rng = np.random.default_rng(c + k)
    w = rng_array(rng, (c, 1, k, k), dtype)
    b = rng_array(rng, (c,), dtype)
    params = dict(stride=stride, padding=k // 2, groups=c)
    if op == "conv_transpose2d":
        params["output_padding"] = stride - 1
    fn = getattr(sc, op)
    image = np.zeros((1, c, h, wd), dtype)
    batch = (1 << 20) // (image.nbytes + fn(image, w, b, **params).nbytes) + 2
    x = rng_array(rng, (batch, c, h, wd), dtype)
    one = np.concatenate([fn(x[i:i + 1], w, b, **params) for i in range(batch)])
    assert x.nbytes + one.nbytes > (1 << 20) and (x.nbytes + one.nbytes) / x.shape[0] < (1 << 20)
    results = []
    for threads in (1, 2, 3):
        sc.set_num_threads(threads)
        results.append(fn(x, w, b, **params))
    assert_matches_reference((results[0],), op, x, w, b, None, **params)
    for got in results:
        assert np.array_equal(got.view(np.uint8), one.view(np.uint8)), "a large call differs from its images' calls"
