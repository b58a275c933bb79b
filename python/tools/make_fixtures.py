#!/usr/bin/env python3
"""Generate the PyTorch parity fixtures for swiftconv's pytest suite.

Run by hand with an environment that has torch and numpy (the tests themselves never
import torch); the resulting ``.npz`` files are committed:

    python python/tools/make_fixtures.py [--out DIR] [--only SUBSTRING]

One file per case, ``{op}__{case}.npz``, op in {conv2d, conv_transpose2d,
conv2d_backward, conv_transpose2d_backward}. Load with ``np.load(path,
allow_pickle=False)``. Keys:

``params``
    0-d unicode array holding a JSON object::

        {"op": ..., "kwargs": {...}, "dtype": "float32" | "float64",
         "description": ..., "has_bias": bool,
         "terms": {result_name: K, ...}}

    ``kwargs`` are swiftconv keyword arguments exactly as they are to be passed
    (``stride``, ``padding`` -- int, [pH, pW], [[top, bottom], [left, right]],
    "same" or "valid" --, ``dilation``, ``groups``, ``output_padding`` for the
    transposed ops). Parameters left at their default are omitted.
    ``terms[name]`` is the largest number of products summed into one element of
    that result (bias counted as one term); the tests use it in the error bound.
forward ops
    ``input``, ``weight``, optional ``bias``, ``output``.
backward ops
    ``grad_output``, ``input``, ``weight``, ``grad_input``, ``grad_weight``,
    ``grad_bias`` (torch autograd of the forward call made with a bias; for
    asymmetric padding the forward is ``F.pad`` followed by the convolution).
``scale_<result>`` (float32, same shape as ``<result>``)
    The same computation applied to absolute values, computed in float64 by torch:
    ``conv(|x|, |w|) + |b|`` for the forward ops, and for the backward ops the
    gradients of the forward evaluated with ``|grad_output|``, ``|x|``, ``|w|``.
    Each element is exactly ``sum_i |a_i * b_i|`` over the products that make up that
    element, i.e. the scale of the classical dot-product error bound.

Values: standard normal from a NumPy generator seeded per case (seed = crc32 of the
file stem, so adding a case does not change the others), rounded to the case's
dtype; torch computes in that dtype (float32 cases in float32, float64 in float64),
on one thread.

Every case is self-checked before it is written: the forward result against an
independent NumPy float64 implementation (elementwise, within the dot-product bound),
and the gradients by the adjoint identity <grad_input, u> == <grad_output, f(u, w)>
(likewise for the weight) with random probes u, plus an elementwise comparison of
float32 gradients with torch's float64 gradients.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

OPS = ("conv2d", "conv_transpose2d", "conv2d_backward", "conv_transpose2d_backward")


# ----------------------------------------------------------------------------- cases


@dataclass
class Case:
    op: str
    name: str
    x: tuple  # input shape (3-D or 4-D)
    w: tuple  # weight shape
    kwargs: dict = field(default_factory=dict)
    bias: bool = True  # forward ops only; backward ops always use a bias
    dtype: str = "float32"
    description: str = ""

    @property
    def stem(self) -> str:
        return f"{self.op}__{self.name}"


def conv2d_cases() -> list[Case]:
    C = lambda *a, **k: Case("conv2d", *a, **k)  # noqa: E731
    return [
        C("notebook", (1, 2, 10, 10), (4, 2, 3, 3),
          dict(stride=2, padding=1, dilation=2),
          description="the notebook's configuration"),
        C("basic_k3", (2, 3, 8, 8), (4, 3, 3, 3), description="plain 3x3, defaults"),
        C("basic_k3_nobias", (2, 3, 8, 8), (4, 3, 3, 3), bias=False,
          description="plain 3x3 without bias"),
        C("stride2", (2, 3, 9, 9), (4, 3, 3, 3), dict(stride=2)),
        C("stride2_drop", (2, 3, 8, 8), (4, 3, 3, 3), dict(stride=2),
          description="floor division drops the last input row/column"),
        C("stride_21", (2, 3, 8, 9), (4, 3, 3, 3), dict(stride=[2, 1])),
        C("stride_32", (1, 3, 11, 13), (4, 3, 3, 3), dict(stride=[3, 2])),
        C("stride3_k2", (2, 2, 10, 10), (3, 2, 2, 2), dict(stride=3),
          description="stride larger than the kernel: some pixels are never read"),
        C("padding1", (2, 3, 7, 7), (4, 3, 3, 3), dict(padding=1)),
        C("padding_pair", (2, 3, 7, 8), (4, 3, 3, 3), dict(padding=[1, 2])),
        C("padding_asym", (2, 3, 7, 8), (4, 3, 3, 3), dict(padding=[[1, 2], [0, 3]]),
          description="asymmetric padding ((top,bottom),(left,right))"),
        C("padding_asym_stride_dil", (2, 2, 9, 10), (3, 2, 3, 3),
          dict(padding=[[0, 2], [3, 1]], stride=[2, 1], dilation=[1, 2])),
        C("padding_large", (1, 2, 3, 4), (3, 2, 3, 3), dict(padding=3),
          description="padding as large as the kernel: border outputs see only zeros"),
        C("dilation2", (2, 3, 9, 9), (4, 3, 3, 3), dict(dilation=2)),
        C("dilation_13", (2, 3, 8, 12), (4, 3, 3, 3), dict(dilation=[1, 3])),
        C("groups2", (2, 4, 8, 8), (6, 2, 3, 3), dict(groups=2)),
        C("groups4_stride_pad", (2, 8, 7, 7), (8, 2, 3, 3),
          dict(groups=4, stride=2, padding=1)),
        C("groups3_cout_eq_groups", (2, 6, 7, 7), (3, 2, 3, 3), dict(groups=3),
          description="C_in=6, groups=3, one output channel per group"),
        C("depthwise_m1", (2, 6, 9, 9), (6, 1, 3, 3), dict(groups=6, padding=1),
          description="depthwise, channel multiplier 1"),
        C("depthwise_m2", (2, 4, 8, 8), (8, 1, 3, 3), dict(groups=4, stride=2),
          description="depthwise, channel multiplier 2"),
        C("depthwise_5x5_dil", (1, 5, 12, 12), (5, 1, 5, 5),
          dict(groups=5, dilation=2, padding=4), bias=False),
        C("kernel_2x5", (2, 3, 8, 9), (4, 3, 2, 5), description="non-square kernel"),
        C("input_7x12", (2, 3, 7, 12), (5, 3, 3, 3), dict(padding=[0, 1]),
          description="non-square input"),
        C("same_k3", (2, 3, 7, 7), (4, 3, 3, 3), dict(padding="same")),
        C("same_k4", (2, 3, 7, 8), (4, 3, 4, 4), dict(padding="same"),
          description="'same' with an even kernel: extra row/column at bottom/right"),
        C("same_k23", (2, 3, 6, 7), (4, 3, 2, 3), dict(padding="same"),
          description="'same' with a (2,3) kernel"),
        C("same_k4_dil2", (2, 2, 9, 9), (3, 2, 4, 4), dict(padding="same", dilation=2),
          description="'same', k4, dilation 2: total padding 6, symmetric"),
        C("same_k24_dil21", (2, 2, 8, 9), (3, 2, 2, 4),
          dict(padding="same", dilation=[2, 1]),
          description="'same', k(2,4), dilation (2,1): symmetric in H, asymmetric in W"),
        C("same_k3_dil3", (1, 3, 8, 8), (2, 3, 3, 3), dict(padding="same", dilation=3)),
        C("valid", (2, 3, 7, 9), (4, 3, 3, 3), dict(padding="valid")),
        C("k1x1", (2, 8, 6, 6), (5, 8, 1, 1), description="pointwise"),
        C("k1x1_stride2", (2, 4, 7, 7), (6, 4, 1, 1), dict(stride=2)),
        C("kernel_eq_input", (2, 3, 5, 6), (4, 3, 5, 6), description="1x1 output"),
        C("kernel_eq_padded_input", (1, 2, 3, 3), (3, 2, 5, 5), dict(padding=1),
          description="kernel equals the padded input size"),
        C("single_pixel", (2, 3, 1, 1), (4, 3, 1, 1), description="1x1 input and kernel"),
        C("channels16", (1, 16, 6, 6), (16, 16, 3, 3), dict(padding=1),
          description="16 channels: K=144 terms per output"),
        C("unbatched", (3, 8, 8), (4, 3, 3, 3), dict(padding=1),
          description="3-D (unbatched) input"),
        C("unbatched_same_groups", (4, 7, 6), (4, 2, 2, 3),
          dict(padding="same", groups=2), bias=False),
        C("batch0", (0, 3, 8, 8), (4, 3, 3, 3), dict(padding=1),
          description="N=0: empty output of the right shape"),
        C("batch0_groups", (0, 4, 7, 7), (6, 2, 3, 3), dict(groups=2, stride=2)),
        C("batch0_zero_spatial_pad", (0, 2, 0, 0), (3, 2, 1, 1), dict(padding=1),
          description="N=0 and 0x0 input padded to 2x2: PyTorch accepts (it rejects 0x0 "
                      "when N>0 and C>0)"),
        C("combined_a", (2, 4, 9, 11), (6, 2, 3, 2),
          dict(groups=2, stride=[2, 1], dilation=[1, 2], padding=[[2, 0], [1, 1]]),
          description="groups, per-dim stride and dilation, asymmetric padding, (3,2) kernel"),
        C("combined_b", (2, 6, 13, 10), (9, 2, 2, 3),
          dict(groups=3, stride=[3, 2], dilation=[2, 1], padding=[2, 1]), bias=False,
          description="groups 3, per-dim stride/dilation, pair padding, no bias"),
        C("f64_notebook", (1, 2, 10, 10), (4, 2, 3, 3),
          dict(stride=2, padding=1, dilation=2), dtype="float64"),
        C("f64_combined", (2, 4, 9, 11), (6, 2, 3, 2),
          dict(groups=2, stride=[2, 1], dilation=[1, 2], padding=[[2, 0], [1, 1]]),
          dtype="float64"),
        C("f64_same_dil_groups", (2, 4, 8, 9), (4, 2, 4, 3),
          dict(groups=2, padding="same", dilation=[2, 3]), dtype="float64", bias=False),
        C("f64_depthwise", (2, 5, 8, 8), (10, 1, 3, 3), dict(groups=5, padding=1),
          dtype="float64"),
        C("f64_unbatched", (3, 6, 7), (2, 3, 3, 3), dict(padding=[[0, 1], [2, 0]]),
          dtype="float64"),
    ]


def conv_transpose2d_cases() -> list[Case]:
    C = lambda *a, **k: Case("conv_transpose2d", *a, **k)  # noqa: E731
    return [
        C("notebook", (1, 4, 2, 2), (4, 4, 3, 3), dict(groups=2),
          description="the notebook's configuration (4->8 channels, groups 2)"),
        C("basic", (2, 3, 5, 5), (3, 4, 3, 3)),
        C("basic_nobias", (2, 3, 5, 5), (3, 4, 3, 3), bias=False),
        C("stride2", (2, 3, 4, 4), (3, 4, 3, 3), dict(stride=2)),
        C("stride_21_pad", (2, 3, 4, 5), (3, 2, 3, 3), dict(stride=[2, 1], padding=[1, 0])),
        C("stride_32_nonsquare", (1, 3, 4, 6), (3, 2, 2, 3), dict(stride=[3, 2]),
          description="stride (3,2), kernel (2,3): gaps between scattered kernels in H"),
        C("stride2_pad1", (2, 3, 4, 4), (3, 4, 3, 3), dict(stride=2, padding=1)),
        C("padding_pair_k4", (2, 2, 4, 5), (2, 3, 4, 4), dict(padding=[2, 1])),
        C("padding_crops", (1, 2, 5, 5), (2, 3, 3, 3), dict(padding=2),
          description="padding = kernel-1: output smaller than input"),
        C("outpad1", (2, 3, 4, 4), (3, 4, 3, 3), dict(stride=2, padding=1, output_padding=1)),
        C("outpad_pair", (1, 3, 3, 4), (3, 2, 3, 3), dict(stride=[3, 2], output_padding=[2, 1])),
        C("outpad_ge_stride_dil", (2, 2, 4, 4), (2, 3, 3, 3),
          dict(stride=1, dilation=2, output_padding=1),
          description="output_padding >= stride but < dilation (allowed by PyTorch)"),
        C("outpad_dil_pair", (1, 2, 4, 5), (2, 3, 2, 3),
          dict(stride=[1, 2], dilation=[3, 1], output_padding=[2, 1])),
        C("dilation2", (2, 3, 4, 4), (3, 2, 3, 3), dict(dilation=2)),
        C("dilation_13_stride2", (2, 3, 4, 4), (3, 2, 3, 3), dict(dilation=[1, 3], stride=2)),
        C("groups2", (2, 4, 4, 4), (4, 3, 3, 3), dict(groups=2)),
        C("groups3_stride2", (2, 6, 3, 5), (6, 1, 2, 3), dict(groups=3, stride=2), bias=False),
        C("depthwise_m1", (2, 5, 4, 4), (5, 1, 3, 3), dict(groups=5, stride=2, padding=1)),
        C("depthwise_m2", (2, 4, 4, 4), (4, 2, 3, 3), dict(groups=4)),
        C("k1x1_stride2", (2, 3, 4, 4), (3, 4, 1, 1), dict(stride=2)),
        C("nonsquare_all", (2, 4, 3, 5), (4, 3, 2, 4),
          dict(stride=[2, 3], padding=[1, 0], output_padding=[1, 2], dilation=[2, 1])),
        C("channels16", (1, 16, 4, 4), (16, 8, 3, 3), dict(stride=2, padding=1)),
        C("single_pixel", (2, 3, 1, 1), (3, 4, 3, 3), dict(stride=2)),
        C("unbatched", (3, 4, 4), (3, 2, 3, 3), dict(stride=2, padding=1),
          description="3-D (unbatched) input"),
        C("batch0", (0, 3, 4, 4), (3, 4, 3, 3), dict(stride=2),
          description="N=0: empty output of the right shape"),
        C("batch0_zero_spatial", (0, 2, 0, 0), (2, 3, 3, 3), dict(stride=2),
          description="N=0 and 0x0 input: PyTorch returns (0, 3, 1, 1) (it rejects 0x0 when N>0)"),
        C("batch0_output0", (0, 1, 2, 2), (1, 1, 1, 1), dict(padding=1),
          description="N=0 with a 0x0 output: PyTorch returns (0, 1, 0, 0) (it rejects the "
                      "0x0 output size when N>0)"),
        C("f64_basic", (2, 3, 5, 5), (3, 4, 3, 3), dict(stride=2, padding=1), dtype="float64"),
        C("f64_combined", (2, 4, 3, 5), (4, 3, 2, 4),
          dict(stride=[2, 3], padding=[1, 0], output_padding=[1, 2], dilation=[2, 1],
               groups=2), dtype="float64"),
        C("f64_unbatched_nobias", (4, 3, 3), (4, 2, 3, 3), dict(groups=2, stride=2),
          dtype="float64", bias=False),
    ]


def conv2d_backward_cases() -> list[Case]:
    C = lambda *a, **k: Case("conv2d_backward", *a, **k)  # noqa: E731
    return [
        C("notebook", (1, 4, 11, 11), (8, 4, 3, 3), dict(stride=2, padding=1, dilation=2),
          description="the notebook's configuration"),
        C("basic", (2, 3, 6, 6), (4, 3, 3, 3)),
        C("stride2_drop", (2, 2, 8, 8), (3, 2, 3, 3), dict(stride=2),
          description="8x8, k3, stride 2, no padding: the last row/column is never read, "
                      "its grad_input is zero"),
        C("stride32_drop_nonsquare", (1, 3, 10, 9), (2, 3, 2, 2), dict(stride=[3, 2]),
          description="floor division drops input rows and columns"),
        C("stride2_pad1", (2, 3, 7, 7), (4, 3, 3, 3), dict(stride=2, padding=1)),
        C("padding_pair_dil", (2, 2, 8, 9), (3, 2, 3, 3), dict(padding=[2, 1], dilation=[2, 1])),
        C("same_k4", (2, 2, 7, 8), (3, 2, 4, 4), dict(padding="same"),
          description="'same' with an even kernel"),
        C("same_k23_dil12", (2, 2, 6, 9), (3, 2, 2, 3), dict(padding="same", dilation=[1, 2]),
          description="'same', asymmetric in H only"),
        C("valid", (2, 3, 7, 6), (4, 3, 3, 3), dict(padding="valid")),
        C("padding_asym", (2, 3, 7, 8), (4, 3, 3, 3), dict(padding=[[1, 2], [0, 3]]),
          description="asymmetric padding ((top,bottom),(left,right))"),
        C("padding_asym_stride_drop", (2, 2, 9, 8), (3, 2, 3, 3),
          dict(padding=[[0, 1], [2, 0]], stride=2),
          description="asymmetric padding where the stride drops trailing input"),
        C("dilation_21", (2, 3, 9, 8), (4, 3, 3, 3), dict(dilation=[2, 1])),
        C("groups2", (2, 4, 7, 7), (6, 2, 3, 3), dict(groups=2, padding=1)),
        C("groups4_stride", (2, 8, 7, 7), (8, 2, 3, 3), dict(groups=4, stride=2)),
        C("depthwise_m1", (2, 6, 8, 8), (6, 1, 3, 3), dict(groups=6, padding=1)),
        C("depthwise_m2_stride2", (2, 4, 9, 9), (8, 1, 3, 3), dict(groups=4, stride=2, padding=1)),
        C("k1x1_stride2", (2, 4, 7, 7), (5, 4, 1, 1), dict(stride=2)),
        C("kernel_eq_input", (2, 3, 5, 6), (4, 3, 5, 6)),
        C("channels16", (1, 16, 6, 6), (16, 16, 3, 3), dict(padding=1)),
        C("combined", (2, 4, 10, 11), (6, 2, 3, 2),
          dict(groups=2, stride=[2, 3], dilation=[1, 2], padding=[[2, 0], [1, 1]])),
        C("unbatched", (3, 8, 7), (4, 3, 3, 3), dict(stride=2, padding=1),
          description="3-D (unbatched) input and grad_output"),
        C("unbatched_groups_same", (4, 6, 6), (4, 2, 4, 4), dict(groups=2, padding="same")),
        C("batch0", (0, 3, 8, 8), (4, 3, 3, 3), dict(padding=1),
          description="N=0: empty grad_input, zero grad_weight and grad_bias"),
        C("batch0_zero_spatial_pad", (0, 2, 0, 0), (3, 2, 1, 1), dict(padding=1),
          description="N=0 and 0x0 input padded to 2x2: zero grad_weight and grad_bias"),
        C("f64_notebook", (1, 4, 11, 11), (8, 4, 3, 3), dict(stride=2, padding=1, dilation=2),
          dtype="float64"),
        C("f64_combined", (2, 4, 10, 11), (6, 2, 3, 2),
          dict(groups=2, stride=[2, 3], dilation=[1, 2], padding=[[2, 0], [1, 1]]),
          dtype="float64"),
        C("f64_same_k4_depthwise", (2, 3, 7, 7), (6, 1, 4, 4), dict(groups=3, padding="same"),
          dtype="float64"),
    ]


def conv_transpose2d_backward_cases() -> list[Case]:
    C = lambda *a, **k: Case("conv_transpose2d_backward", *a, **k)  # noqa: E731
    return [
        C("notebook", (1, 4, 2, 2), (4, 4, 3, 3), dict(groups=2),
          description="the notebook's transposed configuration"),
        C("basic", (2, 3, 5, 5), (3, 4, 3, 3)),
        C("k1_stride2", (2, 3, 4, 4), (3, 2, 1, 1), dict(stride=2),
          description="1x1 kernel, stride 2: regression test for pytorch#63314"),
        C("k1_stride2_outpad1", (2, 3, 4, 5), (3, 2, 1, 1), dict(stride=2, output_padding=1),
          description="pytorch#63314 with output_padding"),
        C("stride2_pad1_outpad1", (2, 3, 4, 4), (3, 4, 3, 3),
          dict(stride=2, padding=1, output_padding=1)),
        C("stride3_k2", (2, 2, 3, 4), (2, 3, 2, 2), dict(stride=3),
          description="stride > kernel: output pixels no kernel reaches"),
        C("outpad_ge_stride_dil", (2, 2, 4, 4), (2, 3, 3, 3),
          dict(stride=1, dilation=2, output_padding=1),
          description="output_padding >= stride but < dilation"),
        C("groups2", (2, 4, 4, 4), (4, 3, 3, 3), dict(groups=2, padding=1)),
        C("depthwise", (2, 5, 4, 4), (5, 1, 3, 3), dict(groups=5, stride=2)),
        C("nonsquare_all", (2, 4, 3, 5), (4, 3, 2, 4),
          dict(stride=[2, 3], padding=[1, 0], output_padding=[1, 2], dilation=[2, 1])),
        C("channels8", (2, 8, 5, 5), (8, 4, 3, 3), dict(stride=2, padding=1)),
        C("unbatched", (3, 4, 4), (3, 2, 3, 3), dict(stride=2, padding=1),
          description="3-D (unbatched) input and grad_output"),
        C("batch0", (0, 3, 4, 4), (3, 4, 3, 3), dict(stride=2),
          description="N=0: empty grad_input, zero grad_weight and grad_bias"),
        C("batch0_zero_spatial", (0, 2, 0, 0), (2, 3, 3, 3), dict(stride=2),
          description="N=0 and 0x0 input (forward output (0, 3, 1, 1))"),
        C("f64_basic", (2, 3, 5, 5), (3, 4, 3, 3), dict(stride=2, padding=1), dtype="float64"),
        C("f64_combined", (2, 4, 3, 5), (4, 3, 2, 4),
          dict(stride=[2, 3], padding=[1, 0], output_padding=[1, 2], dilation=[2, 1],
               groups=2), dtype="float64"),
    ]


def all_cases() -> list[Case]:
    return (conv2d_cases() + conv_transpose2d_cases() + conv2d_backward_cases()
            + conv_transpose2d_backward_cases())


# ----------------------------------------------------------------------- parameters


def pair(v) -> tuple[int, int]:
    if isinstance(v, (list, tuple)):
        return (int(v[0]), int(v[-1]))
    return (int(v), int(v))


def conv_pads(kwargs: dict, w_shape: tuple) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) for a conv2d padding argument."""
    p = kwargs.get("padding", 0)
    d = pair(kwargs.get("dilation", 1))
    if p == "valid":
        return (0, 0, 0, 0)
    if p == "same":
        out = []
        for dim in (0, 1):
            total = d[dim] * (w_shape[2 + dim] - 1)
            out += [total // 2, total - total // 2]
        return tuple(out)
    if isinstance(p, (list, tuple)) and isinstance(p[0], (list, tuple)):
        return (p[0][0], p[0][1], p[1][0], p[1][1])
    ph, pw = pair(p)
    return (ph, ph, pw, pw)


def is_asym(kwargs: dict) -> bool:
    p = kwargs.get("padding", 0)
    return isinstance(p, (list, tuple)) and isinstance(p[0], (list, tuple))


def torch_forward(case: Case, x, w, b):
    """The PyTorch reference call for the case's forward op."""
    kw = case.kwargs
    stride = pair(kw.get("stride", 1))
    dilation = pair(kw.get("dilation", 1))
    groups = kw.get("groups", 1)
    if case.op.startswith("conv2d"):
        p = kw.get("padding", 0)
        if is_asym(kw):
            (t, bo), (le, r) = p
            x = F.pad(x, [le, r, t, bo])
            p = 0
        elif not isinstance(p, str):
            p = pair(p)
        return F.conv2d(x, w, b, stride=stride, padding=p, dilation=dilation, groups=groups)
    return F.conv_transpose2d(x, w, b, stride=stride, padding=pair(kw.get("padding", 0)),
                              output_padding=pair(kw.get("output_padding", 0)),
                              groups=groups, dilation=dilation)


# ------------------------------------------------------ independent NumPy reference


def np_conv2d(x, w, b, kwargs):
    """Direct float64 conv2d, one strided slice per kernel tap (the 'taps' formulation)."""
    s = pair(kwargs.get("stride", 1))
    d = pair(kwargs.get("dilation", 1))
    g = kwargs.get("groups", 1)
    t, bo, le, r = conv_pads(kwargs, w.shape)
    xp = np.pad(x, ((0, 0), (0, 0), (t, bo), (le, r)))
    n, _, hp, wp = xp.shape
    cout, cig, kh, kw = w.shape
    cog = cout // g
    ho = (hp - (d[0] * (kh - 1) + 1)) // s[0] + 1
    wo = (wp - (d[1] * (kw - 1) + 1)) // s[1] + 1
    out = np.zeros((n, cout, ho, wo))
    for gi in range(g):
        xs = xp[:, gi * cig:(gi + 1) * cig]
        ws = w[gi * cog:(gi + 1) * cog]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * d[0]: i * d[0] + s[0] * (ho - 1) + 1: s[0],
                           j * d[1]: j * d[1] + s[1] * (wo - 1) + 1: s[1]]
                out[:, gi * cog:(gi + 1) * cog] += np.einsum("nchw,oc->nohw", patch, ws[:, :, i, j])
    if b is not None:
        out += b[None, :, None, None]
    return out


def np_conv_transpose2d(x, w, b, kwargs):
    """Direct float64 transposed conv: every input pixel scatters value * kernel."""
    s = pair(kwargs.get("stride", 1))
    d = pair(kwargs.get("dilation", 1))
    p = pair(kwargs.get("padding", 0))
    op = pair(kwargs.get("output_padding", 0))
    g = kwargs.get("groups", 1)
    n, cin, h, wd = x.shape
    _, cog, kh, kw = w.shape
    cig = cin // g
    ho = (h - 1) * s[0] - 2 * p[0] + d[0] * (kh - 1) + op[0] + 1
    wo = (wd - 1) * s[1] - 2 * p[1] + d[1] * (kw - 1) + op[1] + 1
    full = np.zeros((n, cog * g, (h - 1) * s[0] + d[0] * (kh - 1) + 1 + op[0],
                     (wd - 1) * s[1] + d[1] * (kw - 1) + 1 + op[1]))
    for gi in range(g):
        xs = x[:, gi * cig:(gi + 1) * cig]
        ws = w[gi * cig:(gi + 1) * cig]
        for i in range(kh):
            for j in range(kw):
                full[:, gi * cog:(gi + 1) * cog,
                     i * d[0]: i * d[0] + s[0] * (h - 1) + 1: s[0],
                     j * d[1]: j * d[1] + s[1] * (wd - 1) + 1: s[1]] += \
                    np.einsum("nchw,co->nohw", xs, ws[:, :, i, j])
    out = full[:, :, p[0]:p[0] + ho, p[1]:p[1] + wo]
    if b is not None:
        out = out + b[None, :, None, None]
    return out


def np_forward(op, x, w, b, kwargs):
    unbatched = x.ndim == 3
    if unbatched:
        x = x[None]
    f = np_conv2d if op.startswith("conv2d") else np_conv_transpose2d
    out = f(x, w, b, kwargs)
    return out[0] if unbatched else out


# --------------------------------------------------------------------- generation


def terms(case: Case, x_shape, w_shape, out_shape) -> dict[str, int]:
    """Largest number of products summed into one element of each result."""
    g = case.kwargs.get("groups", 1)
    x4 = x_shape if len(x_shape) == 4 else (1,) + tuple(x_shape)
    o4 = out_shape if len(out_shape) == 4 else (1,) + tuple(out_shape)
    n = x4[0]
    kh, kw = w_shape[2], w_shape[3]
    if case.op == "conv2d":
        return {"output": w_shape[1] * kh * kw + (1 if case.bias else 0)}
    if case.op == "conv_transpose2d":
        return {"output": (w_shape[0] // g) * kh * kw + (1 if case.bias else 0)}
    if case.op == "conv2d_backward":
        return {"grad_input": (w_shape[0] // g) * kh * kw,
                "grad_weight": n * o4[2] * o4[3],
                "grad_bias": n * o4[2] * o4[3]}
    return {"grad_input": w_shape[1] * kh * kw,
            "grad_weight": n * x4[2] * x4[3],
            "grad_bias": n * o4[2] * o4[3]}


def grads(case: Case, x, w, b, gout):
    """(grad_input, grad_weight, grad_bias) of the forward call by autograd."""
    x = x.detach().clone().requires_grad_(True)
    w = w.detach().clone().requires_grad_(True)
    b = b.detach().clone().requires_grad_(True)
    out = torch_forward(case, x, w, b)
    assert out.shape == gout.shape, (out.shape, gout.shape)
    out.backward(gout)
    res = []
    for t in (x, w, b):
        res.append(torch.zeros_like(t) if t.grad is None else t.grad.detach())
    return res


def check_close(name, got, ref, scale, k, eps, stem):
    """|got - ref| <= 2 * K * eps * scale elementwise (+ a tiny absolute slack)."""
    got = np.asarray(got, np.float64)
    ref = np.asarray(ref, np.float64)
    assert got.shape == ref.shape, (stem, name, got.shape, ref.shape)
    bound = 2.0 * k * eps * np.asarray(scale, np.float64) + 1e-300
    err = np.abs(got - ref)
    if not np.all(err <= bound):
        i = np.unravel_index(np.argmax(err - bound), err.shape)
        raise AssertionError(f"{stem}: self-check of {name} failed at {i}: "
                             f"got {got[i]!r}, reference {ref[i]!r}, bound {bound[i]!r}")


def make_case(case: Case) -> dict[str, np.ndarray]:
    dt = np.dtype(case.dtype)
    tdt = torch.float32 if dt == np.float32 else torch.float64
    eps = float(np.finfo(dt).eps)
    rng = np.random.default_rng(zlib.crc32(case.stem.encode()))

    def draw(shape):
        return rng.standard_normal(shape).astype(dt)

    backward = case.op.endswith("_backward")
    x_np, w_np = draw(case.x), draw(case.w)
    g = case.kwargs.get("groups", 1)
    cout = case.w[0] if case.op.startswith("conv2d") else case.w[1] * g
    use_bias = case.bias or backward
    b_np = draw((cout,)) if use_bias else None
    T = lambda a: None if a is None else torch.from_numpy(a)  # noqa: E731
    T64 = lambda a: None if a is None else torch.from_numpy(np.asarray(a, np.float64))  # noqa: E731
    A64 = lambda t: t.detach().numpy().astype(np.float64)  # noqa: E731

    with torch.no_grad():
        out = torch_forward(case, T(x_np), T(w_np), T(b_np))
    assert out.dtype == tdt
    out_shape = tuple(out.shape)
    K = terms(case, case.x, case.w, out_shape)
    arrays: dict[str, np.ndarray] = {}

    if not backward:
        with torch.no_grad():
            scale = torch_forward(case, T64(np.abs(x_np)), T64(np.abs(w_np)),
                                  T64(None if b_np is None else np.abs(b_np)))
        ref = np_forward(case.op, x_np.astype(np.float64), w_np.astype(np.float64),
                         None if b_np is None else b_np.astype(np.float64), case.kwargs)
        check_close("output", out.numpy(), ref, scale.numpy(), K["output"], eps, case.stem)
        arrays.update(input=x_np, weight=w_np, output=out.numpy().astype(dt))
        if b_np is not None:
            arrays["bias"] = b_np
        arrays["scale_output"] = scale.numpy().astype(np.float32)
    else:
        go_np = draw(out_shape)
        gi, gw, gb = grads(case, T(x_np), T(w_np), T(b_np), T(go_np))
        # scale: the same gradients of the absolute values, in float64
        si, sw, sb = grads(case, T64(np.abs(x_np)), T64(np.abs(w_np)), T64(np.abs(b_np)),
                           T64(np.abs(go_np)))
        # self-check 1: float32 gradients against torch's float64 gradients
        ri, rw, rb = grads(case, T64(x_np), T64(w_np), T64(b_np), T64(go_np))
        for name, got, ref, sc in (("grad_input", gi, ri, si), ("grad_weight", gw, rw, sw),
                                   ("grad_bias", gb, rb, sb)):
            check_close(name, got.numpy(), ref.numpy(), sc.numpy(), K[name], eps, case.stem)
        # self-check 2: adjoint identities against the NumPy forward, with random probes
        fwd = lambda xx, ww: np_forward(case.op, xx, ww, None, case.kwargs)  # noqa: E731
        g64, x64, w64 = (a.astype(np.float64) for a in (go_np, x_np, w_np))
        prng = np.random.default_rng(12345)
        tol = 8 * max(K.values()) * eps
        for _ in range(2):
            u = prng.standard_normal(x_np.shape)
            lhs, rhs = float(np.sum(A64(gi) * u)), float(np.sum(g64 * fwd(u, w64)))
            mag = float(np.sum(A64(si) * np.abs(u))) + 1e-300
            assert abs(lhs - rhs) <= tol * mag, (case.stem, "grad_input adjoint", lhs, rhs)
            v = prng.standard_normal(w_np.shape)
            lhs, rhs = float(np.sum(A64(gw) * v)), float(np.sum(g64 * fwd(x64, v)))
            mag = float(np.sum(A64(sw) * np.abs(v))) + 1e-300
            assert abs(lhs - rhs) <= tol * mag, (case.stem, "grad_weight adjoint", lhs, rhs)
        red = (0, 2, 3) if g64.ndim == 4 else (1, 2)
        check_close("grad_bias(sum)", gb.numpy(), g64.sum(axis=red), sb.numpy(),
                    K["grad_bias"], eps, case.stem)
        arrays.update(grad_output=go_np, input=x_np, weight=w_np,
                      grad_input=gi.numpy().astype(dt), grad_weight=gw.numpy().astype(dt),
                      grad_bias=gb.numpy().astype(dt),
                      scale_grad_input=si.numpy().astype(np.float32),
                      scale_grad_weight=sw.numpy().astype(np.float32),
                      scale_grad_bias=sb.numpy().astype(np.float32))
        for k in ("grad_input", "grad_weight", "grad_bias"):
            want = {"grad_input": x_np, "grad_weight": w_np, "grad_bias": b_np}[k].shape
            assert arrays[k].shape == want, (case.stem, k, arrays[k].shape, want)

    desc = case.description or case.name.replace("_", " ")
    shape_txt = f"input {tuple(case.x)}, weight {tuple(case.w)}, result {out_shape}"
    params = {
        "op": case.op,
        "kwargs": case.kwargs,
        "dtype": case.dtype,
        "description": f"{desc}; {shape_txt}"
                       + ("" if (case.bias or backward) else "; no bias"),
        "has_bias": bool(use_bias),  # forward: a bias is passed; backward: always True
        "terms": K,
        "torch_version": torch.__version__,
    }
    arrays["params"] = np.array(json.dumps(params, sort_keys=True))
    for k, v in arrays.items():
        if k != "params":
            assert v.flags.c_contiguous and v.dtype.isnative, (case.stem, k)
    return arrays


def main(argv=None) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, "..", "tests", "fixtures"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=default_out, help=f"output directory (default {default_out})")
    ap.add_argument("--only", default=None, help="only cases whose stem contains this")
    ap.add_argument("--clean", action="store_true",
                    help="delete *.npz in --out that no case generates")
    args = ap.parse_args(argv)

    torch.manual_seed(0)
    # "padding='same' with even kernel lengths ... zero-padded copy": expected, not news
    warnings.filterwarnings("ignore", message="Using padding='same'")
    torch.set_num_threads(1)  # torch's own results can depend on the thread count
    os.makedirs(args.out, exist_ok=True)
    cases = all_cases()
    stems = [c.stem for c in cases]
    assert len(set(stems)) == len(stems), "duplicate case names"
    if args.only:
        cases = [c for c in cases if args.only in c.stem]

    total = 0
    for case in cases:
        arrays = make_case(case)
        path = os.path.join(args.out, case.stem + ".npz")
        with open(path, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        size = os.path.getsize(path)
        total += size
        shapes = " ".join(f"{k}{tuple(v.shape)}" for k, v in arrays.items()
                          if k != "params" and not k.startswith("scale_"))
        print(f"{case.stem:48s} {case.dtype:7s} {json.dumps(case.kwargs):60s} "
              f"{shapes}  {size} B")
    if args.clean:
        for fn in sorted(os.listdir(args.out)):
            if fn.endswith(".npz") and fn[:-4] not in stems:
                os.remove(os.path.join(args.out, fn))
                print(f"removed stale {fn}")
    all_size = sum(os.path.getsize(os.path.join(args.out, f))
                   for f in os.listdir(args.out) if f.endswith(".npz"))
    print(f"{len(cases)} cases written, {total} bytes; directory total {all_size} bytes "
          f"({all_size / 1024:.1f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
