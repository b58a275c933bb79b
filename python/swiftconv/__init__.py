"""swiftconv: PyTorch-exact 1-D, 2-D and 3-D convolutions on NumPy arrays, computed by a Swift engine.

    >>> import numpy as np, swiftconv as sc
    >>> x = np.random.rand(1, 2, 10, 10).astype(np.float32)
    >>> w = np.random.rand(4, 2, 3, 3).astype(np.float32)
    >>> sc.conv2d(x, w, stride=2, padding=1, dilation=2).shape
    (1, 4, 4, 4)

Semantics follow ``torch.nn.functional`` (see the contract in docs/CONTRACT.md); this layer only
normalises arguments. Every shape and parameter rule is checked by the engine, which raises
``ValueError`` (shapes, parameters), ``TypeError`` (dtypes, types) or ``MemoryError``.
"""
from __future__ import annotations

import operator
import os
import warnings
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np

from . import _native

__all__ = [
    "conv1d", "conv2d", "conv3d",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "conv1d_backward", "conv2d_backward", "conv3d_backward",
    "conv_transpose1d_backward", "conv_transpose2d_backward", "conv_transpose3d_backward",
    "prepare",
    "PreparedConv",
    "explain",
    "algorithms",
    "set_num_threads",
    "get_num_threads",
    "release_memory",
    "dtype",
    "DTYPES",
    "__version__",
]

__version__: str = _native.engine_version

IntOrTuple = Union[int, Sequence[int]]
IntPair = IntOrTuple  # (kept for compatibility)
Padding = Union[int, str, Sequence[int], Sequence[Sequence[int]]]
Padding2d = Padding
ArrayLike = Any  # anything numpy.asarray accepts
Gradients = Tuple[Optional[np.ndarray], Optional[np.ndarray], Optional[np.ndarray]]

# The engine's ops (the rank is separate): sc_op in swiftconv.h.
_CONV, _CONV_TRANSPOSE, _CONV_BACKWARD, _CONV_TRANSPOSE_BACKWARD = 0, 1, 2, 3
_PAD_EXPLICIT, _PAD_SAME, _PAD_VALID = 0, 1, 2  # sc_padding_form
#: The padding modes, in the order of their engine codes (sc_padding_mode in swiftconv.h).
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
_PADDING_MODE_CODES = {name: code for code, name in enumerate(PADDING_MODES)}
_INT64 = (-(2**63), 2**63 - 1)

#: Every op name, mapped to (engine op, spatial rank).
OPS = {
    **{f"conv{r}d": (_CONV, r) for r in (1, 2, 3)},
    **{f"conv_transpose{r}d": (_CONV_TRANSPOSE, r) for r in (1, 2, 3)},
    **{f"conv{r}d_backward": (_CONV_BACKWARD, r) for r in (1, 2, 3)},
    **{f"conv_transpose{r}d_backward": (_CONV_TRANSPOSE_BACKWARD, r) for r in (1, 2, 3)},
}


#: The dtypes the engine takes, by NumPy's names. float16 and bfloat16 (``ml_dtypes.bfloat16``,
#: optional: swiftconv never imports ml_dtypes) compute in float32 and return their own dtype.
DTYPES = ("float32", "float64", "float16", "bfloat16")
#: What the engine says about any other dtype (the C shim's TypeError says the same).
_DTYPE_RULE = "swiftconv computes in float32 or float64 (and takes float16 and bfloat16 arrays, computed in float32) only"
_BFLOAT16_MISSING = ("bfloat16 arrays need the ml_dtypes package, which is not installed: pip install ml_dtypes "
                     "(then numpy.dtype(ml_dtypes.bfloat16), or swiftconv.dtype(\"bfloat16\"))")


def _is_engine_dtype(dt: np.dtype) -> bool:
    """float32, float64, float16 (any byte order), or a bfloat16 dtype: 2 bytes, a scalar type
    named "bfloat16" (ml_dtypes'; recognised by name, so ml_dtypes need not be imported)."""
    if dt.type in (np.float32, np.float64, np.float16):
        return True
    return dt.names is None and dt.itemsize == 2 and dt.type.__name__ == "bfloat16"


def dtype(name: Any) -> np.dtype:
    """The NumPy dtype of one of ``DTYPES`` ("float32", "float64", "float16", "bfloat16"), or
    of a dtype-like (``numpy.float16``, ``ml_dtypes.bfloat16``, ...), checked: a dtype the
    engine does not take raises ``TypeError``. "bfloat16" needs the ml_dtypes package (imported
    here, on demand); without it, a ``TypeError`` saying ``pip install ml_dtypes``.

        >>> x16 = x.astype(swiftconv.dtype("bfloat16"))
    """
    if isinstance(name, str) and name.strip().lower() == "bfloat16":
        try:
            import ml_dtypes  # optional; only imported when asked for
        except ImportError:
            raise TypeError(f"dtype: {_BFLOAT16_MISSING}") from None
        return np.dtype(ml_dtypes.bfloat16)
    try:
        dt = np.dtype(name)
    except TypeError as e:
        raise TypeError(f"dtype: {name!r} is not a NumPy dtype ({e}); expected one of {', '.join(DTYPES)}") from None
    if not _is_engine_dtype(dt):
        raise TypeError(f"dtype: {dt} is not one of {', '.join(DTYPES)}; {_DTYPE_RULE}")
    return dt.newbyteorder("=") if dt.type in (np.float32, np.float64, np.float16) else dt


def _int(value: Any, op: str, name: str, kind: str = "an int") -> int:
    """A Python int from an int-like (int, NumPy integer, 0-d integer array); TypeError
    naming the argument otherwise; ValueError beyond int64."""
    if type(value) is int and _INT64[0] <= value <= _INT64[1]:  # the common case, fast
        return value
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, np.ndarray) and value.dtype.kind == "b"):
        raise TypeError(f"{op}: {name} must be {kind}, got a bool ({value!r})")
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"{op}: {name} must be {kind}, got {type(value).__name__} ({value!r})") from None
    if not _INT64[0] <= v <= _INT64[1]:
        raise ValueError(f"{op}: {name} value {v} does not fit in a 64-bit integer")
    return v


def _is_sequence(value: Any) -> bool:
    """A list/tuple-like or a non-0-d array (strings and bytes are not sequences here)."""
    if type(value) is tuple or type(value) is list:  # the common cases, before the slow ABC check
        return True
    if isinstance(value, np.ndarray):
        return value.ndim > 0
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))


def _plain_ints(value: Any, rank: int) -> Optional[Tuple[int, ...]]:
    """`value` as a tuple when it is a tuple or list of `rank` plain 64-bit ints (the common
    case, checked fast), else None (the full parsing decides)."""
    if (type(value) is tuple or type(value) is list) and len(value) == rank \
            and all(type(v) is int for v in value) and _INT64[0] <= min(value) and max(value) <= _INT64[1]:
        return tuple(value)
    return None


def _kind(rank: int) -> str:
    return {1: "an int or a 1-tuple of ints", 2: "an int or a pair of ints"}.get(rank, f"an int or a tuple of {rank} ints")


def _ints(value: Any, rank: int, op: str, name: str) -> Tuple[int, ...]:
    """One int per spatial axis from an int or a sequence of 1 or `rank` ints (a 1-element
    sequence broadcasts, as PyTorch)."""
    if type(value) is int and _INT64[0] <= value <= _INT64[1]:  # the common case, fast
        return (value,) * rank
    plain = _plain_ints(value, rank)
    if plain is not None:
        return plain
    kind = _kind(rank)
    if _is_sequence(value):
        items = list(value)
        if len(items) == 1:
            items = items * rank
        if len(items) != rank:
            raise ValueError(f"{op}: {name} must be {kind}, got {len(items)} values ({value!r})")
        if any(_is_sequence(v) for v in items):
            raise TypeError(f"{op}: {name} must be {kind}, got {value!r}")
        return tuple(_int(v, op, name, kind) for v in items)
    return (_int(value, op, name, kind),) * rank


def _padding(value: Any, rank: int, op: str) -> Tuple[int, Tuple[int, ...]]:
    """(mode, (before, after) per axis, flattened) from every padding form the contract
    allows. Which form an op accepts (strings and asymmetric pairs are the conv ops') is
    the engine's rule."""
    if type(value) is int and _INT64[0] <= value <= _INT64[1]:  # the common case, fast
        return _PAD_EXPLICIT, (value,) * (2 * rank)
    plain = _plain_ints(value, rank)
    if plain is not None:
        return _PAD_EXPLICIT, tuple(p for v in plain for p in (v, v))
    if isinstance(value, str):
        if value == "same":
            return _PAD_SAME, (0,) * (2 * rank)
        if value == "valid":
            return _PAD_VALID, (0,) * (2 * rank)
        raise ValueError(f"{op}: Invalid padding string: {value!r}, should be one of 'same', 'valid'")
    if _is_sequence(value):
        items = list(value)
        nested = [_is_sequence(v) for v in items]
        if len(items) == rank and all(nested):
            flat: Tuple[int, ...] = ()
            for v in items:
                before_after = list(v)
                if len(before_after) != 2 or any(_is_sequence(e) for e in before_after):
                    raise TypeError(f"{op}: padding must be an int, {rank} int(s), one (before, after) pair per "
                                    f"spatial dimension, 'same' or 'valid', got {value!r}")
                flat += tuple(_int(e, op, "padding") for e in before_after)
            return _PAD_EXPLICIT, flat
        if items and all(nested):
            raise ValueError(f"{op}: padding must have {rank} (before, after) pair{'s' if rank > 1 else ''}, "
                             f"one per spatial dimension, got {len(items)} ({value!r})")
        if any(nested):
            raise TypeError(f"{op}: padding must be an int, {rank} int(s), one (before, after) pair per "
                            f"spatial dimension, 'same' or 'valid', got {value!r}")
    per_axis = _ints(value, rank, op, "padding")
    return _PAD_EXPLICIT, tuple(p for v in per_axis for p in (v, v))


def _padding_mode(value: Any, op: str) -> int:
    """The engine's code for a padding_mode name (PyTorch's names); which op accepts which
    mode, and for which sizes, is the engine's rule."""
    code = _PADDING_MODE_CODES.get(value) if isinstance(value, str) else None
    if code is not None:
        return code
    if not isinstance(value, str):
        raise TypeError(f"{op}: padding_mode must be a string, got {type(value).__name__} ({value!r})")
    valid = ", ".join(repr(m) for m in PADDING_MODES)
    raise ValueError(f"{op}: padding_mode must be one of {valid}, but got padding_mode={value!r}")


def _output_size(value: Any, op: str) -> Optional[Tuple[int, ...]]:
    """None, or the requested output size as a tuple of ints, as given (its length and range
    are the engine's rules: the last `rank` entries are the spatial sizes)."""
    if value is None:
        return None
    if not _is_sequence(value):
        raise TypeError(f"{op}: output_size must be a sequence of ints (the output's spatial sizes, or its "
                        f"whole shape), got {type(value).__name__} ({value!r})")
    items = list(value)
    if any(_is_sequence(v) for v in items):
        raise TypeError(f"{op}: output_size must be a sequence of ints, got {value!r}")
    return tuple(_int(v, op, "output_size", "a sequence of ints") for v in items)


def _algorithm(value: Any, op: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{op}: algorithm must be a string, got {type(value).__name__} ({value!r})")
    if not value.isascii() or "\0" in value:
        # Never a valid name; escape it so that it crosses the C boundary and the engine's
        # message (which lists the valid names) shows it.
        value = ascii(value)[1:-1]
    return value


def _mask(value: Any, op: str) -> int:
    if isinstance(value, (str, bytes)) or not (_is_sequence(value) or hasattr(value, "__iter__")):
        raise TypeError(f"{op}: output_mask must be a sequence of 3 bools "
                        f"(grad_input, grad_weight, grad_bias), got {value!r}")
    items = list(value)
    if len(items) != 3:
        raise ValueError(f"{op}: output_mask must have 3 entries (grad_input, grad_weight, grad_bias), "
                         f"got {len(items)} ({value!r})")
    return sum(1 << i for i, v in enumerate(items) if bool(v))


def _call_args(op: str, input: ArrayLike, weight: ArrayLike, bias: Optional[ArrayLike],
               grad_output: Optional[ArrayLike], stride: IntOrTuple, padding: Padding,
               dilation: IntOrTuple, output_padding: IntOrTuple, groups: int, algorithm: str,
               output_mask: int, *, padding_mode: str = "zeros",
               output_size: Optional[Sequence[int]] = None) -> tuple:
    """The engine's positional arguments for one call of `op` (see _native.run)."""
    code, rank = OPS[op]
    if type(stride) is int and type(padding) is int and type(dilation) is int and type(output_padding) is int \
            and type(groups) is int and type(algorithm) is str and algorithm == "auto" \
            and type(padding_mode) is str and padding_mode == "zeros" and output_size is None \
            and _INT64[0] <= min(stride, padding, dilation, output_padding, groups) \
            and max(stride, padding, dilation, output_padding, groups) <= _INT64[1]:
        # The common call, fast (what the general path below returns for it; measured: the
        # general path is about 1.3 us, a third of a small call's fixed cost).
        return (code, rank, input, weight, bias, grad_output, (stride,) * rank, (padding,) * (2 * rank), _PAD_EXPLICIT,
                (dilation,) * rank, (output_padding,) * rank, groups, algorithm, output_mask, 0, None)
    form, pads = _padding(padding, rank, op)
    return (code, rank, input, weight, bias, grad_output, _ints(stride, rank, op, "stride"), pads, form,
            _ints(dilation, rank, op, "dilation"), _ints(output_padding, rank, op, "output_padding"),
            _int(groups, op, "groups"), _algorithm(algorithm, op), output_mask,
            _padding_mode(padding_mode, op), _output_size(output_size, op))


def _run(op: str, input: ArrayLike, weight: ArrayLike, bias: Optional[ArrayLike],
         grad_output: Optional[ArrayLike], stride: IntOrTuple, padding: Padding, dilation: IntOrTuple,
         output_padding: IntOrTuple, groups: int, algorithm: str, output_mask: int,
         explain: bool = False, *, padding_mode: str = "zeros",
         output_size: Optional[Sequence[int]] = None) -> Any:
    return _native.run(*_call_args(op, input, weight, bias, grad_output, stride, padding, dilation,
                                   output_padding, groups, algorithm, output_mask,
                                   padding_mode=padding_mode, output_size=output_size), explain)


# ------------------------------------------------------------------ forward convolutions

_CONV_DOC = """{r}-D convolution, as ``torch.nn.functional.conv{r}d``.

    input: (N, C_in, {sp}) or unbatched (C_in, {sp}); weight: (C_out, C_in/groups, {k});
    bias: (C_out,). float32, float64, float16 or bfloat16 (computed in float32, returned in
    their dtype), all the same dtype. stride, dilation: int or one
    value per spatial axis. padding: int, one value per axis, one (before, after) pair per
    axis (asymmetric, beyond PyTorch), "same" or "valid". algorithm: "auto", "direct",
    "im2col", "taps", "depthwise", "dot" (1x1 convs of one input pixel only: dot products
    over the channels, auto's pick there; ValueError on other shapes), "blocked" (dense
    convs on 16-channel blocks, auto's pick for some dense 3x3 layers on AVX-512; elsewhere
    the im2col GEMM) or "reference". padding_mode: what the padding holds, as
    ``torch.nn.Conv{r}d(padding_mode=...)``: "zeros", "reflect" (each pad < the input size),
    "replicate" or "circular" (each pad <= the input size). Returns a new array of the
    input's dtype: channels-last when the input (or weight) is, read in place (e.g.
    ``x_nhwc.transpose(0, 3, 1, 2)``, PyTorch's suggest_memory_format rule), else
    C-contiguous.
    """

_CONV_TRANSPOSE_DOC = """Transposed {r}-D convolution, as ``torch.nn.functional.conv_transpose{r}d``.

    Note PyTorch's argument order: groups comes before dilation. input: (N, C_in, {sp}) or
    unbatched; weight: (C_in, C_out/groups, {k}); bias: (C_out,). output_padding (each <
    stride or < dilation) adds elements at the end of each axis. output_size: the output's
    spatial sizes (or its whole shape: the last {r} entries are used), as
    ``ConvTranspose{r}d.forward(input, output_size)``: it fixes output_padding (the
    output_padding argument is then ignored, as PyTorch). algorithm: "auto", "scatter",
    "upsample", "phase", "depthwise" or "reference". padding_mode: "zeros" only (as PyTorch).
    """

_CONV_BACKWARD_DOC = """Gradients of ``conv{r}d(input, weight, bias, stride, padding, dilation, groups)``.

    Returns (grad_input, grad_weight, grad_bias); an entry is None where output_mask is
    False. grad_input has the input's memory layout (channels-last or C-contiguous),
    grad_weight the weight's. grad_input always has the input's shape, even where the forward's floor
    division dropped elements. Accepts every padding form and padding_mode conv{r}d accepts
    (reflected, replicated and wrapped positions add their gradients back).
    """

_CONV_TRANSPOSE_BACKWARD_DOC = """Gradients of ``conv_transpose{r}d(input, weight, bias, stride, padding,
    output_padding, groups, dilation, output_size=output_size)``: (grad_input, grad_weight,
    grad_bias), None where output_mask is False.
    """


def _doc(template: str, r: int) -> str:
    sp = {1: "L", 2: "H, W", 3: "D, H, W"}[r]
    k = {1: "kL", 2: "kH, kW", 3: "kD, kH, kW"}[r]
    return template.format(r=r, sp=sp, k=k)


def conv1d(input: ArrayLike, weight: ArrayLike, bias: Optional[ArrayLike] = None,
           stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1,
           *, algorithm: str = "auto", padding_mode: str = "zeros") -> np.ndarray:
    return _run("conv1d", input, weight, bias, None, stride, padding, dilation, 0, groups, algorithm, 0,
                padding_mode=padding_mode)[0]


def conv2d(input: ArrayLike, weight: ArrayLike, bias: Optional[ArrayLike] = None,
           stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1,
           *, algorithm: str = "auto", padding_mode: str = "zeros") -> np.ndarray:
    return _run("conv2d", input, weight, bias, None, stride, padding, dilation, 0, groups, algorithm, 0,
                padding_mode=padding_mode)[0]


def conv3d(input: ArrayLike, weight: ArrayLike, bias: Optional[ArrayLike] = None,
           stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1,
           *, algorithm: str = "auto", padding_mode: str = "zeros") -> np.ndarray:
    return _run("conv3d", input, weight, bias, None, stride, padding, dilation, 0, groups, algorithm, 0,
                padding_mode=padding_mode)[0]


def conv_transpose1d(input: ArrayLike, weight: ArrayLike, bias: Optional[ArrayLike] = None,
                     stride: IntOrTuple = 1, padding: IntOrTuple = 0, output_padding: IntOrTuple = 0,
                     groups: int = 1, dilation: IntOrTuple = 1, *, algorithm: str = "auto",
                     output_size: Optional[Sequence[int]] = None, padding_mode: str = "zeros") -> np.ndarray:
    return _run("conv_transpose1d", input, weight, bias, None, stride, padding, dilation,
                output_padding, groups, algorithm, 0, output_size=output_size, padding_mode=padding_mode)[0]


def conv_transpose2d(input: ArrayLike, weight: ArrayLike, bias: Optional[ArrayLike] = None,
                     stride: IntOrTuple = 1, padding: IntOrTuple = 0, output_padding: IntOrTuple = 0,
                     groups: int = 1, dilation: IntOrTuple = 1, *, algorithm: str = "auto",
                     output_size: Optional[Sequence[int]] = None, padding_mode: str = "zeros") -> np.ndarray:
    return _run("conv_transpose2d", input, weight, bias, None, stride, padding, dilation,
                output_padding, groups, algorithm, 0, output_size=output_size, padding_mode=padding_mode)[0]


def conv_transpose3d(input: ArrayLike, weight: ArrayLike, bias: Optional[ArrayLike] = None,
                     stride: IntOrTuple = 1, padding: IntOrTuple = 0, output_padding: IntOrTuple = 0,
                     groups: int = 1, dilation: IntOrTuple = 1, *, algorithm: str = "auto",
                     output_size: Optional[Sequence[int]] = None, padding_mode: str = "zeros") -> np.ndarray:
    return _run("conv_transpose3d", input, weight, bias, None, stride, padding, dilation,
                output_padding, groups, algorithm, 0, output_size=output_size, padding_mode=padding_mode)[0]


def conv1d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike,
                    stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1,
                    groups: int = 1, *, output_mask: Sequence[bool] = (True, True, True),
                    padding_mode: str = "zeros") -> Gradients:
    return tuple(_run("conv1d_backward", input, weight, None, grad_output, stride, padding,
                      dilation, 0, groups, "auto", _mask(output_mask, "conv1d_backward"),
                      padding_mode=padding_mode))


def conv2d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike,
                    stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1,
                    groups: int = 1, *, output_mask: Sequence[bool] = (True, True, True),
                    padding_mode: str = "zeros") -> Gradients:
    return tuple(_run("conv2d_backward", input, weight, None, grad_output, stride, padding,
                      dilation, 0, groups, "auto", _mask(output_mask, "conv2d_backward"),
                      padding_mode=padding_mode))


def conv3d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike,
                    stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1,
                    groups: int = 1, *, output_mask: Sequence[bool] = (True, True, True),
                    padding_mode: str = "zeros") -> Gradients:
    return tuple(_run("conv3d_backward", input, weight, None, grad_output, stride, padding,
                      dilation, 0, groups, "auto", _mask(output_mask, "conv3d_backward"),
                      padding_mode=padding_mode))


def conv_transpose1d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike,
                              stride: IntOrTuple = 1, padding: IntOrTuple = 0,
                              output_padding: IntOrTuple = 0, groups: int = 1, dilation: IntOrTuple = 1,
                              *, output_mask: Sequence[bool] = (True, True, True),
                              output_size: Optional[Sequence[int]] = None,
                              padding_mode: str = "zeros") -> Gradients:
    return tuple(_run("conv_transpose1d_backward", input, weight, None, grad_output, stride,
                      padding, dilation, output_padding, groups, "auto",
                      _mask(output_mask, "conv_transpose1d_backward"), output_size=output_size,
                      padding_mode=padding_mode))


def conv_transpose2d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike,
                              stride: IntOrTuple = 1, padding: IntOrTuple = 0,
                              output_padding: IntOrTuple = 0, groups: int = 1, dilation: IntOrTuple = 1,
                              *, output_mask: Sequence[bool] = (True, True, True),
                              output_size: Optional[Sequence[int]] = None,
                              padding_mode: str = "zeros") -> Gradients:
    return tuple(_run("conv_transpose2d_backward", input, weight, None, grad_output, stride,
                      padding, dilation, output_padding, groups, "auto",
                      _mask(output_mask, "conv_transpose2d_backward"), output_size=output_size,
                      padding_mode=padding_mode))


def conv_transpose3d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike,
                              stride: IntOrTuple = 1, padding: IntOrTuple = 0,
                              output_padding: IntOrTuple = 0, groups: int = 1, dilation: IntOrTuple = 1,
                              *, output_mask: Sequence[bool] = (True, True, True),
                              output_size: Optional[Sequence[int]] = None,
                              padding_mode: str = "zeros") -> Gradients:
    return tuple(_run("conv_transpose3d_backward", input, weight, None, grad_output, stride,
                      padding, dilation, output_padding, groups, "auto",
                      _mask(output_mask, "conv_transpose3d_backward"), output_size=output_size,
                      padding_mode=padding_mode))


for _r in (1, 2, 3):
    globals()[f"conv{_r}d"].__doc__ = _doc(_CONV_DOC, _r)
    globals()[f"conv_transpose{_r}d"].__doc__ = _doc(_CONV_TRANSPOSE_DOC, _r)
    globals()[f"conv{_r}d_backward"].__doc__ = _doc(_CONV_BACKWARD_DOC, _r)
    globals()[f"conv_transpose{_r}d_backward"].__doc__ = _doc(_CONV_TRANSPOSE_BACKWARD_DOC, _r)
del _r


def algorithms(op: str) -> Tuple[str, ...]:
    """The algorithm names `op` accepts (the engine's list; the same for every rank), e.g.
    ``algorithms("conv3d") == ("auto", "direct", "im2col", "taps", "depthwise", "dot", "blocked", "reference")``."""
    if op not in OPS:
        raise ValueError(f"algorithms: unknown op {op!r}, expected one of {sorted(OPS)}")
    return _native.algorithms(OPS[op][0])


def explain(op: str, input: ArrayLike, weight: ArrayLike, bias: Optional[ArrayLike] = None,
            grad_output: Optional[ArrayLike] = None, *, stride: IntOrTuple = 1, padding: Padding = 0,
            dilation: IntOrTuple = 1, output_padding: IntOrTuple = 0, groups: int = 1,
            algorithm: str = "auto", output_mask: Sequence[bool] = (True, True, True),
            padding_mode: str = "zeros", output_size: Optional[Sequence[int]] = None) -> str:
    """Every decision the engine's plan makes for this call: the convolution it computes,
    how a 3-D one is cut into planar ones, the border padding of a padding_mode, and the
    kernel chosen for each step ("auto" resolved). For debugging and the selector's tests."""
    if op not in OPS:
        raise ValueError(f"explain: unknown op {op!r}, expected one of {sorted(OPS)}")
    return _run(op, input, weight, bias, grad_output, stride, padding, dilation, output_padding,
                groups, algorithm, _mask(output_mask, op), explain=True, padding_mode=padding_mode,
                output_size=output_size)


def set_num_threads(n: int) -> None:
    """Threads the engine uses per call, the caller's included (1 <= n <= 1024).
    Results are bitwise identical for every thread count."""
    _native.set_num_threads(_int(n, "set_num_threads", "n"))


def get_num_threads() -> int:
    """The engine's thread count."""
    return _native.get_num_threads()


def release_memory() -> int:
    """Free the memory swiftconv keeps between calls so that large layers do not fault in
    fresh pages every call: the engine's workspaces of 32 MiB or more (at most 128 MiB) and
    the blocks of freed results of 1 MiB or more (at most 128 MiB). Returns the bytes freed.
    Later calls work as before and allocate them again."""
    return _native.release_memory()


def _check_thread_variable() -> None:
    """The engine starts with SWIFTCONV_NUM_THREADS threads when that is an int in 1..1024,
    otherwise with the CPUs this process may use (the rule lives in the engine's ThreadPool);
    a value it cannot use is worth a warning."""
    env = os.environ.get("SWIFTCONV_NUM_THREADS")
    if env:
        if env.isascii() and env.isdigit() and 1 <= int(env) <= 1024:
            return
        warnings.warn(f"SWIFTCONV_NUM_THREADS={env!r} is not an int in 1..1024; ignoring it")


_check_thread_variable()

from ._prepared import PreparedConv, prepare  # noqa: E402  (needs the helpers above)
