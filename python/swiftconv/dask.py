"""swiftconv for Dask: the convolutions on dask arrays, chunk by chunk, bit for bit the in-memory call.

    >>> import dask.array as da, swiftconv.dask as scd
    >>> x = da.random.default_rng(0).random((1, 3, 20000, 20000), dtype="float32", chunks=(1, 3, 2000, 2000))
    >>> y = scd.conv2d(x, w, b, padding=1)   # lazy; bit for bit swiftconv.conv2d(x.compute(), w, b, padding=1)
    >>> y.to_zarr("out.zarr")                 # memory bounded by a few chunks per worker

Every forward op of swiftconv (``conv{1,2,3}d``, ``conv_transpose{1,2,3}d``) with its arguments
(torch.nn.functional's order and semantics, every padding form). ``input`` is a dask array
(anything else goes through ``dask.array.asarray``) of shape (N, C, *spatial) or unbatched
(C, *spatial); ``weight`` and ``bias`` are small in-memory arrays (a dask array is computed
once). The result is a dask array of the input's dtype (float32, float64, float16 or
bfloat16: the half types are computed in float32 and rounded once per element, so chunking
changes no bit of them either).

How it is cut:
- the batch axis keeps the input's chunks; every batch chunk runs independently;
- the channel axis is one chunk (rechunked to one when it is not; the output's too);
- each spatial axis keeps the input's chunking, scaled by the stride: a conv's output chunk
  starts at output ``ceil(b / stride)`` for an input chunk starting at ``b`` (output chunk
  boundaries map to input offsets that are multiples of the stride; with stride 1 the output
  chunks are the input's, a "valid" conv shortening the last), a transposed conv's at
  ``b * stride - padding``. Each output chunk of a conv reads exactly its receptive field:
  the rows of the input chunks it needs (a halo of the dilated kernel extent, from as many
  neighbouring chunks as that takes, so chunks smaller than the kernel are fine),
  padded only where the whole call pads (padding_mode "reflect", "replicate", "circular":
  the padded array is built lazily with ``dask.array.pad``, the values the engine copies).
  For a transposed conv each output chunk reads the inputs that contribute to it, one more on
  each side, and keeps its part of their result.

Bit-identity: an output element of swiftconv depends only on its receptive field, summed in a
fixed order (the GEMM's reduction order depends only on its depth, the direct kernel sums its
taps in order, padding is padding in both the chunk's call and the whole call), so a chunk
computed this way has the bits of the whole call, *provided every chunk runs the same kernel*.
"auto" resolves per call and, for transposed convs, depends on the sizes (the "upsample"
formulation is taken only while its zero-inserted input is affordable), and different kernels
give different roundings. So "auto" is resolved once, for the whole array (``swiftconv.explain``
on the whole shape, which costs no memory), and every chunk runs that kernel:
``resolved_algorithm`` tells which. Each name is one kernel whatever the chunk's size: a
1x1 conv on a 1x1 plane resolves to "dot" (one dot product per output, its own order), on a
larger plane to "im2col" (always the GEMM, also for a chunk of one pixel); "upsample" runs its
inner conv on one kernel at every size (``KernelSelector.upsampleInner``: depthwise on the
direct kernel, never the depthwise tiles, which round a -0.0 bias or a non-finite weight
otherwise at the padding). One kernel breaks the premise: the transposed conv's
"scatter" adds an output's terms column tile by column tile of the whole call's (image, pixel)
columns, so its rounding depends on the whole array's batch and size; a chunked transposed
conv that resolves to "scatter" raises NotImplementedError (pass algorithm="upsample").

Runs on any dask scheduler, also ``dask.distributed`` with worker processes: the tasks are
top-level functions of this module (workers must be able to ``import swiftconv``). Each worker
runs the engine with ``swiftconv.get_num_threads()`` threads (every CPU by default; set
``SWIFTCONV_NUM_THREADS`` in the workers' environment to share the CPUs among processes).

Not imported by ``import swiftconv``; needs ``pip install 'swiftconv[dask]'`` (or dask[array]).
"""
from __future__ import annotations

if __name__ != "swiftconv.dask":  # e.g. python/swiftconv itself put on sys.path
    raise ImportError(f"swiftconv/dask.py was imported as the top-level module {__name__!r}: the folder "
                      "python/swiftconv is on sys.path; put its parent folder there instead and "
                      "import swiftconv.dask")

import itertools
import math
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

try:
    import dask.array as da  # the real Dask (absolute import)
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph
except ImportError as _error:  # pragma: no cover - depends on the environment
    raise ImportError("swiftconv.dask needs dask: pip install 'swiftconv[dask]' "
                      "(or pip install 'dask[array]')") from _error

import swiftconv as _sc

__all__ = [
    "conv1d", "conv2d", "conv3d",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "resolved_algorithm",
]

#: swiftconv's padding modes as numpy.pad's (the engine copies the same values: BorderPadding).
_NUMPY_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}
_CONV_KERNEL = re.compile(r"forward conv: (\w+)")
_TRANSPOSED_KERNEL = re.compile(r"transposed conv: (\w+)")


# ------------------------------------------------------------------ the tasks (top level: they pickle)

def _concat(pieces: Any, axis: int) -> np.ndarray:
    """The nested list `pieces` (one level per spatial axis, outermost first) as one array."""
    if isinstance(pieces, np.ndarray):
        return pieces
    parts = [_concat(p, axis + 1) for p in pieces]
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=axis)


def _halo(block: np.ndarray, index: Tuple[slice, ...]) -> np.ndarray:
    """A copy of part of a block (a copy, not a view: the block can be freed once its halos
    are taken, and only the halo travels between workers)."""
    return np.array(block[index], copy=True)


def _conv_block(op: str, pieces: Any, weight: np.ndarray, bias: Optional[np.ndarray], params: Dict[str, Any],
                crop: Tuple[Tuple[int, int], ...]) -> np.ndarray:
    """One output chunk: the chunk's part of the input (halos included) assembled from its
    pieces, convolved with the chunk's own padding / output_padding, and cropped to the chunk
    (`crop`: (start, count) per spatial axis)."""
    x = _concat(pieces, 2)
    y = getattr(_sc, op)(x, weight, bias, **params)
    index = (slice(None), slice(None)) + tuple(slice(s, s + n) for s, n in crop)
    y = y[index]
    return y if y.flags.c_contiguous else np.ascontiguousarray(y)


# ------------------------------------------------------------------ per-axis plans

class _Window:
    """One output chunk along one axis: outputs [o0, o1) are computed from the input rows
    [a, c), with `before`/`after` padding (conv) or `output_padding` (transposed); the call's
    own outputs start at `crop` (the first `crop` are dropped)."""
    __slots__ = ("o0", "o1", "a", "c", "before", "after", "output_padding", "crop")

    def __init__(self, o0: int, o1: int, a: int, c: int, before: int = 0, after: int = 0,
                 output_padding: int = 0, crop: int = 0) -> None:
        self.o0, self.o1, self.a, self.c = o0, o1, a, c
        self.before, self.after, self.output_padding, self.crop = before, after, output_padding, crop

    def __repr__(self) -> str:  # for debugging and the tests
        return (f"_Window(out=[{self.o0}, {self.o1}), in=[{self.a}, {self.c}), pad=({self.before}, {self.after}), "
                f"output_padding={self.output_padding}, crop={self.crop})")


def _bounds(chunks: Sequence[int]) -> List[int]:
    return [0] + list(itertools.accumulate(chunks))


def _output_cuts(starts: Sequence[int], size: int) -> List[int]:
    """Sorted distinct boundaries 0 < ... < size from output indices of input chunk starts."""
    cuts = sorted({0, size} | {min(size, max(0, s)) for s in starts})
    return cuts


def conv_windows(length: int, kernel: int, stride: int, dilation: int, pad_before: int, pad_after: int,
                 chunks: Sequence[int]) -> List[_Window]:
    """The output chunks of a conv along one axis and the input each one reads.

    Output o reads the padded positions [o*stride - pad_before, ... + dilation*(kernel-1)].
    Output chunks start at ceil(b / stride) for each input chunk start b (the output anchored
    at the first multiple of the stride in the input chunk). A chunk reads its receptive field; its
    padding is the part of it outside the input (only at the ends of the axis, where the whole
    call pads too). A chunk whose receptive field holds no input row at all (all padding, only
    possible with padding larger than the kernel's extent) is computed from a wider window,
    shifted by whole strides, that reaches one input row, and cropped.
    """
    extent = dilation * (kernel - 1)
    size = (length + pad_before + pad_after - extent - 1) // stride + 1
    if size <= 0:
        return []
    bounds = _bounds(chunks)
    cuts = _output_cuts([-(-b // stride) for b in bounds[1:-1]], size)
    windows = []
    for o0, o1 in zip(cuts[:-1], cuts[1:]):
        first = o0
        p0 = o0 * stride - pad_before
        p1 = (o1 - 1) * stride - pad_before + extent + 1
        if p1 <= 0:  # all before the input: reach its first row (extra outputs at the end are dropped)
            p1 = 1
        elif p0 >= length:  # all after the input: start at the last output whose field starts in it
            first = (length - 1 + pad_before) // stride
            p0 = first * stride - pad_before
        a, c = max(p0, 0), min(p1, length)
        windows.append(_Window(o0, o1, a, c, before=a - p0, after=p1 - c, crop=o0 - first))
    return windows


def transposed_windows(length: int, kernel: int, stride: int, dilation: int, padding: int, output_padding: int,
                       chunks: Sequence[int]) -> List[_Window]:
    """The output chunks of a transposed conv along one axis and the input each one reads.

    Input i contributes to outputs i*stride - padding + t*dilation (t < kernel). Output chunks
    start at b*stride - padding for each input chunk start b (where its first input lands). A chunk reads every input that
    contributes to it plus one more on each side (so that, in the zero-insertion view, every
    tap of its outputs sees what it sees in the whole call: a real value, an inserted zero or
    the padding at the ends), runs the transposed conv with no padding (output_padding at the
    end of the axis only) and keeps its part (`crop` = o0 + padding - a*stride).
    """
    extent = dilation * (kernel - 1)
    size = (length - 1) * stride - 2 * padding + extent + output_padding + 1
    if size <= 0 or length <= 0:
        return []
    bounds = _bounds(chunks)
    cuts = _output_cuts([b * stride - padding for b in bounds[1:-1]], size)
    windows = []
    for o0, o1 in zip(cuts[:-1], cuts[1:]):
        u0, u1 = o0 + padding, o1 + padding  # in the coordinates of the unpadded output
        a = min(-(-(u0 - extent) // stride) - 1, u0 // stride, length - 1)
        c = max((u1 - 1) // stride + 2, -(-(u1 - extent - 1) // stride) + 1)
        a, c = max(a, 0), min(c, length)
        windows.append(_Window(o0, o1, a, c, output_padding=output_padding if c == length else 0,
                               crop=u0 - a * stride))
    return windows


# ------------------------------------------------------------------ checks and resolution

def _engine_args(op: str, stride: Any, padding: Any, dilation: Any, groups: Any,
                 output_padding: Any) -> Dict[str, Any]:
    if op.startswith("conv_transpose"):
        return dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation)
    return dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


def _small_array(a: Any, op: str, name: str) -> Optional[np.ndarray]:
    if a is None:
        return None
    if isinstance(a, da.Array):
        a = a.compute()
    arr = np.asarray(a)
    _check_dtype(arr.dtype, op, name)
    return arr


def _check_dtype(dtype: np.dtype, op: str, name: str, dask_array: bool = False) -> None:
    if not _sc._is_engine_dtype(dtype):
        what = "a dask array of dtype" if dask_array else "dtype"
        raise TypeError(f"swiftconv.dask.{op}: {name} is {what} {dtype}; swiftconv takes float32, float64, "
                        f"float16 and bfloat16 only (convert explicitly, e.g. {name}.astype(numpy.float32))")


def _whole(shape: Tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A read-only array of `shape` that takes no memory (zero strides): enough to validate and
    plan the whole call (the engine copies nothing to plan)."""
    return np.broadcast_to(np.zeros((), dtype=dtype), shape)


def resolved_algorithm(op: str, shape: Sequence[int], dtype: Any, weight: Any, bias: Any = None,
                       algorithm: str = "auto", **params: Any) -> str:
    """The kernel the in-memory call ``swiftconv.<op>`` on an input of `shape` runs, read from
    the engine's plan for the whole shape (``swiftconv.explain``): "auto" resolved, and a named
    algorithm too, since "depthwise" and "phase" are "auto" on a shape they do not run (e.g. a
    depthwise row too wide for the depthwise tiles runs "direct", while a narrower chunk
    would run "depthwise"). Every chunk of ``swiftconv.dask.<op>`` runs this one."""
    text = _sc.explain(op, _whole(tuple(shape), np.dtype(dtype)), weight, bias, algorithm=algorithm, **params)
    if algorithm == "reference":  # (explained all the same: that validates the whole call)
        return algorithm
    found = (_TRANSPOSED_KERNEL if op.startswith("conv_transpose") else _CONV_KERNEL).search(text)
    if found is None or found.group(1) not in _sc.algorithms(op):  # pragma: no cover - engine text changed
        raise RuntimeError(f"swiftconv.dask.{op}: cannot read the kernel the engine chose from its plan:\n{text}\n"
                           "pass algorithm= explicitly")
    return found.group(1)


def _explicit_conv_padding(padding: Any, rank: int, op: str, kernel: Sequence[int],
                           dilation: Tuple[int, ...]) -> List[Tuple[int, int]]:
    """(before, after) per axis for every conv padding form (the engine's "same" rule: the
    extra element of an odd total goes at the end)."""
    mode, flat = _sc._padding(padding, rank, op)
    if mode == _sc._PAD_SAME:
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return [(t // 2, t - t // 2) for t in totals]
    if mode == _sc._PAD_VALID:
        return [(0, 0)] * rank
    return [(flat[2 * i], flat[2 * i + 1]) for i in range(rank)]


# ------------------------------------------------------------------ the graph

def _apply(op: str, input: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any, groups: Any,
           output_padding: Any, algorithm: str, padding_mode: str = "zeros",
           output_size: Optional[Sequence[int]] = None) -> "da.Array":
    rank = int(op[-2])
    transposed = op.startswith("conv_transpose")
    x = input if isinstance(input, da.Array) else da.asarray(input)
    _check_dtype(x.dtype, op, "input", dask_array=True)
    w = _small_array(weight, op, "weight")
    b = _small_array(bias, op, "bias")
    engine = _engine_args(op, stride, padding, dilation, groups, output_padding)
    extra: Dict[str, Any] = {}  # only what is not the default (older engines lack the names)
    if not (isinstance(padding_mode, str) and padding_mode == "zeros"):
        extra["padding_mode"] = padding_mode
    if output_size is not None:
        extra["output_size"] = output_size
    if x.ndim != rank + 2 and x.ndim != rank + 1:
        # The engine's message for this shape (nothing is computed: zero strides).
        getattr(_sc, op)(_whole(x.shape, x.dtype), w, b, **engine, **extra)
        raise ValueError(f"swiftconv.dask.{op}: expected a {rank + 1}-D or {rank + 2}-D input, got {x.ndim}-D")
    unbatched = x.ndim == rank + 1
    if unbatched:
        x = x[None]
    if any(math.isnan(c) for axis in x.chunks for c in axis):
        raise ValueError(f"swiftconv.dask.{op}: the input has unknown chunk sizes; call "
                         f"input.compute_chunk_sizes() first")
    # Validate the whole call (every shape and parameter rule, with the engine's messages) and
    # get the output's shape from a batch of 0 (nothing allocated), then resolve "auto" for the
    # whole shape.
    kernel_name = resolved_algorithm(op, x.shape, x.dtype, w, b, algorithm=algorithm, **engine, **extra)
    empty = getattr(_sc, op)(np.empty((0,) + x.shape[1:], dtype=x.dtype), w, b, **engine, **extra)
    out_shape = (x.shape[0],) + empty.shape[1:]
    if kernel_name == "scatter" and (len(x.chunks[0]) > 1 or any(len(c) > 1 for c in x.chunks[2:])):
        chosen = "" if algorithm == "scatter" else f" (algorithm={algorithm!r} chose it for this shape)"
        raise NotImplementedError(
            f"swiftconv.dask.{op}: the whole call runs the 'scatter' kernel{chosen}, which adds each "
            f"output's terms tile by tile of the whole array's (image, pixel) columns, so no cut into chunks "
            f"reproduces its rounding; pass algorithm='upsample' (the result is then bit for bit "
            f"swiftconv.{op}(..., algorithm='upsample') of the whole input, within the usual float error "
            f"of the 'scatter' result), or use one chunk over the batch and spatial axes")

    # Per axis: the output chunks and the input each one reads.
    kernel = w.shape[2:]
    stride_t = _sc._ints(stride, rank, op, "stride")
    dilation_t = _sc._ints(dilation, rank, op, "dilation")
    if transposed:
        padding_t = _sc._ints(padding, rank, op, "padding")
        # The output_padding the whole call used (output_size, when given, decides it).
        output_padding_t = tuple(out_shape[2 + i] - ((x.shape[2 + i] - 1) * stride_t[i] - 2 * padding_t[i]
                                                     + dilation_t[i] * (kernel[i] - 1) + 1) for i in range(rank))
        axes = [transposed_windows(x.shape[2 + i], kernel[i], stride_t[i], dilation_t[i], padding_t[i],
                                   output_padding_t[i], x.chunks[2 + i]) for i in range(rank)]
    else:
        pads = _explicit_conv_padding(padding, rank, op, kernel, dilation_t)
        if "padding_mode" in extra:
            # What the engine does: the padded input (reflected, replicated or wrapped: the
            # same values as numpy.pad's "reflect", "edge", "wrap"), then a conv that pads
            # nothing. The padded array is lazy: each chunk's halo reads what it needs.
            x = da.pad(x, [(0, 0), (0, 0)] + [tuple(p) for p in pads], mode=_NUMPY_PAD_MODES[padding_mode])
            pads = [(0, 0)] * rank
        axes = [conv_windows(x.shape[2 + i], kernel[i], stride_t[i], dilation_t[i], pads[i][0], pads[i][1],
                             x.chunks[2 + i]) for i in range(rank)]
    for i in range(rank):
        if out_shape[0] and sum(wd.o1 - wd.o0 for wd in axes[i]) != out_shape[2 + i]:  # pragma: no cover
            raise AssertionError(f"swiftconv.dask.{op}: internal error: axis {i} cut into {axes[i]} for an "
                                 f"output of {out_shape[2 + i]}")
    out_chunks = (x.chunks[0], (out_shape[1],)) + tuple(
        tuple(wd.o1 - wd.o0 for wd in axes[i]) or (out_shape[2 + i],) for i in range(rank))

    if x.shape[0] == 0 or any(s == 0 for s in out_shape):
        y = da.zeros(out_shape, chunks=out_chunks, dtype=x.dtype)
        return y[0] if unbatched else y

    if len(x.chunks[1]) > 1:  # the channel axis in one chunk
        x = x.rechunk({1: -1})

    token = tokenize(op, x.name, w, b, engine, extra, kernel_name)
    name = f"swiftconv-{op.replace('_', '-')}-{token}"
    halo = f"swiftconv-halo-{token}"
    wkey, bkey = (f"swiftconv-weight-{token}",), (f"swiftconv-bias-{token}",)
    dsk: Dict[Any, Any] = {wkey: w}
    if b is not None:
        dsk[bkey] = b
    in_bounds = [_bounds(x.chunks[2 + i]) for i in range(rank)]
    base = dict(engine, algorithm=kernel_name)
    base.pop("output_padding", None)

    for nb in range(len(x.chunks[0])):
        for out_index in itertools.product(*[range(len(ax)) for ax in axes]):
            windows = [axes[i][j] for i, j in enumerate(out_index)]
            per_axis = [_pieces(in_bounds[i], wd.a, wd.c) for i, wd in enumerate(windows)]
            params = dict(base)
            if transposed:
                # An axis in one piece runs with the call's own padding (nothing to crop);
                # a cut axis runs unpadded and crops.
                whole = [wd.a == 0 and wd.c == x.shape[2 + i] and wd.o0 == 0 and wd.o1 == out_shape[2 + i]
                         for i, wd in enumerate(windows)]
                params["padding"] = tuple(padding_t[i] if whole[i] else 0 for i in range(rank))
                params["output_padding"] = tuple(wd.output_padding for wd in windows)
                crop = tuple((0 if whole[i] else wd.crop, wd.o1 - wd.o0) for i, wd in enumerate(windows))
            else:
                params["padding"] = tuple((wd.before, wd.after) for wd in windows)
                crop = tuple((wd.crop, wd.o1 - wd.o0) for wd in windows)
            pieces = _nest(dsk, x.name, halo, nb, out_index, per_axis, ())
            dsk[(name, nb, 0) + out_index] = (_conv_block, op, pieces, wkey, bkey if b is not None else None,
                                              params, crop)

    graph = HighLevelGraph.from_collections(name, dsk, dependencies=[x])
    y = da.Array(graph, name, chunks=out_chunks, dtype=x.dtype, meta=np.empty((0,) * len(out_shape), x.dtype))
    return y[0] if unbatched else y


def _pieces(edges: Sequence[int], lo: int, hi: int) -> List[Tuple[int, slice, bool]]:
    """(input block, slice within it, whole block?) covering rows [lo, hi) of an axis whose
    blocks start at `edges`."""
    out = []
    first = max(0, int(np.searchsorted(edges, lo, side="right")) - 1)
    for blk in range(first, len(edges) - 1):
        s, e = edges[blk], edges[blk + 1]
        if s >= hi:
            break
        if e <= lo:
            continue
        a, c = max(lo, s), min(hi, e)
        out.append((blk, slice(a - s, c - s), a == s and c == e))
    return out


def _nest(dsk: Dict[Any, Any], xname: str, halo: str, nb: int, out_index: Tuple[int, ...],
          per_axis: List[List[Tuple[int, slice, bool]]], chosen: Tuple) -> Any:
    """The keys of one output chunk's input pieces, as nested lists (one level per spatial
    axis); a piece that is part of a block is a getitem task (so only the halo moves between
    workers), a whole block is the block's own key."""
    axis = len(chosen)
    if axis == len(per_axis):
        blocks = tuple(p[0] for p in chosen)
        key = (xname, nb, 0) + blocks
        if all(p[2] for p in chosen):
            return key
        piece_key = (halo, nb) + out_index + blocks
        dsk[piece_key] = (_halo, key, (slice(None), slice(None)) + tuple(p[1] for p in chosen))
        return piece_key
    return [_nest(dsk, xname, halo, nb, out_index, per_axis, chosen + (p,)) for p in per_axis[axis]]


# ------------------------------------------------------------------ the public functions

_CONV_DOC = """{r}-D convolution of a dask array, as ``swiftconv.conv{r}d`` (torch.nn.functional.conv{r}d).

    input: a dask array (N, C_in, {sp}) or unbatched (C_in, {sp}), float32 or float64;
    weight: (C_out, C_in/groups, {k}) and bias (C_out,): in-memory arrays. Every padding form
    and padding_mode of swiftconv.conv{r}d. Returns a lazy dask array, bit for bit
    ``swiftconv.conv{r}d`` of the whole input; "auto" is resolved once for the whole array
    (see ``resolved_algorithm``) and every chunk runs that kernel.
    """

_CONV_TRANSPOSE_DOC = """Transposed {r}-D convolution of a dask array, as ``swiftconv.conv_transpose{r}d``.

    Note PyTorch's argument order: groups comes before dilation. input: a dask array
    (N, C_in, {sp}) or unbatched; weight: (C_in, C_out/groups, {k}); bias: (C_out,);
    output_size as swiftconv's. Batch and spatial chunks are supported (each output chunk reads
    the inputs that contribute to it); the result is bit for bit
    ``swiftconv.conv_transpose{r}d`` of the whole input with the kernel "auto" resolves to
    for the whole array — except the "scatter" kernel (the usual choice for strides > 1),
    whose rounding depends on how the whole array is tiled: a chunked input then raises
    NotImplementedError; pass algorithm="upsample" (bit for bit the in-memory call with
    algorithm="upsample").
    """


def conv1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
           groups: int = 1, *, algorithm: str = "auto", padding_mode: str = "zeros") -> "da.Array":
    return _apply("conv1d", input, weight, bias, stride, padding, dilation, groups, 0, algorithm, padding_mode)


def conv2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
           groups: int = 1, *, algorithm: str = "auto", padding_mode: str = "zeros") -> "da.Array":
    return _apply("conv2d", input, weight, bias, stride, padding, dilation, groups, 0, algorithm, padding_mode)


def conv3d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
           groups: int = 1, *, algorithm: str = "auto", padding_mode: str = "zeros") -> "da.Array":
    return _apply("conv3d", input, weight, bias, stride, padding, dilation, groups, 0, algorithm, padding_mode)


def conv_transpose1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1, *, algorithm: str = "auto",
                     output_size: Optional[Sequence[int]] = None, padding_mode: str = "zeros") -> "da.Array":
    return _apply("conv_transpose1d", input, weight, bias, stride, padding, dilation, groups, output_padding,
                  algorithm, padding_mode, output_size)


def conv_transpose2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1, *, algorithm: str = "auto",
                     output_size: Optional[Sequence[int]] = None, padding_mode: str = "zeros") -> "da.Array":
    return _apply("conv_transpose2d", input, weight, bias, stride, padding, dilation, groups, output_padding,
                  algorithm, padding_mode, output_size)


def conv_transpose3d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1, *, algorithm: str = "auto",
                     output_size: Optional[Sequence[int]] = None, padding_mode: str = "zeros") -> "da.Array":
    return _apply("conv_transpose3d", input, weight, bias, stride, padding, dilation, groups, output_padding,
                  algorithm, padding_mode, output_size)


for _r in (1, 2, 3):
    _sp = {1: "L", 2: "H, W", 3: "D, H, W"}[_r]
    _k = {1: "kL", 2: "kH, kW", 3: "kD, kH, kW"}[_r]
    globals()[f"conv{_r}d"].__doc__ = _CONV_DOC.format(r=_r, sp=_sp, k=_k)
    globals()[f"conv_transpose{_r}d"].__doc__ = _CONV_TRANSPOSE_DOC.format(r=_r, sp=_sp, k=_k)
del _r, _sp, _k
