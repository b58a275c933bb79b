"""Threads (issue 5): the GIL is released during compute; concurrent calls from several
Python threads are correct; set_num_threads while others compute is safe; results are
bitwise identical for 1, 2 and 3 engine threads; a forked child can still compute.

Every test here is meaningful for a real worker pool: shapes are large enough that the
engine's parallel loops have many more iterations than threads."""
from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

import swiftconv as sc

from _hardening import OPS, general_algorithms, rng_array, run


@pytest.fixture(autouse=True)
def restore_threads():
    before = sc.get_num_threads()
    yield
    sc.set_num_threads(before)


# Mid-sized problems (a few ms each), one per op, every parameter non-trivial.
def problem(op, dtype=np.float32, seed=0, batch=3):
    rng = np.random.default_rng(seed)
    if op in ("conv2d", "conv2d_backward"):
        x, w = rng_array(rng, (batch, 8, 21, 19), dtype), rng_array(rng, (12, 4, 3, 3), dtype)
        params = dict(stride=(1, 2), padding=((1, 2), (0, 1)) if op == "conv2d" else (1, 0), dilation=(2, 1), groups=2)
    else:
        x, w = rng_array(rng, (batch, 8, 11, 10), dtype), rng_array(rng, (8, 6, 3, 2), dtype)
        params = dict(stride=(2, 1), padding=(1, 0), output_padding=(1, 0), groups=2, dilation=(1, 2))
    b = rng_array(rng, (12,), dtype) if op in ("conv2d", "conv_transpose2d") else None
    gy = None
    if op.endswith("backward"):
        fwd = op[: -len("_backward")]
        shape = run(fwd, x, w, **params)[0].shape
        gy = rng_array(rng, shape, dtype)
    return (x, w, b, gy), params


def call(op, arrays, params, algorithm="auto"):
    x, w, b, gy = arrays
    return run(op, x, w, b, gy, algorithm=algorithm, **params)


def same_bits(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert (u is None) == (v is None)
        if u is not None:
            assert u.shape == v.shape and u.dtype == v.dtype and u.tobytes() == v.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", OPS)
def test_bitwise_identical_for_1_2_3_threads(op, dtype):
    arrays, params = problem(op, dtype, seed=1)
    for alg in general_algorithms(op):
        sc.set_num_threads(1)
        want = call(op, arrays, params, alg)
        for n in (2, 3, 1, 3, 2):
            sc.set_num_threads(n)
            same_bits(call(op, arrays, params, alg), want)


def test_bitwise_identical_across_thread_counts_big():
    """A problem with many more tasks than threads, and odd sizes that split unevenly."""
    rng = np.random.default_rng(2)
    x, w, b = rng_array(rng, (5, 18, 33, 31)), rng_array(rng, (30, 6, 3, 5)), rng_array(rng, (30,))
    results = {}
    for n in (1, 2, 3, 7):
        sc.set_num_threads(n)
        results[n] = sc.conv2d(x, w, b, padding=(1, 2), groups=3)
        gy = rng_array(np.random.default_rng(3), results[n].shape)
        results[n] = (results[n],) + sc.conv2d_backward(gy, x, w, padding=(1, 2), groups=3)
    for n in (2, 3, 7):
        same_bits(results[n], results[1])


def _gil_probe(fn, min_seconds=0.15):
    """Runs fn() in the main thread while a Python thread counts; returns how many counter
    ticks fell in the middle half of fn's run. With the GIL held there would be none."""
    stamps = []
    stop = threading.Event()
    started = threading.Event()

    def counter():
        started.set()
        i = 0
        while not stop.is_set():
            i += 1
            if i % 200 == 0:
                stamps.append(time.perf_counter())

    t = threading.Thread(target=counter)
    t.start()
    started.wait()
    time.sleep(0.01)
    t0 = time.perf_counter()
    fn()
    t1 = time.perf_counter()
    stop.set()
    t.join()
    lo, hi = t0 + (t1 - t0) / 4, t1 - (t1 - t0) / 4
    return sum(lo < s < hi for s in stamps), t1 - t0


@pytest.mark.parametrize("op", ["conv2d", "conv_transpose2d_backward"])
def test_gil_released_during_compute(op):
    sc.set_num_threads(1)  # leave the other core to the counting thread
    rng = np.random.default_rng(4)

    def make(batch):
        x, w = rng_array(rng, (batch, 8, 32, 32), np.float64), rng_array(rng, (8, 8, 5, 5), np.float64)
        if op == "conv2d":
            return lambda: sc.conv2d(x, w, padding=2, algorithm="reference")
        gy = rng_array(rng, (batch, 8, 65, 65), np.float64)
        return lambda: run(op, x, w, gy=gy, stride=2, padding=1, algorithm="reference")

    batch, fn = 1, make(1)
    fn()  # warm up (first-touch page faults, thread start)
    while True:  # grow the problem until one call takes long enough to observe
        t = time.perf_counter()
        fn()
        if time.perf_counter() - t > 0.25 or batch >= 256:
            break
        batch *= 2
        fn = make(batch)
    ticks, seconds = _gil_probe(fn)
    assert seconds > 0.05, f"call too short to observe ({seconds:.3f}s, batch {batch})"
    assert ticks > 20, f"a Python thread made {ticks} ticks during a {seconds:.2f}s call: GIL held?"


def test_concurrent_calls_are_correct():
    """Several Python threads, each running every op on its own data, many times."""
    sc.set_num_threads(2)
    jobs = []
    for i, op in enumerate(OPS * 2):
        arrays, params = problem(op, np.float32 if i % 2 else np.float64, seed=10 + i, batch=2)
        jobs.append((op, arrays, params, call(op, arrays, params)))
    errors = []
    barrier = threading.Barrier(len(jobs))

    def worker(job):
        op, arrays, params, want = job
        try:
            barrier.wait()
            for _ in range(15):
                same_bits(call(op, arrays, params), want)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append((op, repr(e)))

    threads = [threading.Thread(target=worker, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a computing thread hung"
    assert not errors, errors


def test_set_num_threads_while_computing():
    jobs = []
    for i, op in enumerate(OPS):
        arrays, params = problem(op, seed=20 + i, batch=2)
        sc.set_num_threads(1)
        jobs.append((op, arrays, params, call(op, arrays, params)))
    stop = threading.Event()
    errors = []

    def churn():
        n = 0
        while not stop.is_set():
            sc.set_num_threads(1 + n % 4)
            assert 1 <= sc.get_num_threads() <= 4
            n += 1
            time.sleep(0)

    def worker(job):
        op, arrays, params, want = job
        try:
            for _ in range(20):
                same_bits(call(op, arrays, params), want)
        except BaseException as e:  # noqa: BLE001
            errors.append((op, repr(e)))

    churner = threading.Thread(target=churn)
    churner.start()
    threads = [threading.Thread(target=worker, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    stop.set()
    churner.join(timeout=10)
    assert not any(t.is_alive() for t in threads + [churner]), "hung"
    assert not errors, errors


def _wait_child(pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return "hung"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("threads_in_child", [1, 3])
def test_forked_child_can_compute(threads_in_child):
    arrays, params = problem("conv2d", seed=30, batch=4)
    sc.set_num_threads(3)
    want = call("conv2d", arrays, params)  # the parent's pool has started its workers
    garrays, gparams = problem("conv2d_backward", seed=31, batch=4)
    gwant = call("conv2d_backward", garrays, gparams)
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 1
        try:
            sc.set_num_threads(threads_in_child)
            for _ in range(3):
                same_bits(call("conv2d", arrays, params), want)
                same_bits(call("conv2d_backward", garrays, gparams), gwant)
            code = 0
        finally:
            os._exit(code)
    assert _wait_child(pid, 60) == 0
    # The parent still computes too.
    same_bits(call("conv2d", arrays, params), want)


def test_multiprocessing_fork_pool():
    import multiprocessing as mp
    arrays, params = problem("conv_transpose2d", seed=40, batch=2)
    sc.set_num_threads(2)
    want = call("conv_transpose2d", arrays, params)
    ctx = mp.get_context("fork")
    with ctx.Pool(2) as pool:
        outs = pool.starmap(_pool_job, [(arrays, params)] * 4, chunksize=1)
    for out in outs:
        same_bits(out, want)


def _pool_job(arrays, params):
    return call("conv_transpose2d", arrays, params)
