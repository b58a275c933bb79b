"""1x1 convolutions on a 1x1 plane (squeeze-and-excitation layers) on the few-column kernels.

The forward runs dot products over C_in/groups (their own summation order, when a group has
at least as many input as output channels or at most 64 input channels), the kernel named
"dot": checked against the float64 reference within the dot-product bound, for bits that
depend neither on the thread count nor on how the batch is cut, and for the naming rules
("auto" picks "dot", a named "im2col" always runs the GEMM, "dot" elsewhere is an error). grad_input and grad_weight run in the GEMM's order: bit for bit what the GEMM
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
            # The kernel "auto" picks, named (a dask chunk pins the whole call's), and prepared.
            named = _auto_kernel(x, w, b, groups=g)
            np.testing.assert_array_equal(sc.conv2d(x[:3], w, b, groups=g, algorithm=named), results[0][:3])
            np.testing.assert_array_equal(sc.prepare("conv2d", w, b, groups=g)(x), results[0])
            np.testing.assert_array_equal(sc.prepare("conv2d", w, b, groups=g, algorithm=named)(x), results[0])
    finally:
        sc.set_num_threads(threads)


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_expand_rows_have_the_bits_of_rows_alone(dtype):
    """The expand layers sum 16 rows (8 Doubles) at once across the lanes (a transpose in
    registers); the same pairs are added as for rows summed alone (fewer rows than a block):
    the same bits, for every slice of rows, with an infinity in one row kept to that row.
    (The row blocks' own bits per tier: OnePixelTests.swift.)"""
    threads = sc.get_num_threads()
    try:
        for ci, co in ((4, 96), (10, 240), (48, 1152), (33, 300), (64, 200)):
            x, w, b, _ = _arrays(ci, co, 1, 8, dtype, seed=ci)
            w[co // 2, 0, 0, 0] = np.inf
            for t in (1, 2, 3):
                sc.set_num_threads(t)
                y = sc.conv2d(x, w, b)
                assert np.isfinite(np.delete(y, co // 2, axis=1)).all()
                for r in range(0, co, 5):
                    np.testing.assert_array_equal(sc.conv2d(x, w[r:r + 5], b[r:r + 5]), y[:, r:r + 5])
    finally:
        sc.set_num_threads(threads)


def _auto_kernel(x, w, b=None, op="conv2d", **params):
    """The forward kernel "auto" runs, as `explain` names it (what swiftconv.dask reads)."""
    text = sc.explain(op, x, w, b, **params)
    return text.split("forward conv: ", 1)[1].split()[0]


def test_rule_and_explanation():
    """Dot products ("dot") where a group has at least as many input as output channels or
    at most 64 input channels (KernelSelector.onePixelForward); the GEMM ("im2col") for the
    longer expand rows; a channels-last view of the same memory, the same bits."""
    x, w, b, _ = _arrays(1152, 48, 1, 2, np.float32)
    assert "dot product" in sc.explain("conv2d", x, w, b)
    assert _auto_kernel(x, w, b) == "dot"
    for ci, co, g in ((48, 1152, 1), (28, 672, 1), (64, 200, 1), (128, 256, 2), (128, 128, 2)):
        xe, we, be, _ = _arrays(ci, co, g, 1, np.float32)
        assert _auto_kernel(xe, we, be, groups=g) == "dot", (ci, co, g)
    for ci, co, g in ((65, 200, 1), (130, 256, 1)):
        xe, we, be, _ = _arrays(ci, co, g, 1, np.float32)
        assert "dot product" not in sc.explain("conv2d", xe, we, be, groups=g)
        assert _auto_kernel(xe, we, be, groups=g) == "im2col"
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
    if padding == ((0, 0), (0, 1)):
        # Padding past the end is never read (stride 2 keeps the window at 0): the linear
        # layer, on the few-column kernel since 3 input channels are a short row.
        assert "1x1 plane" in sc.explain("conv2d", x, w, stride=2, padding=padding)
        np.testing.assert_array_equal(y, sc.conv2d(x, w))
    else:
        assert "1x1 plane" not in sc.explain("conv2d", x, w, stride=2, padding=padding)
        with pytest.raises(ValueError, match="algorithm 'dot' computes only 1x1 convolutions of a single input pixel"):
            sc.conv2d(x, w, stride=2, padding=padding, algorithm="dot")
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


def _gemm_forward(x, w, b, **params):
    """The GEMM's forward of a one-pixel layer: the same layer on a 1x2 plane whose second
    pixel is zero (not a 1x1 plane, so "auto" runs the GEMM; its order depends only on the
    depth, and the zero pixel has its own column)."""
    x2 = np.concatenate([x, np.zeros_like(x)], axis=-1)
    assert _auto_kernel(x2, w, b, **params) == "im2col"
    return sc.conv2d(x2, w, b, **params)[..., :1]


@pytest.mark.parametrize("ci,co,g", [(64, 8, 1), (8, 64, 1), (1152, 48, 1), (48, 1152, 1), (12, 6, 3)])
def test_named_im2col_is_the_gemm_and_dot_is_auto(ci, co, g):
    """On a 1x1 plane "auto" runs "dot"; a named "im2col" runs the GEMM, never the dot
    products (their bits differ: swiftconv.dask runs a one-pixel chunk of a larger 1x1 conv
    with the whole call's "im2col"), also prepared and from channels-last memory."""
    x, w, b, _ = _arrays(ci, co, g, 3, np.float32, seed=ci + co)
    assert _auto_kernel(x, w, b, groups=g) == "dot"
    text = sc.explain("conv2d", x, w, b, groups=g, algorithm="im2col")
    assert "forward conv: im2col" in text and "dot product" not in text, text
    gemm = _gemm_forward(x, w, b, groups=g)
    x_cl = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    for t in (1, 2, 3):
        threads = sc.get_num_threads()
        try:
            sc.set_num_threads(t)
            np.testing.assert_array_equal(sc.conv2d(x, w, b, groups=g, algorithm="im2col"), gemm)
            np.testing.assert_array_equal(sc.conv2d(x_cl, w, b, groups=g, algorithm="im2col"), gemm)
            np.testing.assert_array_equal(sc.prepare("conv2d", w, b, groups=g, algorithm="im2col")(x), gemm)
            dot = sc.conv2d(x, w, b, groups=g)
            np.testing.assert_array_equal(sc.conv2d(x, w, b, groups=g, algorithm="dot"), dot)
            np.testing.assert_array_equal(sc.prepare("conv2d", w, b, groups=g, algorithm="dot")(x), dot)
        finally:
            sc.set_num_threads(threads)
    # The two orders differ somewhere on these layers (else the test above proves nothing).
    many = _arrays(ci, co, g, 64, np.float32, seed=1)
    assert not np.array_equal(sc.conv2d(many[0], many[1], many[2], groups=g, algorithm="dot"),
                              sc.conv2d(many[0], many[1], many[2], groups=g, algorithm="im2col"))


def test_dot_is_listed_and_rejected_elsewhere():
    """ "dot" is a conv algorithm of every rank (not a transposed one); named on a shape it
    does not compute it is a ValueError that says which shapes it takes, for function calls,
    explain and prepared objects (at creation, or for the input size of a call)."""
    for r in (1, 2, 3):
        assert "dot" in sc.algorithms(f"conv{r}d")
        assert "dot" not in sc.algorithms(f"conv_transpose{r}d")
    rng = np.random.default_rng(3)
    w = rng.standard_normal((8, 64, 1, 1)).astype(np.float32)
    x = rng.standard_normal((2, 64, 6, 6)).astype(np.float32)
    message = "algorithm 'dot' computes only 1x1 convolutions of a single input pixel"
    with pytest.raises(ValueError, match=message):
        sc.conv2d(x, w, algorithm="dot")
    with pytest.raises(ValueError, match=message):
        sc.explain("conv2d", x, w, algorithm="dot")
    with pytest.raises(ValueError, match=message):
        sc.conv2d(x[..., :1, :1], rng.standard_normal((8, 64, 3, 3)).astype(np.float32), padding=1, algorithm="dot")
    with pytest.raises(ValueError, match=message):
        sc.conv1d(x[:, :, 0], w[..., 0], algorithm="dot")
    with pytest.raises(ValueError, match=message):
        sc.prepare("conv2d", w, padding=1, algorithm="dot")
    p = sc.prepare("conv2d", w, algorithm="dot")
    np.testing.assert_array_equal(p(x[..., :1, :1]), sc.conv2d(x[..., :1, :1], w))
    with pytest.raises(ValueError, match=message):
        p(x)
    with pytest.raises(ValueError, match="unknown algorithm 'dot'"):
        sc.conv_transpose2d(x[..., :1, :1], w.transpose(1, 0, 2, 3).copy(), algorithm="dot")


def test_conv1d_and_conv3d_one_pixel():
    """conv1d of length 1 and conv3d of a 1x1 plane (any depth: the depth lowering's planes
    are 1x1) run "dot" under "auto"; "im2col" named gives the GEMM's bits."""
    rng = np.random.default_rng(4)
    for ci, co in ((64, 8), (8, 64)):
        x1 = rng.standard_normal((3, ci, 1)).astype(np.float32)
        w1 = rng.standard_normal((co, ci, 1)).astype(np.float32)
        b = rng.standard_normal(co).astype(np.float32)
        assert _auto_kernel(x1, w1, b, op="conv1d") == "dot"
        np.testing.assert_array_equal(sc.conv1d(x1, w1, b), sc.conv1d(x1, w1, b, algorithm="dot"))
        x2 = np.concatenate([x1, np.zeros_like(x1)], axis=-1)
        np.testing.assert_array_equal(sc.conv1d(x1, w1, b, algorithm="im2col"), sc.conv1d(x2, w1, b)[..., :1])
        np.testing.assert_array_equal(sc.conv1d(x1, w1, b), sc.conv2d(x1[..., None], w1[..., None], b)[..., 0])
        for depth, kd in ((1, 1), (4, 1), (5, 3)):
            x3 = rng.standard_normal((2, ci, depth, 1, 1)).astype(np.float32)
            w3 = rng.standard_normal((co, ci, kd, 1, 1)).astype(np.float32)
            assert _auto_kernel(x3, w3, b, op="conv3d") == "dot"
            y = sc.conv3d(x3, w3, b)
            np.testing.assert_array_equal(sc.conv3d(x3, w3, b, algorithm="dot"), y)
            (want,) = ref.compute("conv3d", x3, w3, b)
            (s,) = ref.scale("conv3d", x3, w3, b)
            ref.assert_close(y, want, s, ci * kd + 1, np.float32, "output")
            x3w = np.concatenate([x3, np.zeros_like(x3)], axis=-1)
            np.testing.assert_array_equal(sc.conv3d(x3, w3, b, algorithm="im2col"), sc.conv3d(x3w, w3, b)[..., :1])


@pytest.mark.parametrize("ci,co", [(672, 28), (28, 672), (64, 8)])
def test_half_is_the_float32_dot_rounded_once(ci, co):
    """float16 SE layers run the float32 plan's kernel ("dot") on the widened values and
    round once: bit for bit the float32 result of the widened inputs, rounded (the half GEMM,
    which converts as it goes, ran there before and gave the GEMM's bits instead)."""
    x, w, b, _ = _arrays(ci, co, 1, 64, np.float32, seed=9)
    x, w, b = x.astype(np.float16), w.astype(np.float16), b.astype(np.float16)
    assert _auto_kernel(x, w, b) == "dot"
    want = sc.conv2d(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32)).astype(np.float16)
    np.testing.assert_array_equal(sc.conv2d(x, w, b).view(np.uint16), want.view(np.uint16))
    np.testing.assert_array_equal(sc.prepare("conv2d", w, b)(x).view(np.uint16), want.view(np.uint16))
