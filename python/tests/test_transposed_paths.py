"""Two transposed-conv paths checked through the public API, float32 and float64:

- a transposed conv from a 1x1 input (DCGAN's first layer, 100->512 k4): the transposed
  scatter GEMM writes x in place (`ScatterAdjoint.writesInPlace`) at every batch: within the
  reference's bound, image 0 with the same bits in every batch, and the bits depend neither
  on the thread count nor on prepared weights;
- "phase" with few pixels per phase and several channel blocks (the unfolded dy packed once
  per call, `PhaseAdjoint.fewPixels`): within the reference's bound, the same bits on 1-3
  threads, per image as in the batch, and with the phase kernels packed ahead (sc.prepare);
- "scatter" on few GEMM columns in float32 (dcgan's 512->256 4x4 and 256->128 8x8 layers,
  unet's 1024->512 7x7 k2 at batch 1: up to 64 columns run as the vector lanes with the
  weights read in place, `ScatterAdjoint.Route.pixelVectors`): within the reference's bound,
  the same bits on 1-3 threads, with prepared weights (float32: packed once into the panels
  the pixel vectors read), and image by image as a batch too large for that route computes them.
"""
from __future__ import annotations

import numpy as np
import pytest

import swiftconv as sc
from swiftconv import _reference as ref

DTYPES = (np.float32, np.float64)

# (C_in, C_out, kH, kW, groups) of a transposed conv from a 1x1 input.
ONE_PIXEL = [(100, 512, 4, 4, 1), (7, 5, 3, 2, 1), (8, 6, 2, 2, 2), (3, 33, 1, 5, 3)]


def _threads(fn):
    saved = sc.get_num_threads()
    try:
        out = []
        for t in (1, 2, 3):
            sc.set_num_threads(t)
            out.append(fn())
        return out
    finally:
        sc.set_num_threads(saved)


def _check(y, x, w, b, dtype, **params):
    (want,) = ref.compute("conv_transpose2d", x, w, b, **params)
    (s,) = ref.scale("conv_transpose2d", x, w, b, **params)
    (terms,) = ref.terms("conv_transpose2d", x.shape, w.shape, groups=params.get("groups", 1), bias=b is not None)
    ref.assert_close(y, want, s, terms, dtype, "conv_transpose2d")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ci,co,kh,kw,g", ONE_PIXEL)
@pytest.mark.parametrize("with_bias", (False, True))
def test_one_pixel_input(ci, co, kh, kw, g, with_bias, dtype):
    rng = np.random.default_rng(ci * co + kh)
    w = rng.standard_normal((ci, co // g, kh, kw)).astype(dtype)
    b = rng.standard_normal(co).astype(dtype) if with_bias else None
    xs = rng.standard_normal((17, ci, 1, 1)).astype(dtype)
    prepared = sc.prepare("conv_transpose2d", w, b, groups=g, algorithm="scatter")
    run = lambda x: sc.conv_transpose2d(x, w, b, groups=g, algorithm="scatter")  # noqa: E731
    for n in (1, 3, 8, 9, 17):
        x = xs[:n]
        ys = _threads(lambda: run(x))
        assert ys[0].shape == (n, co, kh, kw)
        _check(ys[0], x, w, b, dtype, groups=g)
        for y in ys[1:]:
            assert y.tobytes() == ys[0].tobytes(), f"threads, batch {n}"
        assert prepared(x).tobytes() == ys[0].tobytes(), f"prepared, batch {n}"
        # Image 0 alone has its bits in every batch (below and above 8, the transposed
        # GEMM's threshold for other shapes).
        assert run(x[:1]).tobytes() == ys[0][:1].tobytes(), f"image 0 of batch {n}"


def test_dcgan_first_layer_runs_scatter():
    x = np.zeros((1, 100, 1, 1), np.float32)
    w = np.zeros((100, 512, 4, 4), np.float32)
    assert "transposed conv: scatter (1x1 input: x = dy^T W" in sc.explain("conv_transpose2d", x, w)


# (N, C_in, C_out, H, kernel, stride, padding): few pixels per phase, 2-3 blocks of x channels.
FEW_PIXELS = [(1, 48, 40, 3, 4, 2, 1), (2, 24, 64, 4, 4, 2, 1), (1, 40, 33, 5, 3, 2, 1), (3, 20, 48, 2, 4, 2, 1)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cfg", FEW_PIXELS)
def test_phase_with_few_pixels(cfg, dtype):
    n, ci, co, h, k, s, p = cfg
    rng = np.random.default_rng(n * ci + co)
    x = rng.standard_normal((n, ci, h, h)).astype(dtype)
    w = rng.standard_normal((ci, co, k, k)).astype(dtype)
    b = rng.standard_normal(co).astype(dtype)
    params = dict(stride=s, padding=p)
    assert "phase" in sc.explain("conv_transpose2d", x, w, b, **params, algorithm="phase")
    ys = _threads(lambda: sc.conv_transpose2d(x, w, b, **params, algorithm="phase"))
    _check(ys[0], x, w, b, dtype, **params)
    for y in ys[1:]:
        assert y.tobytes() == ys[0].tobytes()
    prepared = sc.prepare("conv_transpose2d", w, b, **params, algorithm="phase")
    assert prepared(x).tobytes() == ys[0].tobytes()
    last = sc.conv_transpose2d(x[-1:], w, b, **params, algorithm="phase")
    assert last.tobytes() == ys[0][-1:].tobytes()


# (N, C_in, C_out, H, kernel, stride, padding, groups): at most 64 GEMM columns (N x H x H):
# 1, 2 and 4 vectors of 16 lanes, col2im and tiling (k2 s2) windows, groups.
# (1, 64, 100, 4, ...): 1600 rows of W^T, the prepared panels of 48 rows cut by the tasks'
# channel blocks on 1-3 threads.
FEW_COLUMNS = [(1, 40, 24, 4, 4, 2, 1, 1), (2, 14, 10, 3, 3, 2, 1, 2), (1, 24, 36, 4, 2, 2, 0, 1),
               (1, 12, 20, 5, 4, 2, 1, 1), (1, 20, 16, 8, 4, 2, 1, 1), (1, 24, 20, 7, 2, 2, 0, 1),
               (1, 64, 100, 4, 4, 2, 1, 1)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cfg", FEW_COLUMNS)
def test_scatter_with_few_columns(cfg, dtype):
    n, ci, co, h, k, s, p, g = cfg
    rng = np.random.default_rng(n * ci + co + k)
    batch = 8  # n x 8 images: more columns than the pixel-vector route takes
    xs = rng.standard_normal((n * batch, ci, h, h)).astype(dtype)
    w = rng.standard_normal((ci, co // g, k, k)).astype(dtype)
    b = rng.standard_normal(co).astype(dtype)
    params = dict(stride=s, padding=p, groups=g)
    run = lambda x: sc.conv_transpose2d(x, w, b, **params, algorithm="scatter")  # noqa: E731
    text = sc.explain("conv_transpose2d", xs[:n], w, b, **params, algorithm="scatter")
    lanes = np.dtype(dtype) == np.float32 and "AVX-512 build" in text  # the tier with the pixel-vector kernel
    assert ("columns as vector lanes" in text) == lanes, text
    assert "columns as vector lanes" not in sc.explain("conv_transpose2d", xs, w, b, **params, algorithm="scatter")
    whole = run(xs)
    _check(whole, xs, w, b, dtype, **params)
    prepared = sc.prepare("conv_transpose2d", w, b, **params, algorithm="scatter")
    # float32 prepared: the weights packed once into the pixel vectors' panels (`ScatterWeightPanels`).
    assert ("W^T panels for the pixel vectors: packed at creation" in prepared.explain(xs[:n])) == lanes
    for i in range(0, n * batch, n):
        x = xs[i:i + n]
        ys = _threads(lambda: run(x))
        for y in ys:
            assert y.tobytes() == whole[i:i + n].tobytes(), f"images {i}..{i + n - 1}"
        for y in _threads(lambda: prepared(x)):
            assert y.tobytes() == ys[0].tobytes(), f"prepared, images {i}..{i + n - 1}"
    # A prepared call on the whole batch (the plain route, the panels unused) after the small ones.
    assert prepared(xs).tobytes() == whole.tobytes()


# (N, C_in, C_out, H, W, kernel, stride, padding, groups): "scatter" on dy images of 256+ pixels
# (dy read in place as the GEMM's B, image by image: `KernelSelector.scatterReadsImagesInPlace`),
# with column tiles that start images (then split over tasks on several threads,
# `KernelSelector.scatterImageParts`: dcgan's 64->3 32x32 at batch 8) or straddle them, col2im and
# tiling (k2 s2) windows, groups.
IMAGES_IN_PLACE = [(8, 16, 3, 16, 16, 4, 2, 1, 1), (4, 12, 5, 15, 20, 4, 2, 1, 1), (3, 20, 7, 20, 20, 3, 2, 1, 1),
                   (2, 8, 6, 16, 16, 2, 2, 0, 1), (4, 12, 6, 16, 16, 4, 2, 1, 3)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cfg", IMAGES_IN_PLACE)
def test_scatter_on_large_images(cfg, dtype):
    n, ci, co, h, wd, k, s, p, g = cfg
    rng = np.random.default_rng(n * ci + co + h)
    x = rng.standard_normal((n, ci, h, wd)).astype(dtype)
    w = rng.standard_normal((ci, co // g, k, k)).astype(dtype)
    b = rng.standard_normal(co).astype(dtype)
    params = dict(stride=s, padding=p, groups=g)
    ys = _threads(lambda: sc.conv_transpose2d(x, w, b, **params, algorithm="scatter"))
    _check(ys[0], x, w, b, dtype, **params)
    for t, y in enumerate(ys[1:], 2):
        assert y.tobytes() == ys[0].tobytes(), f"{t} threads"
    prepared = sc.prepare("conv_transpose2d", w, b, **params, algorithm="scatter")
    assert prepared(x).tobytes() == ys[0].tobytes()
    if 512 % (h * wd) == 0:
        # Tiles of whole images: each image alone has the batch's bits.
        for i in range(n):
            assert sc.conv_transpose2d(x[i:i + 1], w, b, **params, algorithm="scatter").tobytes() == ys[0][i:i + 1].tobytes()
