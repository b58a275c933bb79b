"""Tests of the NumPy reference itself (swiftconv._reference), the oracle of every other
test: hand-computed tiny cases, the saved PyTorch fixtures (every op and rank on disk; the
2-D ones also as conv3d through a depth-1 axis), 1-D as a height-1 conv2d, the adjoint
identities for ranks 1-3, the term counts and the speed baseline. No swiftconv engine call
here."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

if str(Path(__file__).resolve().parent) not in sys.path:  # e.g. --import-mode=importlib
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import fixture_paths, load_case

from swiftconv import _reference as R

FIXTURES = fixture_paths()
FIXTURES_2D = [p for p in FIXTURES if "2d" in p.stem.split("__")[0]]


# --------------------------------------------------------------------------- rules


def test_output_size_rules():
    assert R.output_size(10, 3, 2, 1, 1, 2) == 4          # the notebook: 10x10 k3 s2 p1 d2
    assert R.output_size(8, 3, 2, 0, 0, 1) == 3           # the floor drops the last column
    assert R.output_size(7, 3, 1, 1, 2, 1) == 8           # asymmetric padding
    assert R.output_size(2, 3, 1, 0, 0, 1) == 0           # kernel longer than the input
    assert R.transposed_output_size(2, 3, 1, 0, 0, 1) == 4
    assert R.transposed_output_size(4, 3, 2, 1, 1, 1) == 8
    assert R.transposed_output_size(4, 3, 1, 0, 1, 2) == 9  # output_padding < dilation
    for size in range(1, 12):  # the transposed rule inverts the conv rule up to output_padding
        for k, s, p, d in [(3, 2, 1, 1), (2, 3, 0, 2), (1, 2, 0, 1), (4, 1, 2, 3)]:
            out = R.output_size(size, k, s, p, p, d)
            if out >= 1:
                dropped = size - R.transposed_output_size(out, k, s, p, 0, d)
                assert 0 <= dropped < s


def test_parameter_normalisation():
    assert R.per_axis(3, 2) == (3, 3)
    assert R.per_axis((3,), 3) == (3, 3, 3)
    assert R.per_axis([1, 2, 3], 3) == (1, 2, 3)
    assert R.per_axis(np.int64(2), 1) == (2,)
    with pytest.raises(ValueError, match="cannot broadcast"):
        R.per_axis((1, 2), 3)
    assert R.conv_padding(1, (3, 3)) == ((1, 1), (1, 1))
    assert R.conv_padding((1, 2), (3, 3)) == ((1, 1), (2, 2))
    assert R.conv_padding((2,), (3, 3, 3)) == ((2, 2),) * 3
    assert R.conv_padding(((0, 1), (2, 3)), (3, 3)) == ((0, 1), (2, 3))
    assert R.conv_padding([[0, 1]], (3,)) == ((0, 1),)
    assert R.conv_padding("valid", (3, 4, 5)) == ((0, 0),) * 3
    assert R.conv_padding("same", (3,)) == ((1, 1),)
    assert R.conv_padding("same", (4, 4)) == ((1, 2), (1, 2))       # the extra one at the end
    assert R.conv_padding("same", (4, 4), 2) == ((3, 3), (3, 3))    # total 6: symmetric
    assert R.conv_padding("same", (2, 4, 1), (2, 1, 5)) == ((1, 1), (1, 2), (0, 0))
    with pytest.raises(ValueError):
        R.conv_padding("full", (3,))
    with pytest.raises(ValueError):
        R.conv_padding(((0, 1),), (3, 3))   # one pair per axis
    with pytest.raises(ValueError, match="strided"):
        R.conv(np.ones((1, 1, 5)), np.ones((1, 1, 3)), stride=2, padding="same")


def test_op_names():
    assert R.kind("conv2d") == "conv" and R.kind("conv_transpose1d") == "conv_transpose"
    assert R.kind("conv3d_backward") == "conv_backward"
    assert R.kind("conv_transpose") == "conv_transpose"
    assert R.result_names("conv_transpose3d_backward") == ("grad_input", "grad_weight", "grad_bias")
    with pytest.raises(ValueError):
        R.kind("conv4d")
    with pytest.raises(ValueError, match="conv1d needs a weight with 3 axes"):
        R.compute("conv1d", np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)))


# --------------------------------------------------------------------------- by hand


def test_conv1d_by_hand():
    x = np.array([[[1.0, 2.0, 3.0, 4.0]]])
    w = np.array([[[1.0, 10.0]]])
    np.testing.assert_array_equal(R.conv(x, w)[0, 0], [21, 32, 43])
    np.testing.assert_array_equal(R.conv(x, w, np.array([0.5]))[0, 0], [21.5, 32.5, 43.5])
    np.testing.assert_array_equal(R.conv(x, w, padding=1)[0, 0], [10, 21, 32, 43, 4])
    np.testing.assert_array_equal(R.conv(x, w, padding=((2, 0),))[0, 0], [0, 10, 21, 32, 43])
    np.testing.assert_array_equal(R.conv(x, w, stride=2, dilation=2)[0, 0], [31])
    np.testing.assert_array_equal(R.conv(x, w, padding="same")[0, 0], [21, 32, 43, 4])
    np.testing.assert_array_equal(R.conv(x[0], w), [[21, 32, 43]])     # unbatched


def test_conv2d_groups_by_hand():
    x = np.arange(2 * 2 * 2, dtype=float).reshape(1, 2, 2, 2)   # channel 0: 0..3, 1: 4..7
    w = np.array([1.0, 2.0, 3.0, 4.0]).reshape(4, 1, 1, 1)
    y = R.conv(x, w, groups=2)                                   # outputs 0,1 see channel 0
    np.testing.assert_array_equal(y[0, :, 0, 0], [0, 0, 12, 16])
    np.testing.assert_array_equal(y[0, 1], 2 * x[0, 0])
    np.testing.assert_array_equal(y[0, 3], 4 * x[0, 1])
    ones = np.ones((1, 1, 2, 2))
    np.testing.assert_array_equal(R.conv(np.ones((1, 1, 3, 3)), ones, padding=1)[0, 0],
                                  [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])


def test_conv_transpose1d_by_hand():
    x = np.array([[[1.0, 2.0]]])
    w = np.array([[[1.0, 10.0]]])
    np.testing.assert_array_equal(R.conv_transpose(x, w, stride=2)[0, 0], [1, 10, 2, 20])
    np.testing.assert_array_equal(R.conv_transpose(x, w, stride=2, output_padding=1)[0, 0],
                                  [1, 10, 2, 20, 0])
    np.testing.assert_array_equal(R.conv_transpose(x, w, stride=1)[0, 0], [1, 12, 20])
    np.testing.assert_array_equal(R.conv_transpose(x, w, stride=1, padding=1)[0, 0], [12])
    np.testing.assert_array_equal(R.conv_transpose(x, w, stride=3, dilation=2)[0, 0],
                                  [1, 0, 10, 2, 0, 20])


def test_backward_by_hand():
    x, w, go = np.array([[[1.0, 2.0, 3.0]]]), np.array([[[1.0, 10.0]]]), np.array([[[1.0, 1.0]]])
    gi, gw, gb = R.conv_backward(go, x, w)
    np.testing.assert_array_equal(gi[0, 0], [1, 11, 10])
    np.testing.assert_array_equal(gw[0, 0], [3, 5])
    np.testing.assert_array_equal(gb, [2])
    # conv_transpose of x=[1, 2] with w=[1, 10], stride 2 is [1, 10, 2, 20]: its gradients.
    gi, gw, gb = R.conv_transpose_backward(np.array([[[1.0, 2.0, 3.0, 4.0]]]),
                                           np.array([[[1.0, 2.0]]]), w, stride=2)
    np.testing.assert_array_equal(gi[0, 0], [21, 43])
    np.testing.assert_array_equal(gw[0, 0], [1 * 1 + 2 * 3, 1 * 2 + 2 * 4])
    np.testing.assert_array_equal(gb, [10])
    masked = R.conv_backward(go, x, w, output_mask=(False, True, False))
    assert masked[0] is None and masked[2] is None and masked[1] is not None
    gi, gw, gb = R.conv_backward(go[0], x[0], w)                  # unbatched
    assert gi.shape == (1, 3) and gw.shape == (1, 1, 2)


def test_non_finite_follows_the_definition():
    """Padding and the gaps of a stride contribute no term: an Inf weight over padding
    leaves that output finite (CONTRACT.md "Numerics"); every output that sums it is Inf."""
    x = np.array([[[1.0, 2.0]]])
    y = R.conv(x, np.array([[[np.inf, 1.0]]]), padding=1)[0, 0]
    assert y[0] == 1.0 and np.isinf(y[1]) and y[2] == np.inf
    y = R.conv_transpose(np.array([[[np.nan, 1.0]]]), np.array([[[1.0]]]), stride=2)[0, 0]
    assert np.isnan(y[0]) and y[1] == 0 and y[2] == 1
    gi, gw, gb = R.conv_backward(np.array([[[np.inf, 1.0, 1.0]]]), x, np.array([[[1.0, 1.0]]]),
                                 padding=1)
    assert np.isinf(gi[0, 0, 0]) and gi[0, 0, 1] == 2
    np.testing.assert_array_equal(gw[0, 0], [3, np.inf])   # tap 0 meets the Inf over padding


def test_error_bound():
    assert R.error_bound(1.0, 1, np.float32) == 4 * 2.0**-23 + np.finfo(np.float32).tiny
    b = R.error_bound(np.array([1.0, 2.0, np.inf]), 10, np.float64)
    np.testing.assert_array_equal(b, [40 * 2.0**-52 + 2.0**-1022, 80 * 2.0**-52 + 2.0**-1022,
                                      2.0**-1022])
    scale = np.ones(4)
    want = np.array([1.0, np.nan, np.inf, 0.0])
    ok = R.within_bound(want + [1e-6, 0, 0, 0], want, scale, 10, np.float32)
    np.testing.assert_array_equal(ok, [True, True, True, True])
    ok = R.within_bound([1.0 + 1e-4, 0.0, -np.inf, np.nan], want, scale, 10, np.float32)
    np.testing.assert_array_equal(ok, [False, False, False, False])
    assert R.share_of_bound(want, want, scale, 10, np.float32) == 0
    assert R.share_of_bound([1.0, 0.0], [np.inf, 0.0], [1, 1], 1, np.float32) == np.inf
    R.assert_close(want, want.copy(), scale, 10, np.float32)
    with pytest.raises(AssertionError, match="1 of 4 elements.*worst at \\(3,\\)"):
        R.assert_close(want + [0, 0, 0, 1], want, scale, 10, np.float32)


# --------------------------------------------------------------------------- vs PyTorch


def _call(op: str, params: dict, arrays: dict, lift=lambda a: a, kwargs=None):
    """The reference results, scales and term counts for a fixture (arrays lifted)."""
    kw = params["kwargs"] if kwargs is None else kwargs
    x, w = lift(arrays["input"]), lift(arrays["weight"])
    b = arrays.get("bias")
    go = lift(arrays["grad_output"]) if "grad_output" in arrays else None
    args = (op, x, w, b, go)
    res, scale = R.compute(*args, **kw), R.scale(*args, **kw)
    k = R.terms(op, x.shape, w.shape, None if go is None else go.shape, kw.get("groups", 1),
                b is not None, **{n: kw[n] for n in ("padding", "dilation", "padding_mode") if n in kw})
    return res, scale, k


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_fixture(path):
    """The reference (any op, any rank) is within the bound of PyTorch's result; its scale
    is the fixture's saved one; its term counts are the saved ones."""
    params, arrays = load_case(path)
    op = params["op"]
    res, scale, k = _call(op, params, arrays)
    names = R.result_names(op)
    assert dict(zip(names, k)) == params["terms"]
    for name, got, s, kk in zip(names, res, scale, k):
        assert got.dtype == np.float64
        R.assert_close(arrays[name], got, arrays["scale_" + name], kk, params["dtype"], name,
                       intermediate_roundings=params.get("torch_roundings", {}).get(name, 0))
        np.testing.assert_allclose(s, arrays["scale_" + name], rtol=2**-23, atol=0)


def _depth1(op: str, kwargs: dict, w_shape) -> dict:
    """A 2-D op's kwargs for the same op in 3-D with a leading depth axis of size 1."""
    kw = dict(kwargs)
    for name, pad in (("stride", 1), ("dilation", 1), ("output_padding", 0)):
        if name in kw:
            kw[name] = (pad,) + R.per_axis(kw[name], 2)
    if "padding" in kw:
        if op.startswith("conv_transpose"):
            kw["padding"] = (0,) + R.per_axis(kw["padding"], 2)
        elif not isinstance(kw["padding"], str):
            kw["padding"] = ((0, 0),) + R.conv_padding(kw["padding"], w_shape[2:])
    if "output_size" in kw:  # (..., H, W) -> (..., 1, H, W)
        kw["output_size"] = list(kw["output_size"][:-2]) + [1] + list(kw["output_size"][-2:])
    return kw


@pytest.mark.parametrize("path", FIXTURES_2D, ids=[p.stem for p in FIXTURES_2D])
def test_fixture_as_conv3d(path):
    """A conv3d with a depth-1 kernel on a depth-1 input is the conv2d: the 3-D reference
    against PyTorch's 2-D results."""
    params, arrays = load_case(path)
    op = params["op"].replace("2d", "3d")
    lift = lambda a: np.expand_dims(a, a.ndim - 2)  # noqa: E731  (.., H, W) -> (.., 1, H, W)
    kw = _depth1(op, params["kwargs"], arrays["weight"].shape)
    res, _, k = _call(op, params, arrays, lift, kw)
    for name, got, kk in zip(R.result_names(op), res, k):
        want = arrays[name] if name == "grad_bias" else lift(arrays[name])
        scale = arrays["scale_" + name]
        R.assert_close(want, got, scale if name == "grad_bias" else lift(scale), kk,
                       params["dtype"], name, params.get("torch_roundings", {}).get(name, 0))


# --------------------------------------------------------------------------- ranks


def _random_case(rng: np.random.Generator, rank: int, transposed: bool, asymmetric: bool = True):
    """Random shapes and parameters of one op of ``rank`` (a valid call)."""
    g = int(rng.integers(1, 3))
    c_in, c_out = g * int(rng.integers(1, 3)), g * int(rng.integers(1, 3))
    k = tuple(int(v) for v in rng.integers(1, 4, rank))
    s = tuple(int(v) for v in rng.integers(1, 4, rank))
    d = tuple(int(v) for v in rng.integers(1, 3, rank))
    n = int(rng.integers(1, 3))
    if transposed:
        p = tuple(int(v) for v in rng.integers(0, 3, rank))
        op = tuple(int(rng.integers(0, max(si, di))) for si, di in zip(s, d))
        size = tuple(int(v) for v in rng.integers(1, 5, rank))
        size = tuple(max(sz, -(-(2 * pi - di * (ki - 1) - opi + si) // si))  # output >= 1
                     for sz, pi, di, ki, opi, si in zip(size, p, d, k, op, s))
        x = rng.standard_normal((n, c_in) + size)
        w = rng.standard_normal((c_in, c_out // g) + k)
        return x, w, rng.standard_normal(c_out), dict(stride=s, padding=p, output_padding=op,
                                                      groups=g, dilation=d)
    pads = tuple(tuple(int(v) for v in rng.integers(0, 3, 2)) for _ in range(rank))
    if not asymmetric:
        pads = tuple(pb for pb, _ in pads)
    before_after = R.conv_padding(pads, k)
    size = tuple(max(1, di * (ki - 1) + 1 - a - b) + int(rng.integers(0, 4))
                 for ki, di, (a, b) in zip(k, d, before_after))
    x = rng.standard_normal((n, c_in) + size)
    w = rng.standard_normal((c_out, c_in // g) + k)
    return x, w, rng.standard_normal(c_out), dict(stride=s, padding=pads, dilation=d, groups=g)


def _height1(kw: dict) -> dict:
    """1-D kwargs as the 2-D kwargs of a height-1 input and kernel."""
    out = {}
    for name, v in kw.items():
        if name == "groups":
            out[name] = v
        elif name == "padding" and isinstance(v[0], tuple):
            out[name] = ((0, 0),) + v
        else:
            out[name] = ({"stride": 1, "dilation": 1}.get(name, 0),) + v
    return out


@pytest.mark.parametrize("transposed", [False, True], ids=["conv", "transposed"])
def test_conv1d_is_a_height1_conv2d(transposed):
    """conv1d (forward and backward) equals conv2d on a height-1 input and kernel."""
    rng = np.random.default_rng(11)
    op = "conv_transpose" if transposed else "conv"
    for _ in range(25):
        x, w, b, kw = _random_case(rng, 1, transposed)
        y1 = R.compute(op + "1d", x, w, b, **kw)[0]
        y2 = R.compute(op + "2d", x[:, :, None], w[:, :, None], b, **_height1(kw))[0]
        np.testing.assert_allclose(y1, y2[:, :, 0], rtol=1e-13, atol=1e-13)
        go = rng.standard_normal(y1.shape)
        g1 = R.compute(op + "1d_backward", x, w, go=go, **kw)
        g2 = R.compute(op + "2d_backward", x[:, :, None], w[:, :, None], go=go[:, :, None],
                       **_height1(kw))
        for a, c in zip(g1, g2):
            np.testing.assert_allclose(a, c if c.ndim == 1 else c[:, :, 0], rtol=1e-13, atol=1e-13)


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sum(a * b))


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_adjoint_identities(rank):
    """<conv(x, w), g> == <x, conv_transpose(g, w)> (output_padding restoring x's size), and
    both ops' backward results are adjoints too: <y, g> == <x, grad_input> == <w,
    grad_weight>, within the shared bound (K = terms of one element x elements summed)."""
    rng = np.random.default_rng(100 + rank)
    for i in range(12):
        x, w, _, kw = _random_case(rng, rank, False, asymmetric=False)
        y = R.conv(x, w, **kw)
        g = rng.standard_normal(y.shape)
        s, p, d = (R.per_axis(kw[k], rank) for k in ("stride", "padding", "dilation"))
        op = tuple(n - R.transposed_output_size(o, k, si, pi, 0, di) for n, o, k, si, pi, di in
                   zip(x.shape[2:], y.shape[2:], w.shape[2:], s, p, d))
        xt = R.conv_transpose(g, w, None, s, p, op, kw["groups"], d)
        assert xt.shape == x.shape
        gi, gw, gb = R.conv_backward(g, x, w, **kw)
        np.testing.assert_allclose(gi, xt, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gb, g.sum(axis=(0,) + tuple(range(2, g.ndim))), rtol=1e-12)
        scale = _dot(R.conv(abs(x), abs(w), **kw), abs(g))
        bound = R.error_bound(scale, w[0].size * g.size, np.float64)
        for other in (_dot(x, xt), _dot(w, gw)):
            assert abs(_dot(y, g) - other) <= bound, (i, kw)
        # The transposed op and its backward.
        x, w, _, kw = _random_case(rng, rank, True)
        y = R.conv_transpose(x, w, **kw)
        g = rng.standard_normal(y.shape)
        gi, gw, gb = R.conv_transpose_backward(g, x, w, **kw)
        scale = _dot(R.conv_transpose(abs(x), abs(w), **kw), abs(g))
        bound = R.error_bound(scale, w[0].size * g.size, np.float64)
        for other in (_dot(x, gi), _dot(w, gw)):
            assert abs(_dot(y, g) - other) <= bound, (i, kw)


def test_unbatched_is_batched_of_one():
    rng = np.random.default_rng(5)
    for rank in (1, 2, 3):
        for transposed in (False, True):
            op = "conv_transpose" if transposed else "conv"
            x, w, b, kw = _random_case(rng, rank, transposed)
            x = x[:1]
            y = R.compute(op, x, w, b, **kw)[0]
            np.testing.assert_array_equal(R.compute(op, x[0], w, b, **kw)[0], y[0])
            go = rng.standard_normal(y.shape)
            full = R.compute(op + "_backward", x, w, go=go, **kw)
            one = R.compute(op + "_backward", x[0], w, go=go[0], **kw)
            np.testing.assert_array_equal(one[0], full[0][0])
            np.testing.assert_array_equal(one[1], full[1])


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_baseline_agrees_with_reference(rank):
    """The im2col + matmul speed baseline computes the same ops (in the input's dtype)."""
    rng = np.random.default_rng(20 + rank)
    for _ in range(8):
        x, w, b, kw = _random_case(rng, rank, False)
        y = R.conv(x, w, b, **kw)
        np.testing.assert_allclose(R.baseline_conv(x, w, b, **kw), y, rtol=1e-11, atol=1e-11)
        go = rng.standard_normal(y.shape)
        for a, c in zip(R.baseline_conv_backward(go, x, w, **kw), R.conv_backward(go, x, w, **kw)):
            np.testing.assert_allclose(a, c, rtol=1e-11, atol=1e-11)
        x, w, b, kw = _random_case(rng, rank, True)
        y = R.conv_transpose(x, w, b, **kw)
        np.testing.assert_allclose(R.baseline_conv_transpose(x, w, b, **kw), y, rtol=1e-11, atol=1e-11)
        go = rng.standard_normal(y.shape)
        for a, c in zip(R.baseline_conv_transpose_backward(go, x, w, **kw),
                        R.conv_transpose_backward(go, x, w, **kw)):
            np.testing.assert_allclose(a, c, rtol=1e-11, atol=1e-11)
    x32 = rng.standard_normal((2, 3) + (5,) * rank).astype(np.float32)
    assert R.baseline_conv(x32, np.ones((4, 3) + (2,) * rank, np.float32)).dtype == np.float32


def test_terms():
    assert R.terms("conv2d", (2, 4, 9, 9), (6, 2, 3, 3), groups=2, bias=True) == (19,)
    assert R.terms("conv_transpose1d", (4, 5), (4, 3, 2), groups=2) == (4,)
    assert R.terms("conv3d_backward", (2, 4, 5, 5, 5), (6, 2, 1, 2, 3), (2, 6, 4, 3, 2),
                   groups=2) == (3 * 6, 2 * 24, 2 * 24)
    assert R.terms("conv_transpose2d_backward", (4, 3, 3), (4, 2, 3, 3), (4, 7, 7),
                   groups=2) == (18, 9, 49)
