"""No leaks in the extension: reference counts of every argument are unchanged after calls,
error paths included, and RSS stays flat over thousands of calls."""
from __future__ import annotations

import gc
import os
import sys

import numpy as np
import pytest

import swiftconv as sc

from _hardening import run


def f32(*shape):
    return np.ones(shape, np.float32)


class ArrayLikeObject:
    def __init__(self, a):
        self.a = a

    def __array__(self, dtype=None, copy=None):
        return self.a


def _arguments():
    """Fresh argument objects (not interned, so their refcounts are ours alone)."""
    x = np.random.rand(2, 4, 9, 9).astype(np.float32)
    return dict(
        x=x, xt=np.asfortranarray(x), xbe=x.astype(">f4"), xs=x[:, :, ::2, ::-1],
        xl=ArrayLikeObject(x.copy()),
        w=np.random.rand(6, 2, 3, 3).astype(np.float32), b=np.random.rand(6).astype(np.float32),
        wt=np.random.rand(4, 3, 3, 3).astype(np.float32),
        gy=np.random.rand(2, 6, 5, 5).astype(np.float32), gyt=np.random.rand(2, 6, 18, 18).astype(np.float32),
        stride=(2, int("2")), padding=[int("1"), int("1")], pad2=((1, 0), (0, 1)), dil=(1, 1),
        groups=int("2"), alg="".join(["a", "uto"]), mask=[True, False, True],
        big=2**70, bad_alg="".join(["bo", "gus"]), f=1.5, npint=np.int64(2),
        x16=x.astype(np.float16), xi=x.astype(np.int32), x64=x.astype(np.float64),
        bad_b=np.ones(5, np.float32),
        w16=np.random.rand(6, 2, 3, 3).astype(np.float16), b16=np.random.rand(6).astype(np.float16),
        x16be=x.astype(">f2"),
    )


CALLS = {
    # successful calls
    "conv2d": lambda a: sc.conv2d(a["x"], a["w"], a["b"], a["stride"], a["padding"], a["dil"], a["groups"], algorithm=a["alg"]),
    "conv2d_layouts": lambda a: [sc.conv2d(v, a["w"], a["b"], groups=a["npint"], padding=a["pad2"]) for v in (a["xt"], a["xbe"], a["xs"], a["xl"])],
    "conv_transpose2d": lambda a: sc.conv_transpose2d(a["x"], a["wt"], None, a["stride"], a["padding"], 1, a["groups"]),
    "conv2d_backward": lambda a: sc.conv2d_backward(a["gy"], a["x"], a["w"], a["stride"], a["padding"], groups=a["groups"], output_mask=a["mask"]),
    "conv_transpose2d_backward": lambda a: sc.conv_transpose2d_backward(a["gyt"], a["x"], a["wt"], a["stride"], a["padding"], 1, a["groups"]),
    "explain": lambda a: sc.explain("conv2d", a["x"], a["w"], a["b"], groups=a["groups"]),
    "conv2d_float16": lambda a: [sc.conv2d(v, a["w16"], a["b16"], groups=a["groups"]) for v in (a["x16"], a["x16be"])],
    "prepared_float16": lambda a: sc.prepare("conv2d", a["w16"], a["b16"], groups=a["groups"])(a["x16"]),
    "threads": lambda a: (sc.set_num_threads(a["npint"]), sc.get_num_threads()),
    # error paths
    "err_channels": lambda a: sc.conv2d(a["x"], a["w"], a["b"]),
    "err_bias": lambda a: sc.conv2d(a["x"], a["w"], a["bad_b"], groups=a["groups"]),
    "err_dtype": lambda a: sc.conv2d(a["x16"], a["w"]),
    "err_dtype_weight": lambda a: sc.conv2d(a["x"], a["xi"]),
    "err_mismatch": lambda a: sc.conv2d(a["x64"], a["w"], a["b"], groups=a["groups"]),
    "err_mismatch_half": lambda a: sc.conv2d(a["x"], a["w16"], a["b"], groups=a["groups"]),
    "err_alg": lambda a: sc.conv2d(a["xt"], a["w"], a["b"], groups=a["groups"], algorithm=a["bad_alg"]),
    "err_big": lambda a: sc.conv2d(a["x"], a["w"], stride=a["big"]),
    "err_type": lambda a: sc.conv2d(a["x"], a["w"], padding=a["f"]),
    "err_grad": lambda a: sc.conv2d_backward(a["gyt"], a["x"], a["w"], groups=a["groups"]),
    "err_list": lambda a: sc.conv2d([[1.0], [1.0, 2.0]], a["w"]),
    "err_threads": lambda a: sc.set_num_threads(a["big"]),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_refcounts_unchanged(name):
    args = _arguments()
    fn = CALLS[name]
    before_threads = sc.get_num_threads()
    try:
        for _ in range(3):  # warm caches (NumPy descriptors, interned strings)
            try:
                fn(args)
            except (ValueError, TypeError, MemoryError):
                pass
        gc.collect()
        before = {k: sys.getrefcount(v) for k, v in args.items()}
        for _ in range(50):
            try:
                fn(args)
            except (ValueError, TypeError, MemoryError):
                if not name.startswith("err"):
                    raise
            else:
                assert not name.startswith("err"), f"{name} did not raise"
        gc.collect()
        after = {k: sys.getrefcount(v) for k, v in args.items()}
    finally:
        sc.set_num_threads(before_threads)
    # Small ints and interned strings are shared with the whole interpreter: skip those.
    shared = {k for k, v in before.items() if v > 10**6}
    assert {k: v for k, v in after.items() if k not in shared} == {k: v for k, v in before.items() if k not in shared}


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_rss_flat_over_thousands_of_calls():
    """Each successful call below allocates or converts >= 32 KiB; leaking any of those
    buffers would add >= 46 MiB over 1500 rounds. Allow 16 MiB of slack (allocator noise)."""
    rng = np.random.default_rng(0)
    x = rng.random((1, 4, 32, 32))                 # 32 KiB float64
    xf = np.asfortranarray(x)                      # converted on every call
    w = rng.random((8, 4, 3, 3))
    gy = rng.random((1, 8, 32, 32))                # 64 KiB
    wt = rng.random((4, 8, 3, 3))
    big_alg = "x" * 40_000                         # a 40 KB string through the error path

    def one_round():
        sc.conv2d(xf, w, padding=1)
        sc.conv_transpose2d(x, wt, padding=1)
        sc.conv2d_backward(gy, xf, w, padding=1)
        sc.conv_transpose2d_backward(gy, x, wt, padding=1)
        for bad in (lambda: sc.conv2d(xf, w, padding=1, algorithm=big_alg),
                    lambda: sc.conv2d(xf, w[:, :2]),
                    lambda: sc.conv2d_backward(gy[:, :, 1:], xf, w, padding=1),
                    lambda: sc.conv2d(xf.astype(np.float16), w)):
            try:
                bad()
            except (ValueError, TypeError):
                pass
            else:
                raise AssertionError("expected an error")

    for _ in range(200):
        one_round()
    gc.collect()
    start = _rss_bytes()
    for _ in range(1500):
        one_round()
    gc.collect()
    grown = _rss_bytes() - start
    assert grown < 16 * 2**20, f"RSS grew by {grown / 2**20:.1f} MiB over 1500 rounds"


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_rss_flat_for_plans_and_prepared_objects():
    """Every rank's calls (each creates and destroys an engine plan), and prepared objects
    made, called, updated and dropped: each round holds >= 64 KiB of packed weights and
    results; leaking them would add >= 37 MiB over 600 rounds. The engine's own count of
    live allocations must come back to where it was."""
    from swiftconv import _native
    rng = np.random.default_rng(1)
    x1, w1 = rng.random((2, 8, 64)).astype(np.float32), rng.random((16, 8, 5)).astype(np.float32)
    x3, w3 = rng.random((1, 4, 6, 8, 8)).astype(np.float32), rng.random((8, 4, 3, 3, 3)).astype(np.float32)
    w2 = rng.random((64, 32, 3, 3)).astype(np.float32)  # 72 KiB, packed at prepare
    x2 = rng.random((1, 32, 8, 8)).astype(np.float32)

    def one_round():
        sc.conv1d(x1, w1, padding=2)
        sc.conv3d(x3, w3, padding=1)
        sc.conv_transpose3d(x3, w3.transpose(1, 0, 2, 3, 4).copy(), stride=2)
        p = sc.prepare("conv2d", w2, padding=1)
        p(x2)
        p(x2[:, :, :6, :6])
        p.update(w2 * 0.5)
        p.backward(np.ones((1, 64, 8, 8), np.float32), x2)
        try:
            p(x2[:, :16])
        except ValueError:
            pass
        else:
            raise AssertionError("expected an error")

    for _ in range(50):
        one_round()
    gc.collect()
    live_before = _native._test_allocation_failures(-1)[1]
    start = _rss_bytes()
    for _ in range(600):
        one_round()
    gc.collect()
    grown = _rss_bytes() - start
    assert grown < 16 * 2**20, f"RSS grew by {grown / 2**20:.1f} MiB over 600 rounds"
    assert _native._test_allocation_failures(-1)[1] == live_before
