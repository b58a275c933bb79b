"""Channels-last memory (NLC, NHWC, NDHWC): read in place, results in the same layout.

An activation whose memory is (N, *spatial, C) C-contiguous, viewed as (N, C, *spatial)
(``x_nhwc.transpose(0, 3, 1, 2)``), is passed to the engine as it is, and the results are
channels-last too, as PyTorch's ``suggest_memory_format`` rule decides (CONTRACT.md "Memory
layouts"). Checked here: values and result strides against PyTorch's fixtures
(``*__cl_*``, every op and rank), that the engine reads the caller's buffer (no copy), bit
for bit equality with the channels-first call where the same kernel runs, the
channels-last GEMM against the reference and across thread counts, prepared objects,
half precision, mixed layouts.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import FORWARD_OPS, GRAD_NAMES, fixture_paths, load_case, op_rank
from test_parity import call_backward, call_forward, check_backward, check_forward, get_op
from _hardening import assert_matches_reference, reference, run

import swiftconv as sc
from swiftconv import _native
from swiftconv import _reference as R

CL_CASES = [p for p in fixture_paths() if "__cl_" in p.stem]


def channels_last(a: np.ndarray, r: int) -> np.ndarray:
    """The same values in a fresh channels-last array: (N, *spatial, C) (unbatched
    (*spatial, C); weights (C_out, *kernel, C_in/g)) allocated C-contiguous, returned as
    its transposed view."""
    c = a.ndim - r - 1
    order = [i for i in range(a.ndim) if i != c] + [c]
    m = np.empty([a.shape[i] for i in order], a.dtype)
    m[...] = a.transpose(order)
    return m.transpose(np.argsort(order))


def element_strides(a: np.ndarray) -> list:
    return [s // a.itemsize for s in a.strides]


def is_channels_last(a: np.ndarray, r: int) -> bool:
    return np.moveaxis(a, a.ndim - r - 1, -1).flags.c_contiguous


def test_every_op_and_rank_has_channels_last_fixtures():
    have = {p.stem.split("__")[0] for p in CL_CASES}
    assert have == {op for base in FORWARD_OPS for op in (base, base + "_backward")}, sorted(have)


def _arguments(params, arrays):
    r = op_rank(params["op"])
    layout = params["layout"]
    args = dict(arrays)
    for name in ("input", "weight", "grad_output"):
        if name in args and layout.get(name) == "channels_last":
            args[name] = channels_last(arrays[name], r)
            np.testing.assert_array_equal(args[name], arrays[name])
    return args


@pytest.mark.parametrize("path", CL_CASES, ids=[p.stem for p in CL_CASES])
def test_channels_last_fixture(path):
    """Values within the parity bound of torch's, and each result's strides those of
    torch's result; except where torch returns a contiguous result for channels-last
    arguments of its forward ops: 1-D and unbatched ones (it has no channels-last format
    for them: its result layout is an artefact of reshapes there) and some 3-D ones (only
    some of its CPU kernels propagate channels_last_3d: not 1x1, padding modes, float64),
    where ours is channels-last (README, "Differences from PyTorch")."""
    params, arrays = load_case(path)
    op, r = params["op"], op_rank(params["op"])
    args = _arguments(params, arrays)
    fn = get_op(op)
    forward = op in FORWARD_OPS
    res = (call_forward(fn, params, args),) if forward else call_backward(fn, params, args)
    names = ("output",) if forward else GRAD_NAMES
    torch_strides = params["torch_strides"]
    ours_cl = set()
    for name, got in zip(names, res):
        want = torch_strides[name]
        ours = element_strides(got)
        if ours != want:
            unbatched = arrays["input"].ndim == r + 1
            assert forward and (r != 2 or unbatched), f"{name}: strides {ours}, torch {want}"
            assert want == element_strides(np.empty(got.shape)), f"{name}: torch {want} is not contiguous"
            assert is_channels_last(got, r)
        if got.ndim > 1 and is_channels_last(got, r) and not got.flags.c_contiguous:
            ours_cl.add(name)
    # values (and the layout check of the parity suite, for the layout found above)
    if forward:
        check_forward(params, arrays, res[0], where="[channels_last] ", channels_last=ours_cl)
    else:
        check_backward(params, arrays, res, where="[channels_last] ", channels_last=ours_cl)


@pytest.mark.parametrize("path", CL_CASES, ids=[p.stem for p in CL_CASES])
def test_same_bits_as_channels_first_where_the_same_kernel_runs(path):
    """Where the plan converts the layout (no channels-last kernel for a step) or runs the
    channels-last GEMM on a 1x1 stride-1 window (the same sum over C_in in the same order),
    the results are bit for bit the channels-first call's."""
    params, arrays = load_case(path)
    op = params["op"]
    fn = get_op(op)
    args = _arguments(params, arrays)
    text = sc.explain(op, args["input"], args["weight"], grad_output=args.get("grad_output"), **params["kwargs"])
    if not same_kernels(text):
        pytest.skip("the channels-last kernels sum in another order: other bits (bound: test_channels_last_fixture)")
    forward = op in FORWARD_OPS
    got = (call_forward(fn, params, args),) if forward else call_backward(fn, params, args)
    want = (call_forward(fn, params, arrays),) if forward else call_backward(fn, params, arrays)
    for u, v in zip(got, want):
        np.testing.assert_array_equal(u, v)
        assert u.dtype == v.dtype


def same_kernels(explanation: str) -> bool:
    """Whether a channels-last plan computes what the channels-first one does, in the same
    order: it converts its activations (the channels-first kernels run), or runs the
    channels-last GEMM forward on a 1x1 stride-1 window (a sum over C_in either way)."""
    steps = [line for line in explanation.splitlines() if "channels-last gemm" in line or "channels-last grad" in line]
    return all("no unfolding" in line for line in steps) and "channel sums of the channels-last" not in explanation


def same_for_every_thread_count(call):
    """call() at 1, 2 and 3 threads (the count restored after): asserts that every result
    (a tuple of arrays, or one array) is bit for bit the same; returns the first."""
    threads = sc.get_num_threads()
    try:
        results = []
        for t in (1, 2, 3):
            sc.set_num_threads(t)
            results.append(call())
    finally:
        sc.set_num_threads(threads)
    for other in results[1:]:
        pairs = zip(other, results[0]) if isinstance(other, tuple) else [(other, results[0])]
        for u, v in pairs:
            np.testing.assert_array_equal(u, v)
    return results[0]


def _record(call):
    _native._test_record_buffers(1)
    try:
        call()
        return _native._test_record_buffers(0)
    finally:
        _native._test_record_buffers(0)


@pytest.mark.parametrize("r", (1, 2, 3))
def test_channels_last_input_is_not_copied(r):
    """The engine is given the caller's own memory for a channels-last input and
    grad_output (the shim's hook records the addresses it passes), for the function, a
    prepared object and the backward; a strided array that is not is copied."""
    rng = np.random.default_rng(r)
    sp = {1: (11,), 2: (9, 8), 3: (5, 6, 4)}[r]
    x = channels_last(rng.standard_normal((2, 16, *sp)).astype(np.float32), r)
    w = rng.standard_normal((32, 16, *(3,) * r)).astype(np.float32)
    conv = getattr(sc, f"conv{r}d")
    address = x.__array_interface__["data"][0]
    assert _record(lambda: conv(x, w, padding=1))[0] == address
    p = sc.prepare(f"conv{r}d", w, padding=1)
    assert _record(lambda: p(x))[0] == address
    y = conv(x, w, padding=1)
    assert is_channels_last(y, r)
    gy = channels_last(np.ones(y.shape, np.float32), r)
    back = getattr(sc, f"conv{r}d_backward")
    seen = _record(lambda: back(gy, x, w, padding=1))
    assert seen == (address, gy.__array_interface__["data"][0])
    # the unbatched form too
    xu = x[0]
    assert _record(lambda: conv(xu, w, padding=1))[0] == xu.__array_interface__["data"][0]
    # a channels-last array with gaps (every other channel) is channels-last by the rule
    # but not dense: copied
    wide = channels_last(rng.standard_normal((2, 32, *sp)).astype(np.float32), r)
    gappy = wide[:, ::2]
    assert _native.layout(gappy, r) == 1
    assert _record(lambda: conv(gappy, w, padding=1))[0] != gappy.__array_interface__["data"][0]
    np.testing.assert_array_equal(conv(gappy, w, padding=1), conv(np.ascontiguousarray(gappy), w, padding=1)
                                  if "channels-last gemm" not in sc.explain(f"conv{r}d", gappy, w, padding=1)
                                  else conv(channels_last(np.ascontiguousarray(gappy), r), w, padding=1))
    assert is_channels_last(conv(gappy, w, padding=1), r)


def test_the_recording_hook_is_off_by_default():
    x = np.ones((1, 2, 5, 5), np.float32)
    _native._test_record_buffers(1)
    sc.conv2d(x, np.ones((2, 2, 3, 3), np.float32))
    first = _native._test_record_buffers(0)
    sc.conv2d(x.copy(), np.ones((2, 2, 3, 3), np.float32))
    assert _native._test_record_buffers(-1) == first  # not armed: nothing recorded


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("groups,cin,cout,k,stride,pad,dil", [
    (1, 8, 16, 3, 1, 1, 1), (2, 16, 32, 3, 2, 1, 1), (1, 16, 16, 1, 1, 0, 1), (1, 8, 24, 1, 2, 0, 1),
    (4, 32, 64, 3, 1, 2, 2), (1, 9, 17, 5, (2, 1), (0, 3), (1, 2)), (1, 12, 40, (2, 4), 1, ((1, 0), (2, 3)), 1)])
def test_channels_last_gemm_against_the_reference(dtype, groups, cin, cout, k, stride, pad, dil):
    """The channels-last GEMM (checked to run, by explain) within the shared bound of the
    float64 reference, with and without bias, odd sizes, asymmetric padding; its results
    bit for bit the same for 1, 2 and 3 threads and for a prepared object."""
    rng = np.random.default_rng(groups * 100 + cin + cout)
    x = rng.standard_normal((3, cin, 13, 11)).astype(dtype)
    w = rng.standard_normal((cout, cin // groups) + ((k, k) if isinstance(k, int) else k)).astype(dtype)
    b = rng.standard_normal(cout).astype(dtype)
    xl = channels_last(x, 2)
    kw = dict(stride=stride, padding=pad, dilation=dil, groups=groups)
    assert "channels-last gemm" in sc.explain("conv2d", xl, w, b, **kw)
    y = same_for_every_thread_count(lambda: sc.conv2d(xl, w, b, **kw))
    assert is_channels_last(y, 2) and not y.flags.c_contiguous
    np.testing.assert_array_equal(sc.prepare("conv2d", w, b, **kw)(xl), y)
    ref = R.conv(x, w, b, **kw)
    scale = R.conv(np.abs(x), np.abs(w), np.abs(b), **kw)
    K = R.terms("conv2d", x.shape, w.shape, groups=groups, bias=True)[0]
    R.assert_close(y, ref, scale, K, dtype, name="channels-last gemm (expected: reference)")
    y0 = sc.conv2d(xl, w, **kw)  # no bias: every sum starts from zero
    R.assert_close(y0, ref - b[:, None, None], scale, K, dtype, name="without bias")


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("cin,cout,k,stride,pad,size", [
    (3, 64, 7, 2, 3, (46, 39)), (3, 32, 3, 2, 1, (41, 50)), (4, 16, 5, 1, 2, (23, 31)),
    (3, 16, (3, 11), (1, 2), (1, 4), (27, 60)), (4, 24, 9, 1, (0, 5), (20, 33))])
def test_channels_last_stem_packs_whole_kernel_rows(dtype, cin, cout, k, stride, pad, size):
    """Few input channels (the 3-channel stems): the channels-last GEMM reads the input in
    place (no conversion in explain, the caller's buffer, a channels-last result), packing a
    kernel row's taps as one run; within the reference's bound, with runs cut by the border,
    by output rows, and (9x9 over 4 channels: a patch of 324, two depth blocks of 162) by depth
    blocks; bit for bit the same for 1, 2 and 3 threads. The backward converts (the weight
    gradient packs one tap's channels per run)."""
    rng = np.random.default_rng(cin * 1000 + cout)
    x = rng.standard_normal((2, cin) + size).astype(dtype)
    w = rng.standard_normal((cout, cin) + ((k, k) if isinstance(k, int) else k)).astype(dtype)
    b = rng.standard_normal(cout).astype(dtype)
    xl = channels_last(x, 2)
    kw = dict(stride=stride, padding=pad)
    text = sc.explain("conv2d", xl, w, b, **kw)
    assert "channels-last gemm" in text and "-> channels-first" not in text, text
    assert _record(lambda: sc.conv2d(xl, w, b, **kw))[0] == xl.__array_interface__["data"][0]
    y = same_for_every_thread_count(lambda: sc.conv2d(xl, w, b, **kw))
    assert is_channels_last(y, 2) and not y.flags.c_contiguous
    ref = R.conv(x, w, b, **kw)
    scale = R.conv(np.abs(x), np.abs(w), np.abs(b), **kw)
    K = R.terms("conv2d", x.shape, w.shape, groups=1, bias=True)[0]
    R.assert_close(y, ref, scale, K, dtype, name="channels-last stem (expected: reference)")
    gy = channels_last(rng.standard_normal(y.shape).astype(dtype), 2)
    assert "channels-last gemm" not in sc.explain("conv2d_backward", xl, w, grad_output=gy, **kw)


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("n,groups,cin,cout,size", [
    (1, 1, 64, 96, (3, 5)), (1, 1, 192, 64, (7, 7)), (2, 1, 16, 96, (9, 10)), (1, 2, 48, 160, (4, 4)),
    (3, 1, 320, 40, (5, 3)), (1, 1, 960, 320, (2, 3))])
def test_channels_last_pointwise_backward_in_place(dtype, n, groups, cin, cout, size):
    """1x1 convolutions on channels-last activations: the forward (x read in place as the
    GEMM's rows), grad_input (dy x W, W read in place; also for weights far larger than the
    activations: the last case) and grad_weight (the operand with more channels read in
    place, either orientation) run on the caller's buffers with no conversion step; results
    channels-last, within the shared bound of the float64 reference, bit for bit the same
    for 1, 2 and 3 threads (small planes: the column split) and for the transposed conv."""
    rng = np.random.default_rng(n * 7 + cin + cout)
    x = rng.standard_normal((n, cin) + size).astype(dtype)
    w = rng.standard_normal((cout, cin // groups, 1, 1)).astype(dtype)
    gy = rng.standard_normal((n, cout) + size).astype(dtype)
    xl, gyl = channels_last(x, 2), channels_last(gy, 2)
    kw = dict(groups=groups)
    text = sc.explain("conv2d_backward", xl, w, grad_output=gyl, **kw)
    assert "dy x W" in text and ("dy^T x x" in text or "x^T x dy" in text) and "channels-first" not in text, text
    seen = _record(lambda: sc.conv2d_backward(gyl, xl, w, **kw))
    assert seen[0] == xl.__array_interface__["data"][0] and seen[1] == gyl.__array_interface__["data"][0]
    gx, gw, gb, y = same_for_every_thread_count(lambda: sc.conv2d_backward(gyl, xl, w, **kw) + (sc.conv2d(xl, w, **kw),))
    assert is_channels_last(gx, 2) and not gx.flags.c_contiguous
    assert_matches_reference((gx, gw, gb), "conv2d_backward", x, w, None, gy, **kw)
    assert_matches_reference((y,), "conv2d", x, w, None, None, **kw)
    # conv_transpose2d with the same weight, (C_out, C_in/g, 1, 1) read as (in, out/g, 1, 1),
    # is that adjoint: the same kernel, the same bits
    np.testing.assert_array_equal(sc.conv_transpose2d(gyl, w, groups=groups), gx)


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("n,groups,cin,cout,size,stride", [
    (2, 1, 16, 32, (9, 10), 2), (1, 1, 64, 128, (14, 14), 2), (3, 1, 24, 40, (7, 11), (2, 3)),
    (1, 2, 32, 64, (8, 8), 2), (1, 1, 256, 64, (6, 5), (3, 1)), (2, 1, 40, 320, (4, 4), 2)])
def test_channels_last_strided_pointwise_backward_in_place(dtype, n, groups, cin, cout, size, stride):
    """Strided 1x1 convolutions without padding (ResNet's shortcuts): grad_input (dy x W
    on the grid pixels, spread onto dx: the other pixels 0, or the transposed conv's bias)
    and grad_weight (x's grid pixels copied) read the caller's buffers, with no conversion
    step; results channels-last, within the reference's bound, bit for bit the same for 1,
    2 and 3 threads; the transposed conv (output_padding too) is the same kernel. Padded
    strided 1x1 convolutions still convert."""
    rng = np.random.default_rng(n * 7 + cin + cout)
    x = rng.standard_normal((n, cin) + size).astype(dtype)
    w = rng.standard_normal((cout, cin // groups, 1, 1)).astype(dtype)
    kw = dict(groups=groups, stride=stride)
    y = sc.conv2d(x, w, **kw)
    gy = rng.standard_normal(y.shape).astype(dtype)
    xl, gyl = channels_last(x, 2), channels_last(gy, 2)
    text = sc.explain("conv2d_backward", xl, w, grad_output=gyl, **kw)
    assert "strided 1x1" in text and "channels-first" not in text, text
    seen = _record(lambda: sc.conv2d_backward(gyl, xl, w, **kw))
    assert seen[0] == xl.__array_interface__["data"][0] and seen[1] == gyl.__array_interface__["data"][0]
    gx, gw, gb = same_for_every_thread_count(lambda: sc.conv2d_backward(gyl, xl, w, **kw))
    assert is_channels_last(gx, 2) and not gx.flags.c_contiguous
    assert_matches_reference((gx, gw, gb), "conv2d_backward", x, w, None, gy, **kw)
    # the transposed conv of grad_output (the output_padding that gives x's size): grad_input;
    # with a bias, every pixel off the grid is the bias
    s2 = (stride, stride) if isinstance(stride, int) else stride
    op = tuple(size[i] - (y.shape[2 + i] - 1) * s2[i] - 1 for i in range(2))
    np.testing.assert_array_equal(sc.conv_transpose2d(gyl, w, output_padding=op, **kw), gx)
    b = rng.standard_normal(cin).astype(dtype)
    text = sc.explain("conv_transpose2d", gyl, w, b, output_padding=op, **kw)
    assert "strided 1x1" in text and "channels-first" not in text, text
    yt = sc.conv_transpose2d(gyl, w, b, output_padding=op, **kw)
    assert is_channels_last(yt, 2)
    assert_matches_reference((yt,), "conv_transpose2d", gy, w, b, None, output_padding=op, **kw)
    padded = sc.explain("conv2d_backward", xl, w, grad_output=channels_last(
        np.ones(sc.conv2d(x, w, padding=1, **kw).shape, dtype), 2), padding=1, **kw)
    assert "strided 1x1" not in padded


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("n,groups,cin,cout,size,k,out_pad", [
    (1, 1, 32, 16, (9, 56), 2, 0), (2, 1, 48, 32, (4, 60), (3, 2), 0), (1, 2, 64, 32, (10, 56), 2, 1),
    (2, 1, 17, 40, (5, 57), (2, 3), (1, 2)), (1, 1, 128, 64, (7, 7), 2, 0)])
def test_channels_last_transposed_disjoint_windows_in_place(dtype, n, groups, cin, cout, size, k, out_pad):
    """Transposed convs whose windows do not overlap (kernel = stride, U-Net's 2x2 s2
    up-convolutions): the forward (dy rows of 56 pixels or more) is one 1x1 GEMM per tap
    written into the tap's pixels of the channels-last result, and its backward (grad_input: the strided conv of
    grad_output; grad_weight; grad_bias) runs on the channels-last arrays too where the GEMM
    has 512 rows or more; no conversion step (explain), the caller's buffers, channels-last
    results, within the reference's bound, bit for bit the same for 1, 2 and 3 threads and for a prepared object; pixels in
    no window (output_padding) are the bias."""
    rng = np.random.default_rng(n * 13 + cin + cout)
    kk = (k, k) if isinstance(k, int) else k
    x = rng.standard_normal((n, cin) + size).astype(dtype)
    w = rng.standard_normal((cin, cout // groups) + kk).astype(dtype)
    b = rng.standard_normal(cout).astype(dtype)
    kw = dict(stride=k, groups=groups, output_padding=out_pad)
    xl = channels_last(x, 2)
    text = sc.explain("conv_transpose2d", xl, w, b, **kw)
    if size[1] < 56:  # dy rows under 56 pixels: the forward converts (KernelSelector.disjointWindowsGemmShape)
        assert "channels-last -> channels-first" in text, text
    else:
        assert "windows that do not overlap" in text and "channels-first" not in text, text
        assert _record(lambda: sc.conv_transpose2d(xl, w, b, **kw))[0] == xl.__array_interface__["data"][0]
    y = same_for_every_thread_count(lambda: sc.conv_transpose2d(xl, w, b, **kw))
    assert is_channels_last(y, 2) and not y.flags.c_contiguous
    np.testing.assert_array_equal(sc.prepare("conv_transpose2d", w, b, **kw)(xl), y)
    assert_matches_reference((y,), "conv_transpose2d", x, w, b, None, **kw)
    assert_matches_reference((sc.conv_transpose2d(xl, w, **kw),), "conv_transpose2d", x, w, None, None, **kw)
    if out_pad != 0:  # the rows / columns past the windows: the bias alone
        op2 = (out_pad, out_pad) if isinstance(out_pad, int) else out_pad
        bias = b[None, :, None, None]
        np.testing.assert_array_equal(y[:, :, y.shape[2] - op2[0]:, :], np.broadcast_to(bias, (n, cout, op2[0], y.shape[3])))
        np.testing.assert_array_equal(y[:, :, :, y.shape[3] - op2[1]:], np.broadcast_to(bias, (n, cout, y.shape[2], op2[1])))
    gy = rng.standard_normal(y.shape).astype(dtype)
    gyl = channels_last(gy, 2)
    text = sc.explain("conv_transpose2d_backward", xl, w, b, gyl, **kw)
    if n * size[0] * size[1] < 512:  # few GEMM rows: the backward converts (KernelSelector.channelsLastTransposedBackward)
        assert "channels-last -> channels-first" in text, text
    else:
        assert "channels-first" not in text and "weight gradient: channels-last gemm" in text, text
        seen = _record(lambda: sc.conv_transpose2d_backward(gyl, xl, w, **kw))
        assert seen[0] == xl.__array_interface__["data"][0] and seen[1] == gyl.__array_interface__["data"][0]
    grads = same_for_every_thread_count(lambda: sc.conv_transpose2d_backward(gyl, xl, w, **kw))
    assert is_channels_last(grads[0], 2)
    assert_matches_reference(grads, "conv_transpose2d_backward", x, w, None, gy, **kw)


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("n,cin,cout,size", [(1, 64, 2, (23, 17)), (2, 16, 1, (9, 12)), (1, 40, 7, (6, 5))])
def test_channels_last_pointwise_few_output_channels_in_place(dtype, n, cin, cout, size):
    """1x1 layers with few output channels (U-Net's 64->2 head): the forward reads x in
    place as the GEMM's rows (the narrow B panel padded), no conversion, bit for bit the
    channels-first call's (the same sum over C_in) and the same for 1, 2 and 3 threads; the
    backward (which still converts) within the reference's bound."""
    rng = np.random.default_rng(n + cin * 3 + cout)
    x = rng.standard_normal((n, cin) + size).astype(dtype)
    w = rng.standard_normal((cout, cin, 1, 1)).astype(dtype)
    b = rng.standard_normal(cout).astype(dtype)
    gy = rng.standard_normal((n, cout) + size).astype(dtype)
    xl, gyl = channels_last(x, 2), channels_last(gy, 2)
    text = sc.explain("conv2d", xl, w, b)
    assert "channels-last gemm" in text and "channels-first" not in text, text
    assert _record(lambda: sc.conv2d(xl, w, b))[0] == xl.__array_interface__["data"][0]
    y = same_for_every_thread_count(lambda: sc.conv2d(xl, w, b))
    assert is_channels_last(y, 2) and (cout == 1 or not y.flags.c_contiguous)  # (one channel: both layouts)
    np.testing.assert_array_equal(y, sc.conv2d(x, w, b))
    grads = same_for_every_thread_count(lambda: sc.conv2d_backward(gyl, xl, w))
    assert is_channels_last(grads[0], 2)
    assert_matches_reference(grads, "conv2d_backward", x, w, None, gy)


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("n,groups,cin,cout,size,k,stride,pad", [
    (1, 1, 32, 16, (20, 19), 3, 1, 1), (2, 2, 64, 32, (12, 13), 3, 1, 1), (1, 1, 32, 24, (17, 15), (3, 5), 1, (0, 2)),
    (1, 1, 48, 32, (9, 11), 3, 1, 2)])
def test_channels_last_weight_gradient_from_the_blocked_copy(dtype, n, groups, cin, cout, size, k, stride, pad):
    """grad_weight of dense kxk layers where the depth (pixels) is large against C_out/g: B
    is read from a zero-bordered, channel-blocked copy made from the channels-last input
    (explain says so); within the reference's bound and bit for bit the same for 1, 2 and 3
    threads (with fewer channel blocks than threads the unfolded operand runs: the same
    sums in the same order)."""
    rng = np.random.default_rng(n * 11 + cin + cout)
    x = rng.standard_normal((n, cin) + size).astype(dtype)
    w = rng.standard_normal((cout, cin // groups) + ((k, k) if isinstance(k, int) else k)).astype(dtype)
    kw = dict(groups=groups, stride=stride, padding=pad)
    gy = rng.standard_normal(sc.conv2d(x, w, **kw).shape).astype(dtype)
    xl, gyl = channels_last(x, 2), channels_last(gy, 2)
    text = sc.explain("conv2d_backward", xl, w, grad_output=gyl, **kw)
    assert "channel-blocked copy of the channels-last input" in text and "channels-first" not in text, text
    grads = same_for_every_thread_count(lambda: sc.conv2d_backward(gyl, xl, w, **kw))
    assert is_channels_last(grads[0], 2)
    assert_matches_reference(grads, "conv2d_backward", x, w, None, gy, **kw)


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("n,cin,cout,size", [(1, 64, 32, (60, 58)), (2, 32, 16, (33, 64))])
def test_channels_last_large_plane_backward_in_place(dtype, n, cin, cout, size):
    """3x3 layers on large planes (U-Net's 112x112 ones): grad_input by the channels-last
    GEMM, grad_weight by the channels-first kernel's in-place route (dy transposed once to
    (C_out, pixels) rows, the channel-blocked copy filled from the channels-last x): no
    conversion of x or dx (explain), the caller's buffers; grad_weight bit for bit the
    channels-first call's (the same copy, the same GEMM), grad_input within the reference's
    bound, all the same for 1, 2 and 3 threads."""
    rng = np.random.default_rng(n + cin + cout)
    x = rng.standard_normal((n, cin) + size).astype(dtype)
    w = rng.standard_normal((cout, cin, 3, 3)).astype(dtype)
    gy = rng.standard_normal((n, cout) + size).astype(dtype)
    xl, gyl = channels_last(x, 2), channels_last(gy, 2)
    text = sc.explain("conv2d_backward", xl, w, grad_output=gyl, padding=1)
    assert "transposed once to (C_out, pixels) rows" in text and "channels-first" not in text, text
    seen = _record(lambda: sc.conv2d_backward(gyl, xl, w, padding=1))
    assert seen[0] == xl.__array_interface__["data"][0] and seen[1] == gyl.__array_interface__["data"][0]
    grads = same_for_every_thread_count(lambda: sc.conv2d_backward(gyl, xl, w, padding=1))
    assert is_channels_last(grads[0], 2)
    np.testing.assert_array_equal(grads[1], sc.conv2d_backward(gy, x, w, padding=1)[1])
    assert_matches_reference(grads, "conv2d_backward", x, w, None, gy, padding=1)


@pytest.mark.parametrize("n,cin,cout,size,bias", [(1, 64, 64, (16, 15), False), (2, 80, 96, (14, 17), False),
                                                   (1, 96, 64, (15, 14), True)])
def test_channels_last_grad_input_on_the_blocked_adjoint(n, cin, cout, size, bias):
    """3x3 stride-1 layers whose channels-first grad_input runs the channel-blocked adjoint
    (the flipped kernel packed from w): the channels-last conv2d_backward and the stride-1
    conv_transpose2d run it on the caller's channels-last dy and write dx in place (explain;
    no conversion), bit for bit the NCHW call's result, for 1, 2 and 3 threads, within the
    reference's bound; float64 (no channel-blocked kernel) keeps the channels-last GEMM, and
    so does a tier without the kernel (AVX2, baseline: within the bound)."""
    rng = np.random.default_rng(n * 7 + cin + cout)
    x = rng.standard_normal((n, cin) + size).astype(np.float32)
    w = rng.standard_normal((cout, cin, 3, 3)).astype(np.float32)
    gy = rng.standard_normal((n, cout) + size).astype(np.float32)
    xl, gyl = channels_last(x, 2), channels_last(gy, 2)
    text = sc.explain("conv2d_backward", xl, w, grad_output=gyl, padding=1)
    runs = "upsample, then forward conv: blocked" in sc.explain("conv2d_backward", x, w, grad_output=gy, padding=1)
    assert runs == ("AVX-512" in text)
    assert ("transposed conv: channels-last blocked of the stride-1 conv" in text) == runs, text
    assert "channels-last -> channels-first" not in text, text
    seen = _record(lambda: sc.conv2d_backward(gyl, xl, w, padding=1))
    assert seen[0] == xl.__array_interface__["data"][0] and seen[1] == gyl.__array_interface__["data"][0]
    grads = same_for_every_thread_count(lambda: sc.conv2d_backward(gyl, xl, w, padding=1))
    assert is_channels_last(grads[0], 2)
    if runs:
        np.testing.assert_array_equal(grads[0], sc.conv2d_backward(gy, x, w, padding=1, output_mask=(True, False, False))[0])
    assert_matches_reference(grads, "conv2d_backward", x, w, None, gy, padding=1)
    # The transposed conv of the same shape (weight (C_in, C_out, 3, 3) of the adjoint's layout).
    wt = np.ascontiguousarray(w)
    b = rng.standard_normal(cin).astype(np.float32) if bias else None
    text = sc.explain("conv_transpose2d", gyl, wt, b, padding=1)
    assert ("channels-last blocked of the stride-1 conv" in text) == runs and "channels-last -> channels-first" not in text, text
    y = same_for_every_thread_count(lambda: sc.conv_transpose2d(gyl, wt, b, padding=1))
    assert is_channels_last(y, 2)
    if runs:
        np.testing.assert_array_equal(y, sc.conv_transpose2d(gy, wt, b, padding=1))
    assert_matches_reference((y,), "conv_transpose2d", gy, wt, b, None, padding=1)
    text = sc.explain("conv2d_backward", xl.astype(np.float64), w.astype(np.float64), grad_output=gyl.astype(np.float64), padding=1)
    assert "transposed conv: channels-last gemm of the stride-1 conv" in text, text


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("n,groups,cin,cout,size", [(2, 1, 16, 96, (9, 10)), (2, 2, 32, 256, (9, 10)), (3, 1, 24, 144, (5, 5))])
def test_channels_last_pointwise_expand_weight_gradient(dtype, n, groups, cin, cout, size):
    """1x1 expand layers (C_out/g well over C_in/g): grad_weight as x^T x dy with x transposed
    once to (C_in, pixels) rows and dy read in place (explain), within the reference's
    bound, the same bits for 1, 2 and 3 threads."""
    rng = np.random.default_rng(n + cin + cout + groups)
    x = rng.standard_normal((n, cin) + size).astype(dtype)
    w = rng.standard_normal((cout, cin // groups, 1, 1)).astype(dtype)
    gy = rng.standard_normal((n, cout) + size).astype(dtype)
    xl, gyl = channels_last(x, 2), channels_last(gy, 2)
    text = sc.explain("conv2d_backward", xl, w, grad_output=gyl, groups=groups)
    assert "weight gradient: channels-last gemm, x^T x dy (1x1: x transposed once" in text, text
    grads = same_for_every_thread_count(lambda: sc.conv2d_backward(gyl, xl, w, groups=groups))
    assert_matches_reference(grads, "conv2d_backward", x, w, None, gy, groups=groups)


def test_channels_last_blocked_adjoint_where_nchw_runs_the_gemm():
    """More than 256 layer input channels on a small call: the channels-first grad_input
    runs the im2col GEMM (its size rule), the channels-last one the channel-blocked adjoint
    in place (it fits; the channels-last GEMM is slower than either): within the reference's
    bound, the same bits for 1, 2 and 3 threads."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 272, 14, 15)).astype(np.float32)
    w = rng.standard_normal((64, 272, 3, 3)).astype(np.float32)
    gy = rng.standard_normal((1, 64, 14, 15)).astype(np.float32)
    xl, gyl = channels_last(x, 2), channels_last(gy, 2)
    text = sc.explain("conv2d_backward", xl, w, grad_output=gyl, padding=1)
    first = sc.explain("conv2d_backward", x, w, grad_output=gy, padding=1)
    assert "upsample, then forward conv: blocked" not in first, first
    assert ("transposed conv: channels-last blocked" in text) == ("AVX-512" in text), text
    assert "channels-last -> channels-first" not in text, text
    grads = same_for_every_thread_count(lambda: sc.conv2d_backward(gyl, xl, w, padding=1))
    assert is_channels_last(grads[0], 2)
    assert_matches_reference(grads, "conv2d_backward", x, w, None, gy, padding=1)


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("n,cin,cout,size", [(2, 64, 2, (12, 11)), (1, 32, 5, (9, 7)), (3, 16, 1, (4, 6))])
def test_channels_last_pointwise_backward_with_few_output_channels(dtype, n, cin, cout, size):
    """1x1 layers with fewer than 8 output channels (U-Net's head, 64->2) whose forward runs
    in place: grad_input (dy x W, depth C_out) and grad_weight run in place too (explain: no
    conversion; the caller's buffers), within the reference's bound, the same bits for 1, 2
    and 3 threads."""
    rng = np.random.default_rng(n + cin + cout)
    x = rng.standard_normal((n, cin) + size).astype(dtype)
    w = rng.standard_normal((cout, cin, 1, 1)).astype(dtype)
    gy = rng.standard_normal((n, cout) + size).astype(dtype)
    xl, gyl = channels_last(x, 2), channels_last(gy, 2)
    text = sc.explain("conv2d_backward", xl, w, grad_output=gyl)
    assert "read and written in place" in text and "channels-last -> channels-first" not in text, text
    assert "transposed conv: channels-last gemm, dy x W" in text, text
    seen = _record(lambda: sc.conv2d_backward(gyl, xl, w))
    assert seen[0] == xl.__array_interface__["data"][0] and seen[1] == gyl.__array_interface__["data"][0]
    grads = same_for_every_thread_count(lambda: sc.conv2d_backward(gyl, xl, w))
    assert is_channels_last(grads[0], 2)
    assert_matches_reference(grads, "conv2d_backward", x, w, None, gy)


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("n,groups,cin,cout,size,k,stride,pad,dilation", [
    (4, 1, 32, 64, (7, 7), 3, 1, 1, 1), (3, 1, 16, 48, (6, 9), 3, 1, 0, 1), (2, 2, 64, 64, (5, 6), 3, 1, 2, 2),
    (5, 1, 48, 64, (6, 7), 5, 1, 2, 1)])
def test_channels_last_unfolded_weight_gradient_whole_panels(dtype, n, groups, cin, cout, size, k, stride, pad, dilation):
    """grad_weight by dy^T x unfold(x) on the channels-last arrays, with C_in/g a multiple of
    the panel width (each B panel one tap's channels: one 64-byte copy per pixel, zeros in
    the padding, the pixel stepped across rows and images) and dy^T packed once per group:
    within the reference's bound, the same bits for 1, 2 and 3 threads."""
    rng = np.random.default_rng(n * 13 + cin + cout + k)
    x = rng.standard_normal((n, cin) + size).astype(dtype)
    w = rng.standard_normal((cout, cin // groups, k, k)).astype(dtype)
    kw = dict(groups=groups, stride=stride, padding=pad, dilation=dilation)
    gy = rng.standard_normal(sc.conv2d(x, w, **kw).shape).astype(dtype)
    xl, gyl = channels_last(x, 2), channels_last(gy, 2)
    text = sc.explain("conv2d_backward", xl, w, grad_output=gyl, **kw)
    assert "weight gradient: channels-last gemm, dy^T x unfold(x) from the channels-last arrays in place" in text, text
    grads = same_for_every_thread_count(lambda: sc.conv2d_backward(gyl, xl, w, **kw))
    assert_matches_reference(grads, "conv2d_backward", x, w, None, gy, **kw)


DEPTHWISE_CASES = [
    # (rank, batch, channels, size, kernel, stride, padding, dilation)
    (2, 3, 16, (9, 8), 3, 1, 1, 1), (2, 2, 20, (13, 11), 5, 2, ((2, 0), (1, 3)), 1),
    (2, 1, 37, (12, 12), 7, 3, 3, 1), (2, 2, 96, (15, 14), 3, (2, 1), (0, 2), (1, 2)),
    (2, 1, 24, (6, 7), 1, 2, 0, 1), (2, 2, 33, (5, 4), (2, 4), 1, ((1, 0), (2, 3)), 2),
    (1, 2, 40, (29,), 5, 2, 2, 1), (1, 3, 17, (11,), 3, 1, ((0, 3),), 2),
]


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("r,n,c,size,k,stride,pad,dil", DEPTHWISE_CASES)
def test_channels_last_depthwise_in_place(dtype, r, n, c, size, k, stride, pad, dil):
    """Depthwise (multiplier 1, at least 16 channels) on channels-last activations runs in
    place on the depthwise loops for every op: the plan has no conversion step (explain),
    the engine is given the caller's buffers (the recording hook), the results are
    channels-last, within the shared bound of the float64 reference, and bit for bit the
    same for 1, 2 and 3 threads."""
    rng = np.random.default_rng(n * 1000 + c * 10 + r)
    kernel = (k,) * r if isinstance(k, int) else k
    x = rng.standard_normal((n, c, *size)).astype(dtype)
    w = rng.standard_normal((c, 1, *kernel)).astype(dtype)
    b = rng.standard_normal(c).astype(dtype)
    xl = channels_last(x, r)
    kw = dict(stride=stride, padding=pad, dilation=dil, groups=c)
    conv, back = f"conv{r}d", f"conv{r}d_backward"
    gy = rng.standard_normal(reference(conv, x, w, **kw)[0].shape).astype(dtype)
    gyl = channels_last(gy, r)
    # the transposed conv of the same geometry (its input is the conv's output)
    tkw = dict(stride=stride, dilation=dil, groups=c, padding=pad if isinstance(pad, int) else 0)
    convt, backt = f"conv_transpose{r}d", f"conv_transpose{r}d_backward"
    gt = rng.standard_normal(reference(convt, gy, w, **tkw)[0].shape).astype(dtype)
    gtl = channels_last(gt, r)
    calls = [(conv, xl, b, None, kw, x, None), (back, xl, None, gyl, kw, x, gy),
             (convt, gyl, b, None, tkw, gy, None), (backt, gyl, None, gtl, tkw, gy, gt)]
    threads = sc.get_num_threads()
    try:
        for op, xi, bi, gi, params, x_ref, g_ref in calls:
            text = sc.explain(op, xi, w, bi, grad_output=gi, **params)
            assert "channels-last depthwise" in text and "read and written in place" in text, text
            assert "channels-first" not in text, text
            seen = _record(lambda: run(op, xi, w, bi, gi, **params))
            assert seen[0] == xi.__array_interface__["data"][0], op
            if gi is not None:
                assert seen[1] == gi.__array_interface__["data"][0], op
            results = []
            for t in (1, 2, 3):
                sc.set_num_threads(t)
                results.append(run(op, xi, w, bi, gi, **params))
            for other in results[1:]:
                for u, v in zip(other, results[0]):
                    np.testing.assert_array_equal(u, v)
            got = results[0]
            assert is_channels_last(got[0], r) and not got[0].flags.c_contiguous, op
            assert_matches_reference(got, op, x_ref, w, bi, g_ref, **params)
    finally:
        sc.set_num_threads(threads)


DEPTHWISE_TILE_CASES = [
    # (batch, channels, size, kernel, stride, padding): stride 1 (forward and adjoint tiled),
    # and strided inputs of at least 2 MB with planes of at most 56x56 (forward tiled:
    # KernelSelector.channelsLastDepthwiseTiles; float32), partial last channel blocks, enough
    # rows and channels for several row blocks and runs of channel blocks
    # (ChannelsLastDepthwise.Split).
    (2, 168, (40, 40), 3, 2, 1), (1, 200, (23, 30), 5, 1, 2), (3, 480, (14, 14), 5, 1, 2),
    (6, 168, (48, 47), 3, 2, 1), (2, 1152, (7, 7), 3, 1, 1), (2, 40, (30, 28), 3, 1, (0, 2)),
]


@pytest.mark.parametrize("n,c,size,k,stride,pad", DEPTHWISE_TILE_CASES)
def test_channels_last_depthwise_tiles_give_the_channels_first_bits(n, c, size, k, stride, pad):
    """The channels-last depthwise forward and (stride 1) grad_input on channel-interleaved
    tiles (ChannelsLastDepthwise) sum every tap in the channels-first tiles' order: the NCHW
    call's bits, for 1, 2 and 3 threads, within the reference bound; the engine still
    reads the caller's buffers. (The strided grad_input runs in place: within the bound.)"""
    rng = np.random.default_rng(n * 100 + c + k)
    x = rng.standard_normal((n, c, *size)).astype(np.float32)
    w = rng.standard_normal((c, 1, k, k)).astype(np.float32)
    b = rng.standard_normal(c).astype(np.float32)
    kw = dict(stride=stride, padding=pad, groups=c)
    gy = rng.standard_normal(reference("conv2d", x, w, **kw)[0].shape).astype(np.float32)
    xl, gyl = channels_last(x, 2), channels_last(gy, 2)
    assert "depthwise" in sc.explain("conv2d", x, w, b, **kw)
    seen = _record(lambda: sc.conv2d(xl, w, b, **kw))
    assert seen[0] == xl.__array_interface__["data"][0]
    want_y = sc.conv2d(x, w, b, **kw)
    want_dx = sc.conv2d_backward(gy, x, w, **kw, output_mask=(True, False, False))[0]
    threads, dxs = sc.get_num_threads(), []
    try:
        for t in (1, 2, 3):
            sc.set_num_threads(t)
            y = sc.conv2d(xl, w, b, **kw)
            dx = sc.conv2d_backward(gyl, xl, w, **kw, output_mask=(True, False, False))[0]
            assert is_channels_last(y, 2) and is_channels_last(dx, 2)
            np.testing.assert_array_equal(y, want_y)
            if stride == 1:
                np.testing.assert_array_equal(dx, want_dx)
            dxs.append(dx)
    finally:
        sc.set_num_threads(threads)
    for other in dxs[1:]:
        np.testing.assert_array_equal(other, dxs[0])
    assert_matches_reference((y,), "conv2d", x, w, b, None, **kw)
    assert_matches_reference(sc.conv2d_backward(gyl, xl, w, **kw), "conv2d_backward", x, w, None, gy, **kw)


def test_channels_last_depthwise_conversions_left():
    """What still converts: fewer channels than a 16-float block, a named other algorithm,
    a padding mode, 3-D; the in-place path for the rest (also the plain 3x3 layer the
    channels-first plan leaves on the plane kernel)."""
    def text(c, r=2, **kw):
        x = channels_last(np.ones((1, c) + (6,) * r, np.float32), r)
        return sc.explain(f"conv{r}d", x, np.ones((c, 1) + (3,) * r, np.float32), groups=c, padding=1, **kw)
    assert "channels-last -> channels-first" in text(15)
    assert "channels-last -> channels-first" in text(16, algorithm="direct")
    assert "channels-last -> channels-first" in text(16, padding_mode="reflect")
    assert "channels-last -> channels-first" in text(16, r=3)
    assert "channels-last depthwise" in text(16) and "channels-last depthwise" in text(16, algorithm="depthwise")
    x = channels_last(np.ones((1, 32, 112, 112), np.float32), 2)
    assert "channels-last depthwise" in sc.explain("conv2d", x, np.ones((32, 1, 3, 3), np.float32), groups=32, padding=1)


BLOCKED_CASES = [
    # (batch, cin, cout, size, kernel, stride, padding, dilation, algorithm): "auto" takes the
    # channel-blocked conv for these (KernelSelector.channelBlockedWins); the named ones have
    # partial channel blocks and panels, other windows, strides and dilations.
    (1, 64, 64, (20, 18), 3, 1, 1, 1, "auto"), (2, 64, 96, (16, 15), 3, 2, 1, 1, "auto"),
    (1, 80, 144, (17, 16), 3, 1, 1, 1, "auto"),
    (2, 20, 24, (9, 14), 3, 1, 1, 1, "blocked"), (1, 35, 70, (11, 10), (5, 3), (1, 2), (2, 0), (2, 1), "blocked"),
    (1, 16, 200, (7, 9), 1, 1, 0, 1, "blocked"), (1, 3, 17, (12, 13), 7, 2, 3, 1, "blocked"),
]


@pytest.mark.parametrize("n,cin,cout,size,k,stride,pad,dil,algorithm", BLOCKED_CASES)
def test_channels_last_blocked_reads_and_writes_in_place(n, cin, cout, size, k, stride, pad, dil, algorithm):
    """Where the channels-first plan runs the channel-blocked conv, the channels-last one
    runs it too, on the caller's channels-last buffer (the shim's hook records its address;
    explain names no conversion: its copy is made from the channels-last pixels, not from a
    channels-first copy), writing a channels-last result: bit for bit the channels-first
    call's (the same sums in the same order), for 1, 2 and 3 threads, plain and prepared,
    with and without bias; float16 is the float32 result rounded once. On a tier without the
    kernel (AVX2, baseline) "auto" runs the channels-last GEMM (within the bound) and a named
    "blocked" converts to the channels-first fallback (its bits)."""
    rng = np.random.default_rng(n * 7 + cin + cout)
    x = rng.standard_normal((n, cin) + size).astype(np.float32)
    kk = (k, k) if isinstance(k, int) else k
    w = rng.standard_normal((cout, cin) + kk).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    kw = dict(stride=stride, padding=pad, dilation=dil, algorithm=algorithm)
    xl = channels_last(x, 2)
    text = sc.explain("conv2d", xl, w, b, **kw)
    first = sc.explain("conv2d", x, w, b, **kw)
    runs = "AVX-512" in text and "forward conv: blocked" in first
    assert ("channels-last blocked" in text) == runs, text
    if runs:
        assert "read and written in place" in text and "channels-last -> channels-first" not in text, text
        assert _record(lambda: sc.conv2d(xl, w, b, **kw))[0] == xl.__array_interface__["data"][0]
    y = same_for_every_thread_count(lambda: sc.conv2d(xl, w, b, **kw))
    assert is_channels_last(y, 2) and not y.flags.c_contiguous
    assert_matches_reference((y,), "conv2d", x, w, b, stride=stride, padding=pad, dilation=dil)
    p = sc.prepare("conv2d", w, b, **kw)
    np.testing.assert_array_equal(p(xl), y)
    if runs or algorithm == "blocked":
        np.testing.assert_array_equal(y, sc.conv2d(x, w, b, **kw))
        np.testing.assert_array_equal(p(x), y)
        np.testing.assert_array_equal(sc.conv2d(xl, w, **kw), sc.conv2d(x, w, **kw))
    if algorithm == "auto":
        xh, wh = xl.astype(np.float16), w.astype(np.float16)
        yh = sc.conv2d(xh, wh, **kw)
        y32 = sc.conv2d(xh.astype(np.float32), wh.astype(np.float32), **kw)
        assert yh.dtype == np.float16 and is_channels_last(yh, 2)
        np.testing.assert_array_equal(yh.view(np.uint16), y32.astype(np.float16).view(np.uint16))


def test_explain_states_the_layout_and_every_conversion():
    x = channels_last(np.ones((1, 16, 6, 6), np.float32), 2)
    w = np.ones((16, 16, 3, 3), np.float32)
    text = sc.explain("conv2d", x, w)
    assert "channels-last activations" in text and "in place" in text and "channels-last ->" not in text
    text = sc.explain("conv2d", x, np.ones((16, 1, 3, 3), np.float32), groups=16, algorithm="direct")
    assert "channels-last -> channels-first: input" in text and "channels-first -> channels-last: output" in text
    text = sc.explain("conv2d_backward", x, w, grad_output=channels_last(np.ones((1, 16, 2, 2), np.float32), 2), stride=2)
    assert "input, grad_output transposed" in text and "grad_input transposed" in text
    text = sc.explain("conv2d_backward", x, w, grad_output=channels_last(np.ones((1, 16, 4, 4), np.float32), 2))
    assert "channels-last ->" not in text and "channels-first ->" not in text
    for step in ("transposed conv: channels-last gemm", "weight gradient: channels-last gemm", "bias gradient: channel sums of the channels-last"):
        assert step in text, text
    assert "layout" not in sc.explain("conv2d", np.ones((1, 16, 6, 6), np.float32), w)


def test_prepared_objects_keep_plans_per_layout():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 16, 9, 9)).astype(np.float32)
    w = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
    b = rng.standard_normal(32).astype(np.float32)
    p = sc.prepare("conv2d", w, b, padding=1)
    xl = channels_last(x, 2)
    y, yl = p(x), p(xl)
    assert y.flags.c_contiguous and is_channels_last(yl, 2) and not yl.flags.c_contiguous
    np.testing.assert_array_equal(yl, sc.conv2d(xl, w, b, padding=1))
    np.testing.assert_array_equal(p(x), y)
    assert "channels-last" in p.explain(xl) and "channels-last" not in p.explain(x)
    assert "packed at creation" in p.explain(xl)
    # plans for other channels-last sizes share the first one's packed weights
    x2 = channels_last(rng.standard_normal((1, 16, 12, 10)).astype(np.float32), 2)
    plan1 = p._plans[(xl.shape, xl.dtype, 1)][0]
    live_before = _native._test_allocation_failures(-1)[1]
    y2 = p(x2)
    assert _native._test_allocation_failures(-1)[1] == live_before  # no second packed copy kept
    np.testing.assert_array_equal(y2, sc.conv2d(x2, w, b, padding=1))
    plan2 = p._plans[(x2.shape, x2.dtype, 1)][0]
    assert plan1.packed_bytes == plan2.packed_bytes > 0
    assert p._root_channels_last is plan1
    gy = channels_last(rng.standard_normal(y.shape).astype(np.float32), 2)
    gi, gw, gb = p.backward(gy, xl)
    want = sc.conv2d_backward(gy, xl, w, padding=1)
    for u, v in zip((gi, gw, gb), want):
        np.testing.assert_array_equal(u, v)
    assert is_channels_last(gi, 2) and gw.flags.c_contiguous
    # the plan refuses arrays of another layout than it was made for
    plan = _native.Plan(*sc._call_args("conv2d", xl, w, b, None, 1, 1, 1, 0, 1, "auto", 0), True, None)
    with pytest.raises(ValueError, match="memory layout"):
        plan(x, w, b, None)


def test_gradients_follow_what_they_are_gradients_of():
    """grad_input has the input's layout, grad_weight the weight's (autograd's rule);
    grad_output in the other layout is converted."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 8, 7, 7)).astype(np.float32)
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    gy = rng.standard_normal((2, 16, 7, 7)).astype(np.float32)
    cl_results = sc.conv2d_backward(channels_last(gy, 2), channels_last(x, 2), w, padding=1)
    for xi, wi, gi_ in [(channels_last(x, 2), w, gy), (x, channels_last(w, 2), gy), (channels_last(x, 2), w, channels_last(gy, 2)),
                        (x, w, channels_last(gy, 2)), (channels_last(x, 2), channels_last(w, 2), gy[:, :, ::-1][:, :, ::-1])]:
        res = sc.conv2d_backward(gi_, xi, wi, padding=1)
        gi, gw, gb = res
        assert is_channels_last(gi, 2) == (sc._native.layout(xi, 2) == 1) and gi.flags.c_contiguous != is_channels_last(gi, 2)
        assert is_channels_last(gw, 2) == (sc._native.layout(wi, 2) == 1)
        assert gb.flags.c_contiguous
        assert_matches_reference(res, "conv2d_backward", x, w, None, gy, padding=1)
        if sc._native.layout(xi, 2) == 1:  # the channels-last kernels, whatever grad_output's layout
            for u, v in zip(res, cl_results):
                np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("r", (1, 2, 3))
def test_half_precision_channels_last_is_the_float32_result_rounded_once(r):
    rng = np.random.default_rng(r + 10)
    sp = {1: (10,), 2: (6, 7), 3: (3, 4, 5)}[r]
    x = channels_last(rng.standard_normal((2, 16, *sp)).astype(np.float16), r)
    w = rng.standard_normal((16, 16, *(3,) * r)).astype(np.float16)
    conv = getattr(sc, f"conv{r}d")
    y = conv(x, w, padding=1)
    y32 = conv(channels_last(x.astype(np.float32), r), w.astype(np.float32), padding=1)
    assert y.dtype == np.float16 and is_channels_last(y, r)
    np.testing.assert_array_equal(y.view(np.uint16), y32.astype(np.float16).view(np.uint16))


def test_empty_and_ambiguous_arrays():
    w = np.ones((16, 8, 3, 3), np.float32)
    y = sc.conv2d(channels_last(np.ones((0, 8, 5, 5), np.float32), 2), w)
    assert y.shape == (0, 16, 3, 3)
    # C-contiguous arrays are channels-first, also when C == 1 or every spatial size is 1
    for shape in ((2, 1, 5, 5), (2, 8, 1, 1), (1, 1, 1, 1)):
        assert _native.layout(np.ones(shape, np.float32), 2) == 0
    # an empty array is never channels-last (torch's rule)
    assert _native.layout(channels_last(np.ones((2, 8, 0, 3), np.float32), 2), 2) == 0
    # other ranks than the op's: not channels-last (the engine reports the rank)
    assert _native.layout(np.ones((2, 3), np.float32), 2) == 0


# ------------------------------------------------------------------ properties

from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def channels_last_config(draw):
    """Random ops of every rank with enough channels for the channels-last GEMM (and fewer,
    for the conversion path), any stride, dilation, padding form, groups, batch (0, 1,
    unbatched, 2), bias, dtype."""
    r = draw(st.sampled_from((1, 2, 3)))
    op = draw(st.sampled_from((f"conv{r}d", f"conv{r}d", f"conv_transpose{r}d", f"conv{r}d_backward")))
    groups = draw(st.sampled_from((1, 1, 2, 4)))
    cin_g, cout_g = draw(st.sampled_from((1, 3, 8, 12))), draw(st.sampled_from((1, 5, 16, 20)))
    axis = lambda lo, hi: tuple(draw(st.integers(lo, hi)) for _ in range(r))  # noqa: E731
    kernel, stride, dilation = axis(1, 3), axis(1, 2), axis(1, 2)
    params = dict(stride=stride, dilation=dilation, groups=groups)
    if "transpose" in op:
        params["padding"] = axis(0, 1)
        weight = (groups * cin_g, cout_g) + kernel
        size = axis(1, 6)
        assume(all(R.transposed_output_size(*a) >= 1
                   for a in zip(size, kernel, stride, params["padding"], (0,) * r, dilation)))
    else:
        params["padding"] = draw(st.sampled_from((0, 1, "valid", tuple((1, 0) for _ in range(r)))))
        pads = R.conv_padding(params["padding"], kernel, dilation)
        size = tuple(max(1, d * (k - 1) + 1 - a - b) + draw(st.integers(0, 6))
                     for k, d, (a, b) in zip(kernel, dilation, pads))
        weight = (groups * cout_g, cin_g) + kernel
    n = draw(st.sampled_from((0, 1, 2, None)))  # None: unbatched
    x_shape = ((groups * cin_g,) if n is None else (n, groups * cin_g)) + size
    dtype = draw(st.sampled_from((np.float32, np.float64)))
    bias = "backward" not in op and draw(st.booleans())
    return op, r, x_shape, weight, params, dtype, bias, draw(st.integers(0, 2**31))


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(channels_last_config())
def test_channels_last_agrees_with_the_reference(config):
    op, r, x_shape, w_shape, params, dtype, has_bias, seed = config
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    out_channels = w_shape[1] * params["groups"] if "transpose" in op else w_shape[0]
    b = rng.standard_normal(out_channels).astype(dtype) if has_bias else None
    gy = None
    if op.endswith("_backward"):
        gy = rng.standard_normal(reference(op[:-9], x, w, **params)[0].shape).astype(dtype)
    xl, gyl = channels_last(x, r), None if gy is None else channels_last(gy, r)
    results = run(op, xl, w, b, gyl, **params)
    assert_matches_reference(results, op, x, w, b, gy, **params)
    cl = _native.layout(xl, r) == 1
    first = results[0]
    if first is not None and first.size and first.ndim > 1:
        assert is_channels_last(first, r) or not cl
    # the channels-first call: the same bits where the same kernels run
    text = sc.explain(op, xl, w, b, grad_output=gyl, **params)
    if same_kernels(text):
        for u, v in zip(results, run(op, x, w, b, gy, **params)):
            np.testing.assert_array_equal(u, v)
