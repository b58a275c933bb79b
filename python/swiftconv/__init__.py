"""swiftconv: PyTorch-exact 2-D convolutions on NumPy arrays, computed by a Swift engine.

    >>> import numpy as np, swiftconv as sc
    >>> x = np.random.rand(1, 2, 10, 10).astype(np.float32)
    >>> w = np.random.rand(4, 2, 3, 3).astype(np.float32)
    >>> sc.conv2d(x, w, stride=2, padding=1, dilation=2).shape
    (1, 4, 4, 4)

Semantics follow ``torch.nn.functional`` (see the contract in API.md); this layer only
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
    "conv2d",
    "conv_transpose2d",
    "conv2d_backward",
    "conv_transpose2d_backward",
    "explain",
    "set_num_threads",
    "get_num_threads",
    "__version__",
]

__version__: str = _native.engine_version

IntPair = Union[int, Sequence[int]]
Padding2d = Union[int, str, Sequence[int], Sequence[Sequence[int]]]
ArrayLike = Any  # anything numpy.asarray accepts
Gradients = Tuple[Optional[np.ndarray], Optional[np.ndarray], Optional[np.ndarray]]

_OPS = {"conv2d": 0, "conv_transpose2d": 1, "conv2d_backward": 2, "conv_transpose2d_backward": 3}
_PAD_EXPLICIT, _PAD_SAME, _PAD_VALID = 0, 1, 2
_INT64 = (-(2**63), 2**63 - 1)


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
    if isinstance(value, np.ndarray):
        return value.ndim > 0
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))


def _pair(value: Any, op: str, name: str) -> Tuple[int, int]:
    """(h, w) from an int or a 1- or 2-element sequence, as PyTorch broadcasts them."""
    if type(value) is int and _INT64[0] <= value <= _INT64[1]:  # the common case, fast
        return value, value
    if type(value) is tuple and len(value) == 2 and type(value[0]) is int and type(value[1]) is int \
            and _INT64[0] <= min(value) and max(value) <= _INT64[1]:
        return value
    kind = "an int or a pair of ints"
    if _is_sequence(value):
        items = list(value)
        if len(items) == 1:
            items = items * 2
        if len(items) != 2:
            raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {len(items)} values ({value!r})")
        if any(_is_sequence(v) for v in items):
            raise TypeError(f"{op}: {name} must be {kind}, got {value!r}")
        return _int(items[0], op, name, kind), _int(items[1], op, name, kind)
    v = _int(value, op, name, kind)
    return v, v


def _padding(value: Any, op: str) -> Tuple[int, Tuple[int, int, int, int]]:
    """(mode, (top, bottom, left, right)) from every padding form API.md allows. Which form
    an op accepts (strings and asymmetric pairs are conv2d's) is the engine's rule."""
    if type(value) is int and _INT64[0] <= value <= _INT64[1]:  # the common case, fast
        return _PAD_EXPLICIT, (value, value, value, value)
    if isinstance(value, str):
        if value == "same":
            return _PAD_SAME, (0, 0, 0, 0)
        if value == "valid":
            return _PAD_VALID, (0, 0, 0, 0)
        raise ValueError(f"{op}: Invalid padding string: {value!r}, should be one of 'same', 'valid'")
    if _is_sequence(value):
        items = list(value)
        nested = [_is_sequence(v) for v in items]
        if len(items) == 2 and all(nested):
            (t, b), (l, r) = (_pair(v, op, "padding") for v in items)
            return _PAD_EXPLICIT, (t, b, l, r)
        if any(nested):
            raise TypeError(f"{op}: padding must be an int, a pair of ints, a pair of (before, after) "
                            f"pairs, 'same' or 'valid', got {value!r}")
    h, w = _pair(value, op, "padding")
    return _PAD_EXPLICIT, (h, h, w, w)


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


def _run(op: str, input: ArrayLike, weight: ArrayLike, bias: Optional[ArrayLike],
         grad_output: Optional[ArrayLike], stride: IntPair, padding: Padding2d, dilation: IntPair,
         output_padding: IntPair, groups: int, algorithm: str, output_mask: int,
         explain: bool = False) -> Any:
    mode, pads = _padding(padding, op)
    return _native.run(
        _OPS[op], input, weight, bias, grad_output,
        _pair(stride, op, "stride"), pads, mode, _pair(dilation, op, "dilation"),
        _pair(output_padding, op, "output_padding"), _int(groups, op, "groups"),
        _algorithm(algorithm, op), output_mask, explain)


def conv2d(input: ArrayLike, weight: ArrayLike, bias: Optional[ArrayLike] = None,
           stride: IntPair = 1, padding: Padding2d = 0, dilation: IntPair = 1, groups: int = 1,
           *, algorithm: str = "auto") -> np.ndarray:
    """2-D convolution, as ``torch.nn.functional.conv2d``.

    input: (N, C_in, H, W) or unbatched (C_in, H, W); weight: (C_out, C_in/groups, kH, kW);
    bias: (C_out,). float32 or float64, all the same dtype. padding: int, (pH, pW),
    ((top, bottom), (left, right)) (asymmetric, beyond PyTorch), "same" or "valid".
    algorithm: "auto", "direct", "im2col", "taps" or "reference". Returns a new
    C-contiguous array of the input's dtype.
    """
    return _run("conv2d", input, weight, bias, None, stride, padding, dilation, 0, groups,
                algorithm, 0)[0]


def conv_transpose2d(input: ArrayLike, weight: ArrayLike, bias: Optional[ArrayLike] = None,
                     stride: IntPair = 1, padding: IntPair = 0, output_padding: IntPair = 0,
                     groups: int = 1, dilation: IntPair = 1, *, algorithm: str = "auto") -> np.ndarray:
    """Transposed 2-D convolution, as ``torch.nn.functional.conv_transpose2d``.

    Note PyTorch's argument order: groups comes before dilation. weight:
    (C_in, C_out/groups, kH, kW); bias: (C_out,). output_padding (each < stride or <
    dilation) adds rows/columns at the bottom/right. algorithm: "auto", "scatter",
    "upsample" or "reference".
    """
    return _run("conv_transpose2d", input, weight, bias, None, stride, padding, dilation,
                output_padding, groups, algorithm, 0)[0]


def conv2d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike,
                    stride: IntPair = 1, padding: Padding2d = 0, dilation: IntPair = 1,
                    groups: int = 1, *, output_mask: Sequence[bool] = (True, True, True)) -> Gradients:
    """Gradients of ``conv2d(input, weight, bias, stride, padding, dilation, groups)``.

    Returns (grad_input, grad_weight, grad_bias); an entry is None where output_mask is
    False. grad_input always has the input's shape, even where the forward's floor
    division dropped rows or columns. Accepts every padding form conv2d accepts.
    """
    return tuple(_run("conv2d_backward", input, weight, None, grad_output, stride, padding,
                      dilation, 0, groups, "auto", _mask(output_mask, "conv2d_backward")))


def conv_transpose2d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike,
                              stride: IntPair = 1, padding: IntPair = 0,
                              output_padding: IntPair = 0, groups: int = 1, dilation: IntPair = 1,
                              *, output_mask: Sequence[bool] = (True, True, True)) -> Gradients:
    """Gradients of ``conv_transpose2d(input, weight, bias, stride, padding, output_padding,
    groups, dilation)``: (grad_input, grad_weight, grad_bias), None where output_mask is False.
    """
    return tuple(_run("conv_transpose2d_backward", input, weight, None, grad_output, stride,
                      padding, dilation, output_padding, groups, "auto",
                      _mask(output_mask, "conv_transpose2d_backward")))


def explain(op: str, input: ArrayLike, weight: ArrayLike, bias: Optional[ArrayLike] = None,
            grad_output: Optional[ArrayLike] = None, *, stride: IntPair = 1, padding: Padding2d = 0,
            dilation: IntPair = 1, output_padding: IntPair = 0, groups: int = 1,
            algorithm: str = "auto", output_mask: Sequence[bool] = (True, True, True)) -> str:
    """What the engine would run for this call: the convolution it computes and the kernel
    chosen for each step ("auto" resolved). For debugging and the selector's tests."""
    if op not in _OPS:
        raise ValueError(f"explain: unknown op {op!r}, expected one of {sorted(_OPS)}")
    return _run(op, input, weight, bias, grad_output, stride, padding, dilation, output_padding,
                groups, algorithm, _mask(output_mask, op), explain=True)


def set_num_threads(n: int) -> None:
    """Threads the engine uses per call, the caller's included (1 <= n <= 1024).
    Results are bitwise identical for every thread count."""
    _native.set_num_threads(_int(n, "set_num_threads", "n"))


def get_num_threads() -> int:
    """The engine's thread count."""
    return _native.get_num_threads()


def _default_threads() -> int:
    env = os.environ.get("SWIFTCONV_NUM_THREADS")
    if env:
        try:
            n = int(env)
            if 1 <= n <= 1024:
                return n
        except ValueError:
            pass
        warnings.warn(f"SWIFTCONV_NUM_THREADS={env!r} is not an int in 1..1024; ignoring it")
    try:
        return max(1, min(1024, len(os.sched_getaffinity(0))))
    except (AttributeError, OSError):
        return max(1, min(1024, os.cpu_count() or 1))


set_num_threads(_default_threads())
