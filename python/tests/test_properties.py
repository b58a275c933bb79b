"""Hypothesis property tests.

1. Random valid configurations (rank 1, 2 or 3, every parameter form, groups, both dtypes,
   all four functions of the rank, every algorithm) agree with the NumPy reference
   (swiftconv._reference) within the shared dot-product error bound.
2. Random (mostly invalid) configurations raise ValueError / TypeError (or MemoryError for
   sizes that cannot be allocated) and never crash: they run in batches in a child
   interpreter, so a crash fails the test instead of killing pytest.

Deterministic (derandomize=True) and fast: small shapes, modest max_examples."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, event, given, settings
from hypothesis import strategies as st

import swiftconv as sc
from swiftconv import _reference
from _hardening import (ALGORITHMS, OPS, algorithms, assert_matches_reference, general_algorithms, ops, reference,
                        rng_array, run, run_probes)

FAST = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# The ranks whose four ops swiftconv has. (A pytest.skip inside a @given test would skip the
# whole test at the first such draw, rank 2 included; test_every_rank_is_drawn reports it.)
RANKS = tuple(r for r in (1, 2, 3) if all(hasattr(sc, op) for op in ops(r)))


def test_every_rank_is_drawn():
    if not hasattr(sc, "conv1d"):
        pytest.skip("swiftconv has no conv1d/conv3d yet: the property tests draw rank 2 only")
    assert RANKS == (1, 2, 3)


@st.composite
def valid_config(draw):
    rank = draw(st.sampled_from(RANKS))
    op = draw(st.sampled_from(ops(rank)))
    transposed = "transpose" in op
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    groups = draw(st.integers(1, 3))
    cin_g, cout_g = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    per_axis = lambda lo, hi: tuple(draw(st.integers(lo, hi)) for _ in range(rank))  # noqa: E731
    kernel, stride, dilation = per_axis(1, 3), per_axis(1, 3), per_axis(1, 3)
    n = draw(st.sampled_from([0, 1, 2]))
    unbatched = n == 1 and draw(st.booleans())
    stride_form = draw(st.sampled_from(["tuple", "int", "one"]))  # "one": a 1-tuple broadcast
    if stride_form != "tuple":
        stride = (stride[0],) * rank
    params = dict(stride={"tuple": stride, "int": stride[0], "one": stride[:1]}[stride_form],
                  dilation=dilation, groups=groups)
    if transposed:
        padding = per_axis(0, 2)
        output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
        params.update(padding=padding, output_padding=output_padding)
        size = per_axis(1, 6)
        assume(all(_reference.transposed_output_size(*a) >= 1 for a in
                   zip(size, kernel, stride, padding, output_padding, dilation)))
        weight_shape = (groups * cin_g, cout_g) + kernel
    else:
        form = draw(st.sampled_from(["int", "per_axis", "asym", "same", "valid"]))
        if form == "same":
            params["stride"] = 1
        params["padding"] = {"int": lambda: draw(st.integers(0, 2)),
                             "per_axis": lambda: per_axis(0, 2),
                             "asym": lambda: tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2)))
                                                   for _ in range(rank)),
                             "same": lambda: "same", "valid": lambda: "valid"}[form]()
        pads = _reference.conv_padding(params["padding"], kernel, dilation)
        size = tuple(max(1, d * (k - 1) + 1 - before - after) + draw(st.integers(0, 4))
                     for k, d, (before, after) in zip(kernel, dilation, pads))
        weight_shape = (groups * cout_g, cin_g) + kernel
    cin = groups * cin_g
    x_shape = (cin,) + size if unbatched else (n, cin) + size
    algorithm = draw(st.sampled_from(general_algorithms(op)))
    has_bias = not op.endswith("_backward") and draw(st.booleans())
    seed = draw(st.integers(0, 2**31))
    return op, dtype, x_shape, weight_shape, has_bias, params, algorithm, seed


# Three times FAST's examples: about 200 for each rank.
@settings(FAST, max_examples=600)
@given(valid_config())
def test_valid_configurations_agree_with_reference(config):
    op, dtype, x_shape, w_shape, has_bias, params, algorithm, seed = config
    event(f"rank {len(w_shape) - 2}")  # --hypothesis-show-statistics shows the mix
    rng = np.random.default_rng(seed)
    x, w = rng_array(rng, x_shape, dtype), rng_array(rng, w_shape, dtype)
    bias_len = w_shape[1] * params["groups"] if "transpose" in op else w_shape[0]
    b = rng_array(rng, (bias_len,), dtype) if has_bias else None
    gy = None
    if op.endswith("_backward"):
        forward = op[: -len("_backward")]
        gy = rng_array(rng, reference(forward, x, w, **params)[0].shape, dtype)
    results = run(op, x, w, b, gy, algorithm=algorithm, **params)
    assert_matches_reference(results, op, x, w, b, gy, **params)


# -- random invalid configurations, in a child interpreter -------------------------------

INVALID_SOURCE = """
def make_array(spec):
    if spec is None:
        return None
    kind = spec[0]
    if kind == "array":
        _, shape, dtype, layout = spec
        dt = np.dtype(object) if dtype == "object" else np.dtype(dtype)
        if layout == "broadcast":
            # A stride-0 view: claims its whole shape, holds one element.
            return np.lib.stride_tricks.as_strided(np.ones(1, dt), tuple(shape), (0,) * len(shape))
        a = np.ones(shape, dtype=dt)
        if layout == "fortran":
            a = np.asfortranarray(a)
        elif layout == "reversed" and a.ndim:
            a = a[..., ::-1]
        return a
    if kind == "list":
        return spec[1]
    if kind == "str":
        return spec[1]
    return None


def make_param(spec):
    if isinstance(spec, list) and spec and spec[0] == "float":
        return float(spec[1])
    if isinstance(spec, list) and spec and spec[0] == "np":
        return np.int64(spec[1])
    if isinstance(spec, list) and spec and spec[0] == "tuple":
        return tuple(make_param(s) for s in spec[1])
    return spec


def probe(case):
    op, arrays, params, algorithm, mask = case
    try:
        x, w, b, gy = (make_array(a) for a in arrays)
    except ValueError:
        return "unconstructible"  # NumPy cannot describe an array that large
    kw = {k: make_param(v) for k, v in params.items()}
    try:
        if op in ("conv2d", "conv_transpose2d"):
            kw.pop("output_padding", None) if op == "conv2d" else None
            r = getattr(sc, op)(x, w, b, algorithm=algorithm, **kw)
            out = "ok " + str(r.shape)
        else:
            kw.pop("output_padding", None) if op == "conv2d_backward" else None
            r = getattr(sc, op)(gy, x, w, output_mask=mask, **kw)
            out = "ok"
        return out
    except (ValueError, TypeError, MemoryError) as e:
        return type(e).__name__
    except Exception as e:
        return "BAD " + type(e).__name__ + ": " + str(e)[:300]
"""

_ints = st.one_of(st.integers(-3, 5), st.sampled_from([2**40, 2**62, 2**63 - 1, -(2**63), 2**63, 2**64 + 5]))
_param = st.one_of(
    _ints,
    st.tuples(_ints, _ints).map(list),
    st.tuples(_ints).map(list),
    st.lists(_ints, min_size=0, max_size=4),
    st.sampled_from([None, "same", "valid", "full", True, ["float", 1.5], ["np", 2], [[1, 2], [0, 1]],
                     [[1, 2], 3], [[-1, 0], [0, 0]]]),
    _ints.map(lambda v: ["np", v] if -(2**63) <= v < 2**63 else v),
)
_dims = st.lists(st.one_of(st.integers(0, 5), st.sampled_from([2**31, 2**40])), min_size=0, max_size=5)
_dtype = st.sampled_from(["float32", "float64", "float32", "float64", ">f4", "float16", "int32", "bool",
                          "complex64", "object"])
_array = st.one_of(
    st.tuples(st.just("array"), _dims, _dtype, st.sampled_from(["c", "fortran", "reversed", "broadcast"])).map(list),
    st.sampled_from([None, ["list", [[1.0, 2.0], [3.0]]], ["list", [[[[1.0]]]]], ["str", "abc"]]),
)


@st.composite
def any_config(draw):
    op = draw(st.sampled_from(OPS))
    # Mostly plausible shapes, so that parameter checks past the rank checks are reached too.
    def arr(default_ndim):
        if draw(st.integers(0, 3)) == 0:
            return draw(_array)
        shape = [draw(st.integers(0, 4)) for _ in range(default_ndim)]
        return ["array", shape, draw(st.sampled_from(["float32", "float64"])), "c"]
    arrays = [arr(4), arr(4), arr(1) if draw(st.booleans()) else None, arr(4)]
    if draw(st.booleans()):
        # Consistent shapes (groups=1), so that the parameter checks are what fails.
        dt = draw(st.sampled_from(["float32", "float64"]))
        c, co = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        n, h, w = draw(st.integers(0, 2)), draw(st.integers(0, 6)), draw(st.integers(0, 6))
        k = [draw(st.integers(1, 3)), draw(st.integers(1, 3))]
        arrays[0] = ["array", [n, c, h, w], dt, "c"]
        arrays[1] = ["array", ([c, co] if "transpose" in op else [co, c]) + k, dt, "c"]
        arrays[2] = ["array", [co], dt, "c"] if arrays[2] is not None else None
        arrays[3] = ["array", [n, co, draw(st.integers(0, 8)), draw(st.integers(0, 8))], dt, "c"]
    # Broadcast views of huge claimed shapes must never be materialised silently.
    for a in arrays:
        if a is not None and a[0] == "array" and a[3] != "broadcast" and any(d >= 2**31 for d in a[1]):
            a[1] = [min(d, 4) for d in a[1]]
    names = ["stride", "padding", "dilation", "groups", "output_padding"]
    params = {k: draw(_param) if draw(st.integers(0, 2)) == 0 else 1 if k in ("stride", "dilation", "groups") else 0
              for k in names}
    algorithms = list(ALGORITHMS[op]) + ["bogus", "AUTO"]
    algorithm = draw(st.sampled_from(algorithms))
    mask = draw(st.lists(st.booleans(), min_size=3, max_size=3))
    return [op, arrays, params, algorithm, mask]


# No shrinking: a failing batch names its failing probe, and shrinking would rerun children.
@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.generate])
@given(st.lists(any_config(), min_size=80, max_size=80))
def test_random_configurations_never_crash(batch):
    outcomes = run_probes(INVALID_SOURCE, json.loads(json.dumps(batch)), timeout=60)
    bad = [(case, o) for case, o in zip(batch, outcomes) if o.startswith("BAD")]
    assert not bad, bad[:5]


ADJOINT_SOURCE = """
import resource
resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))  # no call below needs 100 MiB


def probe(case):
    op, stride, padding, algorithm = case
    try:
        if op == "conv_transpose2d":
            r = sc.conv_transpose2d(np.ones((1, 1, 2, 2), np.float32), np.ones((1, 1, 1, 1), np.float32),
                                    stride=stride, padding=padding, algorithm=algorithm)
            return "ok " + str(r.shape)
        r = sc.conv2d_backward(np.ones((1, 1, 2, 2), np.float32), np.ones((1, 1, 3, 3), np.float32),
                               np.ones((1, 1, 1, 1), np.float32), stride=stride, padding=padding)
        return "ok " + str(r[0].shape)
    except (ValueError, MemoryError) as e:
        return type(e).__name__
"""


def test_adjoint_huge_stride_padding():
    """conv_transpose2d(ones(1,1,2,2), ones(1,1,1,1), stride=s, padding=s/2) is a valid call
    with a 1x1 output, and conv2d_backward of conv2d(ones(1,1,3,3), ones(1,1,1,1), stride=s,
    padding=s/2) (output 2x2) a valid gradient of a 3x3 input. "auto" (and every formulation
    but an explicitly requested "upsample", which may refuse with MemoryError) must compute
    them in little memory. The child runs under a 3 GiB address-space limit."""
    probes, allowed = [], []
    for s in (2**16, 2**31):
        for a in ALGORITHMS["conv_transpose2d"]:
            probes.append(["conv_transpose2d", s, s // 2, a])
            allowed.append({"ok (1, 1, 1, 1)"} | ({"MemoryError"} if a == "upsample" else set()))
        probes.append(["conv2d_backward", s, s // 2, "auto"])
        allowed.append({"ok (1, 1, 3, 3)"})
    outcomes = run_probes(ADJOINT_SOURCE, probes, timeout=60)
    bad = [(p, o) for p, o, ok in zip(probes, outcomes, allowed) if o not in ok]
    assert not bad, bad
