"""Bad arguments raise ValueError / TypeError whose messages name the argument and the
numbers involved (CONTRACT.md "Errors"); nothing here may crash or compute."""
from __future__ import annotations

import re

import numpy as np
import pytest

import swiftconv as sc

from _hardening import OPS, run

F32 = np.float32


def x4(*shape, dtype=F32):
    return np.ones(shape, dtype=dtype)


def raises(exc, *patterns):
    """pytest.raises that also checks every regex in `patterns` occurs in the message."""
    class _Ctx:
        def __enter__(self):
            self.ctx = pytest.raises(exc)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *a):
            r = self.ctx.__exit__(*a)
            msg = str(self.info.value)
            for p in patterns:
                assert re.search(p, msg), f"{p!r} not in message: {msg}"
            return r
    return _Ctx()


# -- shapes ------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(4, 4), (3,), (), (1, 1, 2, 4, 4), (1,) * 8])
def test_wrong_input_ndim(shape):
    with raises(ValueError, r"^conv2d:", r"3D .* or 4D", re.escape(str(list(shape)).replace("'", ""))):
        sc.conv2d(np.ones(shape, F32), x4(1, 1, 1, 1))


@pytest.mark.parametrize("shape", [(1, 1, 1), (1, 1, 1, 1, 1), (1,)])
def test_wrong_weight_ndim(shape):
    with raises(ValueError, r"^conv2d:", r"4-dimensional weight", r"\[" + ", ".join(map(str, shape))):
        sc.conv2d(x4(1, 1, 5, 5), np.ones(shape, F32))


def test_channel_mismatch():
    with raises(ValueError, r"^conv2d:", r"\[8, 2, 3, 3\]", r"4 channels", r"got 3 channels"):
        sc.conv2d(x4(1, 3, 8, 8), x4(8, 2, 3, 3), groups=2)


def test_groups_not_dividing():
    with raises(ValueError, r"groups=3", r"divisible by 3", r"\[8, 2, 3, 3\]"):
        sc.conv2d(x4(1, 6, 8, 8), x4(8, 2, 3, 3), groups=3)
    with raises(ValueError, r"groups=4", r"at least 4"):
        sc.conv_transpose2d(x4(1, 2, 8, 8), x4(2, 1, 3, 3), groups=4)


@pytest.mark.parametrize("groups", [0, -1])
def test_non_positive_groups(groups):
    with raises(ValueError, rf"groups={groups}"):
        sc.conv2d(x4(1, 2, 8, 8), x4(2, 2, 3, 3), groups=groups)


@pytest.mark.parametrize("padding", [-1, (0, -2), ((0, 1), (-1, 0))])
def test_negative_padding(padding):
    with raises(ValueError, r"negative padding", r"-[12]"):
        sc.conv2d(x4(1, 1, 8, 8), x4(1, 1, 3, 3), padding=padding)
    if not isinstance(padding[0] if isinstance(padding, tuple) else padding, tuple):
        with raises(ValueError, r"negative padding"):
            sc.conv_transpose2d(x4(1, 1, 8, 8), x4(1, 1, 3, 3), padding=padding)


@pytest.mark.parametrize("name", ["stride", "dilation"])
@pytest.mark.parametrize("value", [0, (1, 0), -3])
def test_zero_or_negative_stride_dilation(name, value):
    for op in OPS:
        x, w = x4(1, 1, 8, 8), x4(1, 1, 3, 3)
        gy = x4(1, 1, 6, 6) if op == "conv2d_backward" else x4(1, 1, 10, 10)
        with raises(ValueError, rf"^{op}:", name, r"\(-?\d, -?\d\)"):
            run(op, x, w, gy=gy, **{name: value})


def test_kernel_larger_than_padded_input():
    with raises(ValueError, r"padded input size per channel: \(6 x 6\)", r"Kernel size: \(7 x 7\)"):
        sc.conv2d(x4(1, 1, 4, 4), x4(1, 1, 4, 4), padding=1, dilation=2)


def test_same_with_stride_2():
    with raises(ValueError, r"'same'", r"stride=\(2, 2\)"):
        sc.conv2d(x4(1, 1, 8, 8), x4(1, 1, 3, 3), padding="same", stride=2)
    with raises(ValueError, r"'same'"):
        sc.conv2d_backward(x4(1, 1, 4, 4), x4(1, 1, 8, 8), x4(1, 1, 3, 3), padding="same", stride=(1, 2))


def test_unknown_padding_string():
    with raises(ValueError, r"'full'", r"'same'", r"'valid'"):
        sc.conv2d(x4(1, 1, 8, 8), x4(1, 1, 3, 3), padding="full")


@pytest.mark.parametrize("padding", ["same", "valid", ((1, 2), (1, 1))])
def test_transposed_padding_forms_rejected(padding):
    with pytest.raises(ValueError, match=r"conv_transpose2d: .*padding"):
        sc.conv_transpose2d(x4(1, 1, 8, 8), x4(1, 1, 3, 3), padding=padding)


@pytest.mark.parametrize("bias_shape", [(3,), (5,), (1, 4), ()])
def test_bias_wrong_length(bias_shape):
    with raises(ValueError, r"bias", r"4 elements", re.escape(str(list(bias_shape)))):
        sc.conv2d(x4(1, 2, 8, 8), x4(4, 2, 3, 3), np.ones(bias_shape, F32))
    with raises(ValueError, r"bias", r"6 elements"):
        sc.conv_transpose2d(x4(1, 2, 8, 8), x4(2, 3, 3, 3), np.ones(bias_shape, F32), groups=2)


def test_output_padding_too_large():
    with raises(ValueError, r"output padding must be smaller", r"output_padding_height: 2", r"stride_height: 2"):
        sc.conv_transpose2d(x4(1, 1, 4, 4), x4(1, 1, 3, 3), stride=2, output_padding=2)
    with raises(ValueError, r"output padding must be smaller"):
        sc.conv_transpose2d_backward(x4(1, 1, 9, 9), x4(1, 1, 4, 4), x4(1, 1, 3, 3), stride=1, output_padding=(0, 1))


def test_output_padding_for_conv2d():
    # conv2d has no output_padding argument; the internal runner must still refuse it.
    with pytest.raises(ValueError, match="output_padding"):
        sc._run("conv2d", x4(1, 1, 8, 8), x4(1, 1, 3, 3), None, None, 1, 0, 1, 1, 1, "auto", 0)


def test_transposed_weight_channel_mismatch():
    with raises(ValueError, r"^conv_transpose2d:", r"transposed", r"\[3, 2, 3, 3\]", r"3 channels", r"got 4 channels"):
        sc.conv_transpose2d(x4(1, 4, 8, 8), x4(3, 2, 3, 3))


@pytest.mark.parametrize("op", ["conv2d_backward", "conv_transpose2d_backward"])
@pytest.mark.parametrize("delta", [(0, 0, 0, 1), (0, 1, 0, 0), (1, 0, 0, 0)])
def test_grad_output_wrong_shape(op, delta):
    x, w = x4(2, 2, 8, 8), x4(2, 2, 3, 3)
    good = (2, 2, 6, 6) if op == "conv2d_backward" else (2, 2, 10, 10)
    bad = tuple(g + d for g, d in zip(good, delta))
    with raises(ValueError, rf"^{op}:", r"grad_output", re.escape(str(list(good))), re.escape(str(list(bad)))):
        getattr(sc, op)(np.ones(bad, F32), x, w)
    with raises(ValueError, r"grad_output"):
        getattr(sc, op)(np.ones(good[1:], F32), x, w)  # unbatched grad for a batched call


def test_output_mask_wrong_length_or_type():
    gy, x, w = x4(1, 1, 6, 6), x4(1, 1, 8, 8), x4(1, 1, 3, 3)
    with raises(ValueError, r"output_mask", r"3 entries"):
        sc.conv2d_backward(gy, x, w, output_mask=(True, False))
    for bad in (5, None, "abc"):
        with raises(TypeError, r"output_mask"):
            sc.conv2d_backward(gy, x, w, output_mask=bad)


# -- dtypes ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.bool_, np.complex64,
                                   np.complex128, object, np.longdouble, "U3",
                                   "datetime64[s]", "V2", [("a", "<f2")]])
@pytest.mark.parametrize("arg", ["input", "weight", "bias", "grad_output"])
def test_wrong_dtype(dtype, arg):
    a = {"input": x4(1, 1, 5, 5), "weight": x4(1, 1, 3, 3), "bias": x4(1), "grad_output": x4(1, 1, 3, 3)}
    # (2-byte void and structured dtypes: not bfloat16, even with a float16 field)
    a[arg] = np.zeros(a[arg].shape, dtype) if np.dtype(dtype).kind == "V" else np.ones(a[arg].shape).astype(dtype)
    name = np.dtype(dtype).name if np.dtype(dtype) != np.dtype(object) else "object"
    with raises(TypeError, rf"{arg} has dtype {re.escape(str(np.dtype(dtype)))}", "float32 or float64",
                r"numpy\.asarray"):
        if arg == "grad_output":
            sc.conv2d_backward(a["grad_output"], a["input"], a["weight"])
        else:
            sc.conv2d(a["input"], a["weight"], a["bias"])
    assert name  # the dtype text is in the message (checked above)


def test_nested_list_of_ints_is_int64():
    with raises(TypeError, r"input has dtype int64"):
        sc.conv2d([[[[1, 2], [3, 4]]]], x4(1, 1, 1, 1))


@pytest.mark.parametrize("arg", ["weight", "bias", "grad_output"])
def test_mismatched_dtypes(arg):
    x, w, b = x4(1, 1, 5, 5), x4(1, 1, 3, 3), x4(1)
    if arg == "grad_output":
        with raises(TypeError, r"float32", r"float64", "grad_output"):
            sc.conv2d_backward(np.ones((1, 1, 3, 3)), x, w)
        with raises(TypeError, r"float64", r"float32", "grad_output"):
            sc.conv_transpose2d_backward(np.ones((1, 1, 7, 7), F32), x.astype(np.float64), w.astype(np.float64))
        return
    args = {"weight": w, "bias": b}
    args[arg] = args[arg].astype(np.float64)
    with raises(TypeError, r"float32", r"float64", arg):
        sc.conv2d(x, args["weight"], args["bias"])


def test_big_endian_float32_is_float32_not_mismatch():
    r = sc.conv2d(x4(1, 1, 5, 5).astype(">f4"), x4(1, 1, 3, 3), x4(1).astype(">f4"))
    assert r.dtype == np.float32 and r.dtype.isnative


@pytest.mark.parametrize("arg", ["input", "weight"])
@pytest.mark.parametrize("value", [None, "abc", object(), [[1.0], [1.0, 2.0]]])
def test_non_array_arguments(arg, value):
    args = {"input": x4(1, 1, 5, 5), "weight": x4(1, 1, 3, 3)}
    args[arg] = value
    with pytest.raises((TypeError, ValueError), match=rf"conv2d: {arg}"):
        sc.conv2d(args["input"], args["weight"])


# -- parameters --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["stride", "padding", "dilation", "groups", "output_padding"])
@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 2**100, (1, 2**64), [2**70]])
def test_params_beyond_int64(name, value):
    if name == "groups" and not isinstance(value, int):
        return
    with raises(ValueError, rf"^conv_transpose2d: {name}", r"64-bit"):
        sc.conv_transpose2d(x4(1, 1, 5, 5), x4(1, 1, 3, 3), **{name: value})


@pytest.mark.parametrize("name", ["stride", "padding", "dilation", "groups", "output_padding"])
@pytest.mark.parametrize("value", [1.5, 2.0, "2", b"2", None, True, np.float64(1), {1, 2},
                                   (1, 1.5), (1, None), object(), np.array([1.0, 1.0])])
def test_wrong_param_types(name, value):
    if name == "padding" and isinstance(value, str):
        return  # a string padding is a padding mode: ValueError (tested elsewhere)
    if name == "groups" and isinstance(value, (tuple, set)):
        return
    with raises(TypeError, rf"^conv_transpose2d: {name} must be"):
        sc.conv_transpose2d(x4(1, 1, 5, 5), x4(1, 1, 3, 3), **{name: value})


@pytest.mark.parametrize("value", [(), (1, 2, 3), [1, 1, 1, 1]])
def test_wrong_pair_length(value):
    with raises(ValueError, r"^conv2d: stride", r"pair"):
        sc.conv2d(x4(1, 1, 5, 5), x4(1, 1, 3, 3), stride=value)


@pytest.mark.parametrize("value", [((1, 2), 3), ((1, 2), (3, 4), (5, 6)), ((1, (2,)), (3, 4)), (((1,),), 1)])
def test_malformed_padding(value):
    with pytest.raises((TypeError, ValueError), match=r"^conv2d: padding"):
        sc.conv2d(x4(1, 1, 5, 5), x4(1, 1, 3, 3), padding=value)


def test_numpy_integers_and_one_element_sequences_accepted():
    x, w = np.random.rand(1, 2, 9, 9).astype(F32), np.random.rand(2, 1, 3, 3).astype(F32)
    want = sc.conv2d(x, w, stride=2, padding=1, dilation=2, groups=2)
    for kw in (dict(stride=np.int8(2), padding=np.uint64(1), dilation=np.int32(2), groups=np.int64(2)),
               dict(stride=[2], padding=(1,), dilation=np.array([2]), groups=np.array(2)),
               dict(stride=(np.int16(2), 2), padding=((1, 1), [np.int64(1), 1]), dilation=(2, 2), groups=2)):
        np.testing.assert_array_equal(sc.conv2d(x, w, **kw), want)


@pytest.mark.parametrize("value", [None, 3, b"auto", ["auto"]])
def test_algorithm_wrong_type(value):
    with raises(TypeError, r"^conv2d: algorithm must be a string"):
        sc.conv2d(x4(1, 1, 5, 5), x4(1, 1, 3, 3), algorithm=value)


@pytest.mark.parametrize("op,value", [("conv2d", "fft"), ("conv2d", "scatter"), ("conv2d", "AUTO"),
                                      ("conv2d", ""), ("conv2d", "im2col\0"), ("conv2d", "\u00e9\ud800"),
                                      ("conv_transpose2d", "im2col"), ("conv_transpose2d", "winograd")])
def test_unknown_algorithm_lists_valid_names(op, value):
    valid = {"conv2d": ["auto", "direct", "im2col", "taps"], "conv_transpose2d": ["auto", "scatter", "upsample", "phase"]}[op]
    with raises(ValueError, rf"^{op}: unknown algorithm", *[f"'{v}'" for v in valid]):
        getattr(sc, op)(x4(1, 1, 5, 5), x4(1, 1, 3, 3), algorithm=value)


@pytest.mark.parametrize("n", [0, -1, 1025, 2**40, 2**64])
def test_set_num_threads_out_of_range(n):
    before = sc.get_num_threads()
    with raises(ValueError, r"set_num_threads", r"1 <= n <= 1024|64-bit"):
        sc.set_num_threads(n)
    assert sc.get_num_threads() == before


@pytest.mark.parametrize("n", [2.0, "2", None, True])
def test_set_num_threads_wrong_type(n):
    with raises(TypeError, r"set_num_threads: n must be an int"):
        sc.set_num_threads(n)


def test_errors_leave_no_pending_exception_and_engine_usable():
    for _ in range(3):
        with pytest.raises(ValueError):
            sc.conv2d(x4(1, 1, 2, 2), x4(1, 1, 3, 3))
    np.testing.assert_array_equal(sc.conv2d(x4(1, 1, 3, 3), x4(1, 1, 3, 3)), np.full((1, 1, 1, 1), 9, F32))


@pytest.mark.parametrize("op,kwargs", [("conv2d", dict(padding=2**62)),
                                       ("conv_transpose2d", dict(stride=2**62, padding=1))])
def test_overflow_messages_name_op_and_numbers(op, kwargs):
    (name, value), = [(k, v) for k, v in kwargs.items() if v > 2**40]
    with raises(ValueError, rf"^{op}:", str(value)):
        getattr(sc, op)(x4(1, 1, 8, 8), x4(1, 1, 3, 3), **kwargs)


# -- padding_mode ------------------------------------------------------------------------

MODES = ("zeros", "reflect", "replicate", "circular")


def _ones(rank, *lead, size=4, k=3):
    return np.ones((*lead, *(size,) * rank), F32), np.ones((1, 1, *(k,) * rank), F32)


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("value", ["mirror", "Reflect", "zero", "", "reflect\0", "\u00e9"])
def test_unknown_padding_mode_lists_the_valid_ones(rank, value):
    x, w = _ones(rank, 1, 1)
    pattern = [rf"padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular'", re.escape(repr(value))]
    with raises(ValueError, rf"^conv{rank}d: ", *pattern):
        getattr(sc, f"conv{rank}d")(x, w, padding=1, padding_mode=value)
    gy = np.ones((1, 1, *(4,) * rank), F32)
    with raises(ValueError, rf"^conv{rank}d_backward: ", *pattern):
        getattr(sc, f"conv{rank}d_backward")(gy, x, w, padding=1, padding_mode=value)
    with raises(ValueError, rf"^conv{rank}d: ", *pattern):
        sc.prepare(f"conv{rank}d", w, padding=1, padding_mode=value)


@pytest.mark.parametrize("value", [None, 1, b"reflect", ("reflect",), True])
def test_padding_mode_wrong_type(value):
    x, w = _ones(2, 1, 1)
    with raises(TypeError, r"^conv2d: padding_mode must be a string", re.escape(repr(value))):
        sc.conv2d(x, w, padding=1, padding_mode=value)


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("padding", [4, 5, "asym", "same"])
def test_reflect_padding_must_be_smaller_than_the_input(rank, padding):
    # size 4 on every axis: reflect accepts pads 0..3 (PyTorch's F.pad rule)
    x, w = _ones(rank, 2, 1, k=9 if padding == "same" else 3)
    dim = 1 + rank  # the innermost axis is checked first, as PyTorch
    if padding == "asym":
        padding = ((1, 1),) * (rank - 1) + ((0, 4),)
        pads = r"\(0, 4\)"
    elif padding == "same":
        pads = r"\(4, 4\)"  # 'same' with a 9-tap kernel pads 4 on each side
    else:
        pads = rf"\({padding}, {padding}\)"
    name = {1: "length", 2: "width", 3: "width"}[rank]
    shape = re.escape(str([2, 1] + [4] * rank))
    for call in (lambda: getattr(sc, f"conv{rank}d")(x, w, padding=padding, padding_mode="reflect"),
                 lambda: getattr(sc, f"conv{rank}d_backward")(x, x, w, padding=padding, padding_mode="reflect"),
                 lambda: sc.prepare(f"conv{rank}d", w, padding=padding, padding_mode="reflect")(x)):
        with raises(ValueError, rf"^conv{rank}d(_backward)?: padding_mode='reflect': Padding size should be less than "
                                r"the corresponding input dimension", rf"padding {pads} at dimension {dim} \({name}\)",
                    rf"of input {shape}"):
            call()
    ok = ((1, 1),) * (rank - 1) + ((3, 0),)  # 3 < 4 is fine
    assert getattr(sc, f"conv{rank}d")(x, _ones(rank, k=3)[1], padding=ok, padding_mode="reflect").shape[-1] == 5


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_circular_padding_may_be_at_most_the_input(rank):
    x, w = _ones(rank, 1, 1)
    y = getattr(sc, f"conv{rank}d")(x, w, padding=4, padding_mode="circular")  # = the size: fine
    assert y.shape == (1, 1) + (10,) * rank
    bad = ((0, 0),) * (rank - 1) + ((5, 0),)
    with raises(ValueError, rf"^conv{rank}d: padding_mode='circular': Padding value causes wrapping around more than once",
                r"padding \(5, 0\)", re.escape(str([1, 1] + [4] * rank))):
        getattr(sc, f"conv{rank}d")(x, w, padding=bad, padding_mode="circular")
    with raises(ValueError, r"wrapping around more than once"):
        getattr(sc, f"conv{rank}d_backward")(np.ones((1, 1, *(12,) * rank), F32), x, w, padding=5, padding_mode="circular")


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
@pytest.mark.parametrize("shape", [(1, 0, 4, 4), (0, 0, 4, 4), (0, 2, 0, 4), (2, 0, 0)])
def test_reflect_and_replicate_need_non_empty_dimensions(mode, shape):
    w = np.ones((1, shape[-3], 1, 1), F32)
    with raises(ValueError, rf"^conv2d: padding_mode='{mode}': Expected 3D or 4D \(batch mode\) tensor with possibly 0 "
                r"batch size and other non-zero dimensions", re.escape(str(list(shape)))):
        sc.conv2d(np.ones(shape, F32), w, padding=1, padding_mode=mode)


def test_replicate_accepts_any_padding_and_huge_padding_fails_cleanly():
    x, w = _ones(2, 1, 1, size=2)
    assert sc.conv2d(x, w, padding=7, padding_mode="replicate").shape == (1, 1, 14, 14)
    # A padded copy too large to count or to allocate: ValueError / MemoryError, never a crash.
    with pytest.raises((ValueError, MemoryError)):
        sc.conv2d(x, w, padding=2**40, padding_mode="replicate")
    with pytest.raises((ValueError, MemoryError)):
        sc.conv1d(np.ones((1, 1, 2), F32), np.ones((1, 1, 1), F32), padding=2**40, padding_mode="replicate")
    with pytest.raises((ValueError, MemoryError)):
        sc.conv1d_backward(np.ones((1, 1, 2), F32), np.ones((1, 1, 2), F32), np.ones((1, 1, 1), F32),
                           padding=2**62, padding_mode="circular")
    np.testing.assert_array_equal(sc.conv2d(x, w, padding=1, padding_mode="replicate"), np.full((1, 1, 2, 2), 9, F32))


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_transposed_ops_take_zeros_only(rank, mode):
    x, w = _ones(rank, 1, 1)
    msg = (rf'^conv_transpose{rank}d(_backward)?: Only "zeros" padding mode is supported for ConvTranspose{rank}d, '
           rf"got padding_mode='{mode}'")
    with raises(ValueError, msg):
        getattr(sc, f"conv_transpose{rank}d")(x, w, padding_mode=mode)
    with raises(ValueError, msg):
        getattr(sc, f"conv_transpose{rank}d_backward")(np.ones((1, 1, *(6,) * rank), F32), x, w, padding_mode=mode)
    with raises(ValueError, msg):
        sc.prepare(f"conv_transpose{rank}d", w, padding_mode=mode)
    assert getattr(sc, f"conv_transpose{rank}d")(x, w, padding_mode="zeros").shape == (1, 1) + (6,) * rank


# -- output_size -------------------------------------------------------------------------

@pytest.mark.parametrize("rank", [1, 2, 3])
def test_output_size_out_of_range_names_the_reachable_sizes(rank):
    # stride 2, padding 1, kernel 3 on size 4: 7 ... 8 (PyTorch's message)
    x, w = np.ones((1, 2, *(4,) * rank), F32), np.ones((2, 3, *(3,) * rank), F32)
    f = getattr(sc, f"conv_transpose{rank}d")
    for size in ((6,) * rank, (9,) * rank, (7,) * (rank - 1) + (9,)):
        want = (rf"^conv_transpose{rank}d: requested an output size of {re.escape(str(list(size)))}, but valid sizes "
                rf"range from {re.escape(str([7] * rank))} to {re.escape(str([8] * rank))} "
                rf"\(for an input of {re.escape(str([4] * rank))}\)$")
        with raises(ValueError, want):
            f(x, w, stride=2, padding=1, output_size=size)
        with raises(ValueError, want.replace(f"{rank}d:", f"{rank}d_backward:")):
            getattr(sc, f"conv_transpose{rank}d_backward")(np.ones((1, 3, *(8,) * rank), F32), x, w, stride=2,
                                                            padding=1, output_size=size)
        with raises(ValueError, want):
            sc.prepare(f"conv_transpose{rank}d", w, stride=2, padding=1)(x, output_size=size)
    assert f(x, w, stride=2, padding=1, output_size=(8,) * rank).shape == (1, 3) + (8,) * rank


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_output_size_of_the_wrong_length(rank):
    x, w = np.ones((1, 2, *(4,) * rank), F32), np.ones((2, 3, *(3,) * rank), F32)
    f = getattr(sc, f"conv_transpose{rank}d")
    for n in (0, rank + 1, rank + 3):
        with raises(ValueError, rf"^conv_transpose{rank}d: for {rank + 2}D input, output_size must have {rank} or "
                                rf"{rank + 2} elements \(got {n}"):
            f(x, w, stride=2, output_size=(9,) * n)
    with raises(ValueError, rf"^conv_transpose{rank}d: output_size", "70"):  # more than any array has axes
        f(x, w, stride=2, output_size=(9,) * 70)
    # unbatched input: the sizes, or (C, *sizes)
    with raises(ValueError, rf"for {rank + 1}D input, output_size must have {rank} or {rank + 1} elements \(got {rank + 2}"):
        f(x[0], w, stride=2, output_size=(1, 3) + (9,) * rank)
    assert f(x[0], w, stride=2, output_size=(3,) + (10,) * rank).shape == (3,) + (10,) * rank


@pytest.mark.parametrize("value", [8, 8.0, "88", (8, 8.5), ((8, 8),), (8, None), {8, 9}])
def test_output_size_wrong_type(value):
    x, w = np.ones((1, 2, 4, 4), F32), np.ones((2, 3, 3, 3), F32)
    with raises(TypeError, r"^conv_transpose2d: output_size must be a sequence of ints"):
        sc.conv_transpose2d(x, w, stride=2, output_size=value)


def test_output_size_beyond_int64_and_overflow():
    x, w = np.ones((1, 2, 4, 4), F32), np.ones((2, 3, 3, 3), F32)
    with raises(ValueError, r"^conv_transpose2d: output_size value 18446744073709551616 does not fit"):
        sc.conv_transpose2d(x, w, output_size=(2**64, 8))
    with raises(ValueError, r"^conv_transpose2d:", "overflows"):
        sc.conv_transpose2d(x, w, stride=2**62, output_size=(8, 8))


def test_output_size_only_for_transposed_ops():
    x, w = np.ones((1, 1, 5, 5), F32), np.ones((1, 1, 3, 3), F32)
    with raises(ValueError, r"^conv2d: output_size is only meaningful for transposed convolution", r"\[3, 3\]"):
        sc.explain("conv2d", x, w, output_size=(3, 3))
    p = sc.prepare("conv2d", w)
    with raises(ValueError, r"^conv2d: output_size is only meaningful for transposed convolution"):
        p(x, output_size=(3, 3))
    with pytest.raises(TypeError):
        sc.conv2d(x, w, output_size=(3, 3))  # not an argument of the conv functions


def test_output_size_overrides_output_padding_as_pytorch():
    # ConvTranspose*d.forward(input, output_size) ignores the module's output_padding: so do we
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4)).astype(F32)
    w = np.ones((2, 3, 3, 3), F32)
    want = sc.conv_transpose2d(x, w, stride=2, padding=1, output_padding=(0, 1))
    got = sc.conv_transpose2d(x, w, stride=2, padding=1, output_padding=5, output_size=(7, 8))
    np.testing.assert_array_equal(got, want)
