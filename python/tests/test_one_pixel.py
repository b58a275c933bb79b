"""1x1 convolutions on a 1x1 plane (squeeze-and-excitation layers) on the few-column kernels.

The forward runs dot products over C_in/groups (their own summation order, when a group has
at least as many input as output channels): checked against the float64 reference within
the dot-product bound, and for bits that depend neither on the thread count nor on how the
batch is cut. grad_input and grad_weight run in the GEMM's order: bit for bit what the GEMM
computes for the same layer on a 1x2 plane whose second pixel is zero (that plane is not a
1x1 plane, so the GEMM runs it, and a zero pixel only adds zero products).
"""
from __future__ import annotations

import numpy as np
import pytest

import swiftconv as sc
from swiftconv import _reference as ref

# (C_in, C_out, groups): SE layers of EfficientNet-B0 (both directions), odd sizes (partial
# vectors, partial tiles, partial blocks of 16 rows), groups, one channel, the longest
# expand rows that run the dot products (64).
LAYERS = [(1152, 48, 1), (48, 1152, 1), (28, 672, 1), (96, 4, 1), (17, 5, 1), (5, 17, 1),
          (12, 6, 3), (40, 40, 2), (2, 1, 1), (64, 3, 1), (4, 96, 1), (6, 144, 1), (10, 240, 1),
          (20, 480, 1), (8, 70, 2), (33, 300, 1), (64, 200, 1)]
BATCHES = (1, 3, 8)


def _arrays(ci, co, g, n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, ci, 1, 1)).astype(dtype)
    w = rng.standard_normal((co, ci // g, 1, 1)).astype(dtype)
    b = rng.standard_normal(co).astype(dtype)
    gy = rng.standard_normal((n, co, 1, 1)).astype(dtype)
    return x, w, b, gy


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("ci,co,g", LAYERS)
def test_matches_the_reference(ci, co, g, dtype):
    for n in BATCHES:
        x, w, b, gy = _arrays(ci, co, g, n, dtype)
        y = sc.conv2d(x, w, b, groups=g)
        (want,) = ref.compute("conv2d", x, w, b, groups=g)
        (s,) = ref.scale("conv2d", x, w, b, groups=g)
        ref.assert_close(y, want, s, ci // g + 1, dtype, "output")
        got = sc.conv2d_backward(gy, x, w, groups=g)
        wants = ref.compute("conv2d_backward", x, w, go=gy, groups=g)
        scales = ref.scale("conv2d_backward", x, w, go=gy, groups=g)
        terms = ref.terms("conv2d_backward", x.shape, w.shape, gy.shape, groups=g)
        for name, u, v, s, k in zip(("grad_input", "grad_weight", "grad_bias"), got, wants, scales, terms):
            ref.assert_close(u, v, s, k, dtype, name)
        yt = sc.conv_transpose2d(gy, w, groups=g)
        (want_t,) = ref.compute("conv_transpose2d", gy, w, groups=g)
        (s_t,) = ref.scale("conv_transpose2d", gy, w, groups=g)
        ref.assert_close(yt, want_t, s_t, co // g, dtype, "conv_transpose2d")


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("ci,co,g", LAYERS)
def test_gradients_have_the_gemm_bits(ci, co, g, dtype):
    """The 1x2 plane with a zero second pixel runs the GEMM (grad_input: the upsample
    formulation's im2col; grad_weight: the GEMM weight gradient)."""
    for n in BATCHES:
        x, w, b, gy = _arrays(ci, co, g, n, dtype, seed=n)
        text = sc.explain("conv2d_backward", x, w, grad_output=gy, groups=g)
        assert "few-column kernel" in text, text
        gi, gw, gb = sc.conv2d_backward(gy, x, w, groups=g)
        x2 = np.concatenate([x, np.zeros_like(x)], axis=3)
        gy2 = np.concatenate([gy, np.zeros_like(gy)], axis=3)
        assert "few-column" not in sc.explain("conv2d_backward", x2, w, grad_output=gy2, groups=g)
        gi2, gw2, gb2 = sc.conv2d_backward(gy2, x2, w, groups=g)
        np.testing.assert_array_equal(gi, gi2[..., :1])
        np.testing.assert_array_equal(gw, gw2)
        # The transposed conv (with a bias) is the same adjoint.
        bt = np.arange(ci, dtype=dtype)
        np.testing.assert_array_equal(sc.conv_transpose2d(gy, w, bt, groups=g),
                                      sc.conv_transpose2d(gy2, w, bt, groups=g)[..., :1])


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_forward_bits_do_not_depend_on_threads_or_batch_cut(dtype):
    threads = sc.get_num_threads()
    try:
        for ci, co, g in LAYERS:
            x, w, b, _ = _arrays(ci, co, g, 8, dtype)
            results = []
            for t in (1, 2, 3):
                sc.set_num_threads(t)
                results.append(sc.conv2d(x, w, b, groups=g))
            for other in results[1:]:
                np.testing.assert_array_equal(other, results[0])
            for k in range(8):
                np.testing.assert_array_equal(sc.conv2d(x[k:k + 1], w, b, groups=g), results[0][k:k + 1])
            # Named im2col runs the same kernel as auto (a dask chunk pins the whole call's).
            np.testing.assert_array_equal(sc.conv2d(x[:3], w, b, groups=g, algorithm="im2col"), results[0][:3])
            # Prepared calls too.
            np.testing.assert_array_equal(sc.prepare("conv2d", w, b, groups=g)(x), results[0])
    finally:
        sc.set_num_threads(threads)


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_expand_rows_have_the_bits_of_rows_alone(dtype):
    """An expand layer's output rows have the bits of the same rows computed alone (slices
    that stay expand layers: a reduce slice runs the dot products, another order), with an
    infinity in one row kept to that row. (The row blocks' own bits: OnePixelTests.swift.)"""
    threads = sc.get_num_threads()
    try:
        for ci, co in ((4, 96), (10, 240), (48, 1152), (33, 300), (64, 200)):
            x, w, b, _ = _arrays(ci, co, 1, 8, dtype, seed=ci)
            w[co // 2, 0, 0, 0] = np.inf
            for t in (1, 2, 3):
                sc.set_num_threads(t)
                y = sc.conv2d(x, w, b)
                assert np.isfinite(np.delete(y, co // 2, axis=1)).all()
                step = ci + 1
                for r in range(0, co - step + 1, step):
                    np.testing.assert_array_equal(sc.conv2d(x, w[r:r + step], b[r:r + step]), y[:, r:r + step])
    finally:
        sc.set_num_threads(threads)


def test_rule_and_explanation():
    """Dot products where a group has at least as many input as output channels; the GEMM
    for the expand layers (their short-row dot products are switched off: KernelSelector
    .onePixelForward); a channels-last view of the same memory, the same bits."""
    x, w, b, _ = _arrays(1152, 48, 1, 2, np.float32)
    assert "dot product" in sc.explain("conv2d", x, w, b)
    for ci, co, g in ((128, 128, 2),):
        xe, we, be, _ = _arrays(ci, co, g, 1, np.float32)
        assert "dot product" in sc.explain("conv2d", xe, we, be, groups=g)
    for ci, co, g in ((48, 1152, 1), (64, 200, 1), (65, 200, 1), (130, 256, 1)):
        xe, we, be, _ = _arrays(ci, co, g, 1, np.float32)
        assert "dot product" not in sc.explain("conv2d", xe, we, be, groups=g)
    x_cl = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    assert "dot product" in sc.explain("conv2d", x_cl, w, b)
    np.testing.assert_array_equal(sc.conv2d(x_cl, w, b), sc.conv2d(x, w, b))


@pytest.mark.parametrize("padding", (1, (1, 0), ((1, 0), (0, 0)), ((0, 0), (0, 1))))
def test_padded_one_pixel_is_not_a_linear_layer(padding):
    """A 1x1 window on one pixel with padding reads zeros (stride 2 keeps one output):
    not the few-column product (hypothesis found conv1d (1, 3, 1), stride 2, padding (1, 0))."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 1, 1)).astype(np.float32)
    w = rng.standard_normal((4, 3, 1, 1)).astype(np.float32)
    y = sc.conv2d(x, w, stride=2, padding=padding)
    (want,) = ref.compute("conv2d", x, w, stride=2, padding=padding)
    (s,) = ref.scale("conv2d", x, w, stride=2, padding=padding)
    ref.assert_close(y, want, s, 3, np.float32, "output")
    assert "1x1 plane" not in sc.explain("conv2d", x, w, stride=2, padding=padding)
    y1 = sc.conv1d(x[..., 0], w[..., 0], stride=2, padding=((1, 0),))
    np.testing.assert_array_equal(y1, np.zeros((2, 4, 1), np.float32))


def test_no_input_channels():
    """C_in = 0 (an empty reduction): zeros and the bias, no crash (the GEMM's planner
    divided by a zero row block for the adjoint's zero output channels)."""
    for dtype in (np.float32, np.float64):
        x = np.zeros((2, 0, 1, 1), dtype)
        w = np.zeros((4, 0, 1, 1), dtype)
        b = np.arange(4, dtype=dtype)
        np.testing.assert_array_equal(sc.conv2d(x, w, b), np.broadcast_to(b.reshape(1, 4, 1, 1), (2, 4, 1, 1)))
        gi, gw, gb = sc.conv2d_backward(np.ones((2, 4, 1, 1), dtype), x, w)
        assert gi.shape == (2, 0, 1, 1) and gw.shape == (4, 0, 1, 1)
        np.testing.assert_array_equal(gb, np.full(4, 2, dtype))
        x3 = np.zeros((2, 0, 3, 3), dtype)
        gi3, _, _ = sc.conv2d_backward(np.ones((2, 4, 3, 3), dtype), x3, np.zeros((4, 0, 1, 1), dtype))
        assert gi3.shape == (2, 0, 3, 3)
