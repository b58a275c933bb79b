"""Every kind of array a user may pass (CONTRACT.md "Arrays"): any strides, unaligned,
big-endian, read-only, memmaps, `__array__` objects, nested lists, N = 0. Results equal
the reference kernel on contiguous copies; inputs are never written to; results are new
C-contiguous native-endian arrays of the input's dtype. Also: huge stride-0 views are
refused without crashing, and NaN/Inf propagate as CONTRACT.md "Numerics" says."""
from __future__ import annotations

import mmap

import numpy as np
import pytest

import swiftconv as sc

from _hardening import (ALGORITHMS, OPS, assert_fresh_result, general_algorithms, assert_matches_reference, reference, rng_array,
                        run, run_probes)

DTYPES = (np.float32, np.float64)

# One small configuration per op (groups, stride, padding, dilation all non-trivial).
CONFIGS = {
    "conv2d": dict(x=(2, 4, 9, 8), w=(6, 2, 3, 2), b=(6,), gy=None,
                   params=dict(stride=(2, 1), padding=((1, 0), (2, 1)), dilation=(1, 2), groups=2)),
    "conv_transpose2d": dict(x=(2, 4, 5, 4), w=(4, 3, 3, 2), b=(6,), gy=None,
                             params=dict(stride=(2, 1), padding=(1, 0), output_padding=(1, 0), groups=2, dilation=(1, 2))),
    "conv2d_backward": dict(x=(2, 4, 9, 8), w=(6, 2, 3, 2), b=None, gy=(2, 6, 5, 10),
                            params=dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)),
    "conv_transpose2d_backward": dict(x=(2, 4, 5, 4), w=(4, 3, 3, 2), b=None, gy=(2, 6, 10, 6),
                                      params=dict(stride=(2, 1), padding=(1, 0), output_padding=(1, 0), groups=2, dilation=(1, 2))),
}


def make(op, dtype, seed=0):
    rng = np.random.default_rng(seed)
    c = CONFIGS[op]
    arrays = {k: (None if c[k] is None else rng_array(rng, c[k], dtype)) for k in ("x", "w", "b", "gy")}
    return arrays, c["params"]


# Layout transforms: each returns an array equal in value to `a` but laid out differently.
def transposed(a):
    return np.ascontiguousarray(a.T).T


def stepped(a):
    big = np.zeros(tuple(2 * s + 1 for s in a.shape), a.dtype)
    big[tuple(slice(1, None, 2) for _ in a.shape)] = a
    return big[tuple(slice(1, None, 2) for _ in a.shape)]


def negative(a):
    return np.ascontiguousarray(a[(slice(None, None, -1),) * a.ndim])[(slice(None, None, -1),) * a.ndim]


def fortran(a):
    return np.asfortranarray(a)


def unaligned(a):
    buf = bytearray(a.nbytes + 1)
    u = np.frombuffer(buf, dtype=a.dtype, count=a.size, offset=1).reshape(a.shape)
    u[...] = a
    assert not u.flags.aligned or a.size == 0
    return u


def big_endian(a):
    return a.astype(a.dtype.newbyteorder(">"))


def read_only(a):
    r = a.copy()
    r.flags.writeable = False
    return r


def swapped_axes(a):
    return np.ascontiguousarray(np.swapaxes(a, 0, -1)).swapaxes(0, -1)


class ArrayLikeObject:
    """Like a torch tensor or a JAX array: only __array__."""

    def __init__(self, a):
        self._a = a

    def __array__(self, dtype=None, copy=None):
        return self._a if dtype is None else self._a.astype(dtype)


def array_like(a):
    return ArrayLikeObject(a.copy())


def nested_list(a):
    return a.tolist() if a.dtype == np.float64 else a  # lists of Python floats are float64


def memoryview_of(a):
    return memoryview(np.ascontiguousarray(a))


LAYOUTS = {f.__name__: f for f in (transposed, stepped, negative, fortran, unaligned, big_endian,
                                   read_only, swapped_axes, array_like, nested_list, memoryview_of)}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("op", OPS)
def test_layouts_match_reference_and_are_not_written(op, layout, dtype):
    arrays, params = make(op, dtype)
    transform = LAYOUTS[layout]
    for target in [k for k in ("x", "w", "b", "gy") if arrays[k] is not None]:
        args = dict(arrays)
        args[target] = transform(arrays[target])
        snapshot = {k: None if v is None else np.array(np.asarray(v), copy=True) for k, v in args.items()}
        results = run(op, args["x"], args["w"], args["b"], args["gy"], **params)
        for k, v in args.items():
            if v is not None:
                a = np.asarray(v)
                assert a.dtype == snapshot[k].dtype
                np.testing.assert_array_equal(a, snapshot[k], err_msg=f"{k} was written to")
        for r in results:
            assert_fresh_result(r, dtype)
        # Bitwise equal to the same call on contiguous copies; near the reference.
        plain = run(op, arrays["x"], arrays["w"], arrays["b"], arrays["gy"], **params)
        for r, p in zip(results, plain):
            assert r.tobytes() == p.tobytes()
        assert_matches_reference(results, op, arrays["x"], arrays["w"], arrays["b"], arrays["gy"], **params)


@pytest.mark.parametrize("op", OPS)
def test_all_arguments_strange_at_once(op):
    arrays, params = make(op, np.float32, seed=3)
    odd = {k: None if v is None else f(v) for (k, v), f in
           zip(arrays.items(), (negative, big_endian, unaligned, stepped))}
    results = run(op, odd["x"], odd["w"], odd["b"], odd["gy"], **params)
    assert_matches_reference(results, op, arrays["x"], arrays["w"], arrays["b"], arrays["gy"], **params)


def test_memmap(tmp_path):
    arrays, params = make("conv2d", np.float32)
    path = tmp_path / "x.bin"
    mm = np.memmap(path, dtype=np.float32, mode="w+", shape=arrays["x"].shape)
    mm[...] = arrays["x"]
    mm.flush()
    ro = np.memmap(path, dtype=np.float32, mode="r", shape=arrays["x"].shape)
    before = path.read_bytes()
    for x in (mm, ro, ro[:, :, ::2, ::-1]):
        r = sc.conv2d(x, arrays["w"], arrays["b"], **params)
        assert_fresh_result(r, np.float32)
        assert_matches_reference((r,), "conv2d", np.array(x), arrays["w"], arrays["b"], **params)
    assert path.read_bytes() == before
    # An mmap.mmap buffer through np.frombuffer (read-only).
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        x = np.frombuffer(m, dtype=np.float32).reshape(arrays["x"].shape)
        r = sc.conv2d(x, arrays["w"], **params)
        del x
    np.testing.assert_array_equal(r, sc.conv2d(arrays["x"], arrays["w"], **params))


@pytest.mark.parametrize("dtype", DTYPES)
def test_nested_lists(dtype):
    rng = np.random.default_rng(1)
    x, w, b = rng_array(rng, (1, 2, 5, 5), np.float64), rng_array(rng, (3, 2, 3, 3), np.float64), rng_array(rng, (3,), np.float64)
    r = sc.conv2d(x.tolist(), w.tolist(), b.tolist(), padding=1)
    assert r.dtype == np.float64  # lists of Python floats are float64
    assert_matches_reference((r,), "conv2d", x, w, b, padding=1)
    # A list input with float32 weights is a dtype mismatch, not a silent cast.
    with pytest.raises(TypeError, match="float64.*float32"):
        sc.conv2d(x.tolist(), w.astype(np.float32))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", OPS)
def test_zero_batch(op, dtype):
    arrays, params = make(op, dtype)
    x = arrays["x"][:0]
    gy = None if arrays["gy"] is None else arrays["gy"][:0]
    results = run(op, x, arrays["w"], arrays["b"], gy, **params)
    full = run(op, arrays["x"], arrays["w"], arrays["b"], arrays["gy"], **params)
    for r, f in zip(results, full):
        assert_fresh_result(r, dtype)
        if op.endswith("backward") and r.ndim == 1 or (op.endswith("backward") and r.shape == arrays["w"].shape):
            # grad_weight / grad_bias of an empty batch are zeros of the full shape.
            assert r.shape == f.shape and not r.any()
        else:
            assert r.shape == (0,) + f.shape[1:]


@pytest.mark.parametrize("op", OPS)
def test_unbatched(op):
    arrays, params = make(op, np.float64)
    x1 = arrays["x"][1]
    gy1 = None if arrays["gy"] is None else arrays["gy"][1]
    results = run(op, x1, arrays["w"], arrays["b"], gy1, **params)
    batched = run(op, arrays["x"][1:2], arrays["w"], arrays["b"], None if gy1 is None else gy1[None], **params)
    assert results[0].shape == batched[0].shape[1:]
    np.testing.assert_array_equal(results[0], batched[0][0])
    for r, b in zip(results[1:], batched[1:]):
        np.testing.assert_array_equal(r, b)


# -- sizes: huge views must be refused, never crash ------------------------------------------

HUGE_SOURCE = """
def probe(case):
    op, shapes = case
    small = {"x": (1, 2, 4, 4), "w": (2, 2, 1, 1), "b": (2,), "g": (1, 2, 4, 4)}
    arrays = {}
    for k in "xwbg":
        shape = tuple(shapes.get(k, small[k]))
        try:
            arrays[k] = np.lib.stride_tricks.as_strided(np.ones(1, np.float32), shape, (0,) * len(shape))
        except ValueError:
            return "unconstructible"  # NumPy itself refuses arrays whose byte size overflows
    try:
        if op.endswith("backward"):
            getattr(sc, op)(arrays["g"], arrays["x"], arrays["w"])
        else:
            getattr(sc, op)(arrays["x"], arrays["w"], arrays["b"])
        return "ok"
    except (ValueError, MemoryError) as e:
        return type(e).__name__
    except Exception as e:
        return "BAD " + type(e).__name__ + ": " + str(e)
"""


def test_huge_stride0_views_never_crash():
    """Stride-0 views (np.broadcast_to) claiming terabytes: valid geometry ends in
    MemoryError, impossible sizes in ValueError; the child interpreter never dies."""
    T = [2**12, 2, 2**14, 2**14]  # 8 TiB of float32, a valid 1x1 convolution
    cases = [
        ({"x": T, "g": T}, ("MemoryError",)),                              # input (and grad) copy / result
        ({"x": [1, 2, 2**20, 2**20], "w": [2, 2, 2**20, 2**20]}, ("MemoryError",)),  # 4 TiB kernel, 1x1 output
        ({"x": [2**20, 2**20, 2**10, 2**9], "w": [2, 2**20, 1, 1]}, ("MemoryError",)),  # 2**61 bytes
        ({"w": [2**30, 2**30, 1, 1]}, ("ValueError",)),                    # channel mismatch, huge
        ({"x": [1, 2, 2**28, 2**30], "w": [2, 2, 2**28, 2**30]}, ("MemoryError",)),
        ({"b": [2**40]}, ("ValueError",)),
        ({"g": T}, ("ValueError",)),
    ]
    probes, allowed = [], []
    for op in OPS:
        for shapes, ok in cases:
            if op.endswith("backward") and "b" in shapes or not op.endswith("backward") and shapes.keys() == {"g"}:
                continue
            probes.append([op, shapes])
            allowed.append(ok + ("ValueError",))  # a size product may also be refused up front
    outcomes = run_probes(HUGE_SOURCE, probes)
    bad = [(p, o) for p, o, ok in zip(probes, outcomes, allowed) if o not in ok]
    assert not bad, bad


# -- NaN / Inf ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("op", OPS)
def test_non_finite_values_propagate(op, value, dtype):
    """A non-finite value in one array makes non-finite every output whose sum includes it:
    at least where the reference (which follows the definition) says so. A formulation may
    add non-finite values where a non-finite value meets padding or inserted zeros (CONTRACT.md
    does not promise either way), so beyond the reference's set only that is allowed."""
    arrays, params = make(op, dtype, seed=5)
    for target in [k for k in ("x", "w", "b", "gy") if arrays[k] is not None]:
        args = {k: None if v is None else v.copy() for k, v in arrays.items()}
        flat = args[target].reshape(-1)
        flat[len(flat) // 2] = value
        ref = reference(op, args["x"], args["w"], args["b"], args["gy"], **params)
        assert any((~np.isfinite(r)).any() for r in ref)
        for alg in general_algorithms(op):
            results = run(op, args["x"], args["w"], args["b"], args["gy"], algorithm=alg, **params)
            for r, want in zip(results, ref):
                missing = ~np.isfinite(want) & np.isfinite(r)
                assert not missing.any(), f"{alg}: non-finite {target} masked at {np.argwhere(missing)[:5]}"
                if value == np.inf and target != "w":
                    # Signs: an Inf that met no other non-finite value keeps a sign (never NaN)
                    # where the reference has an Inf.
                    inf = np.isinf(want)
                    np.testing.assert_array_equal(np.isinf(r[inf]), True)
            if target == "b" and op in ("conv2d", "conv_transpose2d"):
                assert np.all(~np.isfinite(results[0][:, len(flat) // 2]))


@pytest.mark.parametrize("target", ["x", "w", "b"])
@pytest.mark.parametrize("alg", general_algorithms("conv2d"))
def test_non_finite_exact_without_padding(target, alg):
    """With no padding and no inserted zeros (conv2d, padding 0), the set of non-finite
    outputs is exactly the definition's, for every algorithm."""
    rng = np.random.default_rng(7)
    args = dict(x=rng_array(rng, (2, 4, 7, 6)), w=rng_array(rng, (6, 2, 3, 2)), b=rng_array(rng, (6,)))
    params = dict(stride=(2, 1), dilation=(1, 2), groups=2)
    for value in (np.nan, np.inf):
        a = {k: v.copy() for k, v in args.items()}
        a[target].reshape(-1)[a[target].size // 3] = value
        r = sc.conv2d(a["x"], a["w"], a["b"], algorithm=alg, **params)
        want = reference("conv2d", a["x"], a["w"], a["b"], **params)[0]
        np.testing.assert_array_equal(np.isnan(r), np.isnan(want))
        np.testing.assert_array_equal(np.isinf(r), np.isinf(want))
        assert (~np.isfinite(r)).any()
