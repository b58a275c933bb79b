"""swiftconv.jax: every op and rank against jax.lax.conv_general_dilated (forward and the
gradients of input, weight and bias, float32 and float64), under jax.jit, jax.grad and
jax.vmap (over the batch, over the weights, nested, per-example gradients, jacrev), and clear
errors for what the adapter does not take. Skipped when JAX is not importable."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="swiftconv.jax needs JAX (pip install 'swiftconv[jax]')")
import jax.numpy as jnp  # noqa: E402
from jax import lax  # noqa: E402

import swiftconv as sc  # noqa: E402
import swiftconv.jax as scj  # noqa: E402
from _hardening import general_algorithms  # noqa: E402
from conftest import FORWARD_OPS, op_rank  # noqa: E402

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - the property test is skipped then
    given = None

PYTHON_DIR = Path(__file__).resolve().parents[1]
OPS = list(FORWARD_OPS)
# 3-D: not (5, 4, 5): with the "dilated" case that gives an output axis of size 1, and jax
# 0.10.2's XLA aborts the process (algebraic_simplifier.cc "Window dimensions do not match RHS
# shape") computing lax's own input gradient of such a strided 3-D conv (the reference, not ours).
SIZES = {1: (9,), 2: (7, 6), 3: (5, 4, 6)}
TRANSPOSED_SIZES = {1: (6,), 2: (4, 5), 3: (3, 4, 3)}  # smaller: their outputs are larger
KERNEL = (3, 2, 3)
SPATIAL = {1: "H", 2: "HW", 3: "DHW"}


def is_transposed(op):
    return op.startswith("conv_transpose")


def per_axis(values, rank):
    return tuple(values[:rank])


# Per-axis values are cut to the rank. Stride, padding (every form), dilation, groups,
# output_padding (< stride or < dilation), depthwise, negative lax padding (padding > the
# dilated kernel's reach, transposed).
CONV_CASES = {
    "plain": dict(stride=1, padding=0, dilation=1, groups=1),
    "strided": dict(stride=(2, 1, 2), padding=(1, 0, 1), dilation=(1, 2, 1), groups=2),
    "dilated": dict(stride=(1, 2, 1), padding=(2, 1, 0), dilation=(2, 1, 2), groups=1),
    "depthwise": dict(stride=2, padding=1, dilation=1, groups=4),
    "same": dict(stride=1, padding="same", dilation=(2, 1, 1), groups=2),
    "valid": dict(stride=(1, 2, 1), padding="valid", dilation=1, groups=1),
    "asymmetric": dict(stride=(2, 1, 1), padding=((0, 2), (1, 0), (2, 1)), dilation=(1, 1, 2), groups=1),
}
TRANSPOSE_CASES = {
    "plain": dict(stride=1, padding=0, output_padding=0, groups=1, dilation=1),
    "strided": dict(stride=(2, 3, 2), padding=(1, 0, 1), output_padding=(1, 2, 0), groups=2, dilation=(1, 2, 1)),
    "dilated": dict(stride=(1, 2, 1), padding=(1, 1, 0), output_padding=(1, 0, 1), groups=1, dilation=(2, 1, 3)),
    "grouped": dict(stride=2, padding=1, output_padding=1, groups=4, dilation=1),
    "cropped": dict(stride=3, padding=(3, 2, 3), output_padding=0, groups=1, dilation=1),
}


def case_params(op, case):
    rank = op_rank(op)
    table = TRANSPOSE_CASES if is_transposed(op) else CONV_CASES
    return {k: per_axis(v, rank) if isinstance(v, tuple) else v for k, v in table[case].items()}


def all_cases():
    for op in OPS:
        for case in (TRANSPOSE_CASES if is_transposed(op) else CONV_CASES):
            yield op, case


@contextlib.contextmanager
def x64(enabled):
    """JAX computes in float32 unless jax_enable_x64 is set: float64 tests set it (and restore it)."""
    previous = bool(jax.config.jax_enable_x64)
    jax.config.update("jax_enable_x64", enabled)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", previous)


@pytest.fixture(params=["float32", "float64"])
def dtype(request):
    with x64(request.param == "float64"):
        yield np.dtype(request.param)


def make_arrays(op, params, dtype, batch=2, seed=0, bias=True):
    """Input, weight, bias (JAX arrays) for `op` with 4 input and 4 output channels."""
    rng = np.random.default_rng(seed)
    rank = op_rank(op)
    k = per_axis(KERNEL, rank)
    sizes = (TRANSPOSED_SIZES if is_transposed(op) else SIZES)[rank]
    x = rng.uniform(-1, 1, ((batch,) if batch is not None else ()) + (4, *sizes))
    w = rng.uniform(-1, 1, (4, 4 // params["groups"], *k))
    b = rng.uniform(-1, 1, 4) if bias else None
    return tuple(None if a is None else jnp.asarray(a, dtype) for a in (x, w, b))


def close(ours, ref):
    """Same shape and dtype, equal within float tolerance relative to the result's magnitude
    (a wrong result is off by O(1))."""
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape and ours.dtype == ref.dtype, (ours.shape, ours.dtype, ref.shape, ref.dtype)
    tol = 1000 * np.finfo(ref.dtype).eps
    scale = max(1.0, float(np.abs(ref).max())) if ref.size else 1.0
    np.testing.assert_allclose(ours, ref, rtol=tol, atol=tol * scale)


# ------------------------------------------------------------------ the lax equivalents

def _lax_forward(op, x, w, b=None, stride=1, padding=0, dilation=1, groups=1, output_padding=0):
    """torch.nn.functional's conv{r}d / conv_transpose{r}d written with lax.conv_general_dilated
    (jitted as lax_forward: lax's gradients run eagerly op by op take seconds to compile)."""
    r = op_rank(op)
    unbatched = x.ndim == r + 1
    if unbatched:
        x = x[None]
    one = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v,) * r  # noqa: E731
    stride, dilation, output_padding = one(stride), one(dilation), one(output_padding)
    k = w.shape[2:]
    sp = SPATIAL[r]
    dn = lax.conv_dimension_numbers(x.shape, (1, 1) + k, ("NC" + sp, "OI" + sp, "NC" + sp))
    if not is_transposed(op):
        if padding == "same":
            totals = [d * (kk - 1) for d, kk in zip(dilation, k)]
            pads = [(t // 2, t - t // 2) for t in totals]  # torch: the odd element at the end
        elif padding == "valid":
            pads = [(0, 0)] * r
        elif isinstance(padding, tuple) and isinstance(padding[0], tuple):
            pads = list(padding)
        else:
            pads = [(p, p) for p in one(padding)]
        y = lax.conv_general_dilated(x, w, window_strides=stride, padding=pads, rhs_dilation=dilation,
                                     feature_group_count=groups, dimension_numbers=dn,
                                     precision=lax.Precision.HIGHEST)
    else:
        # the gradient of a conv: lhs dilation by the stride, the kernel flipped and its
        # (C_in, C_out/g) axes swapped per group, padding d*(k-1)-p (negative: cropping).
        c_in, c_out_g = w.shape[:2]
        wt = w.reshape((groups, c_in // groups, c_out_g) + k).swapaxes(1, 2)
        wt = wt.reshape((groups * c_out_g, c_in // groups) + k)
        wt = jnp.flip(wt, axis=tuple(range(2, 2 + r)))
        pads = [(d * (kk - 1) - p, d * (kk - 1) - p + op_)
                for d, kk, p, op_ in zip(dilation, k, one(padding), output_padding)]
        y = lax.conv_general_dilated(x, wt, window_strides=(1,) * r, padding=pads, lhs_dilation=stride,
                                     rhs_dilation=dilation, feature_group_count=groups, dimension_numbers=dn,
                                     precision=lax.Precision.HIGHEST)
    if b is not None:
        y = y + b.reshape((-1,) + (1,) * r)
    return y[0] if unbatched else y


lax_forward = jax.jit(_lax_forward, static_argnums=0,
                      static_argnames=("stride", "padding", "dilation", "groups", "output_padding"))


def ours(op):
    return getattr(scj, op)


def loss(f, cot):
    """A scalar whose gradient is the vjp with the cotangent `cot`."""
    return lambda *arrays: jnp.sum(f(*arrays) * cot)


# ------------------------------------------------------------------ import

def test_import_swiftconv_does_not_import_jax():
    code = ("import sys, swiftconv as sc; sc.conv2d([[[[1.0]]]], [[[[2.0]]]]); "
            "bad = [m for m in sys.modules if m in ('jax', 'jaxlib', 'swiftconv.jax') or m.startswith(('jax.', 'jaxlib.'))]; "
            "assert not bad, bad; print('ok')")
    env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_module_is_not_shadowing_jax():
    assert scj.jax is jax and jax.__file__ != scj.__file__
    assert scj.__name__ == "swiftconv.jax"
    assert sorted(scj.__all__) == sorted(OPS)


@pytest.mark.parametrize("op", OPS)
def test_signatures_are_swiftconvs(op):
    """The same parameters, order and defaults as swiftconv's NumPy function (torch's order)."""
    import inspect
    ours_params = inspect.signature(getattr(scj, op)).parameters
    theirs = inspect.signature(getattr(sc, op)).parameters
    assert [(p.name, p.kind, p.default) for p in ours_params.values()] == \
        [(p.name, p.kind, p.default) for p in theirs.values()]


def test_imported_as_top_level_module_is_refused():
    env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR / "swiftconv"))
    out = subprocess.run([sys.executable, "-c", "import jax"], env=env, capture_output=True, text=True,
                         timeout=120, cwd=str(PYTHON_DIR))
    assert out.returncode != 0 and "put its parent folder there instead" in out.stderr


# ------------------------------------------------------------------ forward and gradients vs lax

@pytest.mark.parametrize("op,case", list(all_cases()))
def test_forward_and_grad_match_lax(op, case, dtype):
    """Forward with and without bias, and the gradients of input, weight and bias (eager and
    under jit), against lax (one compiled reference per case: lax compiles slowly)."""
    params = case_params(op, case)
    x, w, b = make_arrays(op, params, dtype)
    f = lambda x, w, b: ours(op)(x, w, b, **params)  # noqa: E731
    g = lambda x, w, b: _lax_forward(op, x, w, b, **params)  # noqa: E731
    shape = jax.eval_shape(g, x, w, b).shape
    cot = jnp.asarray(np.random.default_rng(1).uniform(-1, 1, shape), dtype)
    reference = jax.jit(lambda x, w, b: (g(x, w, b), g(x, w, None), jax.grad(loss(g, cot), argnums=(0, 1, 2))(x, w, b)))
    y_ref, y_nobias_ref, grads_ref = reference(x, w, b)
    for y, expected in ((f(x, w, b), y_ref), (f(x, w, None), y_nobias_ref)):
        assert isinstance(y, jax.Array) and y.dtype == dtype
        close(y, expected)
    got = jax.grad(loss(f, cot), argnums=(0, 1, 2))(x, w, b)
    got_jit = jax.jit(jax.grad(loss(f, cot), argnums=(0, 1, 2)))(x, w, b)
    for a, a_jit, e in zip(got, got_jit, grads_ref):
        close(a, e)
        close(a_jit, e)


@pytest.mark.parametrize("op", OPS)
def test_unbatched_and_without_bias(op, dtype):
    params = case_params(op, "strided")
    x, w, _ = make_arrays(op, params, dtype, batch=None, bias=False)
    f = lambda x, w: ours(op)(x, w, None, **params)  # noqa: E731
    g = lambda x, w: lax_forward(op, x, w, None, **params)  # noqa: E731
    close(f(x, w), g(x, w))
    cot = jnp.ones(g(x, w).shape, dtype)
    for a, e in zip(jax.grad(loss(f, cot), argnums=(0, 1))(x, w), jax.jit(jax.grad(loss(g, cot), argnums=(0, 1)))(x, w)):
        close(a, e)


@pytest.mark.parametrize("op", OPS)
def test_jit_matches_eager_and_the_numpy_function(op, dtype):
    params = case_params(op, "strided")
    x, w, b = make_arrays(op, params, dtype)
    traces = []

    @jax.jit
    def f(x, w, b):
        traces.append(1)
        return ours(op)(x, w, b, **params)

    eager = ours(op)(x, w, b, **params)
    numpy_result = getattr(sc, op)(np.asarray(x), np.asarray(w), np.asarray(b), **params)
    np.testing.assert_array_equal(np.asarray(eager), numpy_result)  # the same engine call
    np.testing.assert_array_equal(np.asarray(f(x, w, b)), numpy_result)
    f(x + 1, w, b)
    assert len(traces) == 1  # the parameters are static, the arrays are not


def test_grad_of_a_jitted_composite(dtype):
    """A small network (conv, relu, transposed conv) under jit(value_and_grad) vs lax."""
    rng = np.random.default_rng(3)
    x = jnp.asarray(rng.uniform(-1, 1, (3, 2, 10, 9)), dtype)
    w1 = jnp.asarray(rng.uniform(-1, 1, (6, 2, 3, 3)), dtype)
    b1 = jnp.asarray(rng.uniform(-1, 1, 6), dtype)
    w2 = jnp.asarray(rng.uniform(-1, 1, (6, 1, 2, 2)), dtype)

    def net(conv, conv_t):
        def f(params, x):
            w1, b1, w2 = params
            h = jax.nn.relu(conv(x, w1, b1, stride=2, padding=1))
            return jnp.mean(conv_t(h, w2, None, stride=2, output_padding=1, groups=2) ** 2)
        return f

    ours_net = net(scj.conv2d, scj.conv_transpose2d)
    lax_net = net(lambda *a, **k: lax_forward("conv2d", *a, **k),
                  lambda *a, **k: lax_forward("conv_transpose2d", *a, **k))
    value, grads = jax.jit(jax.value_and_grad(ours_net))((w1, b1, w2), x)
    value_ref, grads_ref = jax.jit(jax.value_and_grad(lax_net))((w1, b1, w2), x)
    close(value, value_ref)
    for a, e in zip(grads, grads_ref):
        close(a, e)


@pytest.mark.parametrize("op", ["conv2d", "conv_transpose3d"])
def test_every_algorithm(op):
    params = case_params(op, "strided")
    x, w, b = make_arrays(op, params, np.dtype("float32"))
    expected = lax_forward(op, x, w, b, **params)
    for algorithm in general_algorithms(op):
        close(ours(op)(x, w, b, **params, algorithm=algorithm), expected)
        close(jax.jit(lambda x: ours(op)(x, w, b, **params, algorithm=algorithm))(x), expected)


def test_empty_batch(dtype):
    x = jnp.zeros((0, 4, 7, 6), dtype)
    w = jnp.ones((4, 2, 3, 3), dtype)
    y = scj.conv2d(x, w, groups=2)
    assert y.shape == (0, 4, 5, 4) and y.dtype == dtype
    gx, gw = jax.grad(lambda x, w: scj.conv2d(x, w, groups=2).sum(), argnums=(0, 1))(x, w)
    assert gx.shape == x.shape and not np.asarray(gw).any()


def test_only_the_needed_gradients_are_computed_under_jit(monkeypatch):
    """grad_input and (grad_weight, grad_bias) are separate callbacks: under jit, the one not
    asked for is dead code and never runs."""
    masks = []
    backward = sc.conv2d_backward

    def recording(*args, output_mask, **kwargs):
        masks.append(tuple(output_mask))
        return backward(*args, output_mask=output_mask, **kwargs)

    monkeypatch.setattr(sc, "conv2d_backward", recording)
    x, w, b = make_arrays("conv2d", case_params("conv2d", "plain"), np.dtype("float32"))
    f = lambda x, w, b: scj.conv2d(x, w, b, padding=1).sum()  # noqa: E731
    jax.jit(jax.grad(f, argnums=1))(x, w, b)
    assert masks == [(False, True, True)]
    masks.clear()
    jax.jit(jax.grad(f, argnums=0))(x, w, b)
    assert masks == [(True, False, False)]
    masks.clear()
    jax.grad(f, argnums=(0, 1, 2))(x, w, b)
    assert sorted(masks) == [(False, True, True), (True, False, False)]


# ------------------------------------------------------------------ vmap

def count_calls(monkeypatch, name):
    calls = []
    function = getattr(sc, name)

    def counting(*args, **kwargs):
        calls.append(np.shape(args[0]))
        return function(*args, **kwargs)

    monkeypatch.setattr(sc, name, counting)
    return calls


@pytest.mark.parametrize("op", OPS)
def test_vmap_over_the_batch(op, dtype, monkeypatch):
    """vmap over a leading axis of the input: folded into N, one engine call, jit or not."""
    params = case_params(op, "strided")
    x, w, b = make_arrays(op, params, dtype, batch=6)
    xs = x.reshape((3, 2) + x.shape[1:])  # 3 vmapped elements of batch 2
    f = lambda x: ours(op)(x, w, b, **params)  # noqa: E731
    expected = jax.jit(jax.vmap(lambda x: lax_forward(op, x, w, b, **params)))(xs)
    calls = count_calls(monkeypatch, op)
    close(jax.vmap(f)(xs), expected)
    close(jax.jit(jax.vmap(f))(xs), expected)
    assert calls == [(6,) + x.shape[1:]] * 2
    # unbatched elements (C, *spatial): the vmapped axis becomes N
    close(jax.vmap(f)(x), lax_forward(op, x, w, b, **params))
    # the vmapped axis need not be the first
    close(jax.vmap(f, in_axes=1, out_axes=1)(jnp.moveaxis(xs, 0, 1)), jnp.moveaxis(expected, 0, 1))


@pytest.mark.parametrize("op", ["conv1d", "conv_transpose2d", "conv3d"])
def test_vmap_over_the_weights(op, dtype):
    """vmapped weights and biases (an ensemble): one engine call per element."""
    params = case_params(op, "strided")
    x, w, b = make_arrays(op, params, dtype)
    ws = jnp.stack([w, -w, 2 * w])
    bs = jnp.stack([b, b + 1, -b])
    expected = jnp.stack([lax_forward(op, x, ws[i], bs[i], **params) for i in range(3)])
    f = lambda x, w, b: ours(op)(x, w, b, **params)  # noqa: E731
    close(jax.vmap(f, in_axes=(None, 0, 0))(x, ws, bs), expected)
    close(jax.jit(jax.vmap(f, in_axes=(None, 0, None)))(x, ws, b),
          jnp.stack([lax_forward(op, x, ws[i], b, **params) for i in range(3)]))
    xs = jnp.stack([x, x * 0.5, -x])  # both mapped
    close(jax.vmap(f)(xs, ws, bs), jnp.stack([lax_forward(op, xs[i], ws[i], bs[i], **params) for i in range(3)]))


def test_nested_vmap(dtype):
    op = "conv2d"
    params = case_params(op, "strided")
    x, w, b = make_arrays(op, params, dtype)
    xs = jnp.stack([x, -x, 0.5 * x, x + 1])  # (4, N, C, H, W)
    ws = jnp.stack([w, 2 * w, -w])           # (3, C_out, C_in/g, kH, kW)
    f = lambda x, w: ours(op)(x, w, b, **params)  # noqa: E731
    g = lambda x, w: lax_forward(op, x, w, b, **params)  # noqa: E731
    inner = lambda f: jax.vmap(f, in_axes=(0, None))  # noqa: E731  over inputs
    outer = lambda f: jax.vmap(f, in_axes=(None, 0))  # noqa: E731  over weights
    close(outer(inner(f))(xs, ws), jax.jit(outer(inner(g)))(xs, ws))
    close(jax.jit(inner(inner(lambda x, w: f(x, w))))(jnp.stack([xs, xs * 2]), w),
          jax.jit(inner(inner(g)))(jnp.stack([xs, xs * 2]), w))


@pytest.mark.parametrize("op", OPS)
def test_vmap_of_grad_per_example_gradients(op, dtype):
    """The usual per-example gradients: vmap(grad) over examples, weights shared."""
    params = case_params(op, "strided")
    x, w, b = make_arrays(op, params, dtype, batch=3)
    cot = jnp.asarray(np.random.default_rng(2).uniform(-1, 1, lax_forward(op, x, w, b, **params).shape), dtype)

    def per_example(f):
        def example_loss(w, b, x, c):  # x: one unbatched example
            return jnp.sum(f(x, w, b) * c)
        return jax.vmap(jax.grad(example_loss, argnums=(0, 1, 2)), in_axes=(None, None, 0, 0))

    f = lambda x, w, b: ours(op)(x, w, b, **params)  # noqa: E731
    g = lambda x, w, b: lax_forward(op, x, w, b, **params)  # noqa: E731
    expected = jax.jit(per_example(g))(w, b, x, cot)
    for got in (per_example(f)(w, b, x, cot), jax.jit(per_example(f))(w, b, x, cot)):
        for a, e in zip(got, expected):
            close(a, e)
    # grad of a vmapped loss (vmap inside grad): summed over the examples
    total = lambda f: lambda w, b: jnp.sum(jax.vmap(lambda x, c: jnp.sum(f(x, w, b) * c))(x, cot))  # noqa: E731
    for a, e in zip(jax.grad(total(f), argnums=(0, 1))(w, b), jax.jit(jax.grad(total(g), argnums=(0, 1)))(w, b)):
        close(a, e)


def test_jacrev(dtype):
    """jacrev vmaps the gradient callbacks over cotangents with the input not mapped."""
    op = "conv_transpose1d"
    params = dict(stride=2, padding=1, output_padding=1)
    rng = np.random.default_rng(4)
    x = jnp.asarray(rng.uniform(-1, 1, (1, 2, 4)), dtype)
    w = jnp.asarray(rng.uniform(-1, 1, (2, 3, 3)), dtype)
    for argnums in (0, 1, (0, 1)):
        got = jax.jacrev(lambda x, w: ours(op)(x, w, **params), argnums=argnums)(x, w)
        expected = jax.jit(jax.jacrev(lambda x, w: lax_forward(op, x, w, **params), argnums=argnums))(x, w)
        for a, e in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(expected)):
            close(a, e)


# ------------------------------------------------------------------ dtypes

def test_float64_needs_x64():
    """Without jax_enable_x64 JAX has no float64: NumPy float64 arrays become float32 (JAX's
    rule) and the result is float32; with it, float64 all the way."""
    rng = np.random.default_rng(5)
    x, w = rng.uniform(-1, 1, (2, 3, 8)), rng.uniform(-1, 1, (4, 3, 3))
    with x64(False):
        y = scj.conv1d(x, w)
        assert y.dtype == jnp.float32
        close(y, sc.conv1d(x.astype(np.float32), w.astype(np.float32)))
    with x64(True):
        y = scj.conv1d(x, w)
        assert y.dtype == jnp.float64
        np.testing.assert_array_equal(np.asarray(y), sc.conv1d(x, w))
        gx = jax.grad(lambda x: scj.conv1d(x, w).sum())(jnp.asarray(x))
        assert gx.dtype == jnp.float64


@pytest.mark.parametrize("bad", ["int32", "int8", "bool", "complex64", "uint8"])
@pytest.mark.parametrize("which", ["input", "weight", "bias"])
def test_unsupported_dtype_is_a_type_error_naming_it(bad, which):
    arrays = dict(input=jnp.ones((1, 2, 6, 6)), weight=jnp.ones((3, 2, 3, 3)), bias=jnp.ones(3))
    arrays[which] = arrays[which].astype(bad)
    with pytest.raises(TypeError, match=rf"conv2d: {which} has dtype {bad}; swiftconv takes float32, float64, float16 and bfloat16 only"):
        scj.conv2d(arrays["input"], arrays["weight"], arrays["bias"])
    with pytest.raises(TypeError, match=rf"{which} has dtype {bad}"):
        jax.jit(scj.conv2d)(arrays["input"], arrays["weight"], arrays["bias"])


def test_unsupported_numpy_dtype_is_named_as_given():
    with pytest.raises(TypeError, match="input has dtype int64"):
        scj.conv1d(np.ones((1, 2, 5), np.int64), np.ones((1, 2, 3), np.float32))
    with pytest.raises(TypeError, match="weight has dtype int16"):
        scj.conv_transpose1d(np.ones((1, 2, 5), np.float32), np.ones((2, 1, 3), np.int16))
    with pytest.raises(TypeError, match="input must be an array"):
        scj.conv1d(object(), np.ones((1, 2, 3), np.float32))


@pytest.mark.parametrize("half", ["float16", "bfloat16"])
@pytest.mark.parametrize("op", ["conv2d", "conv_transpose1d", "conv3d"])
def test_half_precision(op, half):
    """float16 / bfloat16 arrays: results and gradients (eager and under jit) in the same
    dtype, bit for bit swiftconv's NumPy functions on the same arrays, and within one rounding
    of the dtype plus float32 accumulation of lax in float32."""
    dt = jnp.dtype(half)
    params = case_params(op, "strided")
    x, w, b = (a.astype(dt) for a in make_arrays(op, params, np.dtype("float32")))
    f = lambda x, w, b: ours(op)(x, w, b, **params)  # noqa: E731
    y = f(x, w, b)
    assert y.dtype == dt
    want = getattr(sc, op)(np.asarray(x), np.asarray(w), np.asarray(b), **params)
    np.testing.assert_array_equal(np.asarray(y).view(np.int16), want.view(np.int16))
    np.testing.assert_array_equal(np.asarray(jax.jit(f)(x, w, b)).view(np.int16), want.view(np.int16))
    cot = jnp.asarray(np.random.default_rng(7).uniform(-1, 1, y.shape), dt)
    grads = jax.grad(loss(f, cot), argnums=(0, 1, 2))(x, w, b)
    exp = getattr(sc, op + "_backward")(np.asarray(cot), np.asarray(x), np.asarray(w), **params)
    for g, e in zip(grads, exp):
        assert g.dtype == dt
        np.testing.assert_array_equal(np.asarray(g).view(np.int16), e.view(np.int16))
    # lax in float32 on the same values (exactly representable), rounded once to the dtype
    g32 = lambda x, w, b: lax_forward(op, x, w, b, **params)  # noqa: E731
    x32, w32, b32, c32 = (a.astype(jnp.float32) for a in (x, w, b, cot))
    eps = float(jnp.finfo(dt).eps)
    refs = [g32(x32, w32, b32)] + list(jax.grad(loss(g32, c32), argnums=(0, 1, 2))(x32, w32, b32))
    for got, ref in zip([y] + list(grads), refs):
        ref = np.asarray(ref.astype(dt).astype(jnp.float32))
        scale = max(1.0, float(np.abs(ref).max()))
        np.testing.assert_allclose(np.asarray(got.astype(jnp.float32)), ref, rtol=eps, atol=eps * scale)


def test_mixed_dtypes_are_a_type_error():
    with pytest.raises(TypeError, match="one dtype.*input float32, weight float16"):
        scj.conv2d(jnp.ones((1, 2, 5, 5), jnp.float32), jnp.ones((3, 2, 3, 3), jnp.float16))
    with x64(True):
        with pytest.raises(TypeError, match="one dtype.*input float32, weight float64"):
            scj.conv2d(jnp.ones((1, 2, 5, 5), jnp.float32), jnp.ones((3, 2, 3, 3), jnp.float64))
        with pytest.raises(TypeError, match="bias float64"):
            scj.conv_transpose3d(jnp.ones((1, 2, 3, 3, 3), jnp.float32), jnp.ones((2, 3, 1, 1, 1), jnp.float32),
                                 jnp.ones(3, jnp.float64))


# ------------------------------------------------------------------ bad shapes and parameters

def test_shape_errors_are_the_engines_value_errors_with_the_callers_shapes():
    x, w = jnp.ones((2, 3, 9, 9)), jnp.ones((4, 2, 3, 3))
    message = r"conv2d: Given groups=1, weight of size \[4, 2, 3, 3\], expected input\[2, 3, 9, 9\] to have 2 channels"
    with pytest.raises(ValueError, match=message):
        scj.conv2d(x, w)
    with pytest.raises(ValueError, match=message):  # at trace time under jit, not in the callback
        jax.jit(scj.conv2d)(x, w)
    with pytest.raises(ValueError, match=r"expected input\[3, 9, 9\] to have 2 channels"):  # unbatched
        scj.conv2d(x[0], w)
    with pytest.raises(ValueError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got "
                                         r"input of size: \[9, 9\]"):
        scj.conv2d(x[0, 0], w)
    with pytest.raises(ValueError, match=r"expected a 4-dimensional weight"):
        scj.conv2d(x, w[0])
    with pytest.raises(ValueError, match=r"expected bias to be 1-dimensional with 4 elements"):
        scj.conv2d(jnp.ones((2, 2, 9, 9)), w, jnp.ones(3))
    with pytest.raises(ValueError, match=r"Kernel size can't be greater than actual input size"):
        scj.conv3d(jnp.ones((1, 2, 2, 9, 9)), jnp.ones((1, 2, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"Kernel size can't be greater"):  # vmapped: the per-element shape
        jax.vmap(lambda x: scj.conv1d(x, jnp.ones((1, 2, 5))))(jnp.ones((3, 1, 2, 4)))


def test_parameter_errors():
    x, w = jnp.ones((1, 4, 9, 9)), jnp.ones((4, 2, 3, 3))
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        scj.conv2d(x, w, groups=2, padding="same", stride=2)
    with pytest.raises(ValueError, match="divisible by 3"):
        scj.conv2d(x, w, groups=3)
    with pytest.raises(ValueError, match="output padding must be smaller than either stride or dilation"):
        scj.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="padding must be an int or a tuple of ints for transposed"):
        scj.conv_transpose2d(x, w, padding="same")
    with pytest.raises(ValueError, match="asymmetric padding is not supported for transposed"):
        scj.conv_transpose2d(x, w, padding=((1, 2), (0, 0)))
    with pytest.raises(ValueError, match="unknown algorithm 'fft'"):
        scj.conv2d(x, w, groups=2, algorithm="fft")
    with pytest.raises(ValueError, match="stride must be an int or a pair of ints, got 3 values"):
        scj.conv2d(x, w, groups=2, stride=(1, 1, 1))
    with pytest.raises(TypeError, match="groups must be an int"):
        scj.conv2d(x, w, groups=2.0)
    with pytest.raises(TypeError, match="stride must be an int"):
        scj.conv2d(x, w, groups=2, stride=True)
    # NumPy ints and 1-element sequences are accepted, as by swiftconv
    close(scj.conv2d(x, w, groups=np.int64(2), stride=[np.int32(2)], padding=(1,)),
          scj.conv2d(x, w, groups=2, stride=2, padding=1))


def test_traced_parameters_are_a_type_error():
    x, w = jnp.ones((1, 2, 9, 9)), jnp.ones((4, 2, 3, 3))
    with pytest.raises(TypeError, match="stride must be a static int .* traced JAX value"):
        jax.jit(lambda x, w, s: scj.conv2d(x, w, stride=s))(x, w, 2)
    with pytest.raises(TypeError, match="padding must be a static int"):
        jax.jit(lambda x, w, p: scj.conv2d(x, w, padding=(p, 1)))(x, w, 1)
    # static through jit's static_argnums: fine
    y = jax.jit(lambda x, w, s: scj.conv2d(x, w, stride=s), static_argnums=2)(x, w, 2)
    assert y.shape == (1, 4, 4, 4)


def test_higher_order_and_forward_mode_are_clear_errors():
    x, w = jnp.ones((1, 2, 6, 6)), jnp.ones((3, 2, 3, 3))
    f = lambda x, w: jnp.sum(scj.conv2d(x, w) ** 2)  # noqa: E731
    with pytest.raises(NotImplementedError, match="gradients are first order only"):
        jax.grad(lambda x: jnp.sum(jax.grad(f)(x, w) ** 2))(x)
    with pytest.raises(NotImplementedError, match="gradients are first order only"):
        jax.hessian(f, argnums=1)(x, w)
    with pytest.raises(TypeError, match="can't apply forward-mode autodiff"):  # JAX's own message
        jax.jvp(lambda x: scj.conv2d(x, w), (x,), (x,))


def test_a_failure_while_running_is_an_exception_not_a_crash(monkeypatch):
    """Everything is validated before the callback; what can still fail inside it (memory
    running out) reaches the caller as JAX's runtime error carrying swiftconv's message."""
    function = sc.conv2d

    def out_of_memory(x, *args, **kwargs):
        if np.shape(x)[0] != 0:  # the dry run (an empty batch) passes
            raise MemoryError("conv2d: could not allocate the workspace")
        return function(x, *args, **kwargs)

    monkeypatch.setattr(sc, "conv2d", out_of_memory)
    x, w = jnp.ones((1, 2, 5, 5)), jnp.ones((3, 2, 3, 3))
    for call in (lambda: scj.conv2d(x, w), lambda: jax.jit(scj.conv2d)(x, w)):
        with pytest.raises(Exception, match="could not allocate the workspace"):
            jax.block_until_ready(call())
    monkeypatch.undo()
    assert scj.conv2d(x, w).shape == (1, 3, 3, 3)


def test_non_finite_values_are_not_masked():
    x = jnp.ones((1, 1, 5)).at[0, 0, 2].set(jnp.nan)
    y = scj.conv1d(x, jnp.ones((1, 1, 3)))
    assert np.isnan(np.asarray(y)[0, 0]).tolist() == [True, True, True]


# ------------------------------------------------------------------ swiftconv's keyword extras

HAS_PADDING_MODE = scj._HAS_PADDING_MODE
HAS_OUTPUT_SIZE = scj._HAS_OUTPUT_SIZE
NUMPY_PAD_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}  # torch name -> jnp.pad's


@pytest.mark.skipif(not HAS_PADDING_MODE, reason="this swiftconv has no padding_mode")
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_padding_mode_matches_jnp_pad_then_lax(mode, rank, dtype):
    op = f"conv{rank}d"
    params = dict(stride=per_axis((2, 1, 1), rank), dilation=per_axis((1, 2, 1), rank), groups=2)
    padding = per_axis((2, 1, 3), rank)
    x, w, b = make_arrays(op, params, dtype)
    pads = [(0, 0), (0, 0)] + [(p, p) for p in padding]
    f = lambda x, w, b: ours(op)(x, w, b, padding=padding, padding_mode=mode, **params)  # noqa: E731
    g = lambda x, w, b: lax_forward(op, jnp.pad(x, pads, mode=NUMPY_PAD_MODE[mode]), w, b, **params)  # noqa: E731
    close(f(x, w, b), jax.jit(g)(x, w, b))
    cot = jnp.asarray(np.random.default_rng(6).uniform(-1, 1, f(x, w, b).shape), dtype)
    expected = jax.jit(jax.grad(loss(g, cot), argnums=(0, 1, 2)))(x, w, b)
    for a, e in zip(jax.jit(jax.grad(loss(f, cot), argnums=(0, 1, 2)))(x, w, b), expected):
        close(a, e)
    xs = jnp.stack([x, -x])
    close(jax.vmap(lambda x: f(x, w, b))(xs), jax.jit(jax.vmap(lambda x: g(x, w, b)))(xs))


@pytest.mark.skipif(not HAS_PADDING_MODE, reason="this swiftconv has no padding_mode")
def test_padding_mode_errors():
    x, w = jnp.ones((1, 2, 3, 3)), jnp.ones((4, 2, 3, 3))
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        scj.conv2d(x, w, padding=1, padding_mode="mirror")
    with pytest.raises(TypeError, match="padding_mode must be a string"):
        scj.conv2d(x, w, padding=1, padding_mode=None)
    with pytest.raises(ValueError):  # reflect: each pad < the input size (the engine's rule)
        jax.jit(lambda x: scj.conv2d(x, w, padding=3, padding_mode="reflect"))(x)
    with pytest.raises(ValueError):  # transposed: "zeros" only, as PyTorch
        scj.conv_transpose2d(x, jnp.ones((2, 4, 3, 3)), padding=1, padding_mode="reflect")


@pytest.mark.skipif(not HAS_OUTPUT_SIZE, reason="this swiftconv has no output_size")
@pytest.mark.parametrize("op", ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d"])
def test_output_size(op, dtype):
    rank = op_rank(op)
    params = dict(stride=per_axis((2, 3, 2), rank), padding=per_axis((1, 0, 1), rank), groups=2)
    x, w, b = make_arrays(op, params, dtype)
    plain = lax_forward(op, x, w, b, **params)
    output_padding = per_axis((1, 2, 0), rank)
    larger = lax_forward(op, x, w, b, output_padding=output_padding, **params)
    size = larger.shape[2:]
    f = lambda x, w, b, size: ours(op)(x, w, b, output_size=size, **params)  # noqa: E731
    close(f(x, w, b, size), larger)
    close(f(x, w, b, larger.shape), larger)  # the whole shape
    close(f(x, w, b, plain.shape[2:]), plain)
    cot = jnp.asarray(np.random.default_rng(7).uniform(-1, 1, larger.shape), dtype)
    g = lambda x, w, b: lax_forward(op, x, w, b, output_padding=output_padding, **params)  # noqa: E731
    for a, e in zip(jax.jit(jax.grad(loss(lambda x, w, b: f(x, w, b, size), cot), argnums=(0, 1, 2)))(x, w, b),
                    jax.jit(jax.grad(loss(g, cot), argnums=(0, 1, 2)))(x, w, b)):
        close(a, e)
    # vmap over unbatched examples, output_size as their whole (unbatched) shape: the engine
    # sees a batch, so only the spatial sizes may reach it
    close(jax.vmap(lambda x: f(x, w, b, larger.shape[1:]))(x), larger)
    with pytest.raises(ValueError, match=rf"for {rank + 1}D input, output_size must have {rank} or {rank + 1} elements"):
        f(x[0], w, b, larger.shape)
    with pytest.raises(ValueError, match="requested an output size of"):
        f(x, w, b, tuple(n + 5 for n in size))
    with pytest.raises(TypeError, match="output_size must be a static int"):
        jax.jit(lambda x, n: f(x, w, b, (n,) + size[1:]))(x, size[0])


# ------------------------------------------------------------------ random configurations

if given is not None:
    @st.composite
    def configuration(draw):
        """A random valid call: op, rank, every parameter form, unbatched or batched, bias or not."""
        rank = draw(st.sampled_from([1, 2, 3]))
        transposed = draw(st.booleans())
        op = f"conv_transpose{rank}d" if transposed else f"conv{rank}d"
        axes = lambda lo, hi: tuple(draw(st.integers(lo, hi)) for _ in range(rank))  # noqa: E731
        groups, cin_g, cout_g = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
        kernel, stride, dilation = axes(1, 3), axes(1, 3), axes(1, 2)
        params = dict(stride=stride, dilation=dilation, groups=groups)
        if transposed:
            padding = axes(0, 2)
            output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
            size = axes(1, 4)
            if any((n - 1) * s - 2 * p + d * (k - 1) + o + 1 < 1 for n, s, p, d, k, o in
                   zip(size, stride, padding, dilation, kernel, output_padding)):
                padding = (0,) * rank
            params.update(padding=padding, output_padding=output_padding)
            w_shape = (groups * cin_g, cout_g) + kernel
        else:
            form = draw(st.sampled_from(["int", "per_axis", "pairs", "same", "valid"]))
            padding = {"int": draw(st.integers(0, 2)), "per_axis": axes(0, 2), "same": "same", "valid": "valid",
                       "pairs": tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(rank))}[form]
            if form == "same":
                params["stride"] = 1
            params["padding"] = padding
            size = tuple(d * (k - 1) + 1 + draw(st.integers(0, 3)) for k, d in zip(kernel, dilation))
            w_shape = (groups * cout_g, cin_g) + kernel
        x_shape = (groups * cin_g,) + size
        if draw(st.booleans()):
            x_shape = (draw(st.integers(0, 2)),) + x_shape
        return op, x_shape, w_shape, draw(st.booleans()), params, draw(st.integers(0, 2**31))

    @settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(configuration())
    def test_random_configurations_are_swiftconvs_numpy_results(config):
        """Forward and vjp are exactly (bit for bit) swiftconv's NumPy functions with the same
        arguments; vmap over a stack of two inputs equals two calls."""
        op, x_shape, w_shape, has_bias, params, seed = config
        rng = np.random.default_rng(seed)
        x = rng.uniform(-1, 1, x_shape).astype(np.float32)
        w = rng.uniform(-1, 1, w_shape).astype(np.float32)
        c_out = w_shape[1] * params["groups"] if is_transposed(op) else w_shape[0]
        b = rng.uniform(-1, 1, c_out).astype(np.float32) if has_bias else None
        expected = getattr(sc, op)(x, w, b, **params)
        arrays = (x, w) if b is None else (x, w, b)
        y, vjp = jax.vjp(lambda *a: ours(op)(a[0], a[1], a[2] if has_bias else None, **params), *arrays)
        np.testing.assert_array_equal(np.asarray(y), expected)
        g = rng.uniform(-1, 1, expected.shape).astype(np.float32)
        grads = vjp(jnp.asarray(g))
        backward = getattr(sc, op + "_backward")
        (gx, _, _) = backward(g, x, w, **params, output_mask=(True, False, False))
        (_, gw, gb) = backward(g, x, w, **params, output_mask=(False, True, has_bias))
        for got, want in zip(grads, (gx, gw, gb)):
            np.testing.assert_array_equal(np.asarray(got), want)
        xs = np.stack([x, -0.5 * x])
        close(jax.vmap(lambda x: ours(op)(x, w, b, **params))(xs),
              np.stack([expected, getattr(sc, op)(xs[1], w, b, **params)]))
else:  # pragma: no cover
    def test_random_configurations_are_swiftconvs_numpy_results():
        pytest.skip("needs hypothesis")
