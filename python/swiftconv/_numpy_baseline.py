"""The plain NumPy formulation of convolution: im2col + one matmul, and its adjoint (one
matmul + col2im). Used by the demo (the notebook's unfold formulation, and the speed
baseline) and by the benchmark's baseline; not part of the public API."""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

Pair = Tuple[int, int]


def out_size(size: int, pad: int, kernel: int, stride: int, dilation: int) -> int:
    """Output length of a convolution along one axis (symmetric padding ``pad``)."""
    return (size + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1


def im2col(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
           out: Optional[Pair] = None) -> np.ndarray:
    """Unfold NCHW ``x`` into (N, C*kH*kW, Ho*Wo) columns, as ``torch.nn.functional.unfold``.
    ``out`` (Ho, Wo) defaults to the convolution's output size."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    ho, wo = out if out is not None else (out_size(h, ph, kh, sh, dh), out_size(w, pw, kw, sw, dw))
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = np.empty((n, c, kh, kw, ho, wo), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i * dh: i * dh + sh * (ho - 1) + 1: sh,
                                  j * dw: j * dw + sw * (wo - 1) + 1: sw]
    return cols.reshape(n, c * kh * kw, ho * wo)


def col2im(cols: np.ndarray, size: Pair, kernel: Pair, stride: Pair, padding: Pair,
           dilation: Pair, out: Pair) -> np.ndarray:
    """Fold (N, C*kH*kW, H*W) columns onto an (N, C, out) image: the adjoint of im2col, i.e.
    each input pixel scatter-adds kernel x value (the transposed convolution)."""
    (h, w), (kh, kw), (sh, sw), (ph, pw), (dh, dw) = size, kernel, stride, padding, dilation
    n, c = cols.shape[0], cols.shape[1] // (kh * kw)
    full = (max(out[0] + 2 * ph, (h - 1) * sh + dh * (kh - 1) + 1),
            max(out[1] + 2 * pw, (w - 1) * sw + dw * (kw - 1) + 1))
    image = np.zeros((n, c) + full, dtype=cols.dtype)
    cols = cols.reshape(n, c, kh, kw, h, w)
    for i in range(kh):
        for j in range(kw):
            image[:, :, i * dh: i * dh + sh * (h - 1) + 1: sh,
                  j * dw: j * dw + sw * (w - 1) + 1: sw] += cols[:, :, i, j]
    return image[:, :, ph: ph + out[0], pw: pw + out[1]]


def conv2d(x: np.ndarray, w: np.ndarray, b: Optional[np.ndarray], stride: Pair,
           padding: Pair, dilation: Pair, groups: int) -> np.ndarray:
    """conv2d as im2col + one matmul (batched over groups)."""
    n, _, h, wd = x.shape
    c_out, c_in_g, kh, kw = w.shape
    out = (out_size(h, padding[0], kh, stride[0], dilation[0]),
           out_size(wd, padding[1], kw, stride[1], dilation[1]))
    cols = im2col(x, (kh, kw), stride, padding, dilation, out)
    cols = cols.reshape(n, groups, c_in_g * kh * kw, -1)
    y = np.matmul(w.reshape(groups, c_out // groups, -1), cols).reshape((n, c_out) + out)
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def conv_transpose2d(x: np.ndarray, w: np.ndarray, b: Optional[np.ndarray], stride: Pair,
                     padding: Pair, output_padding: Pair, groups: int,
                     dilation: Pair) -> np.ndarray:
    """conv_transpose2d as one matmul (W^T x, batched over groups) + col2im."""
    n, c_in, h, wd = x.shape
    kh, kw = w.shape[2:]
    out = tuple((i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i, s, p, d, k, op in
                zip((h, wd), stride, padding, dilation, (kh, kw), output_padding))
    wt = w.reshape(groups, c_in // groups, -1).transpose(0, 2, 1)
    cols = np.matmul(wt, x.reshape(n, groups, c_in // groups, h * wd)).reshape(n, -1, h * wd)
    y = col2im(cols, (h, wd), (kh, kw), stride, padding, dilation, out)  # type: ignore[arg-type]
    return y if b is None else y + b.reshape(1, -1, 1, 1)
