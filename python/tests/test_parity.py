"""Parity of swiftconv with PyTorch's CPU results, from saved fixtures (no torch needed).

Tolerance
---------
Every element of every result is a sum of products, ``y = sum_{i<K} a_i * b_i`` (a bias
counts as one more term). The classical bound for a floating-point dot product in any
summation order (Higham, *Accuracy and Stability of Numerical Algorithms*, 3.1) is

    |fl(y) - y| <= gamma_K * S,   gamma_K = K*u / (1 - K*u),   S = sum_i |a_i * b_i|,

with u = eps/2 the unit roundoff; FMA and blocked/pairwise summation only make it smaller.
Both PyTorch's result and ours satisfy it, so ``|ours - torch| <= 2*gamma_K*S ~= K*eps*S``.
We assert, elementwise,

    |ours - torch| <= 4 * K * eps(dtype) * S + tiny(dtype),

i.e. twice the worst case (the factor 2 covers the final rounding of the stored result,
the bias addition and K*u not being negligible against 1). This is where the bound is
justified; the formula itself lives in one place, ``swiftconv._reference.error_bound``
(applied by ``_reference.assert_close`` here, and shared with the other tests, the demo
and the fixture generator's self-checks). ``S`` for every element is stored in the
fixture as ``scale_<result>``: the fixture generator evaluated the same operation on
|input|, |weight|, |bias| (for gradients: on |grad_output|, |input|, |weight|) in float64
with torch, which is exactly ``sum |a_i * b_i|`` per element; the tests do not derive the
bound from swiftconv itself. ``K`` (the largest number of terms of one element,
``_reference.terms``) is stored in ``params["terms"]``. This bound is tight enough to
catch real bugs: dropping or misplacing a single term changes an element by about S/K,
which is more than (4*K^2*eps)^-1 > 100 times the allowance for every fixture here
(K <= 512, float32). Elements whose products are all zero (padding only, N = 0) must be
exactly equal.

Padding modes (``padding_mode``: reflect, replicate, circular) are in the same terms: the
forward sums the same K products (some of them read reflected, replicated or wrapped
input values), and a grad_input element also collects the gradients of the padded
positions that copy it, so its K is multiplied by the most such positions
(``_reference.fold_multiplicity``; the scale S from torch covers every term).

float16 and bfloat16 (the fixtures ``*__f16_*`` and ``*__bf16_*``) are accumulated in
float32 and rounded once to their type, by swiftconv (which widens the inputs exactly, runs
the float32 kernels and rounds each result to nearest even) and by PyTorch's CPU kernels
(oneDNN, in another summation order). Each of the two results is therefore within the
float32 accumulation bound of the exact value plus one rounding, half an ulp of the
result's type at its magnitude (``u_T(y)``: 2**-11 |y| for float16, 2**-8 |y| for bfloat16,
at most; half the smallest subnormal near zero). We assert, elementwise,

    |ours - torch| <= 4 * K * eps(float32) * S + tiny(float32) + u_T(ours) + u_T(torch),

the float32 bound plus one rounding of the result's type per side (``_reference.error_bound``
with ``rounded=(ours, torch)``; ``_reference.rounding_error`` is ``u_T``). Rounding is why a
single half ulp is not enough between two results: two float32 values a hair apart on
either side of a rounding midpoint round one ulp apart. PyTorch rounds intermediates in one
place: the grad_input of a padding mode, where its autograd rounds the gradient of the
padded input to the type and then every addition that folds it back, 2F - 1 roundings where
we have one (F: the most padded positions copying one element); those fixtures carry
``params["torch_roundings"]`` = 2F - 2, each at most half an ulp at S, added to the bound
(``_reference.torch_intermediate_roundings``). Against PyTorch that is all a half-precision
result can promise; against swiftconv's own float32 path it is exact:
test_half.py checks that every half-precision result is, bit for bit, the float32 result of
the widened inputs rounded once. The bfloat16 fixtures need ml_dtypes (NumPy's bfloat16);
without it they are skipped, with that reason.

The fixtures' kwargs pass through unchanged (``padding_mode`` to the conv ops and their
backward, ``output_size`` to the transposed ops and theirs).
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

if str(Path(__file__).resolve().parent) not in sys.path:  # e.g. --import-mode=importlib
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import BACKWARD_OPS, FORWARD_OPS, GRAD_NAMES, RANKS, fixture_paths, load_case, op_rank

import swiftconv as sc
from swiftconv import _reference as R

ALL = fixture_paths()
FORWARD = [p for p in ALL if p.stem.split("__")[0] in FORWARD_OPS]
BACKWARD = [p for p in ALL if p.stem.split("__")[0] in BACKWARD_OPS]
# Every named formulation the engine offers for the op ("auto" and the "reference" oracle
# are covered by the other tests).
ALGORITHMS = {op: tuple(a for a in sc.algorithms(op) if a not in ("auto", "reference")) for op in FORWARD_OPS}


def ids(paths):
    return [p.stem for p in paths]


def test_fixtures_present():
    ops = {p.stem.split("__")[0] for p in ALL}
    assert ops == set(FORWARD_OPS) | set(BACKWARD_OPS), (
        f"missing fixtures; run python/tools/make_fixtures.py (found ops {sorted(ops)})")
    assert set(ALGORITHMS) == set(FORWARD_OPS)


def test_fixtures_consistent():
    """Every fixture's arrays have the rank its op implies (no engine needed)."""
    for path in ALL:
        params, arrays = load_case(path, raw=True)
        op = params["op"]
        assert path.stem.split("__")[0] == op, path.name
        r = op_rank(op)
        assert arrays["weight"].ndim == r + 2, (path.name, arrays["weight"].shape)
        assert arrays["input"].ndim in (r + 1, r + 2), (path.name, arrays["input"].shape)
        main = ("output",) if op in FORWARD_OPS else ("grad_output", "grad_input")
        for k in main:
            assert arrays[k].ndim == arrays["input"].ndim, (path.name, k, arrays[k].shape)
        assert ("unbatched" in path.stem) == (arrays["input"].ndim == r + 1), path.name


def test_padding_mode_and_output_size_fixtures_present():
    """Every padding mode has forward and backward fixtures for every rank, and output_size
    has forward and backward fixtures for every rank."""
    have = {(params["op"], params["kwargs"].get("padding_mode"), "output_size" in params["kwargs"])
            for params, _ in map(load_case, ALL)}
    for r in RANKS:
        for mode in ("reflect", "replicate", "circular"):
            for op in (f"conv{r}d", f"conv{r}d_backward"):
                assert (op, mode, False) in have, (op, mode)
        for op in (f"conv_transpose{r}d", f"conv_transpose{r}d_backward"):
            assert (op, None, True) in have, op


def test_half_precision_fixtures_present():
    """float16 and bfloat16 fixtures for every op and rank (forward and backward), including
    a padding mode and output_size."""
    have = {(load_case(p, raw=True)[0]["dtype"], p.stem.split("__")[0]) for p in ALL}
    for dtype in ("float16", "bfloat16"):
        for op in FORWARD_OPS + BACKWARD_OPS:
            assert (dtype, op) in have, (dtype, op)
    stems = {p.stem for p in ALL}
    for pre in ("f16", "bf16"):
        for r in RANKS:
            assert any(s.startswith(f"conv{r}d_backward__{pre}_mode_") for s in stems), (pre, r)
            assert f"conv_transpose{r}d__{pre}_output_size" in stems, (pre, r)


def test_selected_cases_exist():
    """The hand-picked cases of the mask and layout tests below are all on disk."""
    have = {p.stem for p in ALL}
    missing = sorted((set(MASK_NAMES) | set(LAYOUT_NAMES)) - have)
    assert not missing, f"selected fixtures missing: {missing}"


# ---------------------------------------------------------------------------- helpers


def get_op(name: str):
    fn = getattr(sc, name, None)
    if fn is None:
        pytest.skip(f"swiftconv.{name} is not implemented yet")
    return fn


def channels_last_memory(a, r):
    """`a` (logical (N, C, *spatial) or unbatched (C, *spatial), r spatial axes) in the
    order its memory has when it is channels-last: the channel axis moved innermost."""
    return np.moveaxis(a, a.ndim - r - 1, -1)


def assert_matches(name, got, want, scale, terms, dtype, where="", torch_roundings=0, channels_last=None):
    """Shape, dtype, layout (C-contiguous; with ``channels_last`` = r, the number of
    spatial axes, C-contiguous with the channel axis innermost), finiteness, then the shared
    elementwise dot-product bound (``_reference.assert_close``: |got - want| <=
    ``_reference.error_bound``, with PyTorch's intermediate roundings where a fixture lists
    them)."""
    dtype = np.dtype(dtype)
    assert isinstance(got, np.ndarray), f"{where}{name}: expected ndarray, got {type(got)}"
    assert got.shape == want.shape, f"{where}{name}: shape {got.shape}, torch {want.shape}"
    assert got.dtype == dtype, f"{where}{name}: dtype {got.dtype}, expected {dtype}"
    if channels_last is None:
        assert got.flags.c_contiguous, f"{where}{name}: result is not C-contiguous"
    else:
        assert channels_last_memory(got, channels_last).flags.c_contiguous, (
            f"{where}{name}: result is not channels-last (strides {got.strides})")
    if got.size == 0:
        return
    assert np.all(np.isfinite(got)), f"{where}{name}: non-finite values in the result"
    R.assert_close(got, want, scale, terms, dtype, name=f"{where}{name} (expected: torch)",
                   intermediate_roundings=torch_roundings)


def call_forward(fn, params, arrays, **extra):
    kwargs = dict(params["kwargs"], **extra)
    if "bias" in arrays:
        return fn(arrays["input"], arrays["weight"], arrays["bias"], **kwargs)
    return fn(arrays["input"], arrays["weight"], **kwargs)


def call_backward(fn, params, arrays, **extra):
    kwargs = dict(params["kwargs"], **extra)
    return fn(arrays["grad_output"], arrays["input"], arrays["weight"], **kwargs)


def check_forward(params, arrays, out, where="", channels_last=None):
    """``channels_last``: None, or a set of result names expected channels-last."""
    r = op_rank(params["op"])
    assert_matches("output", out, arrays["output"], arrays["scale_output"],
                   params["terms"]["output"], params["dtype"], where,
                   channels_last=r if channels_last and "output" in channels_last else None)


def check_backward(params, arrays, res, mask=(True, True, True), where="", channels_last=None):
    assert isinstance(res, tuple) and len(res) == 3, (
        f"{where}expected a 3-tuple (grad_input, grad_weight, grad_bias), got {res!r}")
    for name, got, wanted in zip(GRAD_NAMES, res, mask):
        if not wanted:
            assert got is None, f"{where}{name} was masked off but is not None"
            continue
        assert got is not None, f"{where}{name} was requested but is None"
        assert_matches(name, got, arrays[name], arrays["scale_" + name],
                       params["terms"][name], params["dtype"], where,
                       params.get("torch_roundings", {}).get(name, 0),
                       channels_last=op_rank(params["op"]) if channels_last and name in channels_last else None)


# ------------------------------------------------------------------ parity, per fixture


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_parity(path):
    params, arrays = load_case(path)
    op = params["op"]
    fn = get_op(op)
    before = {k: v.copy() for k, v in arrays.items()}
    if op in FORWARD_OPS:
        check_forward(params, arrays, call_forward(fn, params, arrays))
    else:
        check_backward(params, arrays, call_backward(fn, params, arrays))
    for k, v in before.items():
        assert np.array_equal(arrays[k], v), f"swiftconv.{op} modified its argument {k}"


@pytest.mark.parametrize(
    "path,algorithm",
    [(p, a) for p in FORWARD for a in ALGORITHMS[p.stem.split("__")[0]]],
    ids=[f"{p.stem}-{a}" for p in FORWARD for a in ALGORITHMS[p.stem.split("__")[0]]])
def test_parity_algorithm(path, algorithm):
    """Every named formulation must match torch too (API: they agree with "auto")."""
    params, arrays = load_case(path)
    fn = get_op(params["op"])
    x, w = arrays["input"], arrays["weight"]
    plane_axes = min(w.ndim - 2, 2)  # conv1d: the length; conv2d, conv3d: height and width
    if algorithm == "dot" and (x.shape[-plane_axes:] != (1,) * plane_axes or w.shape[-plane_axes:] != (1,) * plane_axes):
        # "dot" computes 1x1 convs of one input pixel only (conv3d: a column of 1x1 planes):
        # a ValueError on every other shape (test_one_pixel.py checks the rule).
        with pytest.raises(ValueError, match="algorithm 'dot' computes only"):
            call_forward(fn, params, arrays, algorithm=algorithm)
        return
    try:
        out = call_forward(fn, params, arrays, algorithm=algorithm)
    except ValueError as e:
        # Only "unknown algorithm" (the message names it once and does not list it among
        # the valid ones) means "not implemented yet"; any other error is a failure.
        msg = str(e)
        if "algorithm" in msg.lower() and algorithm not in msg.replace(algorithm, "", 1):
            pytest.skip(f"algorithm {algorithm!r} not available yet: {msg}")
        raise
    check_forward(params, arrays, out, where=f"[{algorithm}] ")


# ------------------------------------------------------------------ output_mask


MASK_NAMES = (
    "conv2d_backward__combined", "conv2d_backward__unbatched",
    "conv_transpose2d_backward__nonsquare_all", "conv_transpose2d_backward__k1_stride2",
    "conv1d_backward__combined", "conv1d_backward__unbatched",
    "conv_transpose1d_backward__combined", "conv_transpose1d_backward__k1_stride2",
    "conv3d_backward__combined", "conv3d_backward__unbatched",
    "conv_transpose3d_backward__nonuniform_all", "conv_transpose3d_backward__k1_stride_123",
    "conv1d_backward__mode_reflect_asym_stride_drop", "conv2d_backward__mode_circular_groups2",
    "conv3d_backward__mode_replicate_unbatched", "conv_transpose2d_backward__os_full_shape",
    "conv2d_backward__f16_basic", "conv3d_backward__bf16_mode_replicate",
    "conv_transpose1d_backward__bf16_basic")
MASK_CASES = [p for p in BACKWARD if p.stem in MASK_NAMES]


@pytest.mark.parametrize("mask", list(itertools.product((True, False), repeat=3)),
                         ids=lambda m: "".join("T" if b else "F" for b in m))
@pytest.mark.parametrize("path", MASK_CASES, ids=ids(MASK_CASES))
def test_output_mask(path, mask):
    params, arrays = load_case(path)
    fn = get_op(params["op"])
    res = call_backward(fn, params, arrays, output_mask=mask)
    check_backward(params, arrays, res, mask=mask, where=f"mask={mask}: ")


# ------------------------------------------------------------------ unbatched inputs


UNBATCHED = [p for p in ALL if "unbatched" in p.stem]


@pytest.mark.parametrize("path", UNBATCHED, ids=ids(UNBATCHED))
def test_unbatched_gives_unbatched(path):
    """Unbatched (C, *spatial) input -> unbatched result (grad_input too), equal to the
    batched call's [0]. (C, L) for the 1-D ops, (C, H, W) for 2-D, (C, D, H, W) for 3-D."""
    params, arrays = load_case(path)
    fn = get_op(params["op"])
    r = op_rank(params["op"])
    assert arrays["input"].ndim == r + 1
    batched = dict(arrays)
    # An output_size of (C, *sizes) is for unbatched input; the batched call takes the sizes.
    extra = {"output_size": params["kwargs"]["output_size"][-r:]} if "output_size" in params["kwargs"] else {}
    if params["op"] in FORWARD_OPS:
        out = call_forward(fn, params, arrays)
        assert out.ndim == r + 1, f"unbatched input gave a {out.ndim}-D result {out.shape}"
        batched["input"] = arrays["input"][None]
        outb = call_forward(fn, params, batched, **extra)
        assert outb.ndim == r + 2 and outb.shape[0] == 1
        check_forward(params, arrays, np.ascontiguousarray(outb[0]), where="batched[0]: ")
    else:
        gi, gw, gb = call_backward(fn, params, arrays)
        assert gi.ndim == r + 1, f"unbatched input gave a {gi.ndim}-D grad_input {gi.shape}"
        assert gw.ndim == r + 2 and gb.ndim == 1
        batched["input"] = arrays["input"][None]
        batched["grad_output"] = arrays["grad_output"][None]
        resb = call_backward(fn, params, batched, **extra)
        assert resb[0].shape == (1,) + arrays["input"].shape
        check_backward(params, arrays, (np.ascontiguousarray(resb[0][0]),) + tuple(resb[1:]),
                       where="batched: ")


# ------------------------------------------------------------------ any memory layout


# Each maker takes the array and the op's number r of spatial axes: the array's channel
# axis is ndim - r - 1 (1 for batched inputs, grad_outputs and weights, 0 for unbatched
# inputs; bias has none).


def _strided(a, r):
    big = np.zeros(a.shape[:-1] + (2 * a.shape[-1] + 1,), a.dtype)
    big[..., 1::2] = a
    return big[..., 1::2]


def _reversed(a, r):
    return np.flip(np.flip(a, -1).copy(), -1) if a.ndim else a


def _channels_last(a, r):
    """Same shape, memory order with the channel axis innermost (NLC, NHWC, NDHWC)."""
    c = a.ndim - r - 1
    if c < 0:
        return a[::1]
    order = tuple(i for i in range(a.ndim) if i != c) + (c,)
    inv = np.argsort(order)
    return np.ascontiguousarray(a.transpose(order)).transpose(inv)


def _fortran(a, r):
    return np.asfortranarray(a)


def _big_endian(a, r):
    return a.astype(a.dtype.newbyteorder(">"))


def _unaligned(a, r):
    buf = np.zeros(a.nbytes + 1, np.uint8)
    out = buf[1:].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


LAYOUTS = {"strided": _strided, "reversed": _reversed, "channels_last": _channels_last,
           "fortran": _fortran, "big_endian": _big_endian, "unaligned": _unaligned}
LAYOUT_NAMES = (
    "conv2d__combined_a", "conv2d__f64_depthwise", "conv_transpose2d__nonsquare_all",
    "conv2d_backward__combined", "conv_transpose2d_backward__nonsquare_all",
    "conv1d__combined", "conv1d__f64_depthwise", "conv_transpose1d__combined",
    "conv1d_backward__combined", "conv_transpose1d_backward__combined",
    "conv3d__combined", "conv3d__f64_depthwise", "conv_transpose3d__nonuniform_all",
    "conv3d_backward__combined", "conv_transpose3d_backward__nonuniform_all",
    "conv3d__unbatched", "conv_transpose1d_backward__unbatched",
    "conv2d__mode_reflect_asym", "conv3d__mode_circular_p1", "conv1d_backward__mode_replicate_p1",
    "conv2d_backward__mode_reflect_groups2", "conv_transpose3d__os_mixed",
    "conv_transpose1d_backward__os_max",
    "conv2d__f16_groups_stride_dil", "conv1d__bf16_depthwise", "conv_transpose3d__f16_basic",
    "conv2d_backward__bf16_mode_circular", "conv_transpose1d_backward__f16_groups",
    "conv3d_backward__bf16_groups_unbatched")
LAYOUT_CASES = [p for p in ALL if p.stem in LAYOUT_NAMES]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("path", LAYOUT_CASES, ids=ids(LAYOUT_CASES))
def test_layouts(path, layout):
    """Views, negative strides, non-aligned and big-endian arguments give the same results,
    as native-endian arrays of the input's (native) dtype: C-contiguous, or channels-last
    where the arguments are (expected_channels_last)."""
    params, arrays = load_case(path)
    fn = get_op(params["op"])
    if layout == "big_endian" and params["dtype"] == "bfloat16":
        pytest.skip("bfloat16 has no byte-swapped dtype")
    make = LAYOUTS[layout]
    r = op_rank(params["op"])
    args = dict(arrays)
    for k in ("input", "weight", "bias", "grad_output"):
        if k in args:
            args[k] = make(arrays[k], r)
            np.testing.assert_array_equal(args[k], arrays[k])  # same values, other layout
    cl = expected_channels_last(params["op"], args)
    if params["op"] in FORWARD_OPS:
        check_forward(params, arrays, call_forward(fn, params, args), where=f"[{layout}] ", channels_last=cl)
    else:
        check_backward(params, arrays, call_backward(fn, params, args), where=f"[{layout}] ", channels_last=cl)


def expected_channels_last(op, args):
    """The results a call returns channels-last (CONTRACT.md "Memory layouts"): forward ops
    every result when the input or the weight suggests channels-last memory (PyTorch's
    suggest_memory_format rule, ``_native.layout``; tested against torch in
    test_channels_last.py); backward ops grad_input as the input, grad_weight as the weight."""
    r = op_rank(op)
    layout = lambda name: name in args and bool(sc._native.layout(np.asarray(args[name]), r))  # noqa: E731
    if op in FORWARD_OPS:
        return {"output"} if layout("input") or layout("weight") else set()
    return {n for n, a in (("grad_input", "input"), ("grad_weight", "weight")) if layout(a)}
