"""padding_mode ("zeros", "reflect", "replicate", "circular") for the conv ops, their backward
functions and prepared objects, and output_size for the transposed ops (issue 11, items 3
and 4). Parity with torch is in test_parity.py (the fixtures named ``*mode_*``, ``*os_*`` and
``*roundtrip_*``); here: prepared objects against the same fixtures, the NumPy reference
over random cases of every rank, mode and algorithm, determinism across thread counts, the
plan's explanation, and PyTorch's output_size round trip."""
from __future__ import annotations

import itertools
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from _hardening import general_algorithms
from conftest import FORWARD_OPS, fixture_paths, load_case, op_rank

import swiftconv as sc
from swiftconv import _reference as R

MODES = ("reflect", "replicate", "circular")
MODE_FIXTURES = [p for p in fixture_paths() if "mode_" in p.stem]
SIZE_FIXTURES = [p for p in fixture_paths() if "__os_" in p.stem or "__f64_os" in p.stem or "roundtrip_" in p.stem]


def ids(paths):
    return [p.stem for p in paths]


def test_fixture_selection():
    assert len(MODE_FIXTURES) >= 3 * 2 * len(MODES) and len(SIZE_FIXTURES) >= 3 * 2
    for p in MODE_FIXTURES:
        assert "padding_mode" in load_case(p, raw=True)[0]["kwargs"], p.name
    for p in SIZE_FIXTURES:
        assert "output_size" in load_case(p, raw=True)[0]["kwargs"], p.name


def _check(name, got, arrays, params):
    R.assert_close(got, arrays[name], arrays["scale_" + name], params["terms"][name], params["dtype"],
                   name=f"{name} (expected: torch)",
                   intermediate_roundings=params.get("torch_roundings", {}).get(name, 0))


# ------------------------------------------------------------------ prepared objects


@pytest.mark.parametrize("path", MODE_FIXTURES + SIZE_FIXTURES, ids=ids(MODE_FIXTURES + SIZE_FIXTURES))
def test_prepared_matches_the_function_bitwise_and_torch(path):
    params, arrays = load_case(path)
    op = params["op"]
    forward = op[:-len("_backward")] if op.endswith("_backward") else op
    kwargs = dict(params["kwargs"])
    output_size = kwargs.pop("output_size", None)
    call = {} if output_size is None else {"output_size": output_size}
    x, w = arrays["input"], arrays["weight"]
    p = sc.prepare(forward, w, arrays.get("bias"), **kwargs)
    if op in FORWARD_OPS:
        y = p(x, **call)
        np.testing.assert_array_equal(y, getattr(sc, op)(x, w, arrays.get("bias"), **params["kwargs"]))
        _check("output", y, arrays, params)
        assert p(x, **call) is not y  # a new array each call, from the cached plan
    else:
        got = p.backward(arrays["grad_output"], x, **call)
        want = getattr(sc, op)(arrays["grad_output"], x, w, **params["kwargs"])
        for name, g, f in zip(("grad_input", "grad_weight", "grad_bias"), got, want):
            np.testing.assert_array_equal(g, f)
            _check(name, g, arrays, params)


@pytest.mark.parametrize("mode", MODES)
def test_prepared_pickles_and_says_its_padding_mode(mode):
    rng = np.random.default_rng(1)
    w, b = rng.standard_normal((4, 2, 3, 3)).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    x = rng.standard_normal((2, 2, 6, 7)).astype(np.float32)
    p = sc.prepare("conv2d", w, b, padding=(1, 2), padding_mode=mode)
    assert f"padding_mode={mode!r}" in repr(p) and p.params["padding_mode"] == mode
    q = pickle.loads(pickle.dumps(p))
    np.testing.assert_array_equal(q(x), p(x))
    np.testing.assert_array_equal(p(x), sc.conv2d(x, w, b, padding=(1, 2), padding_mode=mode))
    assert "padding_mode" not in repr(sc.prepare("conv2d", w, b, padding=1))  # zeros: the default
    assert "border padding: " + mode in p.explain(x)


def test_prepared_transposed_caches_a_plan_per_output_size():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    x = rng.standard_normal((1, 3, 5, 5)).astype(np.float32)
    p = sc.prepare("conv_transpose2d", w, stride=3, padding=1)
    sizes = [(13, 13), (14, 15), [1, 2, 15, 13], np.array([13, 15])]
    for size in sizes * 2:
        y = p(x, output_size=size)
        assert y.shape == (1, 2) + tuple(int(v) for v in size)[-2:]
        np.testing.assert_array_equal(y, sc.conv_transpose2d(x, w, stride=3, padding=1, output_size=size))
    np.testing.assert_array_equal(p(x), p(x, output_size=(13, 13)))
    gy = np.ones((1, 2, 14, 15), np.float32)
    for got, want in zip(p.backward(gy, x, output_size=(14, 15)),
                         sc.conv_transpose2d_backward(gy, x, w, stride=3, padding=1, output_size=(14, 15))):
        np.testing.assert_array_equal(got, want)
    assert "conv: " in p.explain(x, output_size=(15, 15))


# ------------------------------------------------------------------ the NumPy reference


def _random_case(rng, rank, mode):
    """A random conv with `mode` (pads the mode accepts): groups, per-axis stride and
    dilation, asymmetric or 'same' padding, batched or not."""
    while True:
        groups = int(rng.choice([1, 2]))
        cin, cout = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
        size = tuple(int(v) for v in rng.integers(1, [0, 12, 7, 5][rank] + 1, size=rank))
        kernel = tuple(int(v) for v in rng.integers(1, 4, size=rank))
        kind = int(rng.integers(0, 4))
        stride = 1 if kind == 0 else tuple(int(v) for v in rng.integers(1, 3, size=rank))
        dilation = tuple(int(v) for v in rng.integers(1, 3, size=rank))
        limit = {"reflect": [s - 1 for s in size], "circular": list(size), "replicate": [4] * rank}[mode]
        if kind == 0:
            padding = "same"
        elif kind == 1:
            padding = tuple(int(rng.integers(0, min(l, 3) + 1)) for l in limit)
        else:
            padding = tuple((int(rng.integers(0, min(l, 3) + 1)), int(rng.integers(0, min(l, 3) + 1))) for l in limit)
        unbatched = rng.random() < 0.25
        x = rng.standard_normal(((cin,) if unbatched else (int(rng.integers(1, 3)), cin)) + size)
        w = rng.standard_normal((cout, cin // groups) + kernel)
        kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, padding_mode=mode)
        try:
            R.conv(x, w, None, **kw)
        except ValueError:
            continue  # sizes the mode (or the kernel) does not accept
        return x, w, rng.standard_normal(cout), kw


def _terms(op, x, w, go, b, kw):
    pads = kw["padding"] if kw["padding"] != "same" else "same"
    return R.terms(op, x.shape, w.shape, None if go is None else go.shape, kw["groups"], b is not None,
                   padding=pads, dilation=kw["dilation"], padding_mode=kw["padding_mode"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_random_cases_against_the_reference(rank, mode, dtype):
    """Every algorithm and the backward, within the shared dot-product bound of the float64
    reference (F.pad with the mode, then the convolution; grad_input folded back)."""
    rng = np.random.default_rng(1000 * rank + MODES.index(mode) + (7 if dtype == np.float64 else 0))
    op = f"conv{rank}d"
    for _ in range(6):
        x, w, b, kw = _random_case(rng, rank, mode)
        x, w, b = x.astype(dtype), w.astype(dtype), b.astype(dtype)
        want = R.conv(x, w, b, **kw)
        scale = R.scale(op, x, w, b, **kw)[0]
        (k,) = _terms(op, x, w, None, b, kw)
        for algorithm in general_algorithms(op):
            got = getattr(sc, op)(x, w, b, algorithm=algorithm, **kw)
            assert got.dtype == dtype and got.shape == want.shape
            R.assert_close(got, want, scale, k, dtype, name=f"{op} {algorithm} {kw}")
        go = rng.standard_normal(want.shape).astype(dtype)
        got = getattr(sc, f"{op}_backward")(go, x, w, **kw)
        wants = R.conv_backward(go, x, w, **kw)
        scales = R.scale(f"{op}_backward", x, w, None, go, **kw)
        for name, g, r, s, k in zip(("grad_input", "grad_weight", "grad_bias"), got, wants, scales,
                                    _terms(f"{op}_backward", x, w, go, None, kw)):
            R.assert_close(g, r, s, k, dtype, name=f"{op}_backward {name} {kw}")


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_zeros_mode_and_empty_padding_change_nothing(rank):
    rng = np.random.default_rng(rank)
    x = rng.standard_normal((2, 4, *(6,) * rank)).astype(np.float32)
    w = rng.standard_normal((4, 2, *(3,) * rank)).astype(np.float32)
    f = getattr(sc, f"conv{rank}d")
    np.testing.assert_array_equal(f(x, w, padding=1, groups=2, padding_mode="zeros"), f(x, w, padding=1, groups=2))
    for mode in MODES:  # nothing to pad: the plain convolution, no copy
        np.testing.assert_array_equal(f(x, w, padding="valid", groups=2, padding_mode=mode), f(x, w, groups=2))
        assert "border padding" not in sc.explain(f"conv{rank}d", x, w, padding=0, groups=2, padding_mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_batch0_and_unbatched(mode):
    w = np.ones((3, 2, 3, 3), np.float32)
    assert sc.conv2d(np.ones((0, 2, 5, 5), np.float32), w, padding=2, padding_mode=mode).shape == (0, 3, 7, 7)
    gi, gw, gb = sc.conv2d_backward(np.ones((0, 3, 7, 7), np.float32), np.ones((0, 2, 5, 5), np.float32), w,
                                    padding=2, padding_mode=mode)
    assert gi.shape == (0, 2, 5, 5) and not gw.any() and not gb.any()
    x = np.random.default_rng(3).standard_normal((2, 5, 5)).astype(np.float32)
    np.testing.assert_array_equal(sc.conv2d(x, w, padding=2, padding_mode=mode),
                                  sc.conv2d(x[None], w, padding=2, padding_mode=mode)[0])


# ------------------------------------------------------------------ threads, explain


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_bitwise_identical_for_every_thread_count(rank, mode):
    rng = np.random.default_rng(rank)
    size = {1: (3000,), 2: (40, 44), 3: (10, 14, 16)}[rank]
    x = rng.standard_normal((3, 8, *size)).astype(np.float32)
    w = rng.standard_normal((8, 4, *(3,) * rank)).astype(np.float32)
    kw = dict(padding=((1, 2),) * rank, groups=2, padding_mode=mode)
    gy = rng.standard_normal(getattr(sc, f"conv{rank}d")(x, w, **kw).shape).astype(np.float32)
    before = sc.get_num_threads()
    try:
        results = []
        for threads in (1, 2, 3):
            sc.set_num_threads(threads)
            results.append((getattr(sc, f"conv{rank}d")(x, w, **kw),) + getattr(sc, f"conv{rank}d_backward")(gy, x, w, **kw))
    finally:
        sc.set_num_threads(before)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert a.tobytes() == b.tobytes()


def test_explain_shows_the_padding_steps():
    x, w = np.ones((1, 2, 9, 9), np.float32), np.ones((4, 2, 3, 3), np.float32)
    text = sc.explain("conv2d", x, w, padding=((1, 2), (0, 3)), padding_mode="circular")
    assert "border padding: circular (before, after) (1, 2), (0, 3): 9x9 -> 12x12" in text
    assert "conv: N1 2->4 12x12->10x10" in text and "pad(top 0, left 0)" in text
    text = sc.explain("conv3d_backward", np.ones((1, 2, 4, 5, 6), np.float32), np.ones((4, 2, 3, 3, 3), np.float32),
                      grad_output=np.ones((1, 4, 4, 5, 6), np.float32), padding=1, padding_mode="reflect")
    lines = text.splitlines()
    fold = next(i for i, l in enumerate(lines) if "folded back" in l)
    pad = next(i for i, l in enumerate(lines) if "border padding: reflect" in l)
    grad_weight = next(i for i, l in enumerate(lines) if "weight gradient" in l)
    assert "transposed conv" in lines[fold - 1] and fold < pad < grad_weight, text
    assert "4x5x6 -> 6x7x8" in lines[pad]


# ------------------------------------------------------------------ the border read while packing

#: NumPy's names of the modes: np.pad(x, pads, mode) is F.pad(x, pads, mode).
NUMPY_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}

# (rank, input, weight, kwargs, path): the path the planner takes (KernelSelector.
# readsBorderWhilePacking): "maps" (no padded copy) for 1-D rows of at least 512 outputs
# (unit and double stride, dilation, groups, batch folded or not, widths that are and are not
# whole panels) and 3-D layers (the depth lowering gathers padded planes); "copy" for 2-D
# planes and short rows. Every one with padding that crosses each border.
BORDER_READ_CASES = [
    (1, (2, 6, 700), (8, 6, 9), dict(padding=4), "maps"),
    (1, (1, 4, 1100), (6, 2, 3), dict(padding=((2, 1),), stride=2, groups=2), "maps"),
    (1, (3, 5, 530), (4, 5, 3), dict(padding=((3, 1),), dilation=2), "maps"),
    (1, (1, 4, 50), (6, 2, 3), dict(padding=((2, 1),), stride=2, groups=2), "copy"),
    (2, (3, 5, 12, 12), (6, 5, 3, 3), dict(padding=((1, 2), (2, 1))), "copy"),
    (2, (1, 4, 20, 45), (8, 4, 3, 5), dict(padding=(2, 3), dilation=(1, 2), stride=(1, 3)), "copy"),
    (3, (2, 3, 5, 9, 10), (4, 3, 3, 3, 3), dict(padding=1), "maps"),
    (3, (1, 4, 6, 7, 17), (6, 2, 2, 3, 3), dict(padding=((1, 0), (2, 1), (1, 1)), stride=(2, 1, 2), groups=2), "maps"),
    (3, (1, 2, 4, 20, 40), (3, 2, 3, 3, 3), dict(padding=(1, 2, 2), dilation=(1, 1, 2)), "maps"),
]


def _padded_copy(x, rank, kw, mode):
    """x padded as the mode pads it (by NumPy): the input of the old path's convolution."""
    pads = kw["padding"]
    pads = (pads,) * rank if isinstance(pads, int) else pads
    pads = [(p, p) if isinstance(p, int) else tuple(p) for p in pads]
    return np.pad(x, [(0, 0)] * (x.ndim - rank) + pads, mode=NUMPY_MODES[mode])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", range(len(BORDER_READ_CASES)))
def test_border_read_while_packing_is_the_padded_copy_bit_for_bit(case, mode):
    """The kernels that read the border through its index maps (no padded copy: the im2col
    B panels, the depth lowering's planes) against the old path, the same convolution of
    the padded copy (F.pad, then padding 0: what the padInput step computed), bit for bit:
    every rank, float32 and float64, function and prepared, 1, 2 and 3 threads; grad_weight
    of the 3-D ones too. The explanation says which path ran."""
    rank, xs, ws, kw, path = BORDER_READ_CASES[case]
    rng = np.random.default_rng(100 + case)
    op = f"conv{rank}d"
    f = getattr(sc, op)
    before = sc.get_num_threads()
    try:
        for dtype in (np.float32, np.float64):
            x, w = rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype)
            b = rng.standard_normal(ws[0]).astype(dtype)
            xp = _padded_copy(x, rank, kw, mode)
            plain = {k: v for k, v in kw.items() if k != "padding"}
            explained = sc.explain(op, x, w, b, padding_mode=mode, **kw)
            assert ("index maps" in explained) == (path == "maps"), explained
            p = sc.prepare(op, w, b, padding_mode=mode, **kw)
            go = None
            for threads in (1, 2, 3):
                sc.set_num_threads(threads)
                want = f(xp, w, b, **plain)
                np.testing.assert_array_equal(f(x, w, b, padding_mode=mode, **kw), want)
                np.testing.assert_array_equal(f(x, w, b, padding_mode=mode, algorithm="im2col", **kw),
                                              f(xp, w, b, algorithm="im2col", **plain))
                np.testing.assert_array_equal(p(x), want)
                if rank == 3:
                    go = rng.standard_normal(want.shape).astype(dtype) if go is None else go
                    gw = getattr(sc, op + "_backward")(go, x, w, padding_mode=mode, output_mask=(False, True, False), **kw)[1]
                    np.testing.assert_array_equal(gw, getattr(sc, op + "_backward")(go, xp, w, output_mask=(False, True, False),
                                                                                  **plain)[1])
    finally:
        sc.set_num_threads(before)


def test_kernels_without_the_border_read_keep_the_padded_copy():
    """Direct and depthwise kernels (and 1x1 windows) read a padded copy: the plan says so."""
    x = np.ones((1, 8, 20, 20), np.float32)
    for w, kw in [(np.ones((8, 1, 3, 3), np.float32), dict(groups=8)), (np.ones((4, 8, 1, 1), np.float32), {}),
                  (np.ones((4, 8, 3, 3), np.float32), dict(algorithm="direct"))]:
        text = sc.explain("conv2d", x, w, padding=1, padding_mode="reflect", **kw)
        assert "copied before the conv" in text and "index maps" not in text, text


# ------------------------------------------------------------------ output_size


def test_output_size_round_trip_as_pytorch():
    """PyTorch's test_ConvTranspose2d_output_size_downsample_upsample: a conv, then the
    transposed conv with output_size = the conv's input shape restores the size, for every
    combination of its loops (shapes only; the values are in the roundtrip fixtures)."""
    b, c, hid_c = 2, 3, 2
    rng = np.random.default_rng(0)
    for h in range(13, 24):
        for w in range(13, 17):
            i = rng.standard_normal((b, c, h, w)).astype(np.float32)
            for k, d, s, p in itertools.product(range(2, 5), range(1, 5), range(1, 4), range(3)):
                if d * (k - 1) + 1 > min(h, w) + 2 * p:
                    continue
                conv_w = np.ones((hid_c, c, k, k), np.float32)
                t_w = np.ones((hid_c, c, k, k), np.float32)  # transposed: (C_in, C_out, k, k)
                y = sc.conv2d(i, conv_w, stride=s, padding=p, dilation=d)
                out = sc.conv_transpose2d(y, t_w, stride=s, padding=p, dilation=d, output_size=i.shape)
                assert out.shape == i.shape, (h, w, k, d, s, p)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_output_size_is_the_output_padding_it_implies(rank):
    rng = np.random.default_rng(rank)
    x = rng.standard_normal((2, 4, *(3,) * rank)).astype(np.float32)
    w = rng.standard_normal((4, 3, *(2,) * rank)).astype(np.float32)
    f = getattr(sc, f"conv_transpose{rank}d")
    least = (3 - 1) * 3 - 2 * 1 + 2 * (2 - 1) + 1  # stride 3, padding 1, kernel 2, dilation 2
    for extra in itertools.product(range(3), repeat=rank):
        size = tuple(least + e for e in extra)
        want = f(x, w, None, 3, 1, extra, 2, 2)
        assert want.shape[2:] == size
        for algorithm in sc.algorithms(f"conv_transpose{rank}d"):
            np.testing.assert_array_equal(f(x, w, None, 3, 1, 0, 2, 2, algorithm=algorithm, output_size=size),
                                          f(x, w, None, 3, 1, extra, 2, 2, algorithm=algorithm))
        gy = np.ones((2, 6, *size), np.float32)
        for a, b in zip(getattr(sc, f"conv_transpose{rank}d_backward")(gy, x, w, 3, 1, 0, 2, 2, output_size=size),
                        getattr(sc, f"conv_transpose{rank}d_backward")(gy, x, w, 3, 1, extra, 2, 2)):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(R.conv_transpose(x, w, None, 3, 1, 0, 2, 2, output_size=size),
                                      R.conv_transpose(x, w, None, 3, 1, extra, 2, 2))
