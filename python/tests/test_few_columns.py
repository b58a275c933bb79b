"""GEMMs with few columns (1x1 convs on 7x7 / 14x14 planes, a 3x3 on 7x7) read the weights in
place on plain calls (large 1x1 weights on one image: packed by the GEMM in slices of rows) and
packed on prepared ones: the same bits either way, for every batch
size (a batch cut in chunks, as swiftconv.dask does), every thread count, float32 and float64,
channel counts that are not multiples of the micro-kernels' tiles."""
from __future__ import annotations

import numpy as np
import pytest

import swiftconv as sc

# (C_in, C_out, plane, kernel, padding): odd channel counts leave partial row tiles; 7x7 and
# 14x14 planes leave partial column panels (49 = 3 x 16 + 1, 196 = 12 x 16 + 4).
# (2050, 263, 7): a 1x1 with over 2^19 weights, which a plain call on one image packs in
# slices of rows (Gemm.packedSliceRows) where a batch of 8 (392 folded columns) reads them in place.
LAYERS = [(37, 29, 7, 1, 0), (96, 50, 14, 1, 0), (20, 13, 7, 3, 1), (160, 43, 7, 1, 0), (2050, 263, 7, 1, 0)]


@pytest.fixture
def threads():
    saved = sc.get_num_threads()
    yield
    sc.set_num_threads(saved)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layer", LAYERS)
def test_plain_prepared_chunks_and_threads_agree_bitwise(layer, dtype, threads):
    cin, cout, hw, k, pad = layer
    rng = np.random.default_rng(cin * 1000 + cout)
    x = rng.standard_normal((8, cin, hw, hw)).astype(dtype)
    w = rng.standard_normal((cout, cin, k, k)).astype(dtype)
    b = rng.standard_normal(cout).astype(dtype)
    sc.set_num_threads(1)
    want = sc.conv2d(x, w, b, padding=pad)
    p = sc.prepare("conv2d", w, b, padding=pad)
    for t in (1, 2, 3):
        sc.set_num_threads(t)
        np.testing.assert_array_equal(sc.conv2d(x, w, b, padding=pad), want)
        np.testing.assert_array_equal(p(x), want)
        for chunk in (1, 3):
            parts = [sc.conv2d(x[i:i + chunk], w, b, padding=pad) for i in range(0, len(x), chunk)]
            np.testing.assert_array_equal(np.concatenate(parts), want)
            np.testing.assert_array_equal(np.concatenate([p(x[i:i + chunk]) for i in range(0, len(x), chunk)]), want)
    # And the values: within the shared dot-product bound (equal bits alone could agree on a
    # wrong sum).
    from swiftconv import _reference as R
    ref = R.conv(x, w, b, padding=pad)
    scale = R.conv(np.abs(x), np.abs(w), np.abs(b), padding=pad)
    R.assert_close(want, ref, scale, cin * k * k + 1, dtype)

def test_explain_says_the_weights_are_read_in_place():
    x = np.zeros((1, 576, 7, 7), np.float32)
    w = np.zeros((160, 576, 1, 1), np.float32)
    assert "weights read in place" in sc.explain("conv2d", x, w)


def test_explain_says_large_pointwise_weights_are_packed_on_one_image():
    x = np.zeros((1, 2048, 7, 7), np.float32)
    w = np.zeros((512, 2048, 1, 1), np.float32)
    assert "weights packed block by block in the GEMM" in sc.explain("conv2d", x, w)
    assert "weights read in place" in sc.explain("conv2d", np.zeros((8, 2048, 7, 7), np.float32), w)
