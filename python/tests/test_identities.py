"""The notebook's identities, groups included, checked through the public API.

- grad_input of conv2d is conv_transpose2d of grad_output (output_padding restoring the
  input size that the forward's floor division lost);
- grad_weight of conv2d is a convolution of the input with grad_output (batch and channel
  axes swapped, stride and dilation swapped);
- conv_transpose2d is zero-insertion + padding + conv2d with the flipped, regrouped kernel.
Each side is computed by different swiftconv calls, so the tests are differential; the two
sides must agree within the shared dot-product error bound (swiftconv._reference: S from
the same op on absolute values, K its term count), and the output-size rule is the
reference's.
"""

import numpy as np
import pytest

import swiftconv as sc
from swiftconv import _reference as R

rng = np.random.default_rng(1234)

CONFIGS = [
    # (N, C_in, C_out, H, W, kH, kW, stride, padding, dilation, groups)
    (1, 4, 8, 11, 11, 3, 3, (2, 2), (1, 1), (2, 2), 1),   # the notebook's backward example
    (2, 4, 6, 9, 8, 3, 2, (2, 1), (1, 0), (1, 2), 2),
    (1, 6, 6, 8, 8, 3, 3, (2, 2), (0, 0), (1, 1), 6),     # depthwise, rows dropped by stride
    (2, 6, 9, 10, 7, 2, 3, (3, 2), (1, 1), (2, 1), 3),
    (1, 4, 8, 5, 5, 1, 1, (2, 2), (0, 0), (1, 1), 4),
]


def _arrays(cfg, dtype=np.float64):
    n, cin, cout, h, w, kh, kw, stride, padding, dilation, groups = cfg
    x = rng.standard_normal((n, cin, h, w)).astype(dtype)
    wt = rng.standard_normal((cout, cin // groups, kh, kw)).astype(dtype)
    return x, wt


def _kwargs(cfg):
    *_, stride, padding, dilation, groups = cfg
    return dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


def _bound(op, x, w, b=None, gy=None, **kw):
    """(scale, terms) per result of `op`: the shared error bound's arguments."""
    terms = R.terms(op, x.shape, w.shape, None if gy is None else gy.shape, kw["groups"],
                    b is not None)
    return R.scale(op, x, w, b, gy, **kw), terms


@pytest.mark.parametrize("cfg", CONFIGS)
def test_grad_input_is_transposed_conv(cfg):
    x, w = _arrays(cfg)
    kw = _kwargs(cfg)
    y = sc.conv2d(x, w, **kw)
    gy = rng.standard_normal(y.shape)
    gx, _, _ = sc.conv2d_backward(gy, x, w, **kw)
    # The transposed conv's natural size may be short of the input: output_padding makes up.
    op = tuple(n - R.transposed_output_size(o, k, s, p, 0, d) for n, o, k, s, p, d in
               zip(x.shape[2:], gy.shape[2:], w.shape[2:], kw["stride"], kw["padding"],
                   kw["dilation"]))
    via_transposed = sc.conv_transpose2d(gy, w, stride=kw["stride"], padding=kw["padding"],
                                         output_padding=op, groups=kw["groups"],
                                         dilation=kw["dilation"])
    scale, terms = _bound("conv2d_backward", x, w, gy=gy, **kw)
    R.assert_close(gx, via_transposed, scale[0], terms[0], np.float64, "grad_input")


@pytest.mark.parametrize("cfg", CONFIGS)
def test_grad_weight_is_a_convolution(cfg):
    x, w = _arrays(cfg)
    kw = _kwargs(cfg)
    g = kw["groups"]
    y = sc.conv2d(x, w, **kw)
    gy = rng.standard_normal(y.shape)
    _, gw, gb = sc.conv2d_backward(gy, x, w, **kw)
    scale, terms = _bound("conv2d_backward", x, w, gy=gy, **kw)
    cig, cog = x.shape[1] // g, w.shape[0] // g
    kh, kwid = w.shape[2:]
    for gi in range(g):
        xg = x[:, gi * cig:(gi + 1) * cig].transpose(1, 0, 2, 3)       # (cig, N, H, W)
        gyg = gy[:, gi * cog:(gi + 1) * cog].transpose(1, 0, 2, 3)     # (cog, N, Ho, Wo)
        # dW[co, ci, a, b] = sum_n,p gy[n, co, p] x[n, ci, p*s + (a,b)*d - pad]
        full = sc.conv2d(xg, gyg, stride=kw["dilation"], padding=kw["padding"],
                         dilation=kw["stride"])                          # (cig, cog, >=kh, >=kw)
        expected = full[:, :, :kh, :kwid].transpose(1, 0, 2, 3)
        rows = slice(gi * cog, (gi + 1) * cog)
        R.assert_close(gw[rows], expected, scale[1][rows], terms[1], np.float64, "grad_weight")
    R.assert_close(gb, gy.sum(axis=(0, 2, 3)), scale[2], terms[2], np.float64, "grad_bias")


TRANSPOSED = [
    # (N, C_in, C_out, H, W, k, stride, padding, output_padding, dilation, groups)
    (1, 4, 8, 2, 2, 3, 1, 0, 0, 1, 2),      # the notebook's transposed example
    (2, 4, 6, 3, 4, 3, 2, 1, 1, 1, 2),
    (1, 6, 6, 4, 3, 3, 2, 2, 1, 2, 6),      # depthwise, dilation, output_padding
    (1, 3, 6, 3, 3, 2, 3, 0, 2, 1, 3),
    (2, 2, 3, 5, 4, 1, 2, 0, 1, 1, 1),      # 1x1 kernel, stride 2 (pytorch#63314 shape)
]


@pytest.mark.parametrize("cfg", TRANSPOSED)
@pytest.mark.parametrize("algorithm", ["auto", "scatter", "upsample", "phase"])
def test_transposed_is_zero_insertion_then_conv(cfg, algorithm):
    n, cin, cout, h, w, k, s, p, op, d, g = cfg
    x = rng.standard_normal((n, cin, h, w))
    wt = rng.standard_normal((cin, cout // g, k, k))
    params = dict(stride=s, padding=p, output_padding=op, groups=g, dilation=d)
    y = sc.conv_transpose2d(x, wt, **params, algorithm=algorithm)
    up = np.zeros((n, cin, (h - 1) * s + 1, (w - 1) * s + 1))
    up[:, :, ::s, ::s] = x
    e = d * (k - 1) - p
    assert e >= 0, "configs keep padding <= dilation*(k-1)"
    # Flip both kernel axes and regroup (C_in, C_out/g) -> (C_out, C_in/g).
    cig, cog = cin // g, cout // g
    flipped = wt[:, :, ::-1, ::-1].reshape(g, cig, cog, k, k).transpose(0, 2, 1, 3, 4)
    flipped = flipped.reshape(cout, cig, k, k)
    expected = sc.conv2d(up, flipped, padding=((e, e + op), (e, e + op)), dilation=d, groups=g)
    scale, terms = _bound("conv_transpose2d", x, wt, **params)
    R.assert_close(y, expected, scale[0], terms[0], np.float64)
