"""Pointwise (1x1, stride 1) layers read their input in place as the GEMM's B operand, with
the next panel prefetched, except on large, deep inputs on big planes, where the GEMM packs it
(KernelSelector.packsPointwiseInput: depth >= 128, planes >= 1024 pixels, input >= 8 MiB).
Either way the same bits: a batch that packs agrees bitwise with its images convolved one by
one (small inputs: in place), for every thread count and with prepared weights; and the values
are within the dot-product bound."""
from __future__ import annotations

import numpy as np
import pytest

import swiftconv as sc
from swiftconv import _reference as R

# (batch, C_in, C_out, plane): 57x57 = 3249 pixels (a partial 16-column panel: 3249 = 203 x
# 16 + 1), odd C_out (a partial row tile); 5 x 160 x 3249 Float32 (10.4 MB) packs, one image
# (2.1 MB) is read in place.
BIG = (5, 160, 29, 57)


@pytest.fixture
def threads():
    saved = sc.get_num_threads()
    yield
    sc.set_num_threads(saved)


def test_explain_names_the_packed_input_only_for_large_inputs():
    n, cin, cout, hw = BIG
    w = np.zeros((cout, cin, 1, 1), np.float32)
    assert "input packed row by row" in sc.explain("conv2d", np.zeros((n, cin, hw, hw), np.float32), w)
    assert "input packed row by row" not in sc.explain("conv2d", np.zeros((1, cin, hw, hw), np.float32), w)
    # Shallow (depth < 128) or small planes (< 1024 pixels): in place at any size.
    assert "input packed row by row" not in sc.explain("conv2d", np.zeros((16, 96, hw, hw), np.float32),
                                                       np.zeros((cout, 96, 1, 1), np.float32))
    assert "input packed row by row" not in sc.explain("conv2d", np.zeros((16, cin, 28, 28), np.float32), w)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_packed_and_in_place_input_agree_bitwise(dtype, threads):
    n, cin, cout, hw = BIG
    rng = np.random.default_rng(7)
    x = rng.standard_normal((n, cin, hw, hw)).astype(dtype)
    w = rng.standard_normal((cout, cin, 1, 1)).astype(dtype)
    b = rng.standard_normal(cout).astype(dtype)
    sc.set_num_threads(1)
    want = np.concatenate([sc.conv2d(x[i:i + 1], w, b) for i in range(n)])
    p = sc.prepare("conv2d", w, b)
    for t in (1, 2, 3):
        sc.set_num_threads(t)
        np.testing.assert_array_equal(sc.conv2d(x, w, b), want)
        np.testing.assert_array_equal(p(x), want)
    # Without a bias the GEMM writes the tiles itself (no accumulation): the same check.
    sc.set_num_threads(2)
    np.testing.assert_array_equal(sc.conv2d(x, w), np.concatenate([sc.conv2d(x[i:i + 1], w) for i in range(n)]))
    ref = R.conv(x, w, b)
    scale = R.conv(np.abs(x), np.abs(w), np.abs(b))
    R.assert_close(want, ref, scale, cin + 1, dtype)
