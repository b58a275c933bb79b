"""swiftconv.dask: chunked convolutions of dask arrays are bit for bit the in-memory call (ranks
1-3, every parameter, odd chunks and chunks smaller than the kernel, batch-only chunks,
transposed convs), the kernel is chosen once for the whole array, memory stays bounded by the
chunks, it runs on dask.distributed worker processes, and bad input gets clear errors.
Skipped when dask is not importable."""
from __future__ import annotations

import inspect
import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason="swiftconv.dask needs dask (pip install 'swiftconv[dask]')")

import swiftconv as sc  # noqa: E402
import swiftconv.dask as scd  # noqa: E402

PYTHON_DIR = Path(__file__).resolve().parents[1]
SIZES = {1: (37,), 2: (19, 23), 3: (9, 11, 10)}


def per_axis(value, rank):
    return tuple(value[:rank]) if isinstance(value, tuple) else value


def same_bits(a, b):
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def compute(y, scheduler="threads"):
    return y.compute(scheduler=scheduler)


def data(rank, n, c_in, c_out, groups, kernel, dtype, seed=0, transposed=False, bias=True):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c_in) + SIZES[rank]).astype(dtype)
    shape = (c_in, c_out // groups) if transposed else (c_out, c_in // groups)
    w = rng.standard_normal(shape + tuple(kernel[:rank])).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype) if bias else None
    return x, w, b


# (name, conv parameters, kernel): stride, padding (symmetric, asymmetric, "same" with even
# kernels, "valid", larger than the kernel), dilation, groups.
CONV_CASES = {
    "plain": (dict(), (3, 3, 3)),
    "strided": (dict(stride=(2, 3, 2), padding=(1, 0, 2)), (3, 2, 3)),
    "asymmetric": (dict(stride=(1, 2, 3), padding=((0, 2), (3, 1), (2, 0))), (3, 4, 2)),
    "same_even": (dict(padding="same", dilation=(2, 1, 3)), (4, 2, 3)),
    "valid_dilated": (dict(padding="valid", stride=(2, 1, 1), dilation=(2, 3, 1)), (3, 3, 2)),
    "grouped": (dict(stride=2, padding=1, groups=2), (3, 3, 3)),
    "depthwise": (dict(padding=1, groups=4), (3, 3, 3)),
    "pad_beyond_kernel": (dict(stride=(3, 4, 3), padding=((5, 6), (4, 7), (6, 5))), (1, 2, 1)),
}
# Spatial chunks: odd sizes, and sizes smaller than the kernel (a halo then spans chunks).
CHUNKS = {
    "odd": {1: (7,), 2: (7, 5), 3: (7, 5, 3)},
    "tiny": {1: (1,), 2: (1, 2), 3: (2, 1, 3)},  # 3-D: fewer blocks, still below the kernels
    "mixed": {1: ((5, 9, 1, 22),), 2: ((5, 9, 1, 4), (4, 1, 7, 11)), 3: ((1, 3, 5), (6, 1, 4), (2, 7, 1))},
}


def spatial_chunks(kind, rank):
    return CHUNKS[kind][rank]


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("case", sorted(CONV_CASES))
@pytest.mark.parametrize("chunks", ["odd", "tiny", "mixed"])
def test_conv_chunked_is_bit_identical(rank, case, chunks):
    params, kernel = CONV_CASES[case]
    params = {k: per_axis(v, rank) for k, v in params.items()}
    dtype = np.float32 if (rank + len(case)) % 2 else np.float64
    x, w, b = data(rank, 3, 4, 8 if case != "depthwise" else 4, params.get("groups", 1), kernel, dtype,
                   seed=rank, bias=case != "plain")
    fn, dfn = getattr(sc, f"conv{rank}d"), getattr(scd, f"conv{rank}d")
    expected = fn(x, w, b, **params)
    xd = da.from_array(x, chunks=(2, 4) + spatial_chunks(chunks, rank))
    y = dfn(xd, w, b, **params)
    assert y.shape == expected.shape and y.dtype == expected.dtype
    assert y.chunks[1] == (expected.shape[1],)
    assert same_bits(compute(y), expected)


@pytest.mark.parametrize("algorithm", ["direct", "im2col", "taps", "reference"])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_conv_named_algorithms(algorithm, rank):
    params = dict(stride=per_axis((1, 2, 1), rank), padding=per_axis(((2, 0), (1, 1), (0, 1)), rank),
                  dilation=per_axis((1, 1, 2), rank), groups=2)
    x, w, b = data(rank, 2, 4, 6, 2, (3, 3, 2), np.float32, seed=7)
    expected = getattr(sc, f"conv{rank}d")(x, w, b, **params, algorithm=algorithm)
    y = getattr(scd, f"conv{rank}d")(da.from_array(x, chunks=(1, 4) + spatial_chunks("odd", rank)), w, b,
                                     **params, algorithm=algorithm)
    assert same_bits(compute(y), expected)


# 1x1 convs cut into chunks of one pixel: on a 1x1 plane "auto" runs the dot products
# ("dot", their own summation order), elsewhere the GEMM ("im2col"); a chunk must run the
# whole call's kernel whatever its own size (reduce and expand layers, the SE shapes).
POINTWISE_LAYERS = [(64, 8), (8, 4), (8, 64), (48, 1152)]
POINTWISE_SPATIAL = {1: (6,), 2: (6, 6), 3: (3, 4, 2)}
POINTWISE_CHUNKS = {
    "one_pixel": {1: (1,), 2: (1, 1), 3: (1, 1, 1)},
    "multi_pixel": {1: ((2, 1, 3),), 2: ((2, 1, 3), (4, 2)), 3: ((2, 1), (3, 1), (2,))},
}


def pointwise_data(rank, n, c_in, c_out, spatial, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c_in) + spatial).astype(np.float32)
    w = rng.standard_normal((c_out, c_in) + (1,) * rank).astype(np.float32)
    return x, w, rng.standard_normal(c_out).astype(np.float32)


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("c_in,c_out", POINTWISE_LAYERS)
@pytest.mark.parametrize("chunks", sorted(POINTWISE_CHUNKS))
def test_pointwise_chunks_of_one_pixel(rank, c_in, c_out, chunks):
    """A 1x1 conv on a larger plane runs the GEMM; its one-pixel chunks must too, not the dot
    products "auto" would pick for a 1x1 plane of their own."""
    x, w, b = pointwise_data(rank, 3, c_in, c_out, POINTWISE_SPATIAL[rank], seed=c_in + rank)
    fn, dfn = getattr(sc, f"conv{rank}d"), getattr(scd, f"conv{rank}d")
    assert scd.resolved_algorithm(f"conv{rank}d", x.shape, x.dtype, w, b) == "im2col"
    expected = fn(x, w, b)
    xd = da.from_array(x, chunks=(2, c_in) + POINTWISE_CHUNKS[chunks][rank])
    assert same_bits(compute(dfn(xd, w, b)), expected)
    # Strided, padded beyond the kernel: many output chunks read one input pixel.
    params = dict(stride=3, padding=2)
    assert same_bits(compute(dfn(xd, w, b, **params)), fn(x, w, b, **params))


@pytest.mark.parametrize("c_in,c_out", POINTWISE_LAYERS)
def test_one_pixel_plane_runs_dot_in_every_chunk(c_in, c_out):
    """A 1x1 plane (a 1x1 conv on one pixel, a conv3d on a column of 1x1 planes): "auto"
    resolves to "dot" for the whole array, and every chunk (batch, depth) runs it."""
    x, w, b = pointwise_data(2, 5, c_in, c_out, (1, 1), seed=c_in)
    assert scd.resolved_algorithm("conv2d", x.shape, x.dtype, w, b) == "dot"
    y = scd.conv2d(da.from_array(x, chunks=(2, c_in, 1, 1)), w, b)
    assert same_bits(compute(y), sc.conv2d(x, w, b))
    x1 = x[..., 0]
    assert same_bits(compute(scd.conv1d(da.from_array(x1, chunks=(1, c_in, 1)), w[..., 0], b)), sc.conv1d(x1, w[..., 0], b))
    rng = np.random.default_rng(c_out)
    x3 = rng.standard_normal((2, c_in, 5, 1, 1)).astype(np.float32)
    w3 = rng.standard_normal((c_out, c_in, 1, 1, 1)).astype(np.float32)
    params = dict(padding=(1, 0, 0))  # (lowered: the planar conv is N x depth 1x1 planes)
    assert scd.resolved_algorithm("conv3d", x3.shape, x3.dtype, w3, b, **params) == "dot"
    y3 = scd.conv3d(da.from_array(x3, chunks=(1, c_in, 2, 1, 1)), w3, b, **params)
    assert same_bits(compute(y3), sc.conv3d(x3, w3, b, **params))


def test_named_dot_on_a_larger_plane_is_a_value_error():
    x, w, b = pointwise_data(2, 2, 8, 4, (6, 6), seed=1)
    with pytest.raises(ValueError, match="algorithm 'dot' computes only 1x1 convolutions of a single input pixel"):
        scd.conv2d(da.from_array(x, chunks=(1, 8, 1, 1)), w, b, algorithm="dot")


def test_conv_large_chunks_many_threads():
    """Multi-tile GEMMs and several engine threads inside each chunk."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 16, 150, 131)).astype(np.float32)
    w = rng.standard_normal((24, 16, 3, 3)).astype(np.float32)
    b = rng.standard_normal(24).astype(np.float32)
    before = sc.get_num_threads()
    try:
        sc.set_num_threads(3)
        expected = sc.conv2d(x, w, b, stride=(1, 2), padding=((1, 2), (0, 1)), dilation=(2, 1))
        y = scd.conv2d(da.from_array(x, chunks=(1, 16, 61, 47)), w, b, stride=(1, 2),
                       padding=((1, 2), (0, 1)), dilation=(2, 1))
        assert same_bits(compute(y), expected)
    finally:
        sc.set_num_threads(before)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_batch_only_chunks(rank):
    x, w, b = data(rank, 5, 4, 6, 2, (3, 2, 3), np.float32, seed=11)
    params = dict(stride=2, padding=1, groups=2)
    expected = getattr(sc, f"conv{rank}d")(x, w, b, **params)
    xd = da.from_array(x, chunks=(2,) + x.shape[1:])  # 2, 2, 1 images, spatial axes whole
    y = getattr(scd, f"conv{rank}d")(xd, w, b, **params)
    assert y.chunks[0] == (2, 2, 1) and all(len(c) == 1 for c in y.chunks[1:])
    assert same_bits(compute(y), expected)
    # transposed too (every kernel is batch-independent except 'scatter': see below)
    xt, wt, bt = data(rank, 5, 4, 6, 2, (3, 2, 3), np.float64, seed=12, transposed=True)
    tparams = dict(stride=2, padding=1, output_padding=1, groups=2)
    expected = getattr(sc, f"conv_transpose{rank}d")(xt, wt, bt, **tparams, algorithm="upsample")
    y = getattr(scd, f"conv_transpose{rank}d")(da.from_array(xt, chunks=(2,) + xt.shape[1:]), wt, bt, **tparams,
                                                algorithm="upsample")
    assert same_bits(compute(y), expected)


def test_unbatched_and_channel_chunks():
    x, w, b = data(2, 1, 6, 4, 1, (3, 3), np.float32, seed=5)
    expected = sc.conv2d(x[0], w, b, padding="same")
    y = scd.conv2d(da.from_array(x[0], chunks=(2, 5, 4)), w, b, padding="same")  # channels in 3 chunks
    assert y.shape == expected.shape and y.chunks[0] == (4,)
    assert same_bits(compute(y), expected)
    # numpy input goes through dask.array.asarray
    assert same_bits(compute(scd.conv2d(x, w, b, padding=1)), sc.conv2d(x, w, b, padding=1))


# Transposed: (parameters, kernel, algorithm). 'upsample' and 'reference' chunk exactly; "auto"
# where it resolves to 'upsample' (stride 1, small groups).
TRANSPOSE_CASES = {
    "upsample_strided": (dict(stride=(2, 3, 2), padding=(1, 0, 2), output_padding=(1, 2, 0)), (3, 3, 3), "upsample"),
    "upsample_dilated": (dict(stride=(1, 2, 2), padding=(1, 2, 1), output_padding=(1, 1, 0), dilation=(2, 3, 1)),
                         (3, 2, 4), "upsample"),
    "upsample_grouped": (dict(stride=2, padding=1, output_padding=1, groups=2), (4, 3, 3), "upsample"),
    "auto_stride1": (dict(padding=(1, 0, 2), dilation=(1, 2, 1)), (3, 3, 3), "auto"),
    "auto_depthwise": (dict(stride=2, padding=1, output_padding=1, groups=4), (3, 3, 3), "auto"),
    "reference": (dict(stride=(2, 1, 3), padding=(0, 1, 1), output_padding=(1, 0, 2)), (2, 3, 3), "reference"),
}


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("case", sorted(TRANSPOSE_CASES))
@pytest.mark.parametrize("chunks", ["odd", "tiny"])
def test_conv_transpose_chunked_is_bit_identical(rank, case, chunks):
    params, kernel, algorithm = TRANSPOSE_CASES[case]
    params = {k: per_axis(v, rank) for k, v in params.items()}
    groups = params.get("groups", 1)
    x, w, b = data(rank, 2, 4, 4 if groups == 4 else 6, groups, kernel, np.float32, seed=rank + 20,
                   transposed=True)
    if rank == 3:
        x = x[:, :, :5, :6, :5]
    expected = getattr(sc, f"conv_transpose{rank}d")(x, w, b, **params, algorithm=algorithm)
    y = getattr(scd, f"conv_transpose{rank}d")(da.from_array(x, chunks=(1, 4) + spatial_chunks(chunks, rank)),
                                                w, b, **params, algorithm=algorithm)
    assert scd.resolved_algorithm(f"conv_transpose{rank}d", x.shape, x.dtype, w, b, algorithm=algorithm,
                                  **params) in ("upsample", "depthwise", "reference")
    assert same_bits(compute(y), expected)


def test_conv_transpose_output_size():
    if "output_size" not in inspect.signature(sc.conv_transpose2d).parameters:
        pytest.skip("this swiftconv has no output_size")
    x, w, b = data(2, 2, 3, 2, 1, (3, 3), np.float32, seed=3, transposed=True)
    expected = sc.conv_transpose2d(x, w, b, stride=2, padding=1, output_size=(38, 46), algorithm="upsample")
    y = scd.conv_transpose2d(da.from_array(x, chunks=(1, 3, 4, 5)), w, b, stride=2, padding=1,
                             output_size=(38, 46), algorithm="upsample")
    assert same_bits(compute(y), expected)


def test_scatter_cannot_be_chunked():
    """The 'scatter' kernel adds an output's terms column tile by column tile of the whole call's
    (image, pixel) columns, so its rounding depends on the whole array's batch and size: no
    chunking reproduces it, and swiftconv.dask says so instead of returning other bits."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 8, 40, 40)).astype(np.float32)
    w = rng.standard_normal((8, 8, 3, 3)).astype(np.float32)
    whole = sc.conv_transpose2d(x, w, stride=2)  # "auto": scatter for this shape
    assert scd.resolved_algorithm("conv_transpose2d", x.shape, x.dtype, w, stride=2) == "scatter"
    # (The engine fact behind the refusal: if this ever holds, lift the NotImplementedError.)
    assert not same_bits(sc.conv_transpose2d(x[3:], w, stride=2), whole[3:]), \
        "the engine's 'scatter' became batch-independent: swiftconv.dask could chunk it"
    with pytest.raises(NotImplementedError, match=r"'scatter'.*algorithm='upsample'"):
        scd.conv_transpose2d(da.from_array(x, chunks=(2, 8, 40, 40)), w, stride=2)
    with pytest.raises(NotImplementedError, match="'scatter'"):
        scd.conv_transpose2d(da.from_array(x, chunks=(4, 8, 20, 40)), w, stride=2, algorithm="scatter")
    # One chunk over batch and space is the whole call.
    assert same_bits(compute(scd.conv_transpose2d(da.from_array(x, chunks=(4, 4, 40, 40)), w, stride=2)), whole)
    # The way out the message names.
    y = scd.conv_transpose2d(da.from_array(x, chunks=(1, 8, 13, 9)), w, stride=2, algorithm="upsample")
    assert same_bits(compute(y), sc.conv_transpose2d(x, w, stride=2, algorithm="upsample"))


def test_auto_is_resolved_once_for_the_whole_array():
    """'auto' may choose another kernel for a chunk's shape than for the whole array (here the
    whole call is 'scatter' because the zero-inserted input would be too large, a chunk's
    call would be 'upsample'), and the kernels round differently: so the kernel is resolved
    for the whole array and every chunk runs it."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 100, 100)).astype(np.float32)
    # (Two input channels per group: a depthwise layer gets the depthwise kernel at any size.)
    w = rng.standard_normal((4, 1, 3, 3)).astype(np.float32)
    params = dict(stride=4, padding=220, groups=2, dilation=100)
    assert scd.resolved_algorithm("conv_transpose2d", x.shape, x.dtype, w, **params) == "scatter"
    chunk_call = dict(params, padding=0)  # how a chunk is computed: no padding, then cropped
    assert scd.resolved_algorithm("conv_transpose2d", (1, 4, 50, 50), x.dtype, w, **chunk_call) == "upsample"
    assert not same_bits(sc.conv_transpose2d(x, w, **params, algorithm="scatter"),
                         sc.conv_transpose2d(x, w, **params, algorithm="upsample"))
    # Forward convs: the kernels disagree in their last bits too ('taps' vs 'im2col'), so a
    # named kernel is passed to every chunk; and "auto" resolves as the whole call does.
    x2 = rng.standard_normal((1, 8, 20, 20)).astype(np.float32)
    w2 = rng.standard_normal((8, 8, 3, 3)).astype(np.float32)
    assert not same_bits(sc.conv2d(x2, w2, algorithm="taps"), sc.conv2d(x2, w2, algorithm="im2col"))
    assert scd.resolved_algorithm("conv2d", (1, 8, 20000, 20000), np.float32, w2, padding=1) == \
        scd.resolved_algorithm("conv2d", (1, 8, 20, 20), np.float32, w2, padding=1)


def test_named_algorithm_is_resolved_for_the_whole_array_too():
    """A named "depthwise" (or "phase") is "auto" on a shape it does not run, and "auto"
    depends on the sizes: the kernel the whole call runs is what every chunk runs (here the
    whole call scatters, so chunking it is refused; a chunk alone would run "upsample")."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 100, 100)).astype(np.float32)
    w = rng.standard_normal((4, 1, 3, 3)).astype(np.float32)  # 2 input channels per group
    params = dict(stride=4, padding=220, groups=2, dilation=100)
    assert scd.resolved_algorithm("conv_transpose2d", x.shape, x.dtype, w, algorithm="depthwise", **params) == "scatter"
    assert scd.resolved_algorithm("conv_transpose2d", (1, 4, 50, 50), x.dtype, w, algorithm="depthwise",
                                  stride=4, padding=90, groups=2, dilation=100) == "upsample"
    with pytest.raises(NotImplementedError, match="algorithm='depthwise' chose it"):
        scd.conv_transpose2d(da.from_array(x, chunks=(1, 4, 50, 50)), w, algorithm="depthwise", **params)
    # A depthwise row too wide for the depthwise tiles: "direct" for the whole call and its chunks.
    xw = rng.standard_normal((1, 16, 6, 9000)).astype(np.float32)
    ww = rng.standard_normal((16, 1, 7, 7)).astype(np.float32)
    assert scd.resolved_algorithm("conv2d", xw.shape, xw.dtype, ww, algorithm="depthwise", padding=3, groups=16) == "direct"
    y = scd.conv2d(da.from_array(xw, chunks=(1, 16, 6, 500)), ww, algorithm="depthwise", padding=3, groups=16)
    assert same_bits(compute(y), sc.conv2d(xw, ww, algorithm="depthwise", padding=3, groups=16))


# Depthwise transposed convs on planes wider than the 56 columns where depthwise forward convs
# switch from the channel-vectorised tiles to the direct plane kernel (`KernelSelector.
# usesDepthwiseKernels`), cut into chunks narrower than that. "upsample" runs a stride-1 conv of
# the zero-inserted dy with the flipped kernel: the direct kernel skips the taps over its padding,
# the tiles add their zeros, which changes a -0.0 bias into +0.0 and a non-finite weight's
# padding taps into NaN. So the inner conv must not depend on the plane's width
# (`KernelSelector.upsampleInner`): the data below has both (zero rows and columns of dy, -0.0
# biases with all-negative inner taps, an infinite weight).
DEPTHWISE_TRANSPOSED = {  # (kernel, stride): (input height, width, chunks along H and W, padding)
    (3, 1): (9, 70, (4, 20), 1),
    (3, 2): (6, 40, (2, 10), 1),
    (5, 1): (9, 70, (4, 20), 2),
    (5, 2): (6, 40, (2, 10), 2),
}


def depthwise_transposed_data(channels, height, width, kernel, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, channels, height, width)).astype(dtype)
    x[:, :, :, :9] = 0   # zero columns at the left border (and inside the first chunks)
    x[:, :, :2] = 0      # zero rows at the top
    w = rng.standard_normal((channels, 1, kernel, kernel)).astype(dtype)
    w[::3] = -np.abs(w[::3])             # all-negative taps: -0.0 + 0 * w stays -0.0 ...
    w[::3, :, :, -1] = np.abs(w[::3, :, :, -1])  # ... until a positive tap adds +0.0 (the flipped
    # kernel's first column: over the padding for the outputs at the left border)
    w[1, 0, 0, 0] = np.inf
    b = rng.standard_normal(channels).astype(dtype)
    b[::3] = -0.0
    return x, w, b


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel,stride", sorted(DEPTHWISE_TRANSPOSED))
def test_depthwise_transposed_wide_plane_in_narrow_chunks(kernel, stride, dtype):
    height, width, (ch, cw), padding = DEPTHWISE_TRANSPOSED[(kernel, stride)]
    channels = 20  # a full and a partial block of the tiles' 16 (Double: 8) channels
    x, w, b = depthwise_transposed_data(channels, height, width, kernel, dtype, seed=kernel * 10 + stride)
    params = dict(stride=stride, padding=padding, output_padding=stride - 1, groups=channels)
    algorithms = ["upsample"] + (["auto"] if stride == 1 and kernel == 3 else [])
    for algorithm in algorithms:
        expected = sc.conv_transpose2d(x, w, b, **params, algorithm=algorithm)
        assert expected.shape[-1] > 56 and cw * stride < 56
        assert scd.resolved_algorithm("conv_transpose2d", x.shape, x.dtype, w, b, algorithm=algorithm,
                                      **params) == "upsample"
        assert np.isnan(expected).any() and np.signbit(expected[expected == 0]).any()  # the data hits both
        y = scd.conv_transpose2d(da.from_array(x, chunks=(1, channels, ch, cw)), w, b, **params, algorithm=algorithm)
        assert same_bits(compute(y), expected), algorithm


@pytest.mark.parametrize("width, kernel", [(80, "direct"), (56, "direct")])
def test_half_depthwise_forward_in_narrow_chunks(width, kernel):
    """A float16 depthwise 3x3 forward with 96+ channels runs float32's kernel, the direct
    planes from 56 wide (it once ran the depthwise tiles up to 64 wide: ConvPlan's forward
    step). The chunks, narrower, run the whole call's kernel, bit for bit, on data where the
    two kernels round differently (a -0.0 bias, a non-finite weight at the padding taps)."""
    channels = 96
    x, w, b = depthwise_transposed_data(channels, 9, width, 3, np.float32, seed=5)
    x, w, b = x.astype(np.float16), w.astype(np.float16), b.astype(np.float16)
    params = dict(padding=1, groups=channels)
    assert scd.resolved_algorithm("conv2d", x.shape, x.dtype, w, b, **params) == kernel
    expected = sc.conv2d(x, w, b, **params)
    other = "depthwise" if kernel == "direct" else "direct"
    assert not same_bits(sc.conv2d(x, w, b, **params, algorithm=other), expected)  # the data tells them apart
    y = scd.conv2d(da.from_array(x, chunks=(1, channels, 4, 20)), w, b, **params)
    assert same_bits(compute(y), expected)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("chunks", ["odd", "tiny"])
def test_padding_modes(mode, rank, chunks):
    if "padding_mode" not in inspect.signature(sc.conv2d).parameters:
        pytest.skip("this swiftconv has no padding_mode")
    x, w, b = data(rank, 2, 3, 4, 1, (3, 2, 3), np.float64, seed=9)
    params = dict(stride=per_axis((1, 2, 2), rank), padding=per_axis(((2, 1), (1, 0), (0, 2)), rank),
                  padding_mode=mode)
    expected = getattr(sc, f"conv{rank}d")(x, w, b, **params)
    y = getattr(scd, f"conv{rank}d")(da.from_array(x, chunks=(1, 3) + spatial_chunks(chunks, rank)), w, b, **params)
    assert same_bits(compute(y), expected)


def test_windows_are_stride_aligned_and_pad_only_at_the_ends():
    rng = np.random.default_rng(1)
    for _ in range(3000):
        length, k, s, d = (int(v) for v in (rng.integers(1, 30), rng.integers(1, 5), rng.integers(1, 4),
                                             rng.integers(1, 4)))
        pb, pa = (int(v) for v in rng.integers(0, 8, 2))
        cuts = np.unique(rng.integers(1, length + 1, rng.integers(0, 6)))
        chunks = tuple(np.diff(np.concatenate([[0], cuts[cuts < length], [length]])))
        size = (length + pb + pa - d * (k - 1) - 1) // s + 1
        windows = scd.conv_windows(length, k, s, d, pb, pa, chunks)
        if size <= 0:
            assert windows == []
            continue
        assert [w.o0 for w in windows][0] == 0 and windows[-1].o1 == size
        for w, nxt in zip(windows, windows[1:]):
            assert w.o1 == nxt.o0 and w.o1 > w.o0
        for w in windows:
            first = w.o0 - w.crop
            assert w.a - w.before == first * s - pb  # the chunk's outputs sit on the global grid
            assert 0 <= w.a < w.c <= length and w.before <= pb and w.after <= pa
            assert w.before == 0 or w.a == 0
            assert w.after == 0 or w.c == length
            computed = (w.c - w.a + w.before + w.after - d * (k - 1) - 1) // s + 1
            assert computed >= w.crop + (w.o1 - w.o0)


def test_output_chunks_follow_the_input_chunks():
    x = da.zeros((2, 3, 100, 90), chunks=(1, 3, 25, 30), dtype=np.float32)
    w = np.ones((4, 3, 3, 3), np.float32)
    assert scd.conv2d(x, w, padding="same").chunks == ((1, 1), (4,), (25,) * 4, (30,) * 3)
    assert scd.conv2d(x, w, padding=1, stride=(5, 2)).chunks[2:] == ((5,) * 4, (15,) * 3)
    assert scd.conv2d(x, w).chunks[2:] == ((25, 25, 25, 23), (30, 30, 28))
    wt = np.ones((3, 4, 2, 2), np.float32)
    assert scd.conv_transpose2d(x, wt, stride=2, algorithm="upsample").chunks[2:] == ((50,) * 4, (60,) * 3)


def test_graph_reads_halos_not_whole_neighbours():
    """Each output chunk reads its own input chunk and slices (halos) of its neighbours; the
    task count grows with the chunks, not with the array."""
    x = da.zeros((1, 2, 4000, 4000), chunks=(1, 2, 500, 500), dtype=np.float32)
    w = np.ones((2, 2, 3, 3), np.float32)
    y = scd.conv2d(x, w, padding=1)
    assert y.numblocks == (1, 1, 8, 8)
    layer = dict(y.dask.layers[y.name])
    halos = [k for k in layer if isinstance(k, tuple) and "halo" in k[0]]
    convs = [k for k in layer if isinstance(k, tuple) and k[0] == y.name]
    assert len(convs) == 64 and len(halos) <= 64 * 8


_MEMORY_PROBE = """
import json, tracemalloc
import numpy as np, dask.array as da, swiftconv.dask as scd
from dask.callbacks import Callback

class Held(Callback):
    peak = 0

    def _posttask(self, key, result, dsk, state, id):
        self.peak = max(self.peak, sum(getattr(v, "nbytes", 0) for v in state["cache"].values()))

w = np.full((2, 1, 3, 3), 1 / 9, np.float32)
# warm-up on a small array: the first computation's one-time state (imports, caches)
small = da.random.default_rng(1).random((1, 2, 512, 512), dtype=np.float32, chunks=(1, 2, 256, 256))
scd.conv2d(small, w, padding=1, groups=2).sum(dtype=np.float64).compute(scheduler="synchronous")
x = da.random.default_rng(0).random((1, 2, 4096, 4096), dtype=np.float32, chunks=(1, 2, 256, 256))
y = scd.conv2d(x, w, padding=1, groups=2)
held = Held()
tracemalloc.start()
with held:
    total = float(y.sum(dtype=np.float64).compute(scheduler="synchronous"))
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
overlap = Held()
with overlap:
    x.map_overlap(np.copy, depth={2: 1, 3: 1}, boundary=0).sum().compute(scheduler="synchronous")
print(json.dumps(dict(mean=total / y.size, held=held.peak, overlap=overlap.peak, traced=peak,
                      row=x.nbytes / x.numblocks[2], nbytes=x.nbytes)))
"""


def test_memory_stays_bounded_by_the_chunks():
    """A 128 MiB input (16 x 16 chunks of 0.5 MiB) convolved into a 128 MiB output and reduced:
    what is held between tasks stays within a few rows of chunks (the halo of a row of output
    chunks is the next row of input chunks), at most what dask's own map_overlap holds for the
    same halo, and NumPy's traced peak stays a fraction of the array.

    Measured in a fresh interpreter with PYTHONHASHSEED=0, after a warm-up on a small array:
    dask's task order (hence what is held) follows set iteration, i.e. the hash seed, and the
    first computation of a process allocates ~13 MiB of one-time state. Inside the test
    process these made the figures depend on the tests before it (held 14.7-22.3 MiB, traced
    peak 25-45 MiB), so an assertion about the adapter failed or passed by test order."""
    env = dict(os.environ, PYTHONHASHSEED="0",
               PYTHONPATH=os.pathsep.join(p for p in (str(PYTHON_DIR), os.environ.get("PYTHONPATH")) if p))
    out = subprocess.run([sys.executable, "-c", _MEMORY_PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    m = json.loads(out.stdout.strip().splitlines()[-1])
    assert abs(m["mean"] - 0.5) < 0.01
    assert m["held"] < 3 * m["row"], f"{m['held'] / 2**20:.1f} MiB held between tasks"
    assert m["held"] <= m["overlap"], (m["held"], m["overlap"])
    assert m["traced"] < m["nbytes"] / 4, f"traced peak {m['traced'] / 2**20:.1f} MiB"


def test_pickles():
    x, w, b = data(2, 2, 4, 4, 1, (3, 3), np.float32, seed=2)
    y = scd.conv2d(da.from_array(x, chunks=(1, 4, 6, 7)), w, b, stride=2, padding=((1, 0), (0, 2)))
    y2 = pickle.loads(pickle.dumps(y))
    assert same_bits(compute(y2), sc.conv2d(x, w, b, stride=2, padding=((1, 0), (0, 2))))
    pickle.dumps(scd._conv_block)  # the task function, by reference


def test_distributed_worker_processes(monkeypatch):
    distributed = pytest.importorskip("distributed", reason="needs dask.distributed (pip install 'dask[distributed]')")
    # Worker processes import swiftconv: give them this checkout, and one engine thread each.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(PYTHON_DIR), os.environ.get("PYTHONPATH"))
                                                      if p))
    monkeypatch.setenv("SWIFTCONV_NUM_THREADS", "1")
    start = time.monotonic()
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as client:
        pids = set(client.run(os.getpid).values())
        assert len(pids) == 2 and os.getpid() not in pids
        x, w, b = data(2, 2, 4, 6, 2, (3, 4), np.float32, seed=4)
        y = scd.conv2d(da.from_array(x, chunks=(1, 4, 5, 7)), w, b, stride=(2, 1), padding="valid",
                       dilation=(1, 2), groups=2)
        x3, w3, b3 = data(3, 2, 4, 6, 2, (3, 2, 3), np.float64, seed=5, transposed=True)
        y3 = scd.conv_transpose3d(da.from_array(x3, chunks=(1, 4, 4, 5, 3)), w3, b3, stride=2, padding=1,
                                  output_padding=1, groups=2, algorithm="upsample")
        with distributed.get_task_stream(client) as stream:
            out, out3 = client.compute([y, y3], sync=True)
        assert same_bits(out, sc.conv2d(x, w, b, stride=(2, 1), padding="valid", dilation=(1, 2), groups=2))
        assert same_bits(out3, sc.conv_transpose3d(x3, w3, b3, stride=2, padding=1, output_padding=1, groups=2,
                                                   algorithm="upsample"))
        # The conv tasks ran in the worker processes (their functions and arguments pickled).
        conv_tasks = [t for t in stream.data if "swiftconv-conv" in str(t["key"])]
        assert len(conv_tasks) == y.npartitions + y3.npartitions
        assert {t["worker"] for t in conv_tasks} <= set(client.scheduler_info()["workers"])
    assert time.monotonic() - start < 60


@pytest.mark.parametrize("half", ["float16", "bfloat16"])
def test_half_precision_is_bit_for_bit_the_in_memory_call(half):
    dt = sc.dtype(half) if half == "bfloat16" else np.dtype(half)
    x, w, b = data(2, 2, 4, 6, 2, (3, 3, 3), np.float32, seed=3)
    x, w, b = x.astype(dt), w.astype(dt), b.astype(dt)
    y = scd.conv2d(da.from_array(x, chunks=(1, 4, 5, 4)), w, b, stride=1, padding=1, groups=2)
    assert y.dtype == dt
    got = y.compute()
    want = sc.conv2d(x, w, b, stride=1, padding=1, groups=2)
    assert got.dtype == want.dtype == dt and got.tobytes() == want.tobytes()


def test_integer_dask_array_is_a_type_error():
    w = np.ones((2, 3, 3, 3), np.float32)
    with pytest.raises(TypeError, match=r"swiftconv.dask.conv2d: input is a dask array of dtype int64.*float32"):
        scd.conv2d(da.ones((1, 3, 8, 8), dtype=np.int64, chunks=4), w)
    with pytest.raises(TypeError, match="dtype int32"):
        scd.conv_transpose1d(da.ones((1, 2, 8), dtype=np.int32, chunks=4), np.ones((2, 2, 3), np.float32))
    with pytest.raises(TypeError, match="dtype complex64"):
        scd.conv1d(da.ones((1, 2, 8), dtype=np.complex64, chunks=4), np.ones((2, 2, 3), np.float32))
    with pytest.raises(TypeError, match=r"input type \(float16\) and weight type \(float32\) should be the same"):
        scd.conv1d(da.ones((1, 2, 8), dtype=np.float16, chunks=4), np.ones((2, 2, 3), np.float32))
    with pytest.raises(TypeError, match="weight is dtype int64"):
        scd.conv2d(da.ones((1, 3, 8, 8), dtype=np.float32, chunks=4), np.ones((2, 3, 3, 3), np.int64))
    with pytest.raises(TypeError, match="should be the same"):
        scd.conv2d(da.ones((1, 3, 8, 8), dtype=np.float32, chunks=4), np.ones((2, 3, 3, 3), np.float64))


def test_bad_shapes_and_parameters_are_value_errors():
    x = da.ones((1, 3, 8, 8), dtype=np.float32, chunks=4)
    with pytest.raises(ValueError, match=r"expected input\[1, 3, 8, 8\] to have 2 channels"):
        scd.conv2d(x, np.ones((4, 2, 3, 3), np.float32))
    with pytest.raises(ValueError, match="Kernel size can't be greater"):
        scd.conv2d(x, np.ones((4, 3, 9, 9), np.float32))
    with pytest.raises(ValueError):
        scd.conv2d(x, np.ones((4, 3, 3, 3), np.float32), stride=2, padding="same")
    with pytest.raises(ValueError):
        scd.conv3d(x, np.ones((4, 3, 3, 3, 3), np.float32))  # a 4-D input for conv3d
    unknown = da.ones((6, 3, 8, 8), dtype=np.float32, chunks=2)
    unknown = unknown[unknown[:, 0, 0, 0] > 0]
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        scd.conv2d(unknown, np.ones((4, 3, 3, 3), np.float32))


def test_import_swiftconv_does_not_import_dask():
    code = ("import sys, swiftconv; assert 'dask' not in sys.modules, sorted(m for m in sys.modules if 'dask' in m); "
            "import swiftconv.dask; assert 'dask.array' in sys.modules")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(PYTHON_DIR), os.environ.get("PYTHONPATH"))
                                                      if p))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)
