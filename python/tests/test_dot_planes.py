"""1x1 convolutions on planes of several pixels as dot products ("dot",
OnePixelConvolution.forwardOnPlane): x copied channels-last, each output the dot product of a
weight row with its input pixel's channels, in the one-pixel kernel's order.

Checked: the float64 reference within the dot-product bound (odd channel counts: partial
vectors and partial 8 x 3 / 4 x 4 tiles; strides; groups; bias or none; float32 and float64);
the bits of every output element are those of the same dot product on that pixel alone (the
one-pixel path), whatever the plane, the batch, the thread count, the memory layout, or a
prepared plan; and "auto" picks it for the small-plane reduce layers the selector names
(KernelSelector.dotOnPlane) on the AVX-512 tier only.
"""
from __future__ import annotations

import numpy as np
import pytest

import swiftconv as sc
from swiftconv import _reference as ref

# (C_in, C_out, groups, H, W, stride)
LAYERS = [(960, 320, 1, 7, 7, 1), (70, 33, 1, 5, 3, 1), (33, 17, 1, 4, 6, 1), (64, 32, 1, 14, 14, 2),
          (40, 40, 2, 7, 7, 1), (29, 11, 1, 9, 8, 2), (16, 19, 1, 2, 1, 1), (300, 24, 3, 3, 5, 3)]


def _arrays(ci, co, g, h, w, n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, ci, h, w)).astype(dtype)
    wt = rng.standard_normal((co, ci // g, 1, 1)).astype(dtype)
    b = rng.standard_normal(co).astype(dtype)
    return x, wt, b


def _with_threads(t, f):
    threads = sc.get_num_threads()
    try:
        sc.set_num_threads(t)
        return f()
    finally:
        sc.set_num_threads(threads)


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("ci,co,g,h,w,s", LAYERS)
def test_matches_the_reference(ci, co, g, h, w, s, dtype):
    for n in (1, 3):
        x, wt, b = _arrays(ci, co, g, h, w, n, dtype)
        for bias in (b, None):
            y = sc.conv2d(x, wt, bias, stride=s, groups=g, algorithm="dot")
            (want,) = ref.compute("conv2d", x, wt, bias, stride=s, groups=g)
            (sc_,) = ref.scale("conv2d", x, wt, bias, stride=s, groups=g)
            ref.assert_close(y, want, sc_, ci // g + 1, dtype, "output")


@pytest.mark.parametrize("ci,co,g,h,w,s", LAYERS)
def test_bits_are_the_one_pixel_dot_products(ci, co, g, h, w, s):
    """Every output element is, bit for bit, the one-pixel dot product of its input pixel
    (so a chunk of any size pinned to "dot", as swiftconv.dask runs them, gives the whole
    call's bits), at 1, 2 and 3 threads, prepared or not, from channels-last memory too."""
    x, wt, b = _arrays(ci, co, g, h, w, 2, np.float32, seed=ci + co)
    xs = np.ascontiguousarray(x[:, :, ::s, ::s])
    pixels = xs.transpose(0, 2, 3, 1).reshape(-1, ci, 1, 1)
    want = sc.conv2d(pixels, wt, b, groups=g, algorithm="dot")
    want = want.reshape(2, xs.shape[2], xs.shape[3], co).transpose(0, 3, 1, 2)
    x_cl = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    p = sc.prepare("conv2d", wt, b, stride=s, groups=g, algorithm="dot")
    for t in (1, 2, 3):
        np.testing.assert_array_equal(_with_threads(t, lambda: sc.conv2d(x, wt, b, stride=s, groups=g, algorithm="dot")), want)
        np.testing.assert_array_equal(_with_threads(t, lambda: p(x)), want)
        np.testing.assert_array_equal(_with_threads(t, lambda: sc.conv2d(x_cl, wt, b, stride=s, groups=g, algorithm="dot")), want)
        np.testing.assert_array_equal(_with_threads(t, lambda: sc.conv2d(x[1:], wt, b, stride=s, groups=g, algorithm="dot")), want[1:])


def test_auto_picks_dot_for_small_plane_reduce_layers():
    """The selector's rule (KernelSelector.dotOnPlane): on the AVX-512 tier, reduce layers at
    least 256 deep with at most 196 output pixels in the call run "dot"; expand layers,
    shallow ones, larger planes or batches keep the GEMM. (Other tiers: the GEMM always.)"""
    rng = np.random.default_rng(5)

    def kernel(ci, co, hw, n=1, s=1):
        x = np.zeros((n, ci, hw, hw), np.float32)
        w = rng.standard_normal((co, ci, 1, 1)).astype(np.float32)
        text = sc.explain("conv2d", x, w, stride=s)
        return text.split("forward conv: ", 1)[1].split()[0]

    avx512 = "kernels: AVX-512" in sc.explain("conv2d", np.zeros((1, 1, 1, 1), np.float32), np.zeros((1, 1, 1, 1), np.float32))
    expected = "dot" if avx512 else "im2col"
    assert kernel(960, 320, 7) == expected
    assert kernel(2048, 512, 7) == expected
    assert kernel(1024, 2048, 14, s=2) == "im2col"  # C_in < C_out: the GEMM
    assert kernel(320, 1280, 7) == "im2col"
    assert kernel(160, 96, 7) == "im2col"
    assert kernel(960, 320, 7, n=8) == "im2col"


def test_rejected_shapes_name_what_dot_computes():
    """ "dot" named on a shape whose outputs do not each read one input pixel (padding, a
    wider kernel) is a ValueError naming the shapes it takes."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((1, 8, 5, 5)).astype(np.float32)
    w = rng.standard_normal((4, 8, 1, 1)).astype(np.float32)
    message = "algorithm 'dot' computes only 1x1 convolutions whose every output reads one input pixel"
    with pytest.raises(ValueError, match=message):
        sc.conv2d(x, w, padding=1, algorithm="dot")
    with pytest.raises(ValueError, match=message):
        sc.conv2d(x, rng.standard_normal((4, 8, 3, 3)).astype(np.float32), algorithm="dot")
    with pytest.raises(ValueError, match=message):
        sc.prepare("conv2d", w, padding=(0, 1), algorithm="dot")
