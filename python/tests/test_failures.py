"""Failure injection: every engine allocation of every op and rank, made to fail in turn.

The engine's test hook (``_native._test_allocation_failures``) makes the n-th allocation
from now on fail, as if memory had run out. For each op, n sweeps 1, 2, ... until the call
no longer reaches an n-th allocation. Every injected call must either raise MemoryError or
return the exact result (some allocations have a fallback that needs no memory, e.g. packing
on the fly), leak nothing (the engine's live-allocation count returns to where it was), and
leave the process healthy: the next call without injection gives the exact result.
"""
from __future__ import annotations

import numpy as np
import pytest

import swiftconv as sc
from swiftconv import _native

from _hardening import general_algorithms

try:  # optional (bfloat16)
    import ml_dtypes
    BFLOAT16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:
    BFLOAT16 = None


def _rank_cases(r, rng):
    f = lambda *s: rng.standard_normal(s).astype(np.float32)
    sp = (6,) * r if r < 3 else (4, 5, 6)
    k = (3,) * r
    x, w, b = f(2, 4, *sp), f(6, 2, *k), f(6)
    wt, bt = f(4, 3, *k), f(6)  # transposed: (C_in, C_out/groups, *k)
    conv, convt = getattr(sc, f"conv{r}d"), getattr(sc, f"conv_transpose{r}d")
    y, yt = conv(x, w, b, 2, 1, 1, 2), convt(x, wt, bt, 2, 1, 1, 2)
    cases = [(f"conv{r}d-{a}", lambda a=a: (conv(x, w, b, 2, 1, 1, 2, algorithm=a),)) for a in general_algorithms(f"conv{r}d")]
    cases.append((f"conv{r}d-same", lambda: (conv(x, w, b, 1, "same", 1, 2),)))
    cases += [(f"conv_transpose{r}d-{a}", lambda a=a: (convt(x, wt, bt, 2, 1, 1, 2, algorithm=a),))
              for a in sc.algorithms(f"conv_transpose{r}d")]
    back, backt = getattr(sc, f"conv{r}d_backward"), getattr(sc, f"conv_transpose{r}d_backward")
    cases.append((f"conv{r}d_backward", lambda: back(np.ones_like(y), x, w, 2, 1, 1, 2)))
    cases.append((f"conv_transpose{r}d_backward", lambda: backt(np.ones_like(yt), x, wt, 2, 1, 1, 2)))
    cases.append((f"prepare-conv{r}d", lambda: (sc.prepare(f"conv{r}d", w, b, stride=2, padding=1, groups=2)(x),)))
    # Padding modes (the padded copy, and the fold of grad_input) and output_size.
    cases += [(f"conv{r}d-{m}-{a}", lambda m=m, a=a: (conv(x, w, b, 1, 2, 1, 2, algorithm=a, padding_mode=m),))
              for m in ("reflect", "replicate", "circular") for a in ("auto", "direct")]
    pads = ((1, 2),) * r
    ym = conv(x, w, b, 2, pads, 1, 2, padding_mode="circular")
    cases.append((f"conv{r}d_backward-circular", lambda: back(np.ones_like(ym), x, w, 2, pads, 1, 2, padding_mode="circular")))
    cases.append((f"conv{r}d_backward-reflect-grad_input", lambda: back(np.ones_like(ym), x, w, 2, pads, 1, 2,
                                                                         padding_mode="reflect", output_mask=(True, False, False))))
    cases.append((f"prepare-conv{r}d-replicate",
                  lambda: (sc.prepare(f"conv{r}d", w, b, padding="same", groups=2, padding_mode="replicate")(x),)))
    if r == 1:  # a row long enough for the im2col to read the border through its index maps
        xr, wr = f(2, 4, 600), f(8, 4, 3)
        cases.append(("conv1d-reflect-maps", lambda: (conv(xr, wr, None, 1, 2, padding_mode="reflect"),)))
    size = tuple(v - 1 for v in yt.shape[2:])  # yt has output_padding 1: the smallest size
    cases.append((f"conv_transpose{r}d-output_size", lambda: (convt(x, wt, bt, 2, 1, 0, 2, output_size=size),)))
    cases.append((f"conv_transpose{r}d_backward-output_size",
                  lambda: backt(np.ones(yt.shape[:2] + size, np.float32), x, wt, 2, 1, 0, 2, output_size=size)))
    # Channels-last activations: the channels-last GEMM (its packed weights, per call and
    # at plan creation) and the conversion path (its workspace), forward and backward.
    def cl(a):
        c = a.ndim - r - 1
        order = [i for i in range(a.ndim) if i != c] + [c]
        m = np.empty([a.shape[i] for i in order], a.dtype)
        m[...] = a.transpose(order)
        return m.transpose(np.argsort(order))
    xl, wl, bl = f(2, 16, *sp), f(16, 8, *k), f(16)
    cases.append((f"conv{r}d-channels_last", lambda: (conv(cl(xl), wl, bl, 1, 1, 1, 2),)))
    cases.append((f"conv{r}d-channels_last-convert", lambda: (conv(cl(x), w, b, 2, 1, 1, 2),)))
    cases.append((f"prepare-conv{r}d-channels_last", lambda: (sc.prepare(f"conv{r}d", wl, bl, padding=1, groups=2)(cl(xl)),)))
    cases.append((f"conv_transpose{r}d-channels_last", lambda: (convt(cl(x), wt, bt, 2, 1, 1, 2),)))
    cases.append((f"conv{r}d_backward-channels_last", lambda: back(cl(np.ones_like(y)), cl(x), w, 2, 1, 1, 2)))
    w16 = f(16, 16, *k)
    yl = conv(cl(xl), w16, None, 1, 1)
    cases.append((f"conv{r}d-channels_last-gemm", lambda: (conv(cl(xl), w16, bl, 1, 1),)))
    cases.append((f"prepare-conv{r}d-channels_last-gemm", lambda: (sc.prepare(f"conv{r}d", w16, bl, padding=1)(cl(xl)),)))
    cases.append((f"conv{r}d_backward-channels_last-gemm", lambda: back(cl(np.ones_like(yl)), cl(xl), w16, 1, 1)))
    cases.append((f"conv_transpose{r}d-channels_last-gemm", lambda: (convt(cl(xl), w16, bl, 1, 1),)))
    cases.append((f"conv{r}d-channels_last-f16", lambda: (conv(cl(xl.astype(np.float16)), wl.astype(np.float16), None, 1, 1, 1, 2),)))
    # float16 / bfloat16: the float32 workspace, and a prepared object's widened weights.
    for name, dt in (("f16", np.float16), ("bf16", BFLOAT16)):
        if dt is None:
            continue
        h = lambda a, dt=dt: a.astype(dt)  # noqa: E731
        cases.append((f"conv{r}d-{name}", lambda h=h: (conv(h(x), h(w), h(b), 2, 1, 1, 2),)))
        cases.append((f"conv_transpose{r}d-{name}", lambda h=h: (convt(h(x), h(wt), h(bt), 2, 1, 1, 2),)))
        cases.append((f"conv{r}d_backward-reflect-{name}",
                      lambda h=h: back(h(np.ones_like(ym)), h(x), h(w), 2, pads, 1, 2, padding_mode="reflect")))
        cases.append((f"prepare-conv{r}d-{name}",
                      lambda h=h: (sc.prepare(f"conv{r}d", h(w), h(b), stride=2, padding=1, groups=2)(h(x)),)))
        # 1x1: the GEMM that converts chunk by chunk (its scratch, the weights it packs per
        # call, a prepared object's), forward and transposed.
        w1, wt1 = f(6, 4, *(1,) * r), f(4, 6, *(1,) * r)
        cases.append((f"conv{r}d-1x1-{name}", lambda h=h, w1=w1: (conv(h(x), h(w1), h(b)),)))
        cases.append((f"conv_transpose{r}d-1x1-{name}", lambda h=h, wt1=wt1: (convt(h(x), h(wt1), h(b)),)))
        cases.append((f"prepare-conv{r}d-1x1-{name}", lambda h=h, w1=w1: (sc.prepare(f"conv{r}d", h(w1), h(b))(h(x)),)))
        # Depthwise: the kernels that convert their own tiles (forward, adjoint) and planes.
        xd, wd = f(2, 4, *sp), f(4, 1, *k)
        cases.append((f"conv{r}d-depthwise-{name}", lambda h=h: (conv(h(xd), h(wd), h(b[:4]), 1, 1, 1, 4),)))
        cases.append((f"conv_transpose{r}d-depthwise-{name}",
                      lambda h=h: (convt(h(xd), h(wd), h(b[:4]), 1, 1, 0, 4),)))
        cases.append((f"conv{r}d_backward-depthwise-grad_input-{name}",
                      lambda h=h: back(h(np.ones_like(xd)), h(xd), h(wd), 1, 1, 1, 4, output_mask=(True, False, False))))
    return cases


def _cases():
    rng = np.random.default_rng(7)
    return [c for r in (1, 2, 3) for c in _rank_cases(r, rng)]


CASES = _cases()


def _same(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert (u is None) == (v is None)
        if u is not None:
            np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("name,call", CASES, ids=[c[0] for c in CASES])
def test_every_allocation_failure_is_a_memory_error_or_harmless(name, call):
    expected = call()
    _, live_before = _native._test_allocation_failures(0)
    failures = 0
    n = 1
    try:
        while True:
            _native._test_allocation_failures(n)
            try:
                got = call()
            except MemoryError as e:
                failures += 1
                assert "allocate" in str(e) or "memory" in str(e).lower(), str(e)
            else:
                _same(got, expected)  # a fallback that needs no memory: the same bits
            pending, live = _native._test_allocation_failures(0)
            assert live == live_before, f"{name}: allocation {n} failed and {live - live_before} allocations leaked"
            if pending > 0:  # the call made fewer than n allocations: all were tried
                break
            n += 1
            assert n < 500, f"{name}: runaway sweep"
    finally:
        _native._test_allocation_failures(0)
    _same(call(), expected)  # healthy afterwards
    assert n > 1 or failures == 0


def test_injection_reaches_the_engine():
    # The hook must actually make calls fail: a conv with a workspace (3-D lowering) fails
    # on its first allocation.
    x = np.ones((1, 2, 3, 4, 5), np.float32)
    w = np.ones((2, 2, 2, 2, 2), np.float32)
    _native._test_allocation_failures(1)
    try:
        with pytest.raises(MemoryError):
            sc.conv3d(x, w)
    finally:
        _native._test_allocation_failures(0)
    assert sc.conv3d(x, w).shape == (1, 2, 2, 3, 4)
