"""Result arrays of 1 MiB or more come from the extension's own NumPy memory handler
(``swiftconv_results``: the memory of freed results reused, else malloc; see ``_native.c``
"result memory"). They must be ordinary NumPy arrays all
the same: OWNDATA, no base, writeable, picklable, resizable, freeable from any thread and
after the module is gone; values as the reference says; smaller results and every array
the user makes keep NumPy's handler; a failed allocation is a MemoryError; and nothing
leaks (RSS over hundreds of calls)."""
from __future__ import annotations

import gc
import pickle
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import swiftconv as sc

from _hardening import assert_fresh_result, assert_matches_reference, rng_array, run

try:  # NumPy >= 1.22 (numpy.core before 2.0)
    from numpy._core.multiarray import get_handler_name
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core.multiarray import get_handler_name

OURS = "swiftconv_results"
DEFAULT = get_handler_name(np.empty(1 << 21, np.uint8))  # NumPy's (or the user's) handler
MIB = 1 << 20

# One configuration per op whose results are all large (>= 1 MiB in float32) or all small.
BIG = {
    "conv1d": dict(x=(2, 64, 4096), w=(64, 64, 3), b=(64,), gy=None, params=dict(padding=1)),
    "conv2d": dict(x=(2, 16, 64, 64), w=(64, 16, 3, 3), b=(64,), gy=None, params=dict(padding=1)),
    "conv3d": dict(x=(1, 8, 16, 32, 32), w=(32, 8, 3, 3, 3), b=(32,), gy=None, params=dict(padding=1)),
    "conv_transpose1d": dict(x=(2, 64, 2048), w=(64, 64, 4), b=(64,), gy=None, params=dict(stride=2, padding=1)),
    "conv_transpose2d": dict(x=(2, 32, 32, 32), w=(32, 32, 4, 4), b=(32,), gy=None, params=dict(stride=2, padding=1)),
    "conv_transpose3d": dict(x=(1, 16, 8, 16, 16), w=(16, 16, 2, 2, 2), b=(16,), gy=None, params=dict(stride=2)),
    # backward: grad_input >= 1 MiB; grad_weight >= 1 MiB too (512*256*3*3*4 bytes)
    "conv2d_backward": dict(x=(2, 256, 24, 24), w=(512, 256, 3, 3), b=None, gy=(2, 512, 24, 24), params=dict(padding=1)),
    "conv_transpose2d_backward": dict(x=(2, 512, 24, 24), w=(512, 256, 3, 3), b=None, gy=(2, 256, 24, 24), params=dict(padding=1)),
    "conv1d_backward": dict(x=(2, 64, 4096), w=(64, 64, 3), b=None, gy=(2, 64, 4096), params=dict(padding=1)),
    "conv3d_backward": dict(x=(1, 16, 16, 32, 32), w=(32, 16, 3, 3, 3), b=None, gy=(1, 32, 16, 32, 32), params=dict(padding=1)),
}
SMALL = dict(x=(2, 4, 9, 8), w=(6, 4, 3, 3), b=(6,), gy=None, params=dict(padding=1))


def make(config, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return {k: (None if config[k] is None else rng_array(rng, config[k], dtype)) for k in ("x", "w", "b", "gy")}


def assert_ordinary(r, dtype=np.float32):
    """An ordinary array the caller owns: OWNDATA, no base, writeable, C-contiguous; a
    large one 64-byte aligned (the kernels' stores then never straddle cache lines)."""
    assert_fresh_result(r, dtype)
    assert r.base is None
    if r.nbytes >= MIB:
        assert r.ctypes.data % 64 == 0


@pytest.mark.parametrize("op", sorted(BIG))
def test_large_results_use_the_handler_and_are_ordinary_arrays(op):
    a = make(BIG[op])
    results = run(op, a["x"], a["w"], a["b"], a["gy"], **BIG[op]["params"])
    assert_matches_reference(results, op, a["x"], a["w"], a["b"], a["gy"], **BIG[op]["params"])
    for r in results:
        if r is None:
            continue
        assert_ordinary(r)
        assert get_handler_name(r) == (OURS if r.nbytes >= MIB else DEFAULT), (r.shape, r.nbytes)
        copy = r.copy()
        assert np.array_equal(pickle.loads(pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL)), copy)
        r[...] = 1.0  # writeable, all of it
        assert np.all(r == 1.0)
    assert any(r is not None and get_handler_name(r) == OURS for r in results), "no large result"


def test_prepared_results():
    a = make(BIG["conv2d"])
    p = sc.prepare("conv2d", a["w"], a["b"], padding=1)
    y = p(a["x"])
    assert_ordinary(y)
    assert get_handler_name(y) == OURS
    assert_matches_reference((y,), "conv2d", a["x"], a["w"], a["b"], padding=1)


def test_small_results_and_user_arrays_keep_numpys_handler():
    a = make(SMALL)
    y = sc.conv2d(a["x"], a["w"], a["b"], padding=1)
    assert y.nbytes < MIB and get_handler_name(y) == DEFAULT
    assert_ordinary(y)
    big = make(BIG["conv2d"])
    z = sc.conv2d(big["x"], big["w"], big["b"], padding=1)
    assert get_handler_name(z) == OURS
    # the handler was set around the engine's own allocation only
    assert get_handler_name(np.empty(8 * MIB, np.uint8)) == DEFAULT
    assert get_handler_name(np.zeros((1024, 1024), np.float32)) == DEFAULT
    assert get_handler_name(z + 1) == DEFAULT


@pytest.mark.parametrize("dtype", [np.float64, np.float16])
def test_other_dtypes(dtype):
    a = make(BIG["conv2d"], dtype)
    y = sc.conv2d(a["x"], a["w"], a["b"], padding=1)
    assert_ordinary(y, dtype)
    assert get_handler_name(y) == (OURS if y.nbytes >= MIB else DEFAULT)
    assert_matches_reference((y,), "conv2d", a["x"], a["w"], a["b"], padding=1)


def test_channels_last_results_are_views_of_handler_memory():
    a = make(BIG["conv2d"])
    x = np.ascontiguousarray(a["x"].transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    y = sc.conv2d(x, a["w"], a["b"], padding=1)
    assert y.transpose(0, 2, 3, 1).flags.c_contiguous  # channels-last memory, as before
    assert y.base is not None and get_handler_name(y.base) == OURS and y.base.flags.owndata
    assert_matches_reference((y,), "conv2d", a["x"], a["w"], a["b"], padding=1)


def test_freed_result_memory_is_reused():
    # in a fresh process: the cache holds nothing else (it hands out the best-fitting block)
    p = _child("""
        import gc
        import numpy as np
        import swiftconv as sc
        rng = np.random.default_rng(0)
        x = rng.standard_normal((2, 16, 64, 64)).astype(np.float32)
        w = rng.standard_normal((64, 16, 3, 3)).astype(np.float32)
        y = sc.conv2d(x, w, padding=1)
        want, address = y.copy(), y.ctypes.data
        del y
        gc.collect()
        y = sc.conv2d(x, w, padding=1)
        assert y.ctypes.data == address  # the freed block, already faulted in
        assert np.array_equal(y, want)
        print("ok")
    """)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr


def test_resize_and_realloc_keep_the_data():
    a = make(BIG["conv2d"])
    y = sc.conv2d(a["x"], a["w"], a["b"], padding=1)
    flat = y.ravel().copy()
    y.resize((y.size * 3,), refcheck=False)  # grows: the handler's realloc moves it
    assert np.array_equal(y[:flat.size], flat) and get_handler_name(y) == OURS
    y[flat.size:] = 2.0
    y.resize((100,), refcheck=False)  # shrinks in place
    assert np.array_equal(y, flat[:100])
    del y


def test_freed_from_another_thread_and_across_threads():
    a = make(BIG["conv2d"])
    want = sc.conv2d(a["x"], a["w"], a["b"], padding=1).copy()
    box, errors = [sc.conv2d(a["x"], a["w"], a["b"], padding=1) for _ in range(4)], []

    def worker(i):
        try:
            mine = box.pop()
            assert np.array_equal(mine, want)
            del mine  # freed on this thread
            for _ in range(5):
                r = sc.conv2d(a["x"], a["w"], a["b"], padding=1)
                assert np.array_equal(r, want)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def _child(source: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(source)], capture_output=True,
                          text=True, timeout=300)


def test_results_outlive_the_module():
    p = _child("""
        import gc, sys
        import numpy as np
        import swiftconv as sc
        x = np.ones((2, 16, 64, 64), np.float32); w = np.ones((64, 16, 3, 3), np.float32)
        ys = [sc.conv2d(x, w, padding=1) for _ in range(3)]
        del sc
        for name in [m for m in sys.modules if m.startswith("swiftconv")]:
            del sys.modules[name]
        gc.collect()
        for y in ys:
            y += 1.0
        assert float(ys[0][0, 0, 1, 1]) == 16 * 9 + 1
        ys.pop()  # freed after the module is gone
        print("ok")
    """)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr


def test_allocation_failure_is_a_memory_error():
    p = _child("""
        import resource
        import numpy as np
        import swiftconv as sc
        try:
            from numpy._core.multiarray import get_handler_name
        except ImportError:
            from numpy.core.multiarray import get_handler_name
        x = np.ones((1, 1, 1, 1), np.float32); w = np.ones((1, 1, 1, 1), np.float32)
        with open("/proc/self/statm") as f:
            vm = int(f.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (vm + (512 << 20), resource.RLIM_INFINITY))
        try:
            sc.conv2d(x, w, padding=12000)  # a 24001 x 24001 float32 result: 2.3 GB
        except MemoryError as exc:
            print("MemoryError")
        # nothing is left set: the user's arrays keep NumPy's handler
        assert get_handler_name(np.empty(4 << 20, np.uint8)) != "swiftconv_results"
        y = sc.conv2d(x, w, padding=400)
        assert y.shape == (1, 1, 801, 801) and get_handler_name(y) == "swiftconv_results"
        print("ok")
    """)
    assert p.returncode == 0 and p.stdout.split() == ["MemoryError", "ok"], (p.stdout, p.stderr)


def test_rss_flat_over_hundreds_of_large_results():
    """200 rounds of results of three sizes (kept in turns, as a network's layers keep
    theirs) must not grow RSS past the handler's bounded cache."""
    p = _child("""
        import gc
        import numpy as np
        import swiftconv as sc

        def rss():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * 4096

        rng = np.random.default_rng(0)
        cases = [(rng.standard_normal((2, c, 64, 64)).astype(np.float32),
                  rng.standard_normal((o, c, 1, 1)).astype(np.float32)) for c, o in ((16, 64), (64, 128), (128, 32))]
        go = rng.standard_normal((2, 64, 64, 64)).astype(np.float32)

        def round_():
            kept = [sc.conv2d(x, w) for x, w in cases]
            kept += list(sc.conv2d_backward(go, cases[0][0], cases[0][1]))
            kept += [sc.conv_transpose2d(cases[1][0][:, :, :32, :32], cases[1][1].transpose(1, 0, 2, 3), stride=2)]
            return kept

        for _ in range(20):
            round_()
        gc.collect()
        start = rss()
        for _ in range(200):
            round_()
        gc.collect()
        print((rss() - start) >> 20)
    """)
    assert p.returncode == 0, p.stderr
    grown = int(p.stdout.split()[-1])
    assert grown < 16, f"RSS grew by {grown} MiB over 200 rounds"


def test_release_memory_frees_the_kept_blocks_and_calls_go_on():
    # in a fresh process: what is kept is this test's alone
    p = _child("""
        import gc
        import numpy as np
        import swiftconv as sc
        rng = np.random.default_rng(0)
        x = rng.standard_normal((2, 16, 64, 64)).astype(np.float32)
        w = rng.standard_normal((64, 16, 3, 3)).astype(np.float32)
        y = sc.conv2d(x, w, padding=1)
        want, nbytes = y.copy(), y.nbytes
        del y
        gc.collect()
        freed = sc.release_memory()
        assert isinstance(freed, int) and freed >= nbytes, (freed, nbytes)  # the freed result's block
        assert sc.release_memory() == 0  # nothing left to free
        assert np.array_equal(sc.conv2d(x, w, padding=1), want)  # calls go on as before
        print("ok")
    """)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr
