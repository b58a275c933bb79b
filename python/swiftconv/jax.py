"""swiftconv for JAX: differentiable convolutions computed by the Swift engine on the host.

    >>> import jax, jax.numpy as jnp, swiftconv.jax as scj
    >>> y = scj.conv2d(x, w, b, stride=2, padding=1)      # == torch.nn.functional.conv2d, NCHW
    >>> gx, gw, gb = jax.grad(lambda x, w, b: scj.conv2d(x, w, b).sum(), argnums=(0, 1, 2))(x, w, b)
    >>> ys = jax.jit(jax.vmap(lambda x: scj.conv2d(x, w)))(xs)   # vmap over a batch axis

``conv1d``, ``conv2d``, ``conv3d``, ``conv_transpose1d``, ``conv_transpose2d`` and
``conv_transpose3d`` take ``torch.nn.functional``'s arguments in its order and layouts (NCHW
input, weights (C_out, C_in/groups, *k) and, transposed, (C_in, C_out/groups, *k)) and
swiftconv's extras (asymmetric ``padding`` pairs, ``algorithm=``, ``padding_mode=`` and
``output_size=`` where this swiftconv has them). Each is a ``jax.custom_vjp``
function over ``jax.pure_callback``: the forward and the gradients (swiftconv's backward
functions) run in the engine on host NumPy arrays, so the functions work eagerly and under
``jax.jit``, ``jax.grad``/``jax.vjp`` and ``jax.vmap`` (any number of vmapped axes, over any
argument). Under ``jit`` the gradient of the input and the gradients of the parameters are
separate callbacks, so one that is not needed (e.g. the first layer's grad_input) is never
computed.

Rules (checked when the function is called or traced, never inside the callback):
- Arrays are float32, float64, float16 or bfloat16 (``jnp.bfloat16``; the half types are
  computed in float32 and rounded once into their own dtype, as swiftconv does), one dtype
  for all: anything else (integers, complex, mixed dtypes) raises ``TypeError`` naming the
  dtype. JAX computes in float32 unless
  ``jax.config.update("jax_enable_x64", True)``: without it, float64 NumPy inputs become
  float32 (JAX's own rule).
- Shapes and parameters are validated by the engine itself (an empty dry run), so the
  errors are swiftconv's: ``ValueError`` with PyTorch's wording, ``TypeError`` for types.
  Parameters must be static Python/NumPy ints (not traced values). What can still fail
  while the engine runs (memory running out) raises ``jax.errors.JaxRuntimeError`` carrying
  swiftconv's message.
- vmap: the vmapped axes are folded into the batch axis N (one engine call) when the weights
  are not vmapped; otherwise (vmapped weights, per-example weight gradients) the engine is
  called once per vmapped element.
- Gradients are first order, reverse mode (``jax.grad``, ``jax.vjp``, ``jax.jacrev``);
  forward mode (``jax.jvp``, ``jax.jacfwd``) and gradients of gradients raise.

Not imported by ``import swiftconv``; needs ``pip install 'swiftconv[jax]'`` (or ``jax``;
JAX >= 0.4.35 for ``pure_callback``'s ``vmap_method``). Arrays on an accelerator are copied to
the host for the engine and back.
"""
from __future__ import annotations

if __name__ != "swiftconv.jax":  # e.g. python/swiftconv itself put on sys.path: `import jax` below would be this file
    raise ImportError(f"swiftconv/jax.py was imported as the top-level module {__name__!r}: the folder "
                      "python/swiftconv is on sys.path; put its parent folder there instead and "
                      "import swiftconv.jax")

import functools
import inspect
import math
from typing import Any, Callable, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

try:
    import jax  # the real JAX (absolute import)
    import jax.numpy as jnp
except ImportError as _error:  # pragma: no cover - depends on the environment
    raise ImportError("swiftconv.jax needs JAX: pip install 'swiftconv[jax]' (or pip install 'jax[cpu]')") from _error

if "vmap_method" not in inspect.signature(jax.pure_callback).parameters:  # pragma: no cover
    raise ImportError(f"swiftconv.jax needs JAX >= 0.4.35 (jax.pure_callback's vmap_method), found jax "
                      f"{jax.__version__}: pip install -U 'jax[cpu]'")

import swiftconv as _sc

__all__ = [
    "conv1d", "conv2d", "conv3d",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
]

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.float16), np.dtype(jnp.bfloat16))
_DTYPE_RULE = "swiftconv takes float32, float64, float16 and bfloat16 only"
# swiftconv's keyword extras this build of it has (padding_mode: conv ops; output_size: transposed)
_HAS_PADDING_MODE = "padding_mode" in inspect.signature(_sc.conv1d).parameters
_HAS_OUTPUT_SIZE = "output_size" in inspect.signature(_sc.conv_transpose1d).parameters
_IntOrTuple = Union[int, Sequence[int]]
_Padding = Union[int, str, Sequence[int], Sequence[Sequence[int]]]


# ------------------------------------------------------------------ static parameters

class _Spec(NamedTuple):
    """One op with its parameters, normalised and hashable (the key of every cache here)."""
    op: str
    rank: int
    transposed: bool
    stride: Tuple[int, ...]
    padding: Any  # "same", "valid", one int per axis, or one (before, after) pair per axis
    dilation: Tuple[int, ...]
    output_padding: Tuple[int, ...]
    groups: int
    algorithm: str
    padding_mode: str = "zeros"
    output_size: Optional[Tuple[int, ...]] = None  # spatial sizes only (see _output_size)

    def kwargs(self) -> dict:
        """The keyword arguments of swiftconv's functions (and their backward) for this spec."""
        kw: dict = dict(stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups)
        if self.transposed:
            kw["output_padding"] = self.output_padding
        if self.padding_mode != "zeros":
            kw["padding_mode"] = self.padding_mode
        if self.output_size is not None:
            kw["output_size"] = self.output_size
        return kw


def _reject_traced(value: Any, op: str, name: str) -> None:
    if isinstance(value, jax.core.Tracer):
        raise TypeError(f"swiftconv.jax.{op}: {name} must be a static int (or a tuple of ints), got a traced JAX "
                        f"value: close over it or mark it static (jax.jit(..., static_argnums=...))")
    if isinstance(value, (list, tuple)):
        for v in value:
            _reject_traced(v, op, name)


def _spec(op: str, stride: Any, padding: Any, dilation: Any, output_padding: Any, groups: Any,
          algorithm: Any, padding_mode: Any, output_size: Any, x_ndim: int) -> _Spec:
    """The call's parameters through swiftconv's own argument rules (the same errors)."""
    for name, value in (("stride", stride), ("padding", padding), ("dilation", dilation),
                        ("output_padding", output_padding), ("groups", groups), ("output_size", output_size)):
        _reject_traced(value, op, name)
    code, rank = _sc.OPS[op]
    transposed = op.startswith("conv_transpose")
    mode, flat = _sc._padding(padding, rank, op)
    if mode == _sc._PAD_SAME:
        pad: Any = "same"
    elif mode == _sc._PAD_VALID:
        pad = "valid"
    else:
        pairs = tuple(zip(flat[0::2], flat[1::2]))
        pad = tuple(b for b, _ in pairs) if all(b == a for b, a in pairs) else pairs
    if padding_mode != "zeros":
        if not _HAS_PADDING_MODE:
            raise TypeError(f"swiftconv.jax.{op}: padding_mode needs a newer swiftconv (this one has none)")
        _sc._padding_mode(padding_mode, op)  # a string of the engine's list, else its errors
    return _Spec(op, rank, transposed, _sc._ints(stride, rank, op, "stride"), pad,
                 _sc._ints(dilation, rank, op, "dilation"),
                 _sc._ints(output_padding, rank, op, "output_padding") if transposed else (0,) * rank,
                 _sc._int(groups, op, "groups"), _sc._algorithm(algorithm, op), padding_mode,
                 _output_size(output_size, op, rank, x_ndim))


def _output_size(value: Any, op: str, rank: int, x_ndim: int) -> Optional[Tuple[int, ...]]:
    """output_size as its spatial sizes. swiftconv (as PyTorch) also takes the whole output
    shape, whose length depends on whether the input is batched; under vmap the engine sees
    another batch than the caller, so the engine only ever gets the spatial sizes."""
    if value is None:
        return None
    if not _HAS_OUTPUT_SIZE:
        raise TypeError(f"swiftconv.jax.{op}: output_size needs a newer swiftconv (this one has none)")
    sizes = _sc._output_size(value, op)
    if x_ndim in (rank + 1, rank + 2) and len(sizes) != rank:
        if len(sizes) != x_ndim:  # the engine's rule and words, for the caller's input
            raise ValueError(f"{op}: for {x_ndim}D input, output_size must have {rank} or {x_ndim} elements "
                             f"(got {len(sizes)}: output_size={list(sizes)})")
        sizes = sizes[-rank:]
    return sizes


# ------------------------------------------------------------------ arrays

def _array(a: Any, op: str, name: str) -> Any:
    """A JAX array (or tracer) of a dtype swiftconv takes; TypeError naming the dtype otherwise."""
    if not isinstance(a, (jax.Array, jax.core.Tracer)):
        original = getattr(a, "dtype", None)
        if original is not None:  # e.g. a NumPy array: judge the dtype the caller has, not JAX's cast of it
            _check_dtype(original, op, name)
        try:
            a = jnp.asarray(a)
        except (TypeError, ValueError) as error:
            raise TypeError(f"swiftconv.jax.{op}: {name} must be an array, got {type(a).__name__} ({error})") from None
    _check_dtype(a.dtype, op, name)
    return a


def _check_dtype(dtype: Any, op: str, name: str) -> None:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"swiftconv.jax.{op}: {name} has dtype {dtype}; {_DTYPE_RULE}") from None
    if dt.newbyteorder("=") not in _FLOAT_DTYPES:
        raise TypeError(f"swiftconv.jax.{op}: {name} has dtype {dt}; {_DTYPE_RULE} "
                        f"(convert explicitly, e.g. {name}.astype(jnp.float32); float64 needs "
                        f"jax.config.update('jax_enable_x64', True))")


def _shape_text(shape: Tuple[int, ...]) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


@functools.lru_cache(maxsize=4096)
def _output_shape(spec: _Spec, x_shape: Tuple[int, ...], w_shape: Tuple[int, ...],
                  b_shape: Optional[Tuple[int, ...]], dtype: str) -> Tuple[int, ...]:
    """The output's shape, from a dry run of the engine on an empty batch: every shape and
    parameter rule is the engine's (its exceptions, its messages), and nothing is computed."""
    zero = np.zeros((), dtype)
    batched = len(x_shape) == spec.rank + 2
    if batched or len(x_shape) == spec.rank + 1:
        dry_x_shape = (0,) + (x_shape[1:] if batched else x_shape)
        dry_x = np.empty(dry_x_shape, dtype)
    else:  # the wrong number of axes: the engine says so (a zero-stride view: no memory)
        dry_x_shape = x_shape
        dry_x = np.broadcast_to(zero, x_shape)
    w = np.broadcast_to(zero, w_shape)
    b = None if b_shape is None else np.broadcast_to(zero, b_shape)
    try:
        out = getattr(_sc, spec.op)(dry_x, w, b, **spec.kwargs(), algorithm=spec.algorithm)
    except (ValueError, TypeError) as error:
        message = str(error)
        if dry_x_shape != x_shape:  # name the caller's input, not the dry run's
            message = message.replace(_shape_text(dry_x_shape), _shape_text(x_shape))
        raise type(error)(message) from None
    return (x_shape[0],) + out.shape[1:] if batched else out.shape[1:]


# ------------------------------------------------------------------ host side (NumPy)

def _fold_or_loop(fn: Callable[..., Tuple[np.ndarray, ...]], cores: Tuple[int, ...],
                  batch_like: Tuple[bool, ...], outputs: Tuple[Tuple[Tuple[int, ...], Any], ...],
                  foldable: bool, has_n: bool, args: Sequence[Any]) -> Tuple[np.ndarray, ...]:
    """Run `fn` (arrays of their unvmapped shapes -> tuple of arrays) on a callback's
    arguments, which carry one leading axis per enclosing jax.vmap (vmap_method="expand_dims":
    size 1 where an argument is not vmapped).

    cores: each argument's unvmapped ndim. batch_like: the arguments holding the batch
    (input, grad_output); the others are weights. outputs: each output's unvmapped shape and
    dtype. foldable: every output is batch-like too (the forward output, grad_input): when no
    weight is vmapped, the vmapped axes fold into N and the engine runs once. Otherwise it runs
    once per vmapped element. has_n: the unvmapped batch-like arrays have an N axis (else they
    are unbatched, (C, *spatial), and the vmapped axes become N)."""
    arrays = [np.asarray(a) for a in args]
    leads = [a.shape[:a.ndim - c] for a, c in zip(arrays, cores)]
    lead = np.broadcast_shapes(*leads)
    if not lead:
        return fn(*arrays)
    count = math.prod(lead)
    if foldable and all(math.prod(l) == 1 for l, bl in zip(leads, batch_like) if not bl):
        folded = []
        for a, c, bl in zip(arrays, cores, batch_like):
            core = a.shape[a.ndim - c:]
            if not bl:
                folded.append(a.reshape(core))
            else:  # (lead..., N, C, ...) -> (lead*N, C, ...); unbatched (lead..., C, ...) -> (lead, C, ...)
                full = np.broadcast_to(a, lead + core)
                folded.append(full.reshape(((count * core[0],) + core[1:]) if has_n else ((count,) + core)))
        results = fn(*folded)
        return tuple(r.reshape(lead + shape) for r, (shape, _) in zip(results, outputs))
    results = tuple(np.empty(lead + shape, dtype) for shape, dtype in outputs)
    for index in np.ndindex(*lead):
        parts = [a[tuple(0 if n == 1 else i for i, n in zip(index[len(index) - len(l):], l))]
                 for a, l in zip(arrays, leads)]
        for out, value in zip(results, fn(*parts)):
            out[index] = value
    return results


def _host_forward(spec: _Spec, x_ndim: int, out_shape: Tuple[int, ...], dtype: Any, *args: Any) -> np.ndarray:
    batched = x_ndim == spec.rank + 2
    function = getattr(_sc, spec.op)
    kwargs = spec.kwargs()

    def run(x: np.ndarray, w: np.ndarray, b: Optional[np.ndarray] = None) -> Tuple[np.ndarray, ...]:
        return (function(x, w, b, **kwargs, algorithm=spec.algorithm),)

    cores = (x_ndim, spec.rank + 2, 1)[:len(args)]
    return _fold_or_loop(run, cores, (True, False, False)[:len(args)], ((out_shape, dtype),), True,
                         batched, args)[0]


def _host_backward(spec: _Spec, mask: Tuple[bool, bool, bool], x_ndim: int,
                   outputs: Tuple[Tuple[Tuple[int, ...], Any], ...], g: Any, x: Any, w: Any) -> Tuple[np.ndarray, ...]:
    batched = x_ndim == spec.rank + 2
    function = getattr(_sc, spec.op + "_backward")
    kwargs = spec.kwargs()

    def run(g: np.ndarray, x: np.ndarray, w: np.ndarray) -> Tuple[np.ndarray, ...]:
        grads = function(g, x, w, **kwargs, output_mask=mask)
        return tuple(grad for grad, wanted in zip(grads, mask) if wanted)

    return _fold_or_loop(run, (x_ndim, x_ndim, spec.rank + 2), (True, True, False), outputs,
                         mask == (True, False, False), batched, (g, x, w))


# ------------------------------------------------------------------ JAX side

def _first_order_only(op: str, call: Callable[..., Any]) -> Callable[..., Any]:
    """`call` (a function of arrays around an engine callback) with a clear error instead of
    JAX's "Pure callbacks do not support JVP" when something differentiates it: gradients of
    gradients differentiate the forward and the gradient callbacks."""
    wrapped = jax.custom_jvp(call)

    def jvp(primals: Any, tangents: Any) -> Any:
        raise NotImplementedError(f"swiftconv.jax.{op}: gradients are first order only (the gradient "
                                  f"functions are engine callbacks, not differentiable themselves)")

    wrapped.defjvp(jvp)
    return wrapped


def _callback(host: Callable[..., Any], result: Any, *args: Any) -> Any:
    # expand_dims: an argument a vmap does not map over gets a size-1 axis, not a copy per
    # element, so _fold_or_loop sees which arguments are mapped.
    return jax.pure_callback(host, result, *args, vmap_method="expand_dims")


@functools.lru_cache(maxsize=1024)
def _function(spec: _Spec, has_bias: bool) -> Callable[..., Any]:
    """The differentiable function of (x, w[, b]) for one op and parameter set."""
    op = spec.op

    def forward_callback(x: Any, w: Any, *b: Any) -> Any:
        shape = _output_shape(spec, tuple(x.shape), tuple(w.shape), tuple(b[0].shape) if b else None,
                              np.dtype(x.dtype).name)
        host = functools.partial(_host_forward, spec, x.ndim, shape, np.dtype(x.dtype))
        return _callback(host, jax.ShapeDtypeStruct(shape, x.dtype), x, w, *b)

    forward_fn = _first_order_only(op, forward_callback)

    def forward(x: Any, w: Any, b: Any) -> Any:
        return forward_fn(x, w) if b is None else forward_fn(x, w, b)

    def grad_input(g: Any, x: Any, w: Any) -> Any:
        outputs = ((tuple(x.shape), np.dtype(x.dtype)),)
        host = functools.partial(_host_backward, spec, (True, False, False), x.ndim, outputs)
        return _callback(host, (jax.ShapeDtypeStruct(x.shape, x.dtype),), g, x, w)[0]

    def grad_parameters(g: Any, x: Any, w: Any) -> Any:
        c_out = g.shape[1] if x.ndim == spec.rank + 2 else g.shape[0]
        shapes = (tuple(w.shape), (c_out,)) if has_bias else (tuple(w.shape),)
        outputs = tuple((s, np.dtype(x.dtype)) for s in shapes)
        host = functools.partial(_host_backward, spec, (False, True, has_bias), x.ndim, outputs)
        return _callback(host, tuple(jax.ShapeDtypeStruct(s, x.dtype) for s in shapes), g, x, w)

    # Two callbacks, so that under jit a gradient nobody uses is never computed (pure
    # callbacks are dead-code eliminated); grad_weight and grad_bias come together.
    grad_input_fn = _first_order_only(op, grad_input)
    grad_parameters_fn = _first_order_only(op, grad_parameters)

    def backward(residuals: Any, g: Any) -> Tuple[Any, ...]:
        x, w = residuals
        return (grad_input_fn(g, x, w),) + tuple(grad_parameters_fn(g, x, w))

    if has_bias:
        @jax.custom_vjp
        def f(x: Any, w: Any, b: Any) -> Any:
            return forward(x, w, b)

        f.defvjp(lambda x, w, b: (forward(x, w, b), (x, w)), backward)
    else:
        @jax.custom_vjp
        def f(x: Any, w: Any) -> Any:  # type: ignore[misc]
            return forward(x, w, None)

        f.defvjp(lambda x, w: (forward(x, w, None), (x, w)), backward)
    return f


def _apply(op: str, input: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any,
           output_padding: Any, groups: Any, algorithm: Any, padding_mode: Any = "zeros",
           output_size: Any = None) -> Any:
    x = _array(input, op, "input")
    w = _array(weight, op, "weight")
    arrays = [("input", x), ("weight", w)]
    b = None
    if bias is not None:
        b = _array(bias, op, "bias")
        arrays.append(("bias", b))
    if len({np.dtype(a.dtype) for _, a in arrays}) > 1:
        raise TypeError(f"swiftconv.jax.{op}: every array must have one dtype, got "
                        + ", ".join(f"{name} {np.dtype(a.dtype)}" for name, a in arrays))
    spec = _spec(op, stride, padding, dilation, output_padding, groups, algorithm, padding_mode, output_size,
                 x.ndim)
    # Validate now (at call or trace time) with the caller's shapes: the engine's errors.
    _output_shape(spec, tuple(x.shape), tuple(w.shape), None if b is None else tuple(b.shape),
                  np.dtype(x.dtype).name)
    f = _function(spec, b is not None)
    return f(x, w) if b is None else f(x, w, b)


# ------------------------------------------------------------------ the functions

def conv1d(input: Any, weight: Any, bias: Any = None, stride: _IntOrTuple = 1, padding: _Padding = 0,
           dilation: _IntOrTuple = 1, groups: int = 1, *, algorithm: str = "auto",
           padding_mode: str = "zeros") -> Any:
    return _apply("conv1d", input, weight, bias, stride, padding, dilation, 0, groups, algorithm, padding_mode)


def conv2d(input: Any, weight: Any, bias: Any = None, stride: _IntOrTuple = 1, padding: _Padding = 0,
           dilation: _IntOrTuple = 1, groups: int = 1, *, algorithm: str = "auto",
           padding_mode: str = "zeros") -> Any:
    return _apply("conv2d", input, weight, bias, stride, padding, dilation, 0, groups, algorithm, padding_mode)


def conv3d(input: Any, weight: Any, bias: Any = None, stride: _IntOrTuple = 1, padding: _Padding = 0,
           dilation: _IntOrTuple = 1, groups: int = 1, *, algorithm: str = "auto",
           padding_mode: str = "zeros") -> Any:
    return _apply("conv3d", input, weight, bias, stride, padding, dilation, 0, groups, algorithm, padding_mode)


def conv_transpose1d(input: Any, weight: Any, bias: Any = None, stride: _IntOrTuple = 1,
                     padding: _IntOrTuple = 0, output_padding: _IntOrTuple = 0, groups: int = 1,
                     dilation: _IntOrTuple = 1, *, algorithm: str = "auto", output_size: Optional[Sequence[int]] = None,
                     padding_mode: str = "zeros") -> Any:
    return _apply("conv_transpose1d", input, weight, bias, stride, padding, dilation, output_padding, groups,
                  algorithm, padding_mode, output_size)


def conv_transpose2d(input: Any, weight: Any, bias: Any = None, stride: _IntOrTuple = 1,
                     padding: _IntOrTuple = 0, output_padding: _IntOrTuple = 0, groups: int = 1,
                     dilation: _IntOrTuple = 1, *, algorithm: str = "auto", output_size: Optional[Sequence[int]] = None,
                     padding_mode: str = "zeros") -> Any:
    return _apply("conv_transpose2d", input, weight, bias, stride, padding, dilation, output_padding, groups,
                  algorithm, padding_mode, output_size)


def conv_transpose3d(input: Any, weight: Any, bias: Any = None, stride: _IntOrTuple = 1,
                     padding: _IntOrTuple = 0, output_padding: _IntOrTuple = 0, groups: int = 1,
                     dilation: _IntOrTuple = 1, *, algorithm: str = "auto", output_size: Optional[Sequence[int]] = None,
                     padding_mode: str = "zeros") -> Any:
    return _apply("conv_transpose3d", input, weight, bias, stride, padding, dilation, output_padding, groups,
                  algorithm, padding_mode, output_size)


_CONV_DOC = """{r}-D convolution as ``torch.nn.functional.conv{r}d``, a differentiable JAX function.

    input: (N, C_in, {sp}) or unbatched (C_in, {sp}); weight: (C_out, C_in/groups, {k});
    bias: (C_out,) or None. float32, float64, float16 or bfloat16 JAX arrays (or anything
    jnp.asarray takes), one dtype. stride, dilation: int or one per spatial axis; padding: int, one per axis, one
    (before, after) pair per axis, "same" or "valid"; groups: int. These and algorithm
    ("auto", "direct", "im2col", "taps", "depthwise", "dot", "blocked", "reference": as ``swiftconv.conv{r}d``)
    and padding_mode ("zeros", "reflect",
    "replicate", "circular", as ``torch.nn.Conv{r}d``) are static. Works under jax.jit,
    jax.grad (input, weight and bias) and jax.vmap.
    """

_CONV_TRANSPOSE_DOC = """Transposed {r}-D convolution as ``torch.nn.functional.conv_transpose{r}d``, a
    differentiable JAX function. Note PyTorch's argument order: groups before dilation.

    input: (N, C_in, {sp}) or unbatched (C_in, {sp}); weight: (C_in, C_out/groups, {k});
    bias: (C_out,) or None. padding: int or one per axis; output_padding (each < stride or
    < dilation) adds elements at the end of each axis; output_size (the output's spatial
    sizes, or its whole shape) fixes it instead, as ``ConvTranspose{r}d.forward(input,
    output_size)``. algorithm: "auto", "scatter", "upsample", "phase", "depthwise" or "reference"; padding_mode:
    "zeros" only. All static. Works under jax.jit, jax.grad and jax.vmap.
    """

for _r in (1, 2, 3):
    globals()[f"conv{_r}d"].__doc__ = _sc._doc(_CONV_DOC, _r)
    globals()[f"conv_transpose{_r}d"].__doc__ = _sc._doc(_CONV_TRANSPOSE_DOC, _r)
del _r
