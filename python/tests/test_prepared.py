"""Prepared convolutions (swiftconv.prepare): same bits as the functions, weights owned and
packed once, plans cached per input shape, thread-safe, picklable, clear errors."""
from __future__ import annotations

import gc
import os
import pickle
import threading

import numpy as np
import pytest

import swiftconv as sc

RANK_SIZES = {1: (11,), 2: (9, 10), 3: (5, 6, 7)}


def arrays(rank, dtype=np.float32, seed=0, transposed=False, groups=2):
    rng = np.random.default_rng(seed)
    k = (3,) * rank
    w = rng.standard_normal((4, 3, *k) if transposed else (6, 4 // groups, *k)).astype(dtype)
    b = rng.standard_normal(3 * groups if transposed else 6).astype(dtype)
    x = rng.standard_normal((2, 4, *RANK_SIZES[rank])).astype(dtype)
    return x, w, b


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prepared_equals_functional_bitwise(rank, dtype):
    x, w, b = arrays(rank, dtype)
    params = dict(stride=2, padding=1, dilation=1, groups=2)
    p = sc.prepare(f"conv{rank}d", w, b, **params)
    f = getattr(sc, f"conv{rank}d")
    for batch in (2, 1, 3):
        xb = np.concatenate([x] * 2)[:batch]
        np.testing.assert_array_equal(p(xb), f(xb, w, b, **params))
    np.testing.assert_array_equal(p(x[0]), f(x[0], w, b, **params))  # unbatched
    gy = np.ones_like(f(x, w, b, **params))
    for got, want in zip(p.backward(gy, x), getattr(sc, f"conv{rank}d_backward")(gy, x, w, **params)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_prepared_transposed_equals_functional(rank):
    x, w, b = arrays(rank, transposed=True)
    params = dict(stride=2, padding=1, output_padding=1, groups=2, dilation=1)
    p = sc.prepare(f"conv_transpose{rank}d", w, b, **params)
    f = getattr(sc, f"conv_transpose{rank}d")
    y = f(x, w, b, **params)
    np.testing.assert_array_equal(p(x), y)
    gy = np.ones_like(y)
    got = p.backward(gy, x, output_mask=(True, False, True))
    want = getattr(sc, f"conv_transpose{rank}d_backward")(gy, x, w, **params, output_mask=(True, False, True))
    assert got[1] is None and want[1] is None
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[2], want[2])


def test_weights_are_packed_once_and_shared():
    x, w, b = arrays(2, groups=1)
    w = np.random.default_rng(1).standard_normal((64, 4, 3, 3)).astype(np.float32)
    p = sc.prepare("conv2d", w, padding=1)
    assert p.packed_bytes >= w.nbytes
    for n in (1, 2, 5):
        p(np.ones((n, 4, 16, 16), np.float32))
    assert "weights: packed at creation" in p.explain(np.ones((3, 4, 16, 16), np.float32))
    assert p.packed_bytes >= w.nbytes


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adjoint_packed_once_for_the_backward_and_transposed(rank, dtype):
    """Stride-1 grad_input and transposed convs run a conv with the flipped kernel: a prepared
    object packs that kernel once (the root of a transposed one, the first backward plan of
    a conv one, shared by the later ones) and gives the functions' bits."""
    rng = np.random.default_rng(rank)
    k = (3,) * rank
    w = rng.standard_normal((12, 8, *k)).astype(dtype)
    params = dict(padding=1)
    p = sc.prepare(f"conv{rank}d", w, **params)
    t = sc.prepare(f"conv_transpose{rank}d", w, **params)
    assert t.packed_bytes >= w.nbytes
    backward = getattr(sc, f"conv{rank}d_backward")
    for n, sizes in ((2, RANK_SIZES[rank]), (1, tuple(s + 2 for s in RANK_SIZES[rank]))):
        x = rng.standard_normal((n, 8, *sizes)).astype(dtype)
        gy = rng.standard_normal((n, 12, *sizes)).astype(dtype)
        for mask in ((True, False, False), (True, True, False)):
            for got, want in zip(p.backward(gy, x, output_mask=mask), backward(gy, x, w, **params, output_mask=mask)):
                assert (got is None and want is None) or np.array_equal(got, want)
        np.testing.assert_array_equal(t(gy), getattr(sc, f"conv_transpose{rank}d")(gy, w, **params))
        assert "flipped kernel: packed at creation" in t.explain(gy)
    shared = p._backward_root
    assert shared is not None and shared[0] is p.weight and shared[1].packed_bytes >= w.nbytes
    # Plans of the same weights share the one packed copy: no further backward root.
    p.backward(gy, x, output_mask=(True, False, False))
    assert p._backward_root is shared
    p.update(w * 2)  # new weights: a new packed copy, for the new weights
    assert p._backward_root is None
    np.testing.assert_array_equal(p.backward(gy, x, output_mask=(True, False, False))[0],
                                  backward(gy, x, w * 2, **params, output_mask=(True, False, False))[0])


def test_caller_arrays_mutated_after_prepare_do_not_leak_in():
    x, w, b = arrays(2)
    p = sc.prepare("conv2d", w, b, groups=2, padding=1)
    want = sc.conv2d(x, w, b, groups=2, padding=1)
    w[...] = 0
    b[...] = 7
    np.testing.assert_array_equal(p(x), want)
    assert not p.weight.flags.writeable and not p.bias.flags.writeable
    with pytest.raises(ValueError):
        p.weight[0] = 1


def test_update_repacks_and_checks_shape():
    x, w, b = arrays(2)
    p = sc.prepare("conv2d", w, b, groups=2, padding=1)
    p(x)
    w2, b2 = w * 2, b - 1
    p.update(w2, b2)
    np.testing.assert_array_equal(p(x), sc.conv2d(x, w2, b2, groups=2, padding=1))
    p.update(w2)  # bias removed
    assert p.bias is None
    np.testing.assert_array_equal(p(x), sc.conv2d(x, w2, None, groups=2, padding=1))
    with pytest.raises(ValueError, match=r"update expects a weight of shape \(6, 2, 3, 3\)"):
        p.update(np.ones((6, 2, 5, 5), np.float32))


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_pickle_round_trip(rank):
    x, w, b = arrays(rank)
    p = sc.prepare(f"conv{rank}d", w, b, stride=(2,) * rank, padding="valid", groups=2)
    q = pickle.loads(pickle.dumps(p))
    np.testing.assert_array_equal(q(x), p(x))
    assert q.params == p.params and q.op == p.op
    assert q.packed_bytes == p.packed_bytes


def test_repr_says_what_it_is():
    x, w, b = arrays(3)
    r = repr(sc.prepare("conv3d", w, b, groups=2))
    assert r.startswith("PreparedConv('conv3d', weight=(6, 2, 3, 3, 3) float32, bias=(6,)") and "groups=2" in r


def test_threads_with_different_batch_sizes_at_once():
    x, w, b = arrays(2, groups=1)
    w = np.random.default_rng(2).standard_normal((16, 4, 3, 3)).astype(np.float32)
    b = np.random.default_rng(3).standard_normal(16).astype(np.float32)
    p = sc.prepare("conv2d", w, b, padding=1)
    inputs = [np.random.default_rng(10 + i).standard_normal((i + 1, 4, 20, 20)).astype(np.float32) for i in range(4)]
    wants = [sc.conv2d(xi, w, b, padding=1) for xi in inputs]
    errors = []
    barrier = threading.Barrier(4)

    def work(i):
        try:
            barrier.wait()
            for _ in range(20):
                np.testing.assert_array_equal(p(inputs[i]), wants[i])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_object_deleted_while_another_thread_is_inside_a_call():
    w = np.random.default_rng(4).standard_normal((32, 16, 3, 3)).astype(np.float32)
    x = np.random.default_rng(5).standard_normal((4, 16, 64, 64)).astype(np.float32)
    want = sc.conv2d(x, w, padding=1)
    holder = {"p": sc.prepare("conv2d", w, padding=1)}
    result = {}
    started = threading.Event()

    def work():
        call = holder["p"].__call__
        started.set()
        result["y"] = call(x)

    t = threading.Thread(target=work)
    t.start()
    started.wait()
    del holder["p"]
    gc.collect()
    t.join()
    np.testing.assert_array_equal(result["y"], want)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_after_use():
    x, w, b = arrays(2)
    p = sc.prepare("conv2d", w, b, groups=2, padding=1)
    want = p(x)
    pid = os.fork()
    if pid == 0:  # child: must compute the same, then exit without running pytest's teardown
        ok = np.array_equal(p(x), want) and np.array_equal(p(x[:1]), want[:1])
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def test_plan_cache_is_bounded():
    from swiftconv import _prepared
    w = np.ones((2, 1, 3), np.float32)
    p = sc.prepare("conv1d", w)
    for length in range(3, 3 + _prepared.PLAN_CACHE_SIZE + 10):
        assert p(np.ones((1, 1, length), np.float32)).shape == (1, 2, length - 2)
    assert len(p._plans) == _prepared.PLAN_CACHE_SIZE


def test_input_that_does_not_fit_names_both():
    x, w, b = arrays(2)
    p = sc.prepare("conv2d", w, b, groups=2)
    with pytest.raises(ValueError, match=r"weight of size \[6, 2, 3, 3\].*input\[2, 5, 9, 10\].*4 channels.*got 5"):
        p(np.ones((2, 5, 9, 10), np.float32))
    with pytest.raises(ValueError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d.*\[2, 4, 3, 9, 10\].*weight of size \[6, 2, 3, 3\]"):
        p(np.ones((2, 4, 3, 9, 10), np.float32))
    with pytest.raises(TypeError, match="should be the same"):
        p(np.ones((2, 4, 9, 10), np.float64))


def test_bad_arguments_at_creation():
    w = np.ones((4, 2, 3, 3), np.float32)
    with pytest.raises(ValueError, match=r"unknown op 'conv4d', expected one of conv1d, conv2d, conv3d"):
        sc.prepare("conv4d", w)
    with pytest.raises(ValueError, match=r"unknown op 'conv2d_backward'"):
        sc.prepare("conv2d_backward", w)
    with pytest.raises(ValueError, match=r"Given groups=3, expected weight to be divisible by 3"):
        sc.prepare("conv2d", w, groups=3)
    with pytest.raises(ValueError, match=r"expected a 3-dimensional weight"):
        sc.prepare("conv1d", w)
    with pytest.raises(ValueError, match="non-positive stride"):
        sc.prepare("conv2d", w, stride=0)
    with pytest.raises(TypeError, match="dtype int64"):
        sc.prepare("conv2d", w.astype(np.int64))
    with pytest.raises(TypeError, match="should be the same"):
        sc.prepare("conv2d", w, np.ones(4, np.float64))
    with pytest.raises(ValueError, match="expected bias to be 1-dimensional with 4 elements"):
        sc.prepare("conv2d", w, np.ones(5, np.float32))
    with pytest.raises(ValueError, match="unknown algorithm 'fft'"):
        sc.prepare("conv2d", w, algorithm="fft")
    with pytest.raises(ValueError, match="output_padding is only meaningful"):
        sc.prepare("conv2d", w, output_padding=1)


def test_prepare_without_op_names_the_argument_type_not_its_values():
    """prepare(w, b) (the op forgotten): the message names the weight's type, it does not
    print the array (a large weight made a message of megabytes)."""
    w = np.full((64, 32, 3, 3), 0.123456, np.float32)
    with pytest.raises(ValueError) as info:
        sc.prepare(w, np.zeros(64, np.float32))
    message = str(info.value)
    assert "numpy.ndarray" in message and "conv2d" in message, message
    assert "0.123456" not in message and len(message) < 300, message
    with pytest.raises(ValueError, match=r"got a builtins\.int"):
        sc.prepare(3, w)


@pytest.mark.parametrize("threads", [1, 2])
def test_prepared_reads_weights_in_place_where_plain_does_and_that_wins(threads):
    """Where the plain GEMM reads the weights in place and that is faster for a prepared
    layer too (KernelSelector.preparedReadsWeightsInPlace: 3x3 windows from 64 GEMM columns,
    1x1 from 256), the prepared plan packs nothing and runs the plain call's route; with
    fewer columns it runs on the weights packed at creation. Same bits as the function
    either way, on any thread count, and the same whatever plan came first."""
    saved = sc.get_num_threads()
    sc.set_num_threads(threads)
    try:
        rng = np.random.default_rng(12)
        # (N, C_in, C_out, size, k, prepared reads in place)
        for n, cin, cout, hw, k, in_place in [(1, 32, 48, 10, 3, True), (2, 20, 30, 7, 3, True),
                                              (1, 32, 48, 7, 3, False), (1, 40, 24, 16, 1, True),
                                              (1, 40, 24, 14, 1, False)]:
            w = rng.standard_normal((cout, cin, k, k)).astype(np.float32)
            b = rng.standard_normal(cout).astype(np.float32)
            x = rng.standard_normal((n, cin, hw, hw)).astype(np.float32)
            p = sc.prepare("conv2d", w, b, padding=k // 2)
            assert "weights read in place, no packing" in sc.explain("conv2d", x, w, b, padding=k // 2)
            text = p.explain(x)
            assert ("weights read in place, no packing" in text) == in_place, text
            assert ("weights: packed at creation" in text) == (not in_place), text
            want = sc.conv2d(x, w, b, padding=k // 2)
            np.testing.assert_array_equal(p(x), want)
            # The object's other plans still share its packed weights.
            small = x[:, :, :5, :5].copy()
            np.testing.assert_array_equal(p(small), sc.conv2d(small, w, b, padding=k // 2))
            assert p.packed_bytes >= w.nbytes
    finally:
        sc.set_num_threads(saved)


@pytest.mark.parametrize("threads", [1, 2])
def test_prepared_pointwise_on_few_pixels_runs_blocked_with_the_plain_bits(threads):
    """A prepared float32 1x1 layer on a 7x7 plane at batch 1 runs the channel-blocked conv
    on panels packed at creation (AVX-512 tier; KernelSelector.preparedRunsPointwiseBlocked)
    while the plain call runs the GEMM: for a 1x1 kernel both sum the bias, then channel by
    channel, so the bits are the plain call's (signed zeros included). C_in not a multiple
    of 16 and larger planes keep the GEMM."""
    saved = sc.get_num_threads()
    sc.set_num_threads(threads)
    try:
        rng = np.random.default_rng(21)
        avx512 = "AVX-512 build" in sc.explain("conv2d", np.ones((1, 16, 7, 7), np.float32), np.ones((16, 16, 1, 1), np.float32))
        for n, cin, cout, hw, stride, bias, blocked in [(1, 64, 520, 7, 1, True, True), (1, 32, 512, 7, 1, False, True),
                                                        (1, 64, 516, 13, 2, True, True), (1, 24, 520, 7, 1, True, False),
                                                        (1, 32, 520, 14, 1, True, False), (8, 32, 520, 7, 1, True, False),
                                                        (1, 32, 160, 7, 1, True, False)]:
            w = rng.standard_normal((cout, cin, 1, 1)).astype(np.float32)
            b = rng.standard_normal(cout).astype(np.float32) if bias else None
            x = rng.standard_normal((n, cin, hw, hw)).astype(np.float32)
            if bias:  # -0 bias + (-0 products) = -0, + (+0 products) = +0
                w[0], w[1], b[0], b[1], x[0] = -1, 1, -0.0, -0.0, 0
            p = sc.prepare("conv2d", w, b, stride=stride)
            text = p.explain(x)
            assert ("forward conv: blocked" in text) == (blocked and avx512), text
            assert "blocked" not in sc.explain("conv2d", x, w, b, stride=stride)
            want = sc.conv2d(x, w, b, stride)
            got = p(x)
            assert got.tobytes() == want.tobytes()
            if bias:
                assert np.signbit(want[0, 0, 0, 0]) and not np.signbit(want[0, 1, 0, 0])
    finally:
        sc.set_num_threads(saved)
