"""The one NumPy reference for swiftconv: every rule the tests, the demo, the benchmark and
the fixture checks share. Not part of the public API.

* Shapes: :func:`output_size` (conv) and :func:`transposed_output_size` (and
  :func:`transposed_output_padding`, the output_padding an ``output_size`` fixes), and the
  normalisation of parameters to one value per spatial axis (:func:`per_axis`,
  :func:`conv_padding`).
* Padding modes (``torch.nn.Conv*d(padding_mode=...)``): :func:`pad` (``F.pad`` with
  "reflect", "replicate" or "circular"), its adjoint :func:`pad_adjoint`, and PyTorch's
  rules on the sizes each mode accepts (:func:`check_padding_mode`).
* The reference: :func:`conv`, :func:`conv_transpose`, :func:`conv_backward`,
  :func:`conv_transpose_backward` for 1, 2 or 3 spatial axes, batched ``(N, C, *spatial)``
  or unbatched ``(C, *spatial)``, computed in float64 straight from the definition: for
  every kernel tap, the in-bounds input elements it meets (index arithmetic) times the
  tap's weights, summed. Padding and the gaps of a stride contribute no term, so NaN/Inf
  propagate exactly as the definition says (CONTRACT.md "Numerics").
* The error bound: every result element is a K-term dot product ``sum_i a_i*b_i``; with
  ``S = sum_i |a_i*b_i|`` (the same op on absolute values, :func:`scale`) and ``K`` the
  largest number of terms of one element (:func:`terms`), a result of dtype ``dtype`` must
  satisfy ``|result - exact| <= 4*K*eps(dtype)*S + tiny(dtype)`` (:func:`error_bound`; see
  python/tests/test_parity.py for the derivation), checked by :func:`within_bound` /
  :func:`assert_close`. float16 and bfloat16 results are accumulated in float32 and rounded
  once to their type: their bound is float32's plus one rounding of the result's type,
  half an ulp of it at the result's magnitude (:func:`rounding_error`), for each of the two
  results compared (both are rounded: swiftconv's and PyTorch's); plus, against PyTorch's
  grad_input of a padding mode, the intermediate roundings its half-precision autograd
  takes (:func:`torch_intermediate_roundings`).
* A speed baseline in the input's dtype: im2col (unfold with strided slices) + one
  ``np.matmul`` batched over groups, col2im for the transposed direction
  (:func:`baseline_conv`, :func:`baseline_conv_transpose`, :func:`baseline_conv_backward`,
  :func:`baseline_conv_transpose_backward`). The demo and the benchmark time swiftconv
  against it; it is not an oracle (it multiplies padding zeros, so NaN/Inf differ).

Weights are laid out as in torch.nn.functional: conv ``(C_out, C_in/groups, *kernel)``,
transposed ``(C_in, C_out/groups, *kernel)``. Parameter order is torch's too (the
transposed ops take ``groups`` before ``dilation``).
"""
from __future__ import annotations

import itertools
import math
import operator
import re
from typing import Any, Iterator, Optional, Sequence, Tuple

import numpy as np

Ints = Tuple[int, ...]
Pads = Tuple[Tuple[int, int], ...]
Results = Tuple[Optional[np.ndarray], ...]

FORWARD_NAMES = ("output",)
GRAD_NAMES = ("grad_input", "grad_weight", "grad_bias")


# --------------------------------------------------------------------------- shapes


def output_size(size: int, kernel: int, stride: int, padding_before: int, padding_after: int,
                dilation: int) -> int:
    """Output length of a convolution along one axis (PyTorch's ``conv_output_size``):
    ``floor((size + before + after - dilation*(kernel-1) - 1) / stride) + 1``. Below 1 when
    the dilated kernel is longer than the padded input (which PyTorch rejects)."""
    return (size + padding_before + padding_after - dilation * (kernel - 1) - 1) // stride + 1


def transposed_output_size(size: int, kernel: int, stride: int, padding: int,
                           output_padding: int, dilation: int) -> int:
    """Output length of a transposed convolution along one axis (PyTorch's
    ``conv_input_size``): ``(size-1)*stride - 2*padding + dilation*(kernel-1) +
    output_padding + 1``. The inverse of :func:`output_size` only up to output_padding:
    the conv's floor division can drop up to ``stride-1`` input elements."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def transposed_output_padding(output_size: Sequence[int], input_shape: Sequence[int],
                              kernel: Sequence[int], stride: Any = 1, padding: Any = 0,
                              dilation: Any = 1) -> Ints:
    """The output_padding that ``ConvTranspose*d.forward(input, output_size)`` uses: the last
    ``rank`` entries of ``output_size`` (it may also be the whole output shape) minus the
    sizes output_padding 0 gives; each must lie within ``stride - 1`` of it (ValueError
    otherwise, with PyTorch's wording). ``input_shape`` as given (batched or unbatched)."""
    rank = len(kernel)
    s, p, d = per_axis(stride, rank), per_axis(padding, rank), per_axis(dilation, rank)
    non_spatial = len(input_shape) - rank
    sizes = [_int(v, "output_size") for v in output_size]
    if len(sizes) not in (rank, rank + non_spatial):
        raise ValueError(f"for {len(input_shape)}D input, output_size must have {rank} or "
                         f"{rank + non_spatial} elements (got {len(sizes)})")
    want = sizes[-rank:]
    least = [transposed_output_size(i, k, si, pi, 0, di)
             for i, k, si, pi, di in zip(input_shape[-rank:], kernel, s, p, d)]
    most = [m + si - 1 for m, si in zip(least, s)]
    if any(not lo <= v <= hi for v, lo, hi in zip(want, least, most)):
        raise ValueError(f"requested an output size of {want}, but valid sizes range from {least} "
                         f"to {most} (for an input of {list(input_shape[-rank:])})")
    return tuple(v - lo for v, lo in zip(want, least))


def _int(value: Any, name: str) -> int:
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int, got a bool")
    return operator.index(value)


def per_axis(value: Any, rank: int, name: str = "parameter") -> Ints:
    """One int per spatial axis: an int applies to every axis, a 1-element sequence is
    broadcast (as PyTorch), a sequence of ``rank`` ints is taken as it is."""
    if type(value) is tuple and len(value) == rank and all(type(v) is int for v in value):
        return value  # the common case, fast (the baseline is timed)
    if isinstance(value, (list, tuple, np.ndarray)):
        items = [_int(v, name) for v in value]
        if len(items) == 1:
            items *= rank
        if len(items) != rank:
            raise ValueError(f"{name} cannot broadcast to {rank} dimensions: {value!r}")
        return tuple(items)
    return (_int(value, name),) * rank


def conv_padding(padding: Any, kernel: Sequence[int], dilation: Any = 1) -> Pads:
    """A conv's padding as one ``(before, after)`` pair per spatial axis (rank =
    ``len(kernel)``), from every form the API accepts: an int, one int per axis (or a
    1-element sequence), one (before, after) pair per axis, ``"valid"`` (no padding) or
    ``"same"`` (total ``dilation*(kernel-1)``, the odd element at the end, as PyTorch;
    meaningful for stride 1 only, which :func:`conv` enforces)."""
    rank = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * rank
        if padding == "same":
            totals = [d * (k - 1) for d, k in zip(per_axis(dilation, rank, "dilation"), kernel)]
            return tuple((t // 2, t - t // 2) for t in totals)
        raise ValueError(f"Invalid padding string: {padding!r}, should be one of 'same', 'valid'")
    if isinstance(padding, (list, tuple)) and any(isinstance(p, (list, tuple)) for p in padding):
        pairs = tuple(tuple(_int(v, "padding") for v in p) for p in padding)
        if len(pairs) != rank or any(len(p) != 2 for p in pairs):
            raise ValueError(f"asymmetric padding needs one (before, after) pair per axis "
                             f"({rank}), got {padding!r}")
        return pairs  # type: ignore[return-value]
    return tuple((p, p) for p in per_axis(padding, rank, "padding"))


# --------------------------------------------------------------------------- padding modes


PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def pad_index(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """For every position of an axis padded by ``mode`` (``before + size + after`` of them),
    the input index it reads: reflect mirrors without the edge, replicate repeats the edge,
    circular wraps around (``F.pad``'s modes)."""
    k = np.arange(-before, size + after)
    if mode == "reflect":
        return np.where(k < 0, -k, np.where(k >= size, 2 * (size - 1) - k, k))
    if mode == "replicate":
        return np.clip(k, 0, size - 1)
    if mode == "circular":
        return k % size
    raise ValueError(f"padding_mode must be one of {', '.join(map(repr, PADDING_MODES))}, but got "
                     f"padding_mode={mode!r}")


def check_padding_mode(input_shape: Sequence[int], pads: Pads, mode: str) -> None:
    """PyTorch's rules (``F.pad``'s, which nn.Conv*d applies whatever the padding): reflect and
    replicate need every dimension but the batch non-empty; reflect needs each pad < the
    input size on its axis, circular each pad <= it. ``input_shape`` as given."""
    if mode not in PADDING_MODES:
        pad_index(1, 0, 0, mode)  # raises, naming the valid modes
    rank = len(pads)
    if mode in ("reflect", "replicate") and 0 in tuple(input_shape)[-rank - 1:]:
        raise ValueError(f"padding_mode={mode!r}: Expected {rank + 1}D or {rank + 2}D (batch mode) "
                         f"tensor with possibly 0 batch size and other non-zero dimensions for input, "
                         f"but got: {list(input_shape)}")
    for size, (before, after) in zip(tuple(input_shape)[-rank:], pads):
        if mode == "reflect" and max(before, after) >= size:
            raise ValueError(f"padding_mode='reflect': Padding size should be less than the corresponding "
                             f"input dimension, but got: padding ({before}, {after}) of input {list(input_shape)}")
        if mode == "circular" and max(before, after) > size:
            raise ValueError(f"padding_mode='circular': Padding value causes wrapping around more than once, "
                             f"but got: padding ({before}, {after}) of input {list(input_shape)}")


def pad(x: np.ndarray, pads: Pads, mode: str) -> np.ndarray:
    """``F.pad(x, pads, mode)`` for (N, C, *spatial) ``x``; ``pads``: (before, after) per axis."""
    for a, (before, after) in enumerate(pads):
        x = np.take(x, pad_index(x.shape[2 + a], before, after, mode), axis=2 + a)
    return x


def pad_adjoint(g: np.ndarray, pads: Pads, mode: str) -> np.ndarray:
    """The adjoint of :func:`pad`: every padded position's value added to the input element
    it reads (the gradient of ``F.pad``)."""
    for a, (before, after) in enumerate(pads):
        size = g.shape[2 + a] - before - after
        moved = np.moveaxis(g, 2 + a, 0)
        out = np.zeros((size,) + moved.shape[1:])
        np.add.at(out, pad_index(size, before, after, mode), moved)
        g = np.moveaxis(out, 0, 2 + a)
    return g


def fold_multiplicity(size: int, before: int, after: int, mode: str) -> int:
    """The most padded positions of one axis that read the same input element."""
    if mode == "zeros":
        return 1
    if mode == "replicate":
        return before + after + 1 if size == 1 else max(before, after) + 1
    return 1 + (before > 0) + (after > 0)  # reflect, circular: each side maps one-to-one


# --------------------------------------------------------------------------- the reference


def _taps(kernel: Ints, stride: Ints, pad: Ints, dilation: Ints, in_size: Ints,
          out_size: Ints) -> Iterator[Tuple[Ints, tuple, tuple]]:
    """For every kernel tap ``t`` that meets the input: ``(t, out_slices, in_slices)``,
    per spatial axis the output positions ``o`` and input positions
    ``i = o*stride + t*dilation - pad`` with ``0 <= i < in_size`` and ``0 <= o < out_size``
    -- exactly the pairs of the definition, padding excluded."""
    for t in itertools.product(*(range(k) for k in kernel)):
        outs, ins = [], []
        for tj, s, p, d, n_in, n_out in zip(t, stride, pad, dilation, in_size, out_size):
            lo = max(0, -((tj * d - p) // s))                 # first o with i >= 0
            hi = min(n_out, (n_in - 1 + p - tj * d) // s + 1)  # past the last o with i < n_in
            if hi <= lo:
                break
            start = lo * s + tj * d - p
            outs.append(slice(lo, hi))
            ins.append(slice(start, start + (hi - lo - 1) * s + 1, s))
        else:
            yield t, (Ellipsis, *outs), (Ellipsis, *ins)


def _matmul(w: np.ndarray, a: np.ndarray) -> np.ndarray:
    """(G, P, Q) x (N, G, Q, *spatial) -> (N, G, P, *spatial): the channel sums of one tap."""
    n, g, q, *spatial = a.shape
    with np.errstate(invalid="ignore"):  # Inf - Inf is NaN, by definition
        return np.matmul(w, a.reshape(n, g, q, math.prod(spatial))).reshape(n, g, w.shape[1], *spatial)


def _by_group(a: np.ndarray) -> np.ndarray:
    """(N, G, C, *spatial) -> (G, C, N*L): one row per channel over the batch and pixels."""
    n, g, c, *spatial = a.shape
    pixels = math.prod(spatial)
    return a.reshape(n, g, c, pixels).transpose(1, 2, 0, 3).reshape(g, c, n * pixels)


def _gather(x: np.ndarray, w: np.ndarray, out_size: Ints, stride: Ints, pad: Ints,
            dilation: Ints, groups: int) -> np.ndarray:
    """The convolution sum: ``y[n, o, j] = sum_{c, t} w[o, c, t] * x[n, g*C_g + c,
    j*stride + t*dilation - pad]`` over in-bounds input positions (o in group g)."""
    n, (c_out, c_g), kernel = x.shape[0], w.shape[:2], w.shape[2:]
    xg = x.reshape(n, groups, c_g, *x.shape[2:])
    wg = w.reshape(groups, c_out // groups, c_g, *kernel)
    y = np.zeros((n, groups, c_out // groups) + tuple(out_size))
    for t, out, inp in _taps(kernel, stride, pad, dilation, x.shape[2:], out_size):
        y[out] += _matmul(wg[(Ellipsis, *t)], xg[inp])
    return y.reshape(n, c_out, *out_size)


def _scatter(y: np.ndarray, w: np.ndarray, in_size: Ints, stride: Ints, pad: Ints,
             dilation: Ints, groups: int) -> np.ndarray:
    """The adjoint of :func:`_gather` in x: every ``y[n, o, j]`` adds ``w[o, c, t] * y``
    to ``x[n, g*C_g + c, j*stride + t*dilation - pad]`` (in-bounds positions only)."""
    n, (c_y, c_g), kernel = y.shape[0], w.shape[:2], w.shape[2:]
    yg = y.reshape(n, groups, c_y // groups, *y.shape[2:])
    wg = w.reshape(groups, c_y // groups, c_g, *kernel)
    x = np.zeros((n, groups, c_g) + tuple(in_size))
    for t, out, inp in _taps(kernel, stride, pad, dilation, in_size, y.shape[2:]):
        x[inp] += _matmul(wg[(Ellipsis, *t)].transpose(0, 2, 1), yg[out])
    return x.reshape(n, groups * c_g, *in_size)


def _weight_grad(y: np.ndarray, x: np.ndarray, kernel: Ints, stride: Ints, pad: Ints,
                 dilation: Ints, groups: int) -> np.ndarray:
    """The adjoint of :func:`_gather` in w: ``gw[o, c, t] = sum_{n, j} y[n, o, j] *
    x[n, g*C_g + c, j*stride + t*dilation - pad]``."""
    n, c_y, c_x = y.shape[0], y.shape[1], x.shape[1]
    yg = y.reshape(n, groups, c_y // groups, *y.shape[2:])
    xg = x.reshape(n, groups, c_x // groups, *x.shape[2:])
    gw = np.zeros((groups, c_y // groups, c_x // groups) + tuple(kernel))
    for t, out, inp in _taps(kernel, stride, pad, dilation, x.shape[2:], y.shape[2:]):
        with np.errstate(invalid="ignore"):
            gw[(Ellipsis, *t)] = np.matmul(_by_group(yg[out]), _by_group(xg[inp]).transpose(0, 2, 1))
    return gw.reshape(c_y, c_x // groups, *kernel)


def _f64(a: Any) -> Optional[np.ndarray]:
    return None if a is None else np.asarray(a).astype(np.float64)


def _batched(x: np.ndarray, w: np.ndarray) -> Tuple[np.ndarray, bool]:
    """(x with a batch axis, whether it was unbatched); the rank comes from the weight."""
    rank = w.ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(f"weight must have 1 to 3 spatial axes, got shape {w.shape}")
    if x.ndim == rank + 1:
        return x[None], True
    if x.ndim != rank + 2:
        raise ValueError(f"input of shape {x.shape} does not fit a weight of shape {w.shape}")
    return x, False


def _check_groups(c_in: int, w: np.ndarray, groups: int, transposed: bool) -> None:
    rows, cols = w.shape[:2]
    if groups < 1 or rows % groups or c_in != (rows if transposed else cols * groups):
        raise ValueError(f"input with {c_in} channels does not fit weight {w.shape} "
                         f"with groups={groups}")


def _add_bias(y: np.ndarray, b: Optional[np.ndarray]) -> np.ndarray:
    return y if b is None else y + b.reshape(1, -1, *(1,) * (y.ndim - 2))


def _bias_grad(go: np.ndarray) -> np.ndarray:
    return go.sum(axis=(0,) + tuple(range(2, go.ndim)))


def _conv_geometry(x: np.ndarray, w: np.ndarray, stride: Any, padding: Any, dilation: Any,
                   groups: int) -> Tuple[Ints, Pads, Ints, Ints]:
    """(stride, padding pairs, dilation, output size) of a conv, validated."""
    rank, kernel = w.ndim - 2, w.shape[2:]
    s, d = per_axis(stride, rank, "stride"), per_axis(dilation, rank, "dilation")
    if isinstance(padding, str) and padding == "same" and any(v != 1 for v in s):
        raise ValueError("padding='same' is not supported for strided convolutions")
    pads = conv_padding(padding, kernel, d)
    _check_groups(x.shape[1], w, groups, transposed=False)
    out = tuple(output_size(*a) for a in zip(x.shape[2:], kernel, s, *zip(*pads), d))
    if min(s + d) < 1 or min(v for p in pads for v in p) < 0 or min(out) < 1:
        raise ValueError(f"invalid conv: input {x.shape}, weight {w.shape}, stride {s}, "
                         f"padding {pads}, dilation {d}")
    return s, pads, d, out


def _transposed_geometry(x: np.ndarray, w: np.ndarray, stride: Any, padding: Any,
                         output_padding: Any, groups: int, dilation: Any
                         ) -> Tuple[Ints, Ints, Ints, Ints]:
    """(stride, padding, dilation, output size) of a transposed conv, validated."""
    rank, kernel = w.ndim - 2, w.shape[2:]
    s, d = per_axis(stride, rank, "stride"), per_axis(dilation, rank, "dilation")
    p, op = per_axis(padding, rank, "padding"), per_axis(output_padding, rank, "output_padding")
    _check_groups(x.shape[1], w, groups, transposed=True)
    out = tuple(transposed_output_size(*a) for a in zip(x.shape[2:], kernel, s, p, op, d))
    if (min(s + d) < 1 or min(p + op) < 0 or min(out) < 0
            or any(o >= si and o >= di for o, si, di in zip(op, s, d))):
        raise ValueError(f"invalid transposed conv: input {x.shape}, weight {w.shape}, stride "
                         f"{s}, padding {p}, output_padding {op}, dilation {d}")
    return s, p, d, out


def _padded(x: np.ndarray, w: np.ndarray, stride: Any, padding: Any, dilation: Any,
            padding_mode: str, input_shape: Sequence[int]) -> Tuple[np.ndarray, Any, Pads]:
    """(the input the convolution reads, its padding, the padding mode's pads): with a
    padding mode other than zeros, the input padded by it and padding 0."""
    if padding_mode == "zeros":
        return x, padding, ()
    rank = w.ndim - 2
    s, d = per_axis(stride, rank, "stride"), per_axis(dilation, rank, "dilation")
    if isinstance(padding, str) and padding == "same" and any(v != 1 for v in s):
        raise ValueError("padding='same' is not supported for strided convolutions")
    pads = conv_padding(padding, w.shape[2:], d)
    check_padding_mode(input_shape, pads, padding_mode)
    return pad(x, pads, padding_mode), 0, pads


def conv(x: Any, w: Any, b: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
         groups: int = 1, *, padding_mode: str = "zeros") -> np.ndarray:
    """``torch.nn.functional.conv{1,2,3}d`` in float64 (padding also per-axis (before,
    after) pairs); with ``padding_mode`` as ``torch.nn.Conv{1,2,3}d(padding_mode=...)``.
    ``x``: (N, C_in, *spatial) or (C_in, *spatial); ``w``: (C_out, C_in/groups, *kernel);
    ``b``: (C_out,) or None."""
    x, w, b = _f64(x), _f64(w), _f64(b)
    shape = x.shape
    x, unbatched = _batched(x, w)
    x, padding, _ = _padded(x, w, stride, padding, dilation, padding_mode, shape)
    s, pads, d, out = _conv_geometry(x, w, stride, padding, dilation, groups)
    y = _add_bias(_gather(x, w, out, s, tuple(p[0] for p in pads), d, groups), b)
    return y[0] if unbatched else y


def _transposed_options(x: np.ndarray, w: np.ndarray, stride: Any, padding: Any, output_padding: Any,
                        dilation: Any, output_size: Any, padding_mode: str) -> Any:
    """The output_padding a transposed op uses (fixed by output_size when given)."""
    if padding_mode != "zeros":
        raise ValueError(f'Only "zeros" padding mode is supported for ConvTranspose{w.ndim - 2}d')
    if output_size is None:
        return output_padding
    return transposed_output_padding(output_size, x.shape, w.shape[2:], stride, padding, dilation)


def conv_transpose(x: Any, w: Any, b: Any = None, stride: Any = 1, padding: Any = 0,
                   output_padding: Any = 0, groups: int = 1, dilation: Any = 1, *,
                   output_size: Any = None, padding_mode: str = "zeros") -> np.ndarray:
    """``torch.nn.functional.conv_transpose{1,2,3}d`` in float64: the adjoint of conv in its
    input, ``w``: (C_in, C_out/groups, *kernel); output_padding extends the end of each axis;
    ``output_size`` as ``ConvTranspose*d.forward(input, output_size)`` (it fixes
    output_padding)."""
    x, w, b = _f64(x), _f64(w), _f64(b)
    output_padding = _transposed_options(x, w, stride, padding, output_padding, dilation, output_size,
                                         padding_mode)
    x, unbatched = _batched(x, w)
    s, p, d, out = _transposed_geometry(x, w, stride, padding, output_padding, groups, dilation)
    y = _add_bias(_scatter(x, w, out, s, p, d, groups), b)
    return y[0] if unbatched else y


def _masked(results: Tuple[np.ndarray, ...], mask: Sequence[bool]) -> Results:
    return tuple(r if m else None for r, m in zip(results, mask))


def conv_backward(go: Any, x: Any, w: Any, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                  groups: int = 1, *, output_mask: Sequence[bool] = (True, True, True),
                  padding_mode: str = "zeros") -> Results:
    """(grad_input, grad_weight, grad_bias) of :func:`conv` with these parameters, given
    grad_output ``go`` (unbatched with an unbatched ``x``); None where output_mask is False.
    With a padding mode, grad_input is that of the padded input folded back
    (:func:`pad_adjoint`)."""
    go, x, w = _f64(go), _f64(x), _f64(w)
    shape = x.shape
    x, unbatched = _batched(x, w)
    go = go[None] if unbatched else go
    x, padding, mode_pads = _padded(x, w, stride, padding, dilation, padding_mode, shape)
    s, pads, d, out = _conv_geometry(x, w, stride, padding, dilation, groups)
    if go.shape != (x.shape[0], w.shape[0]) + out:
        raise ValueError(f"grad_output {go.shape} is not the shape of conv's output")
    before = tuple(p[0] for p in pads)
    gi = _scatter(go, w, x.shape[2:], s, before, d, groups)
    if mode_pads:
        gi = pad_adjoint(gi, mode_pads, padding_mode)
    gw = _weight_grad(go, x, w.shape[2:], s, before, d, groups)
    return _masked((gi[0] if unbatched else gi, gw, _bias_grad(go)), output_mask)


def conv_transpose_backward(go: Any, x: Any, w: Any, stride: Any = 1, padding: Any = 0,
                            output_padding: Any = 0, groups: int = 1, dilation: Any = 1, *,
                            output_mask: Sequence[bool] = (True, True, True),
                            output_size: Any = None, padding_mode: str = "zeros") -> Results:
    """(grad_input, grad_weight, grad_bias) of :func:`conv_transpose` with these parameters:
    grad_input is a conv of ``go`` with ``w``; None where output_mask is False."""
    go, x, w = _f64(go), _f64(x), _f64(w)
    output_padding = _transposed_options(x, w, stride, padding, output_padding, dilation, output_size,
                                         padding_mode)
    x, unbatched = _batched(x, w)
    go = go[None] if unbatched else go
    s, p, d, out = _transposed_geometry(x, w, stride, padding, output_padding, groups, dilation)
    if go.shape != (x.shape[0], w.shape[1] * groups) + out:
        raise ValueError(f"grad_output {go.shape} is not the shape of conv_transpose's output")
    gi = _gather(go, w, x.shape[2:], s, p, d, groups)
    gw = _weight_grad(x, go, w.shape[2:], s, p, d, groups)
    return _masked((gi[0] if unbatched else gi, gw, _bias_grad(go)), output_mask)


# --------------------------------------------------------------------------- by op name


_OP_NAME = re.compile(r"conv(_transpose)?([123]d)?(_backward)?")


def kind(op: str) -> str:
    """The rank-free name of an op: ``"conv_transpose3d_backward"`` ->
    ``"conv_transpose_backward"`` (one of conv, conv_transpose, conv_backward,
    conv_transpose_backward)."""
    m = _OP_NAME.fullmatch(op)
    if m is None:
        raise ValueError(f"unknown op {op!r}")
    return "conv" + (m.group(1) or "") + (m.group(3) or "")


OPS = {"conv": conv, "conv_transpose": conv_transpose, "conv_backward": conv_backward,
       "conv_transpose_backward": conv_transpose_backward}


def result_names(op: str) -> Tuple[str, ...]:
    """("output",) for a forward op, ("grad_input", "grad_weight", "grad_bias") for a backward."""
    return GRAD_NAMES if kind(op).endswith("_backward") else FORWARD_NAMES


def compute(op: str, x: Any, w: Any, b: Any = None, go: Any = None, **params: Any) -> Results:
    """Any op by name (``"conv2d"``, ``"conv_transpose1d_backward"``, ``"conv"``, ...) as a
    tuple of float64 results: (output,) or (grad_input, grad_weight, grad_bias). ``params``
    are the op's keyword arguments (output_mask for the backward ops); ``b`` is ignored by
    the backward ops (the gradients do not depend on it)."""
    k, rank = kind(op), re.search(r"[123](?=d)", op)
    if rank is not None and np.ndim(w) != int(rank.group()) + 2:
        raise ValueError(f"{op} needs a weight with {int(rank.group()) + 2} axes, got {np.shape(w)}")
    if k.endswith("_backward"):
        return OPS[k](go, x, w, **params)
    return (OPS[k](x, w, b, **params),)


def scale(op: str, x: Any, w: Any, b: Any = None, go: Any = None, **params: Any) -> Results:
    """The error bound's scale ``S = sum_i |a_i*b_i|`` of every result element: the same op
    on ``|x|``, ``|w|``, ``|b|``, ``|go|`` (exact enough in float64)."""
    a = lambda v: None if v is None else np.abs(_f64(v))  # noqa: E731
    return compute(op, a(x), a(w), a(b), a(go), **params)


def terms(op: str, x_shape: Sequence[int], w_shape: Sequence[int],
          go_shape: Optional[Sequence[int]] = None, groups: int = 1,
          bias: bool = False, *, padding: Any = 0, dilation: Any = 1,
          padding_mode: str = "zeros") -> Tuple[int, ...]:
    """``K`` per result: an upper bound on the number of products summed into one element
    (a bias counts as one), e.g. C_in/groups * prod(kernel) (+1) for a conv output. Forward
    ops: (output,); backward ops (``go_shape`` needed): (grad_input, grad_weight,
    grad_bias). With a padding mode, a conv's grad_input element also sums the terms of the
    padded positions folded onto it (``padding``, ``dilation`` give the pads). The values
    saved in every fixture's ``params["terms"]``."""
    k, rank = kind(op), len(w_shape) - 2
    fold = 1
    if padding_mode != "zeros" and k == "conv_backward":
        pads = conv_padding(padding, w_shape[2:], dilation)
        fold = math.prod(fold_multiplicity(n, *p, padding_mode) for n, p in zip(x_shape[-rank:], pads))
    taps = math.prod(w_shape[2:])
    batch = 1 if len(x_shape) == rank + 1 else int(x_shape[0])
    pixels = lambda shape: batch * math.prod(shape[-rank:])  # noqa: E731
    if k == "conv":
        return (w_shape[1] * taps + bool(bias),)
    if k == "conv_transpose":
        return (w_shape[0] // groups * taps + bool(bias),)
    assert go_shape is not None, "the backward ops need go_shape"
    if k == "conv_backward":
        return (w_shape[0] // groups * taps * fold, pixels(go_shape), pixels(go_shape))
    return (w_shape[1] * taps, pixels(x_shape), pixels(go_shape))


# --------------------------------------------------------------------------- the error bound


#: The half-precision storage types: (mantissa bits, smallest normal exponent). They are
#: computed in float32 (swiftconv, and PyTorch's CPU kernels), so their accumulation error is
#: float32's; each stored result adds one rounding to the type.
HALF_TYPES = {"float16": (10, -14), "bfloat16": (7, -126)}


def dtype_name(dtype: Any) -> str:
    """NumPy's name of a dtype or dtype name: "float32", "float64", "float16", "bfloat16" (a
    name is taken as it is, so "bfloat16" needs no ml_dtypes)."""
    return dtype if isinstance(dtype, str) else np.dtype(dtype).name


def accumulation_dtype(dtype: Any) -> np.dtype:
    """The type results of ``dtype`` are accumulated in: float32 for float16 and bfloat16,
    else ``dtype`` itself."""
    name = dtype_name(dtype)
    return np.dtype(np.float32) if name in HALF_TYPES else np.dtype(name)


def rounding_error(value: Any, dtype: Any) -> np.ndarray:
    """Half an ulp of ``dtype`` at ``|value|``, elementwise: the most one rounding to
    ``dtype`` moves a value whose rounded result is ``value`` (ulp = 2**(e - mantissa bits)
    with 2**e <= |value| < 2**(e+1), e at least the smallest normal exponent, so near zero
    it is half the smallest subnormal). 0 for float32 and float64, whose final rounding the
    factor 2 of :func:`error_bound`'s accumulation term already covers; 0 for non-finite
    values. Needs no ml_dtypes (``dtype`` may be the name "bfloat16")."""
    name = dtype_name(dtype)
    v = np.abs(np.asarray(value, dtype=np.float64))
    if name not in HALF_TYPES:
        return np.zeros_like(v)
    mantissa, emin = HALF_TYPES[name]
    finite = np.isfinite(v) & (v > 0)
    _, e = np.frexp(np.where(finite, v, 1.0))  # v = f * 2**e, 0.5 <= f < 1: 2**(e-1) <= v
    exponent = np.where(finite, np.maximum(e - 1, emin), emin)
    return np.where(np.isfinite(v), 0.5 * np.ldexp(1.0, exponent - mantissa), 0.0)


def error_bound(scale: Any, terms: int, dtype: Any, rounded: Sequence[Any] = (),
                intermediate_roundings: int = 0) -> np.ndarray:
    """How far a result of ``dtype`` may be from another computation of it, elementwise:

        4*K*eps(acc)*S + tiny(acc) + sum over r in rounded of rounding_error(r, dtype)
                                   + intermediate_roundings * rounding_error(S, dtype)

    with ``acc = accumulation_dtype(dtype)``. The first part is twice the worst case
    ``2*gamma_K*S`` of a K-term dot product accumulated in ``acc`` on both sides
    (python/tests/test_parity.py derives it); for float32 and float64 it also covers the
    final rounding. A float16 / bfloat16 result is accumulated in float32 and then rounded
    once to its type: ``rounded`` lists the results that were (each adds half an ulp of
    ``dtype`` at its magnitude; :func:`within_bound` passes both sides).
    ``intermediate_roundings``: partial results one side rounded to ``dtype`` on the way,
    each moved by at most half an ulp at ``S`` (every partial sum is at most ``S``): PyTorch's
    float16 / bfloat16 grad_input of a padding mode, whose autograd rounds the gradient of
    the padded input and then every addition that folds it back (see
    :func:`torch_intermediate_roundings`). A non-finite ``S`` (a non-finite operand) gives a
    bound of ``tiny``: such elements must match exactly."""
    finfo = np.finfo(accumulation_dtype(dtype))
    s = np.asarray(scale, dtype=np.float64)
    s = np.where(np.isfinite(s), s, 0.0)
    bound = 4.0 * terms * float(finfo.eps) * s + float(finfo.tiny)
    for r in rounded:
        bound = bound + rounding_error(r, dtype)
    if intermediate_roundings:
        bound = bound + intermediate_roundings * rounding_error(s, dtype)
    return bound


def torch_intermediate_roundings(op: str, x_shape: Sequence[int], w_shape: Sequence[int], dtype: Any,
                                 *, padding: Any = 0, dilation: Any = 1,
                                 padding_mode: str = "zeros") -> dict:
    """The roundings PyTorch's float16 / bfloat16 results take beyond the final one, per
    result name (absent: none): the grad_input of a conv with a padding mode other than
    zeros. Its autograd rounds the gradient of each padded position (one rounding), then
    ``F.pad``'s backward adds the up to F positions that copy one input element in the
    result's type (F - 1 roundings): 2F - 1 roundings where swiftconv (and the error bound)
    has one, F = the product of :func:`fold_multiplicity` over the axes. Stored in the
    fixtures as ``params["torch_roundings"]``."""
    if dtype_name(dtype) not in HALF_TYPES or padding_mode == "zeros" or kind(op) != "conv_backward":
        return {}
    rank = len(w_shape) - 2
    pads = conv_padding(padding, w_shape[2:], dilation)
    fold = math.prod(fold_multiplicity(n, *p, padding_mode) for n, p in zip(x_shape[-rank:], pads))
    return {"grad_input": 2 * fold - 2} if fold > 1 else {}


def _rounded(got: Any, want: Any, dtype: Any) -> Tuple[Any, ...]:
    """The sides of a comparison that were rounded to ``dtype`` once: both, for a
    half-precision ``dtype`` (the bound is then one rounding per side, which for an
    unrounded reference is half an ulp more than it needs)."""
    return (got, want) if dtype_name(dtype) in HALF_TYPES else ()


def within_bound(got: Any, want: Any, scale: Any, terms: int, dtype: Any,
                 intermediate_roundings: int = 0) -> np.ndarray:
    """Elementwise: ``|got - want| <= error_bound`` (with one rounding of ``dtype`` per side
    for float16 / bfloat16, and ``intermediate_roundings``), or both NaN, or the same
    infinity."""
    g, w = np.asarray(got, np.float64), np.asarray(want, np.float64)
    with np.errstate(invalid="ignore"):
        close = np.abs(g - w) <= error_bound(scale, terms, dtype, _rounded(g, w, dtype), intermediate_roundings)
    return close | (np.isnan(g) & np.isnan(w)) | (np.isinf(w) & (g == w))


def _ratios(got: Any, want: Any, scale: Any, terms: int, dtype: Any,
            intermediate_roundings: int = 0) -> np.ndarray:
    """|got - want| / error_bound per element: 0 for equal non-finite values, inf for a
    non-finite value on one side only."""
    g, w = np.asarray(got, np.float64), np.asarray(want, np.float64)
    with np.errstate(invalid="ignore"):
        diff = np.abs(g - w)
    ok = within_bound(g, w, scale, terms, dtype, intermediate_roundings)
    bound = error_bound(scale, terms, dtype, _rounded(g, w, dtype), intermediate_roundings)
    return np.where(np.isfinite(diff), diff / bound, np.where(ok, 0.0, np.inf))


def share_of_bound(got: Any, want: Any, scale: Any, terms: int, dtype: Any,
                   intermediate_roundings: int = 0) -> float:
    """The worst element's ``|got - want| / error_bound`` (<= 1: within the bound; 0 when
    empty)."""
    return float(_ratios(got, want, scale, terms, dtype, intermediate_roundings).max(initial=0.0))


def assert_close(got: Any, want: Any, scale: Any, terms: int, dtype: Any,
                 name: str = "result", intermediate_roundings: int = 0) -> None:
    """AssertionError unless ``got`` has ``want``'s shape and every element is
    :func:`within_bound`; the message names the worst element."""
    g, w = np.asarray(got), np.asarray(want)
    assert g.shape == w.shape, f"{name}: shape {g.shape}, expected {w.shape}"
    ok = within_bound(g, w, scale, terms, dtype, intermediate_roundings)
    if not ok.all():
        ratios = _ratios(g, w, scale, terms, dtype, intermediate_roundings)
        i = np.unravel_index(np.argmax(np.where(ok, -1.0, ratios)), g.shape)
        g64, w64 = g.astype(np.float64), w.astype(np.float64)
        bound = np.broadcast_to(error_bound(scale, terms, dtype, _rounded(g64, w64, dtype), intermediate_roundings),
                                g.shape)
        raise AssertionError(
            f"{name}: {int((~ok).sum())} of {g.size} elements outside the dot-product bound "
            f"(K={terms}, dtype={dtype_name(dtype)}); worst at {tuple(int(j) for j in i)}: "
            f"got {g[i]!r}, expected {w[i]!r}, bound {bound[i]:.3e} ({ratios[i]:.1f}x)")


# --------------------------------------------------------------------------- speed baseline


def im2col(x: np.ndarray, kernel: Sequence[int], stride: Sequence[int], padding: Pads,
           dilation: Sequence[int], out: Optional[Sequence[int]] = None) -> np.ndarray:
    """Unfold (N, C, *spatial) ``x`` into (N, C*prod(kernel), prod(out)) columns, as
    ``torch.nn.functional.unfold``, in x's dtype. ``padding``: (before, after) per axis;
    ``out`` defaults to the convolution's output size."""
    n, c, *size = x.shape
    if out is None:
        out = [output_size(*a) for a in zip(size, kernel, stride, *zip(*padding), dilation)]
    xp = np.zeros((n, c, *(i + pb + pa for i, (pb, pa) in zip(size, padding))), dtype=x.dtype)
    xp[(Ellipsis,) + tuple(slice(pb, pb + i) for i, (pb, _) in zip(size, padding))] = x
    cols = np.empty((n, c, *kernel, *out), dtype=x.dtype)
    windows = [[slice(i * d, i * d + s * (o - 1) + 1, s) for i in range(k)]  # per axis and tap
               for k, d, s, o in zip(kernel, dilation, stride, out)]
    for t, window in zip(itertools.product(*map(range, kernel)), itertools.product(*windows)):
        cols[(slice(None), slice(None)) + t] = xp[(Ellipsis,) + window]
    return cols.reshape(n, c * math.prod(kernel), math.prod(out))


def col2im(cols: np.ndarray, size: Sequence[int], kernel: Sequence[int], stride: Sequence[int],
           padding: Pads, dilation: Sequence[int], out: Sequence[int]) -> np.ndarray:
    """Fold (N, C*prod(kernel), prod(size)) columns onto an (N, C, *out) image, the adjoint
    of :func:`im2col` (each column position scatter-adds into its window); ``padding``:
    (before, after) per axis, cropped off."""
    n, c = cols.shape[0], cols.shape[1] // math.prod(kernel)
    full = [max(o + pb + pa, (i - 1) * s + d * (k - 1) + 1) for o, (pb, pa), i, s, d, k in
            zip(out, padding, size, stride, dilation, kernel)]
    image = np.zeros((n, c, *full), dtype=cols.dtype)
    cols = cols.reshape(n, c, *kernel, *size)
    windows = [[slice(j * d, j * d + s * (i - 1) + 1, s) for j in range(k)]  # per axis and tap
               for k, d, s, i in zip(kernel, dilation, stride, size)]
    for t, window in zip(itertools.product(*map(range, kernel)), itertools.product(*windows)):
        image[(Ellipsis,) + window] += cols[(slice(None), slice(None)) + t]
    return image[(Ellipsis,) + tuple(slice(pb, pb + o) for o, (pb, _) in zip(out, padding))]


def gemm_weight_grad(a: np.ndarray, cols: np.ndarray, groups: int,
                     shape: Sequence[int]) -> np.ndarray:
    """A weight gradient as one GEMM per group: the sum over batch and pixels of ``a``
    (N, C_a, L) times the unfolded ``cols`` (N, C_k*prod(kernel), L), reshaped to ``shape``."""
    def by_group(m: np.ndarray) -> np.ndarray:
        n, c, l = m.shape
        return m.reshape(n, groups, c // groups, l).transpose(1, 2, 0, 3).reshape(groups, c // groups, n * l)
    return np.matmul(by_group(a), by_group(cols).transpose(0, 2, 1)).reshape(shape)


def baseline_conv(x: np.ndarray, w: np.ndarray, b: Optional[np.ndarray] = None, stride: Any = 1,
                  padding: Any = 0, dilation: Any = 1, groups: int = 1) -> np.ndarray:
    """conv as im2col + one matmul batched over groups, in x's dtype (batched input)."""
    n, rank, (c_out, c_g, *kernel) = x.shape[0], x.ndim - 2, w.shape
    s, d = per_axis(stride, rank), per_axis(dilation, rank)
    pads = conv_padding(padding, kernel, d)
    out = [output_size(*a) for a in zip(x.shape[2:], kernel, s, *zip(*pads), d)]
    taps = c_g * math.prod(kernel)
    cols = im2col(x, kernel, s, pads, d, out).reshape(n, groups, taps, math.prod(out))
    y = np.matmul(w.reshape(groups, c_out // groups, taps), cols).reshape(n, c_out, *out)
    return _add_bias(y, b)


def baseline_conv_transpose(x: np.ndarray, w: np.ndarray, b: Optional[np.ndarray] = None,
                            stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                            groups: int = 1, dilation: Any = 1) -> np.ndarray:
    """conv_transpose as one matmul (W^T x, batched over groups) + col2im, in x's dtype."""
    n, c_in, *size = x.shape
    rank, kernel = x.ndim - 2, w.shape[2:]
    s, d = per_axis(stride, rank), per_axis(dilation, rank)
    p, op = per_axis(padding, rank), per_axis(output_padding, rank)
    out = [transposed_output_size(*a) for a in zip(size, kernel, s, p, op, d)]
    wt = w.reshape(groups, c_in // groups, w[0].size).transpose(0, 2, 1)
    cols = np.matmul(wt, x.reshape(n, groups, c_in // groups, math.prod(size)))
    cols = cols.reshape(n, groups * w[0].size, math.prod(size))
    return _add_bias(col2im(cols, size, kernel, s, tuple((v, v) for v in p), d, out), b)


def baseline_conv_backward(go: np.ndarray, x: np.ndarray, w: np.ndarray, stride: Any = 1,
                           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Results:
    """(grad_input, grad_weight, grad_bias) of conv: col2im(W^T go), go @ im2col(x)^T, a sum."""
    n, rank, kernel = x.shape[0], x.ndim - 2, w.shape[2:]
    s, d = per_axis(stride, rank), per_axis(dilation, rank)
    pads = conv_padding(padding, kernel, d)
    c_out, out = go.shape[1], go.shape[2:]
    wt = w.reshape(groups, c_out // groups, w[0].size).transpose(0, 2, 1)
    cols = np.matmul(wt, go.reshape(n, groups, c_out // groups, math.prod(out)))
    cols = cols.reshape(n, groups * w[0].size, math.prod(out))
    gi = col2im(cols, out, kernel, s, pads, d, x.shape[2:])
    gw = gemm_weight_grad(go.reshape(n, c_out, math.prod(out)), im2col(x, kernel, s, pads, d, out),
                          groups, w.shape)
    return gi, gw, _bias_grad(go)


def baseline_conv_transpose_backward(go: np.ndarray, x: np.ndarray, w: np.ndarray,
                                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                                     groups: int = 1, dilation: Any = 1) -> Results:
    """(grad_input, grad_weight, grad_bias) of conv_transpose: a conv of go with W (cropped
    to x's size), x @ im2col(go)^T, a sum."""
    rank, kernel, size = x.ndim - 2, w.shape[2:], x.shape[2:]
    s, d, p = per_axis(stride, rank), per_axis(dilation, rank), per_axis(padding, rank)
    gi = baseline_conv(go, w, None, s, p, d, groups)[(Ellipsis,) + tuple(slice(0, i) for i in size)]
    cols = im2col(go, kernel, s, tuple((v, v) for v in p), d, size)
    gw = gemm_weight_grad(x.reshape(*x.shape[:2], math.prod(size)), cols, groups, w.shape)
    return gi, gw, _bias_grad(go)
