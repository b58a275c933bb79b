"""Every rank through one engine: 1-D and 3-D calls are the 2-D machinery (bit for bit where
the shapes coincide), share its rules and messages (naming the op and the rank), and
explain the depth lowering of 3-D convolutions."""
from __future__ import annotations

import numpy as np
import pytest

import swiftconv as sc

rng = np.random.default_rng(3)


def f(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("alg", ["auto", "direct", "im2col", "taps", "reference"])
def test_conv1d_is_conv2d_with_height_one_bitwise(alg):
    x, w, b = f(3, 6, 40), f(8, 3, 5), f(8)
    y1 = sc.conv1d(x, w, b, stride=2, padding=((1, 3),), dilation=2, groups=2, algorithm=alg)
    y2 = sc.conv2d(x[:, :, None], w[:, :, None], b, stride=(1, 2), padding=((0, 0), (1, 3)), dilation=(1, 2),
                   groups=2, algorithm=alg)
    np.testing.assert_array_equal(y1, y2[:, :, 0])


@pytest.mark.parametrize("alg", ["auto", "direct", "im2col", "taps", "reference"])
def test_conv3d_with_depth_one_is_conv2d_bitwise(alg):
    x, w, b = f(2, 4, 1, 9, 11), f(6, 2, 1, 3, 3), f(6)
    y3 = sc.conv3d(x, w, b, stride=(1, 2, 1), padding=(0, 1, 2), groups=2, algorithm=alg)
    y2 = sc.conv2d(x[:, :, 0], w[:, :, 0], b, stride=(2, 1), padding=(1, 2), groups=2, algorithm=alg)
    np.testing.assert_array_equal(y3[:, :, 0], y2)


@pytest.mark.parametrize("alg", ["auto", "scatter", "upsample", "phase", "reference"])
def test_conv_transpose1d_is_conv_transpose2d_bitwise(alg):
    x, w, b = f(2, 4, 13), f(4, 3, 3), f(6)
    y1 = sc.conv_transpose1d(x, w, b, stride=3, padding=1, output_padding=2, groups=2, algorithm=alg)
    y2 = sc.conv_transpose2d(x[:, :, None], w[:, :, None], b, stride=(1, 3), padding=(0, 1), output_padding=(0, 2),
                             groups=2, algorithm=alg)
    np.testing.assert_array_equal(y1, y2[:, :, 0])


def test_conv3d_algorithms_agree_with_reference():
    x, w, b = f(2, 4, 6, 7, 8, dtype=np.float64), f(6, 2, 3, 2, 3, dtype=np.float64), f(6, dtype=np.float64)
    kw = dict(stride=(2, 1, 2), padding=((1, 2), (0, 1), (2, 0)), dilation=(1, 2, 1), groups=2)
    want = sc.conv3d(x, w, b, algorithm="reference", **kw)
    for alg in ("auto", "direct", "im2col", "taps"):
        np.testing.assert_allclose(sc.conv3d(x, w, b, algorithm=alg, **kw), want, rtol=1e-12, atol=1e-12)


def test_explain_shows_the_depth_lowering():
    text = sc.explain("conv3d", f(2, 3, 8, 8, 8), f(4, 3, 3, 3, 3), padding=1)
    assert "depth lowering: 16 (image, depth) slices" in text
    assert "planar conv: N16 9->4 8x8->8x8 k3x3" in text
    assert "forward conv:" in text
    assert "depth lowering" not in sc.explain("conv3d", f(2, 3, 8, 8, 8), f(4, 3, 3, 3, 3), algorithm="reference")


def test_algorithms_are_the_same_for_every_rank():
    for kind in ("conv{}d", "conv_transpose{}d", "conv{}d_backward"):
        names = {sc.algorithms(kind.format(r)) for r in (1, 2, 3)}
        assert len(names) == 1
    assert sc.algorithms("conv3d") == ("auto", "direct", "im2col", "taps", "depthwise", "dot", "blocked", "reference")
    assert sc.algorithms("conv_transpose1d") == ("auto", "scatter", "upsample", "phase", "depthwise", "reference")
    with pytest.raises(ValueError, match="unknown op 'conv4d'"):
        sc.algorithms("conv4d")


# -- errors name the op, the rank and the numbers -------------------------------------------

def test_wrong_input_rank_names_the_rank():
    with pytest.raises(ValueError, match=r"conv1d: Expected 2D \(unbatched\) or 3D \(batched\) input to conv1d, "
                                         r"but got input of size: \[1, 2, 3, 4\]"):
        sc.conv1d(np.ones((1, 2, 3, 4), np.float32), np.ones((1, 2, 3), np.float32))
    with pytest.raises(ValueError, match=r"conv_transpose3d: Expected 4D \(unbatched\) or 5D \(batched\) input"):
        sc.conv_transpose3d(np.ones((2, 3, 4), np.float32), np.ones((2, 1, 1, 1, 1), np.float32))
    with pytest.raises(ValueError, match=r"conv3d: expected a 5-dimensional weight"):
        sc.conv3d(np.ones((1, 2, 3, 4, 5), np.float32), np.ones((1, 2, 3, 4), np.float32))


def test_per_axis_values_must_match_the_rank():
    x, w = np.ones((1, 1, 6, 6, 6), np.float32), np.ones((1, 1, 3, 3, 3), np.float32)
    with pytest.raises(ValueError, match=r"conv3d: stride must be an int or a tuple of 3 ints, got 2 values"):
        sc.conv3d(x, w, stride=(1, 2))
    with pytest.raises(ValueError, match=r"conv1d: dilation must be an int or a 1-tuple of ints, got 2 values"):
        sc.conv1d(np.ones((1, 1, 6), np.float32), np.ones((1, 1, 3), np.float32), dilation=(1, 2))
    with pytest.raises(ValueError, match=r"conv3d: padding must"):
        sc.conv3d(x, w, padding=((1, 1), (1, 1)))
    assert sc.conv3d(x, w, stride=(2,)).shape == (1, 1, 2, 2, 2)  # a 1-tuple broadcasts, as PyTorch


def test_kernel_larger_than_input_message_lists_every_axis():
    with pytest.raises(ValueError, match=r"Calculated padded input size per channel: \(4 x 4 x 4\)\. "
                                         r"Kernel size: \(5 x 5 x 5\)"):
        sc.conv3d(np.ones((1, 1, 4, 4, 4), np.float32), np.ones((1, 1, 5, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"conv1d: .*\(4\)\. Kernel size: \(10\)"):
        sc.conv1d(np.ones((1, 1, 4), np.float32), np.ones((1, 1, 10), np.float32))


def test_output_padding_message_names_the_axes():
    with pytest.raises(ValueError, match=r"conv_transpose3d: output padding must be smaller than either stride or "
                                         r"dilation, but got output_padding_depth: 2 output_padding_height: 0 "
                                         r"output_padding_width: 0 stride_depth: 2"):
        sc.conv_transpose3d(np.ones((1, 1, 2, 2, 2), np.float32), np.ones((1, 1, 1, 1, 1), np.float32),
                            stride=2, output_padding=(2, 0, 0))
    # The rule is per axis: output_padding >= stride is fine where it is < dilation.
    y = sc.conv_transpose1d(np.ones((1, 1, 3), np.float32), np.ones((1, 1, 2), np.float32),
                            stride=2, output_padding=2, dilation=3)
    assert y.shape == (1, 1, (3 - 1) * 2 + 3 * 1 + 2 + 1)


def test_same_padding_rules_every_rank():
    with pytest.raises(ValueError, match=r"conv1d: padding='same' is not supported for strided convolutions, got stride=\(2,\)"):
        sc.conv1d(np.ones((1, 1, 8), np.float32), np.ones((1, 1, 3), np.float32), stride=2, padding="same")
    y = sc.conv3d(np.ones((1, 1, 5, 6, 7), np.float32), np.ones((1, 1, 2, 3, 4), np.float32), padding="same")
    assert y.shape == (1, 1, 5, 6, 7)


def test_unknown_algorithm_names_the_rank():
    with pytest.raises(ValueError, match=r"conv3d: unknown algorithm 'scatter', expected one of 'auto', 'direct', "
                                         r"'im2col', 'taps', 'depthwise', 'dot', 'blocked', 'reference'"):
        sc.conv3d(np.ones((1, 1, 3, 3, 3), np.float32), np.ones((1, 1, 1, 1, 1), np.float32), algorithm="scatter")


def test_unbatched_every_rank():
    for r, sp in ((1, (9,)), (3, (4, 5, 6))):
        x, w = f(3, *sp), f(2, 3, *(3,) * r)
        conv = getattr(sc, f"conv{r}d")
        np.testing.assert_array_equal(conv(x, w, padding=1), conv(x[None], w, padding=1)[0])
        gi, gw, gb = getattr(sc, f"conv{r}d_backward")(np.ones((2, *sp), np.float32), x, w, padding=1)
        assert gi.shape == x.shape and gw.shape == w.shape and gb.shape == (2,)
