#!/usr/bin/env python3
"""Generate the PyTorch parity fixtures for swiftconv's pytest suite.

Run by hand with an environment that has torch and numpy (the tests themselves never
import torch); the resulting ``.npz`` files are committed:

    python python/tools/make_fixtures.py [--out DIR] [--only SUBSTRING] [--clean]

One file per case, ``{op}__{case}.npz``, op in {conv1d, conv2d, conv3d,
conv_transpose1d, conv_transpose2d, conv_transpose3d} (forward, compared with
``torch.nn.functional.<op>``) or one of those followed by ``_backward``
(``conv1d_backward``, ..., ``conv_transpose3d_backward``). The op's digit is the
number of spatial axes r: inputs are ``(N, C, *spatial)`` with r spatial axes, or
unbatched ``(C, *spatial)`` (``(C, L)``, ``(C, H, W)``, ``(C, D, H, W)``); weights are
``(C_out, C_in/groups, *kernel)`` for the convolutions and ``(C_in, C_out/groups,
*kernel)`` for the transposed ones. Load with ``np.load(path, allow_pickle=False)``.
Keys:

``params``
    0-d unicode array holding a JSON object::

        {"op": ..., "kwargs": {...},
         "dtype": "float32" | "float64" | "float16" | "bfloat16",
         "description": ..., "has_bias": bool,
         "terms": {result_name: K, ...}, "torch_version": ...}

    ``kwargs`` are swiftconv keyword arguments exactly as they are to be passed, named
    as in ``torch.nn.functional``:

    * ``stride``, ``dilation`` and (transposed ops only) ``output_padding``: an int, or
      a list with one int per spatial axis (``[2]``, ``[2, 1]``, ``[1, 2, 3]``);
    * ``padding``: an int; a list with one int per spatial axis; ``"same"`` or
      ``"valid"`` (convolutions only); or, for the convolutions only, a list of one
      ``[before, after]`` pair per spatial axis (``[[1, 2]]`` in 1-D,
      ``[[top, bottom], [left, right]]`` in 2-D, ``[[0, 1], [1, 0], [2, 1]]`` in 3-D);
      ``"same"`` with an even total padding ``dilation * (kernel - 1)`` puts the extra
      element at the end of that axis, as torch does;
    * ``groups``: an int;
    * ``padding_mode`` (convolutions and their backward only): ``"zeros"``,
      ``"reflect"``, ``"replicate"`` or ``"circular"``; torch computes these cases with
      ``torch.nn.Conv{r}d(padding_mode=...)`` (``F.pad`` with that mode, then the
      convolution), and with ``F.pad(x, pads, mode)`` followed by the convolution for
      asymmetric padding;
    * ``output_size`` (transposed ops and their backward only): a list of ``r`` ints or
      the whole output shape (the last ``r`` entries are used); torch computes these
      cases with ``torch.nn.ConvTranspose{r}d.forward(input, output_size)``, which
      derives output_padding from it.

    Parameters left at their default are omitted.
    ``terms[name]`` is the largest number of products summed into one element of
    that result (bias counted as one term; ``_reference.terms``); the tests use it in
    the error bound.
forward ops
    ``input``, ``weight``, optional ``bias``, ``output``.
backward ops
    ``grad_output``, ``input``, ``weight``, ``grad_input``, ``grad_weight``,
    ``grad_bias`` (torch autograd of the forward call made with a bias; for
    asymmetric padding the forward is ``F.pad`` followed by the convolution; for a
    padding mode, the module's forward, so reflected, replicated and wrapped positions
    add their gradients back).
float16 and bfloat16 cases (``{op}__f16_*``, ``{op}__bf16_*``)
    The same keys; the arrays (not the scales) are float16, or for bfloat16 uint16 bit
    patterns (NumPy has no bfloat16 of its own: view them as ``ml_dtypes.bfloat16``). torch
    computes them in that dtype on the CPU (oneDNN: float32 accumulation, one rounding of
    each result, in its own summation order). ``params["torch_roundings"]`` (padding-mode
    backward cases only): the roundings torch's half-precision autograd takes beyond the
    final one, per result (``_reference.torch_intermediate_roundings``).
channels-last cases (``{op}__cl_*``)
    The same keys (the arrays C-contiguous, as always); torch was given the activations
    (input, grad_output) and / or the weight in channels-last memory (channel axis
    innermost: NLC, NHWC, NDHWC), as ``params["layout"]`` = ``{"input": ..., "weight":
    ..., "grad_output": ...}`` says ("channels_last" or "" for contiguous), and
    ``params["torch_strides"]`` holds the strides (in elements) of torch's results.
``scale_<result>`` (float32, same shape as ``<result>``)
    The same computation applied to absolute values, computed in float64 by torch:
    ``conv(|x|, |w|) + |b|`` for the forward ops, and for the backward ops the
    gradients of the forward evaluated with ``|grad_output|``, ``|x|``, ``|w|``.
    Each element is exactly ``sum_i |a_i * b_i|`` over the products that make up that
    element, i.e. the scale of the classical dot-product error bound.

Values: standard normal from a NumPy generator seeded per case (seed = crc32 of the
file stem, so adding a case does not change the others), rounded to the case's
dtype; torch computes in that dtype (float32 cases in float32, float64 in float64,
float16 / bfloat16 in theirs), on one thread.

Every case is self-checked before it is written, with the project's one NumPy reference,
python/swiftconv/_reference.py (loaded by file path: it needs only NumPy, not the
compiled extension): torch's result shape against the reference's output-size rules, the
forward result against the reference's float64 convolution (elementwise, within half of
the shared dot-product bound ``_reference.error_bound``), and the gradients by the
adjoint identity <grad_input, u> == <grad_output, f(u, w)> (likewise for the weight) with
random probes u and the reference's forward f, plus an elementwise comparison of float32
gradients with torch's float64 gradients. The term counts ``K`` are
``_reference.terms``. float16 / bfloat16 cases are checked the same way against the float64
computation of their (exactly representable) values, allowing half of the float32
accumulation bound plus one rounding of the result's type (``_reference.rounding_error``);
the generator also prints how many elements differ from torch's float32 computation of the
same values rounded once (torch's summation order differs; swiftconv's results are exactly
its own float32 results rounded once).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import warnings
import zlib
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def _load_reference():
    """python/swiftconv/_reference.py, loaded by file path: it needs only NumPy, while
    ``import swiftconv`` would need the compiled extension, which this (torch) environment
    may not be able to import."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "swiftconv",
                        "_reference.py")
    spec = importlib.util.spec_from_file_location("_swiftconv_reference", os.path.normpath(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# The one NumPy reference: conv ops, output-size rules, per-axis normalisation, term
# counts and the error bound (shared with the tests, the demo and the benchmark).
R = _load_reference()

FORWARD_OPS = tuple(f"{kind}{r}d" for kind in ("conv", "conv_transpose") for r in (1, 2, 3))
OPS = FORWARD_OPS + tuple(f"{op}_backward" for op in FORWARD_OPS)


# ----------------------------------------------------------------------------- cases


@dataclass
class Case:
    op: str
    name: str
    x: tuple  # input shape: (N, C, *spatial) or unbatched (C, *spatial)
    w: tuple  # weight shape: (C_out, C_in/g, *kernel) or, transposed, (C_in, C_out/g, *kernel)
    kwargs: dict = field(default_factory=dict)
    bias: bool = True  # forward ops only; backward ops always use a bias
    dtype: str = "float32"
    description: str = ""
    # Memory layouts torch is given (the saved arrays are C-contiguous either way):
    # "channels_last" for the activations (input, grad_output) and / or the weight.
    layout: str = ""
    weight_layout: str = ""
    grad_layout: str | None = None  # grad_output's, when not the input's

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



# 1-D: input (N, C, L) or unbatched (C, L), weight (C_out, C_in/g, K).


def conv1d_cases() -> list[Case]:
    C = lambda *a, **k: Case("conv1d", *a, **k)  # noqa: E731
    return [
        C("basic_k3", (2, 3, 10), (4, 3, 3), description="plain k3, defaults"),
        C("basic_k3_nobias", (2, 3, 10), (4, 3, 3), bias=False,
          description="plain k3 without bias"),
        C("stride2", (2, 3, 11), (4, 3, 3), dict(stride=2)),
        C("stride2_drop", (2, 3, 10), (4, 3, 3), dict(stride=2),
          description="floor division drops the last input sample"),
        C("stride3_list", (1, 3, 13), (4, 3, 3), dict(stride=[3]),
          description="stride as a one-element list"),
        C("stride3_k2", (2, 2, 10), (3, 2, 2), dict(stride=3),
          description="stride larger than the kernel: some samples are never read"),
        C("padding1", (2, 3, 7), (4, 3, 3), dict(padding=1)),
        C("padding_list", (2, 3, 7), (4, 3, 3), dict(padding=[2]),
          description="padding as a one-element list"),
        C("padding_asym", (2, 3, 8), (4, 3, 3), dict(padding=[[1, 2]]),
          description="asymmetric padding [[before, after]]"),
        C("padding_asym_stride_dil", (2, 2, 11), (3, 2, 3),
          dict(padding=[[0, 2]], stride=2, dilation=2)),
        C("padding_large", (1, 2, 3), (3, 2, 3), dict(padding=3),
          description="padding as large as the kernel: border outputs see only zeros"),
        C("dilation2", (2, 3, 12), (4, 3, 3), dict(dilation=2)),
        C("dilation3_list", (2, 3, 12), (4, 3, 3), dict(dilation=[3])),
        C("groups2", (2, 4, 9), (6, 2, 3), dict(groups=2)),
        C("groups4_stride_pad", (2, 8, 9), (8, 2, 3), dict(groups=4, stride=2, padding=1)),
        C("depthwise_m1", (2, 6, 9), (6, 1, 3), dict(groups=6, padding=1),
          description="depthwise, channel multiplier 1"),
        C("depthwise_m2", (2, 4, 10), (8, 1, 3), dict(groups=4, stride=2),
          description="depthwise, channel multiplier 2"),
        C("depthwise_k5_dil", (1, 5, 14), (5, 1, 5), dict(groups=5, dilation=2, padding=4),
          bias=False),
        C("same_k3", (2, 3, 7), (4, 3, 3), dict(padding="same")),
        C("same_k4", (2, 3, 8), (4, 3, 4), dict(padding="same"),
          description="'same' with an even kernel: padding (1, 2), the extra at the end"),
        C("same_k4_dil2", (2, 2, 9), (3, 2, 4), dict(padding="same", dilation=2),
          description="'same', k4, dilation 2: total padding 6, symmetric"),
        C("same_k2_dil3", (1, 3, 8), (2, 3, 2), dict(padding="same", dilation=[3]),
          description="'same', k2, dilation 3: total padding 3, (1, 2)"),
        C("valid", (2, 3, 9), (4, 3, 3), dict(padding="valid")),
        C("k1", (2, 8, 6), (5, 8, 1), description="pointwise"),
        C("kernel_eq_input", (2, 3, 6), (4, 3, 6), description="length-1 output"),
        C("kernel_eq_padded_input", (1, 2, 3), (3, 2, 5), dict(padding=1),
          description="kernel equals the padded input length"),
        C("single_sample", (2, 3, 1), (4, 3, 1), description="length-1 input and kernel"),
        C("channels16", (1, 16, 8), (16, 16, 3), dict(padding=1),
          description="16 channels: K=48 products per output"),
        C("unbatched", (3, 10), (4, 3, 3), dict(padding=1),
          description="2-D (C, L) unbatched input"),
        C("unbatched_same_groups", (4, 9), (4, 2, 4), dict(padding="same", groups=2),
          bias=False),
        C("batch0", (0, 3, 8), (4, 3, 3), dict(padding=1),
          description="N=0: empty output of the right shape"),
        C("batch0_groups", (0, 4, 9), (6, 2, 3), dict(groups=2, stride=2)),
        C("batch0_zero_spatial_pad", (0, 2, 0), (3, 2, 1), dict(padding=1),
          description="N=0 and L=0 padded to 2: PyTorch accepts (it rejects L=0 when N>0 "
                      "and C>0)"),
        C("combined", (2, 4, 13), (6, 2, 3),
          dict(groups=2, stride=2, dilation=2, padding=[[2, 0]]),
          description="groups, stride, dilation and asymmetric padding"),
        C("f64_basic", (2, 3, 10), (4, 3, 3), dict(stride=2, padding=1), dtype="float64"),
        C("f64_combined", (2, 4, 13), (6, 2, 3),
          dict(groups=2, stride=2, dilation=2, padding=[[2, 0]]), dtype="float64"),
        C("f64_same_dil_groups", (2, 4, 9), (4, 2, 4),
          dict(groups=2, padding="same", dilation=3), dtype="float64", bias=False),
        C("f64_depthwise", (2, 5, 9), (10, 1, 3), dict(groups=5, padding=1), dtype="float64"),
        C("f64_unbatched", (3, 7), (2, 3, 3), dict(padding=[[0, 1]]), dtype="float64"),
    ]


def conv_transpose1d_cases() -> list[Case]:
    C = lambda *a, **k: Case("conv_transpose1d", *a, **k)  # noqa: E731
    return [
        C("basic", (2, 3, 6), (3, 4, 3)),
        C("basic_nobias", (2, 3, 6), (3, 4, 3), bias=False),
        C("stride2", (2, 3, 5), (3, 4, 3), dict(stride=2)),
        C("stride3_k2", (2, 2, 4), (2, 3, 2), dict(stride=3),
          description="stride 3, kernel 2: gaps between scattered kernels"),
        C("stride_list_pad", (2, 3, 5), (3, 2, 3), dict(stride=[2], padding=[1]),
          description="stride and padding as one-element lists"),
        C("stride2_pad1", (2, 3, 5), (3, 4, 3), dict(stride=2, padding=1)),
        C("padding_k4", (2, 2, 6), (2, 3, 4), dict(padding=2)),
        C("padding_crops", (1, 2, 6), (2, 3, 3), dict(padding=2),
          description="padding = kernel-1: output shorter than input"),
        C("outpad1", (2, 3, 5), (3, 4, 3), dict(stride=2, padding=1, output_padding=1)),
        C("outpad2_stride3", (1, 3, 4), (3, 2, 3), dict(stride=3, output_padding=[2]),
          description="output_padding = stride-1, as a one-element list"),
        C("outpad_ge_stride_dil", (2, 2, 5), (2, 3, 3),
          dict(stride=1, dilation=2, output_padding=1),
          description="output_padding >= stride but < dilation (allowed by PyTorch)"),
        C("outpad_dil3_stride2", (1, 2, 5), (2, 3, 2),
          dict(stride=2, dilation=3, output_padding=2),
          description="output_padding 2 >= stride 2 but < dilation 3"),
        C("dilation2", (2, 3, 5), (3, 2, 3), dict(dilation=2)),
        C("dilation3_stride2", (2, 3, 5), (3, 2, 3), dict(dilation=[3], stride=2)),
        C("groups2", (2, 4, 5), (4, 3, 3), dict(groups=2)),
        C("groups3_stride2", (2, 6, 5), (6, 1, 2), dict(groups=3, stride=2), bias=False),
        C("depthwise_m1", (2, 5, 6), (5, 1, 3), dict(groups=5, stride=2, padding=1)),
        C("depthwise_m2", (2, 4, 6), (4, 2, 3), dict(groups=4)),
        C("k1_stride2", (2, 3, 5), (3, 4, 1), dict(stride=2)),
        C("channels16", (1, 16, 6), (16, 8, 3), dict(stride=2, padding=1)),
        C("single_sample", (2, 3, 1), (3, 4, 3), dict(stride=2)),
        C("combined", (2, 4, 5), (4, 3, 2),
          dict(stride=3, padding=1, output_padding=2, dilation=2, groups=2),
          description="groups, stride, padding, output_padding and dilation together"),
        C("unbatched", (3, 6), (3, 2, 3), dict(stride=2, padding=1),
          description="2-D (C, L) unbatched input"),
        C("batch0", (0, 3, 5), (3, 4, 3), dict(stride=2),
          description="N=0: empty output of the right shape"),
        C("batch0_zero_spatial", (0, 2, 0), (2, 3, 3), dict(stride=2),
          description="N=0 and L=0: PyTorch returns (0, 3, 1) (it rejects L=0 when N>0)"),
        C("batch0_output0", (0, 1, 2), (1, 1, 1), dict(padding=1),
          description="N=0 with a length-0 output: PyTorch returns (0, 1, 0) (it rejects "
                      "the empty output when N>0)"),
        C("f64_basic", (2, 3, 6), (3, 4, 3), dict(stride=2, padding=1), dtype="float64"),
        C("f64_combined", (2, 4, 5), (4, 3, 2),
          dict(stride=3, padding=1, output_padding=2, dilation=2, groups=2), dtype="float64"),
        C("f64_unbatched", (3, 6), (3, 2, 3), dict(stride=2, output_padding=1),
          dtype="float64", bias=False),
    ]


def conv1d_backward_cases() -> list[Case]:
    C = lambda *a, **k: Case("conv1d_backward", *a, **k)  # noqa: E731
    return [
        C("basic", (2, 3, 8), (4, 3, 3)),
        C("stride2_drop", (2, 2, 10), (3, 2, 3), dict(stride=2),
          description="L=10, k3, stride 2, no padding: the last sample is never read, its "
                      "grad_input is zero"),
        C("stride2_pad1_list", (2, 3, 9), (4, 3, 3), dict(stride=[2], padding=[1])),
        C("same_k4", (2, 2, 8), (3, 2, 4), dict(padding="same"),
          description="'same' with an even kernel"),
        C("same_k2_dil3", (2, 2, 9), (3, 2, 2), dict(padding="same", dilation=3)),
        C("valid", (2, 3, 7), (4, 3, 3), dict(padding="valid")),
        C("padding_asym", (2, 3, 8), (4, 3, 3), dict(padding=[[1, 2]]),
          description="asymmetric padding [[before, after]]"),
        C("padding_asym_stride_drop", (2, 2, 10), (3, 2, 3), dict(padding=[[0, 1]], stride=3),
          description="asymmetric padding where the stride drops trailing input"),
        C("dilation2", (2, 3, 10), (4, 3, 3), dict(dilation=2)),
        C("groups2", (2, 4, 8), (6, 2, 3), dict(groups=2, padding=1)),
        C("depthwise_m2_stride2", (2, 4, 9), (8, 1, 3), dict(groups=4, stride=2, padding=1)),
        C("k1_stride2", (2, 4, 7), (5, 4, 1), dict(stride=2)),
        C("kernel_eq_input", (2, 3, 6), (4, 3, 6)),
        C("combined", (2, 4, 13), (6, 2, 3),
          dict(groups=2, stride=2, dilation=2, padding=[[2, 0]])),
        C("unbatched", (3, 9), (4, 3, 3), dict(stride=2, padding=1),
          description="2-D (C, L) unbatched input and grad_output"),
        C("batch0", (0, 3, 8), (4, 3, 3), dict(padding=1),
          description="N=0: empty grad_input, zero grad_weight and grad_bias"),
        C("batch0_zero_spatial_pad", (0, 2, 0), (3, 2, 1), dict(padding=1),
          description="N=0 and L=0 padded to 2: zero grad_weight and grad_bias"),
        C("f64_combined", (2, 4, 13), (6, 2, 3),
          dict(groups=2, stride=2, dilation=2, padding=[[2, 0]]), dtype="float64"),
        C("f64_same_k4_depthwise", (2, 3, 8), (6, 1, 4), dict(groups=3, padding="same"),
          dtype="float64"),
    ]


def conv_transpose1d_backward_cases() -> list[Case]:
    C = lambda *a, **k: Case("conv_transpose1d_backward", *a, **k)  # noqa: E731
    return [
        C("basic", (2, 3, 6), (3, 4, 3)),
        C("k1_stride2", (2, 3, 5), (3, 2, 1), dict(stride=2),
          description="kernel 1, stride 2 (cf. pytorch#63314)"),
        C("k1_stride2_outpad1", (2, 3, 5), (3, 2, 1), dict(stride=2, output_padding=1)),
        C("stride2_pad1_outpad1", (2, 3, 5), (3, 4, 3),
          dict(stride=2, padding=1, output_padding=1)),
        C("stride3_k2", (2, 2, 4), (2, 3, 2), dict(stride=3),
          description="stride > kernel: output samples no kernel reaches"),
        C("outpad_ge_stride_dil", (2, 2, 5), (2, 3, 3),
          dict(stride=1, dilation=2, output_padding=1),
          description="output_padding >= stride but < dilation"),
        C("groups2", (2, 4, 5), (4, 3, 3), dict(groups=2, padding=1)),
        C("depthwise", (2, 5, 5), (5, 1, 3), dict(groups=5, stride=2)),
        C("combined", (2, 4, 5), (4, 3, 2),
          dict(stride=3, padding=1, output_padding=2, dilation=2, groups=2)),
        C("channels8", (2, 8, 5), (8, 4, 3), dict(stride=2, padding=1)),
        C("unbatched", (3, 5), (3, 2, 3), dict(stride=2, padding=1),
          description="2-D (C, L) unbatched input and grad_output"),
        C("batch0", (0, 3, 5), (3, 4, 3), dict(stride=2),
          description="N=0: empty grad_input, zero grad_weight and grad_bias"),
        C("batch0_zero_spatial", (0, 2, 0), (2, 3, 3), dict(stride=2),
          description="N=0 and L=0 (forward output (0, 3, 1))"),
        C("f64_basic", (2, 3, 6), (3, 4, 3), dict(stride=2, padding=1), dtype="float64"),
        C("f64_combined", (2, 4, 5), (4, 3, 2),
          dict(stride=[3], padding=[1], output_padding=[2], dilation=[2], groups=2),
          dtype="float64"),
    ]


# 3-D: input (N, C, D, H, W) or unbatched (C, D, H, W), weight (C_out, C_in/g, kD, kH, kW);
# spatial sizes at most 6 to keep the files small.


def conv3d_cases() -> list[Case]:
    C = lambda *a, **k: Case("conv3d", *a, **k)  # noqa: E731
    return [
        C("basic_k3", (2, 2, 5, 5, 5), (3, 2, 3, 3, 3), description="plain 3x3x3, defaults"),
        C("basic_nobias", (1, 2, 4, 5, 6), (3, 2, 3, 3, 3), bias=False,
          description="3x3x3 on a 4x5x6 input, no bias"),
        C("stride2", (2, 2, 5, 5, 5), (3, 2, 3, 3, 3), dict(stride=2)),
        C("stride_123", (1, 2, 6, 6, 6), (3, 2, 2, 2, 2), dict(stride=[1, 2, 3]),
          description="a different stride per axis"),
        C("stride_drop", (1, 2, 6, 5, 6), (2, 2, 3, 2, 3), dict(stride=[2, 3, 2]),
          description="floor division drops trailing input along D and W"),
        C("padding1", (2, 2, 4, 4, 4), (3, 2, 3, 3, 3), dict(padding=1)),
        C("padding_list", (1, 2, 4, 5, 3), (3, 2, 3, 3, 3), dict(padding=[0, 1, 2])),
        C("padding_asym", (1, 2, 4, 5, 4), (3, 2, 3, 3, 3),
          dict(padding=[[0, 1], [1, 0], [2, 1]]),
          description="asymmetric padding, one [before, after] pair per axis"),
        C("padding_asym_stride_dil", (1, 2, 6, 5, 6), (2, 2, 2, 3, 2),
          dict(padding=[[1, 0], [0, 2], [2, 1]], stride=[2, 1, 2], dilation=[2, 1, 3])),
        C("padding_large", (1, 1, 2, 2, 2), (2, 1, 3, 3, 3), dict(padding=[3, 2, 1]),
          description="padding as large as the kernel in D: border outputs see only zeros"),
        C("dilation2", (1, 2, 6, 6, 6), (3, 2, 3, 3, 3), dict(dilation=2)),
        C("dilation_123", (1, 2, 4, 6, 6), (3, 2, 2, 2, 2), dict(dilation=[1, 2, 3])),
        C("groups2", (2, 4, 4, 4, 4), (6, 2, 3, 3, 3), dict(groups=2)),
        C("groups3_stride_pad", (1, 6, 5, 5, 5), (6, 2, 3, 3, 3),
          dict(groups=3, stride=2, padding=1)),
        C("depthwise_m1", (2, 4, 4, 4, 4), (4, 1, 3, 3, 3), dict(groups=4, padding=1),
          description="depthwise, channel multiplier 1"),
        C("depthwise_m2", (1, 3, 5, 5, 5), (6, 1, 3, 3, 3), dict(groups=3, stride=2),
          description="depthwise, channel multiplier 2"),
        C("same_k3", (1, 2, 4, 5, 6), (3, 2, 3, 3, 3), dict(padding="same")),
        C("same_k234", (1, 2, 4, 5, 6), (3, 2, 2, 3, 4), dict(padding="same"),
          description="'same' with even kernels in D and W: padding (0,1), (1,1), (1,2)"),
        C("same_k242_dil321", (1, 2, 5, 5, 6), (2, 2, 2, 4, 2),
          dict(padding="same", dilation=[3, 2, 1]),
          description="'same', k(2,4,2), dilation (3,2,1): padding (1,2), (3,3), (0,1)"),
        C("valid", (2, 2, 5, 4, 6), (3, 2, 3, 2, 3), dict(padding="valid")),
        C("k1", (2, 6, 3, 4, 5), (4, 6, 1, 1, 1), description="pointwise"),
        C("k1_stride2", (1, 4, 5, 5, 5), (3, 4, 1, 1, 1), dict(stride=2)),
        C("kernel_eq_input", (2, 2, 3, 4, 5), (3, 2, 3, 4, 5), description="1x1x1 output"),
        C("single_voxel", (2, 3, 1, 1, 1), (4, 3, 1, 1, 1), description="1x1x1 input and kernel"),
        C("channels8", (1, 8, 4, 4, 4), (8, 8, 3, 3, 3), dict(padding=1),
          description="8 channels: K=216 products per output"),
        C("unbatched", (2, 5, 5, 5), (3, 2, 3, 3, 3), dict(padding=1),
          description="4-D (C, D, H, W) unbatched input"),
        C("unbatched_same_groups", (4, 4, 5, 3), (4, 2, 2, 3, 2), dict(padding="same", groups=2),
          bias=False),
        C("batch0", (0, 2, 4, 4, 4), (3, 2, 3, 3, 3), dict(padding=1),
          description="N=0: empty output of the right shape"),
        C("batch0_zero_spatial_pad", (0, 2, 0, 0, 0), (3, 2, 1, 1, 1), dict(padding=1),
          description="N=0 and 0x0x0 input padded to 2x2x2: PyTorch accepts (it rejects an "
                      "empty spatial size when N>0 and C>0)"),
        C("combined", (2, 4, 6, 5, 6), (6, 2, 2, 3, 2),
          dict(groups=2, stride=[2, 1, 3], dilation=[1, 2, 2],
               padding=[[1, 0], [2, 1], [0, 2]]),
          description="groups, per-axis stride and dilation, asymmetric padding"),
        C("f64_basic", (2, 2, 5, 5, 5), (3, 2, 3, 3, 3), dict(stride=2, padding=1),
          dtype="float64"),
        C("f64_combined", (2, 4, 6, 5, 6), (6, 2, 2, 3, 2),
          dict(groups=2, stride=[2, 1, 3], dilation=[1, 2, 2],
               padding=[[1, 0], [2, 1], [0, 2]]), dtype="float64"),
        C("f64_same_dil_groups", (1, 4, 5, 4, 6), (4, 2, 2, 3, 4),
          dict(groups=2, padding="same", dilation=[2, 1, 1]), dtype="float64", bias=False),
        C("f64_depthwise", (1, 3, 4, 4, 4), (6, 1, 3, 3, 3), dict(groups=3, padding=1),
          dtype="float64"),
        C("f64_unbatched", (2, 4, 5, 3), (3, 2, 3, 2, 3),
          dict(padding=[[0, 1], [1, 1], [2, 0]]), dtype="float64"),
    ]


def conv_transpose3d_cases() -> list[Case]:
    C = lambda *a, **k: Case("conv_transpose3d", *a, **k)  # noqa: E731
    return [
        C("basic", (2, 2, 3, 3, 3), (2, 3, 3, 3, 3)),
        C("basic_nobias", (1, 2, 2, 3, 4), (2, 3, 2, 3, 2), bias=False),
        C("stride2", (2, 2, 3, 3, 3), (2, 3, 3, 3, 3), dict(stride=2)),
        C("stride_123", (1, 2, 3, 3, 3), (2, 2, 2, 2, 2), dict(stride=[1, 2, 3]),
          description="a different stride per axis; stride 3 > kernel 2 leaves gaps in W"),
        C("stride3_k2", (1, 2, 2, 2, 2), (2, 2, 2, 2, 2), dict(stride=3),
          description="stride 3, kernel 2: gaps between scattered kernels on every axis"),
        C("stride2_pad1", (2, 2, 3, 3, 3), (2, 3, 3, 3, 3), dict(stride=2, padding=1)),
        C("padding_list", (1, 2, 3, 4, 3), (2, 3, 3, 3, 3), dict(padding=[0, 1, 2])),
        C("padding_crops", (1, 2, 4, 4, 4), (2, 2, 3, 3, 3), dict(padding=2),
          description="padding = kernel-1: output smaller than input"),
        C("outpad1", (1, 2, 3, 3, 3), (2, 3, 3, 3, 3), dict(stride=2, padding=1,
                                                            output_padding=1)),
        C("outpad_per_axis", (1, 2, 3, 3, 3), (2, 3, 2, 2, 2),
          dict(stride=[1, 2, 3], dilation=[2, 1, 1], output_padding=[1, 1, 2]),
          description="output_padding (1,1,2): >= stride but < dilation in D, < stride in "
                      "H and W (the rule is per axis)"),
        C("outpad_ge_stride_dil", (1, 2, 3, 3, 3), (2, 2, 3, 3, 3),
          dict(stride=1, dilation=2, output_padding=1),
          description="output_padding >= stride but < dilation (allowed by PyTorch)"),
        C("dilation2", (1, 2, 3, 3, 3), (2, 2, 3, 3, 3), dict(dilation=2)),
        C("dilation_123_stride2", (1, 2, 3, 3, 3), (2, 2, 2, 2, 2),
          dict(dilation=[1, 2, 3], stride=2)),
        C("groups2", (2, 4, 3, 3, 3), (4, 2, 3, 3, 3), dict(groups=2)),
        C("groups3_stride2", (1, 6, 2, 3, 2), (6, 1, 2, 2, 3), dict(groups=3, stride=2),
          bias=False),
        C("depthwise_m1", (1, 4, 3, 3, 3), (4, 1, 3, 3, 3), dict(groups=4, stride=2, padding=1)),
        C("depthwise_m2", (1, 3, 3, 3, 3), (3, 2, 3, 3, 3), dict(groups=3)),
        C("k1_stride2", (2, 3, 3, 3, 3), (3, 4, 1, 1, 1), dict(stride=2)),
        C("channels8", (1, 8, 3, 3, 3), (8, 4, 3, 3, 3), dict(stride=2, padding=1)),
        C("single_voxel", (2, 3, 1, 1, 1), (3, 2, 3, 3, 3), dict(stride=2)),
        C("nonuniform_all", (1, 4, 2, 3, 3), (4, 3, 2, 3, 2),
          dict(stride=[2, 1, 3], padding=[1, 0, 1], output_padding=[1, 0, 2],
               dilation=[1, 2, 2]),
          description="per-axis stride, padding, output_padding, dilation and kernel"),
        C("unbatched", (2, 3, 3, 3), (2, 3, 3, 3, 3), dict(stride=2, padding=1),
          description="4-D (C, D, H, W) unbatched input"),
        C("batch0", (0, 2, 3, 3, 3), (2, 3, 3, 3, 3), dict(stride=2),
          description="N=0: empty output of the right shape"),
        C("batch0_zero_spatial", (0, 2, 0, 0, 0), (2, 3, 3, 3, 3), dict(stride=2),
          description="N=0 and 0x0x0 input: PyTorch returns (0, 3, 1, 1, 1) (it rejects an "
                      "empty input when N>0)"),
        C("batch0_output0", (0, 1, 2, 2, 2), (1, 1, 1, 1, 1), dict(padding=1),
          description="N=0 with a 0x0x0 output: PyTorch returns (0, 1, 0, 0, 0) (it rejects "
                      "the empty output when N>0)"),
        C("f64_basic", (2, 2, 3, 3, 3), (2, 3, 3, 3, 3), dict(stride=2, padding=1),
          dtype="float64"),
        C("f64_combined", (1, 4, 2, 3, 3), (4, 3, 2, 3, 2),
          dict(stride=[2, 1, 3], padding=[1, 0, 1], output_padding=[1, 0, 2],
               dilation=[1, 2, 2], groups=2), dtype="float64"),
        C("f64_unbatched", (2, 3, 2, 3), (2, 2, 2, 3, 2), dict(stride=[2, 1, 2],
                                                               output_padding=[1, 0, 0]),
          dtype="float64", bias=False),
    ]


def conv3d_backward_cases() -> list[Case]:
    C = lambda *a, **k: Case("conv3d_backward", *a, **k)  # noqa: E731
    return [
        C("basic", (2, 2, 4, 4, 4), (3, 2, 3, 3, 3)),
        C("stride_123_drop", (1, 2, 6, 6, 6), (2, 2, 2, 3, 2), dict(stride=[1, 2, 3]),
          description="per-axis stride; floor division drops the last H and W planes, their "
                      "grad_input is zero"),
        C("stride2_pad1", (2, 2, 5, 5, 5), (3, 2, 3, 3, 3), dict(stride=2, padding=1)),
        C("same_k234", (1, 2, 4, 5, 4), (3, 2, 2, 3, 4), dict(padding="same"),
          description="'same' with even kernels in D and W"),
        C("valid", (2, 2, 4, 5, 3), (2, 2, 3, 3, 2), dict(padding="valid")),
        C("padding_asym", (1, 2, 4, 4, 5), (3, 2, 3, 3, 3),
          dict(padding=[[0, 1], [1, 0], [2, 1]]),
          description="asymmetric padding, one [before, after] pair per axis"),
        C("dilation_123", (1, 2, 4, 5, 6), (3, 2, 2, 2, 2),
          dict(dilation=[1, 2, 3], padding=[0, 1, 1])),
        C("groups2", (2, 4, 4, 4, 4), (4, 2, 3, 3, 3), dict(groups=2, padding=1)),
        C("depthwise_m2_stride2", (1, 3, 5, 5, 5), (6, 1, 3, 3, 3),
          dict(groups=3, stride=2, padding=1)),
        C("k1", (2, 4, 3, 4, 5), (3, 4, 1, 1, 1)),
        C("combined", (2, 4, 6, 5, 6), (6, 2, 2, 3, 2),
          dict(groups=2, stride=[2, 1, 3], dilation=[1, 2, 2],
               padding=[[1, 0], [2, 1], [0, 2]])),
        C("unbatched", (2, 5, 5, 5), (3, 2, 3, 3, 3), dict(stride=2, padding=1),
          description="4-D (C, D, H, W) unbatched input and grad_output"),
        C("batch0", (0, 2, 4, 4, 4), (3, 2, 3, 3, 3), dict(padding=1),
          description="N=0: empty grad_input, zero grad_weight and grad_bias"),
        C("batch0_zero_spatial_pad", (0, 2, 0, 0, 0), (3, 2, 1, 1, 1), dict(padding=1),
          description="N=0 and 0x0x0 input padded to 2x2x2: zero grad_weight and grad_bias"),
        C("f64_combined", (2, 4, 6, 5, 6), (6, 2, 2, 3, 2),
          dict(groups=2, stride=[2, 1, 3], dilation=[1, 2, 2],
               padding=[[1, 0], [2, 1], [0, 2]]), dtype="float64"),
    ]


def conv_transpose3d_backward_cases() -> list[Case]:
    C = lambda *a, **k: Case("conv_transpose3d_backward", *a, **k)  # noqa: E731
    return [
        C("basic", (1, 2, 3, 3, 3), (2, 3, 3, 3, 3)),
        C("k1_stride_123", (2, 3, 2, 3, 2), (3, 2, 1, 1, 1), dict(stride=[1, 2, 3]),
          description="kernel 1, per-axis stride (cf. pytorch#63314)"),
        C("k1_stride2_outpad1", (1, 3, 2, 2, 3), (3, 2, 1, 1, 1),
          dict(stride=2, output_padding=1)),
        C("stride2_pad1_outpad1", (1, 2, 3, 3, 3), (2, 3, 3, 3, 3),
          dict(stride=2, padding=1, output_padding=1)),
        C("stride3_k2", (1, 2, 2, 2, 2), (2, 2, 2, 2, 2), dict(stride=3),
          description="stride > kernel: output voxels no kernel reaches"),
        C("outpad_per_axis", (1, 2, 3, 3, 3), (2, 3, 2, 2, 2),
          dict(stride=[1, 2, 3], dilation=[2, 1, 1], output_padding=[1, 1, 2]),
          description="output_padding >= stride but < dilation in D"),
        C("groups2", (2, 4, 3, 3, 3), (4, 2, 3, 3, 3), dict(groups=2, padding=1)),
        C("depthwise", (1, 3, 3, 3, 3), (3, 1, 3, 3, 3), dict(groups=3, stride=2)),
        C("nonuniform_all", (1, 4, 2, 3, 3), (4, 3, 2, 3, 2),
          dict(stride=[2, 1, 3], padding=[1, 0, 1], output_padding=[1, 0, 2],
               dilation=[1, 2, 2])),
        C("unbatched", (2, 3, 3, 3), (2, 3, 3, 3, 3), dict(stride=2, padding=1),
          description="4-D (C, D, H, W) unbatched input and grad_output"),
        C("batch0", (0, 2, 3, 3, 3), (2, 3, 3, 3, 3), dict(stride=2),
          description="N=0: empty grad_input, zero grad_weight and grad_bias"),
        C("batch0_zero_spatial", (0, 2, 0, 0, 0), (2, 3, 3, 3, 3), dict(stride=2),
          description="N=0 and 0x0x0 input (forward output (0, 3, 1, 1, 1))"),
        C("f64_basic", (1, 2, 3, 3, 3), (2, 3, 3, 3, 3), dict(stride=2, padding=1),
          dtype="float64"),
        C("f64_combined", (1, 4, 2, 3, 3), (4, 3, 2, 3, 2),
          dict(stride=[2, 1, 3], padding=[1, 0, 1], output_padding=[1, 0, 2],
               dilation=[1, 2, 2], groups=2), dtype="float64"),
    ]


# Padding modes (torch.nn.Conv{r}d(padding_mode=...)) and output_size
# (ConvTranspose{r}d.forward(input, output_size)), for every rank. Spatial sizes per rank:

MODES = ("reflect", "replicate", "circular")
SIZES = {1: (9,), 2: (7, 8), 3: (4, 5, 6)}      # every pad below is < these (reflect)
SMALL = {1: (4,), 2: (3, 4), 3: (2, 3, 4)}      # for the largest pads a mode accepts
ASYM = {1: [[0, 2]], 2: [[2, 0], [1, 3]], 3: [[0, 1], [2, 0], [1, 3]]}
EVEN_K = {1: (4,), 2: (4, 3), 3: (2, 3, 4)}     # 'same': extra element at the end


def _k(r: int, k: int) -> tuple:
    return (k,) * r


def _per(r: int, values: list) -> list:
    """One value per axis: the last r of `values` (outermost first)."""
    return list(values[-r:])


def padding_mode_cases(r: int) -> list[Case]:
    C = lambda *a, **k: Case(f"conv{r}d", *a, **k)  # noqa: E731
    sp, small = SIZES[r], SMALL[r]
    n = 2 if r < 3 else 1  # (3-D files stay small)
    cases = []
    for m in MODES:
        md = dict(padding_mode=m)
        cases += [
            C(f"mode_{m}_p1", (n, 3, *sp), (4, 3, *_k(r, 3)), dict(padding=1, **md),
              description=f"padding_mode={m!r}, padding 1"),
            C(f"mode_{m}_same_even", (n, 2, *sp), (3, 2, *EVEN_K[r]), dict(padding="same", **md),
              description=f"padding_mode={m!r} with 'same' and even kernels: the extra element "
                          f"at the end, as zeros"),
            C(f"mode_{m}_same_dil2", (1, 2, *sp), (3, 2, *_k(r, 3)),
              dict(padding="same", dilation=2, **md)),
            C(f"mode_{m}_asym", (n, 2, *sp), (3, 2, *_k(r, 3)), dict(padding=ASYM[r], **md),
              description=f"asymmetric (before, after) pairs, torch: F.pad(x, pads, {m!r}) then "
                          f"the convolution"),
            C(f"mode_{m}_stride2_dil", (n, 2, *sp), (3, 2, *_k(r, 2)),
              dict(padding=_per(r, [1, 2, 3]), stride=2, dilation=_per(r, [1, 2, 1]), **md)),
            C(f"mode_{m}_groups2", (n, 4, *sp), (6, 2, *_k(r, 3)), dict(padding=2, groups=2, **md),
              bias=False),
            C(f"mode_{m}_unbatched", (3, *sp), (4, 3, *_k(r, 3)), dict(padding=1, **md)),
            C(f"mode_{m}_batch0", (0, 3, *sp), (4, 3, *_k(r, 3)), dict(padding=1, **md),
              description="N=0: empty output of the right shape"),
            C(f"f64_mode_{m}", (n, 3, *sp), (4, 3, *_k(r, 3)),
              dict(padding=_per(r, [1, 2, 3]), **md), dtype="float64"),
        ]
    cases += [
        C("mode_reflect_max", (1, 2, *small), (3, 2, *_k(r, 2)),
          dict(padding=[s - 1 for s in small], padding_mode="reflect"),
          description="reflect padding = size - 1 on every axis (the largest it accepts)"),
        C("mode_circular_max", (1, 2, *small), (3, 2, *_k(r, 2)),
          dict(padding=[[s, s] for s in small], padding_mode="circular"),
          description="circular padding = size on every axis (the largest it accepts)"),
        C("mode_replicate_big", (1, 2, *small), (3, 2, *_k(r, 2)),
          dict(padding=[s + 2 for s in small], padding_mode="replicate"),
          description="replicate padding larger than the input (any size is accepted)"),
        C("mode_replicate_size1", (1, 2, *_k(r, 1)), (3, 2, *_k(r, 3)),
          dict(padding=2, padding_mode="replicate"),
          description="replicate around a single element"),
        C("mode_circular_size1", (1, 2, *_k(r, 1)), (3, 2, *_k(r, 3)),
          dict(padding=1, padding_mode="circular")),
        C("mode_reflect_depthwise", (n, 4, *sp), (8, 1, *_k(r, 3)),
          dict(padding=2, groups=4, padding_mode="reflect")),
        C("mode_reflect_valid", (n, 2, *sp), (3, 2, *_k(r, 3)),
          dict(padding="valid", padding_mode="reflect"),
          description="a padding mode with no padding: nothing to copy"),
        C("mode_zeros_p1", (n, 3, *sp), (4, 3, *_k(r, 3)), dict(padding=1, padding_mode="zeros")),
    ]
    return cases


def padding_mode_backward_cases(r: int) -> list[Case]:
    C = lambda *a, **k: Case(f"conv{r}d_backward", *a, **k)  # noqa: E731
    sp, small = SIZES[r], SMALL[r]
    n = 2 if r < 3 else 1  # (3-D files stay small)
    cases = []
    for m in MODES:
        md = dict(padding_mode=m)
        cases += [
            C(f"mode_{m}_p1", (n, 3, *sp), (4, 3, *_k(r, 3)), dict(padding=1, **md)),
            C(f"mode_{m}_same_even", (n, 2, *sp), (3, 2, *EVEN_K[r]), dict(padding="same", **md)),
            C(f"mode_{m}_asym_stride_drop", (n, 2, *sp), (3, 2, *_k(r, 3)),
              dict(padding=ASYM[r], stride=2, **md),
              description="asymmetric pairs (F.pad with the mode), stride 2 drops trailing input"),
            C(f"mode_{m}_groups2", (n, 4, *sp), (6, 2, *_k(r, 3)), dict(padding=2, groups=2, **md)),
            C(f"mode_{m}_unbatched", (3, *sp), (4, 3, *_k(r, 3)), dict(padding=1, stride=2, **md)),
            C(f"f64_mode_{m}", (n, 3, *sp), (4, 3, *_k(r, 3)),
              dict(padding=_per(r, [1, 2, 3]), dilation=_per(r, [1, 1, 2]), **md), dtype="float64"),
        ]
    cases += [
        C("mode_reflect_max", (1, 2, *small), (3, 2, *_k(r, 2)),
          dict(padding=[s - 1 for s in small], padding_mode="reflect")),
        C("mode_circular_max", (1, 2, *small), (3, 2, *_k(r, 2)),
          dict(padding=[[s, s] for s in small], padding_mode="circular")),
        C("mode_replicate_big", (1, 2, *small), (3, 2, *_k(r, 2)),
          dict(padding=[s + 2 for s in small], padding_mode="replicate"),
          description="replicate padding larger than the input: the edges collect many gradients"),
        C("mode_replicate_size1", (1, 2, *_k(r, 1)), (3, 2, *_k(r, 3)),
          dict(padding=2, padding_mode="replicate")),
        C("mode_reflect_batch0", (0, 3, *sp), (4, 3, *_k(r, 3)), dict(padding=1, padding_mode="reflect"),
          description="N=0: empty grad_input, zero grad_weight and grad_bias"),
    ]
    return cases


def _round_trip(op: str, r: int, h: tuple, k: int, d: int, s: int, p: int, dtype: str = "float32") -> Case:
    """PyTorch's test_ConvTranspose2d_output_size_downsample_upsample: conv (3 -> 2
    channels) of an input of spatial size `h`, then the transposed conv back with
    output_size = that input's shape (N, C, *h)."""
    out = tuple(R.output_size(i, k, s, p, p, d) for i in h)
    name = "roundtrip_" + "x".join(map(str, h)) + f"_k{k}_d{d}_s{s}_p{p}"
    return Case(op, name, (2, 2, *out), (2, 3, *_k(r, k)),
                dict(stride=s, padding=p, dilation=d, output_size=[2, 3, *h]), dtype=dtype,
                description=f"round trip: conv{r}d of a {h} input gives {out}; conv_transpose{r}d "
                            f"with output_size = the input's shape restores it")


def output_size_cases(r: int) -> list[Case]:
    op = f"conv_transpose{r}d"
    C = lambda *a, **k: Case(op, *a, **k)  # noqa: E731
    x = {1: (5,), 2: (3, 4), 3: (2, 3, 3)}[r]
    least = lambda stride, pad, k, dil=1: [R.transposed_output_size(i, k, stride, pad, 0, dil) for i in x]  # noqa: E731
    lo3 = least(3, 1, 3)
    cases = [
        C("os_min", (2, 3, *x), (3, 2, *_k(r, 3)), dict(stride=3, padding=1, output_size=lo3),
          description="output_size = the smallest size (output_padding 0)"),
        C("os_max", (2, 3, *x), (3, 2, *_k(r, 3)),
          dict(stride=3, padding=1, output_size=[v + 2 for v in lo3]),
          description="output_size = the largest size (output_padding = stride - 1)"),
        C("os_mixed", (2, 3, *x), (3, 2, *_k(r, 3)),
          dict(stride=3, padding=1, output_size=[v + i % 3 for i, v in enumerate(lo3)])),
        C("os_full_shape", (2, 3, *x), (3, 4, *_k(r, 2)),
          dict(stride=2, output_size=[2, 4, *[v + 1 for v in least(2, 0, 2)]]),
          description="output_size as the whole output shape (N, C, *sizes): the last r are used"),
        C("os_overrides_outpad", (1, 3, *x), (3, 2, *_k(r, 3)),
          dict(stride=2, padding=1, output_padding=1, output_size=least(2, 1, 3)),
          description="output_size fixes output_padding: the given output_padding=1 is ignored, "
                      "as ConvTranspose*d.forward ignores the module's"),
        C("os_dilation", (1, 2, *x), (2, 3, *_k(r, 3)),
          dict(stride=2, dilation=2, output_size=[v + 1 for v in least(2, 0, 3, 2)])),
        C("os_groups", (2, 4, *x), (4, 1, *_k(r, 3)),
          dict(stride=2, groups=2, padding=1, output_size=[v + 1 for v in least(2, 1, 3)]), bias=False),
        C("os_unbatched", (3, *x), (3, 2, *_k(r, 3)),
          dict(stride=3, padding=1, output_size=[2, *[v + 1 for v in lo3]]),
          description="unbatched input; output_size as (C, *sizes)"),
        C("f64_os", (2, 3, *x), (3, 2, *_k(r, 3)),
          dict(stride=3, padding=1, output_size=[v + 1 for v in lo3]), dtype="float64"),
    ]
    trips = {1: [((13,), 3, 2, 3, 1), ((16,), 4, 1, 2, 2), ((23,), 2, 4, 3, 0)],
             2: [((13, 16), 3, 2, 3, 1), ((14, 13), 4, 1, 2, 2), ((23, 15), 2, 4, 3, 0)],
             3: [((7, 5, 9), 3, 2, 3, 1), ((7, 8, 6), 4, 1, 2, 2)]}[r]
    cases += [_round_trip(op, r, *t) for t in trips]
    return cases


def output_size_backward_cases(r: int) -> list[Case]:
    op = f"conv_transpose{r}d_backward"
    C = lambda *a, **k: Case(op, *a, **k)  # noqa: E731
    x = {1: (5,), 2: (3, 4), 3: (2, 3, 3)}[r]
    lo = [R.transposed_output_size(i, 3, 3, 1, 0, 1) for i in x]
    return [
        C("os_max", (2, 3, *x), (3, 2, *_k(r, 3)), dict(stride=3, padding=1, output_size=[v + 2 for v in lo])),
        C("os_full_shape", (2, 3, *x), (3, 4, *_k(r, 3)),
          dict(stride=3, padding=1, output_size=[2, 4, *[v + 1 for v in lo]])),
        C("os_overrides_outpad", (1, 3, *x), (3, 2, *_k(r, 3)),
          dict(stride=3, padding=1, output_padding=2, output_size=lo)),
        C("os_unbatched", (3, *x), (3, 2, *_k(r, 3)), dict(stride=3, padding=1, output_size=[v + 1 for v in lo])),
        C("f64_os", (2, 3, *x), (3, 2, *_k(r, 3)),
          dict(stride=3, padding=1, output_size=[v + 1 for v in lo]), dtype="float64"),
        _round_trip(op, r, *{1: ((13,), 3, 2, 3, 1), 2: ((13, 16), 3, 2, 3, 1), 3: ((7, 8, 6), 4, 1, 2, 2)}[r]),
    ]


# float16 / bfloat16: a few cases of every op and rank (bias, groups, depthwise, stride,
# dilation, a padding mode, output_size, more channels, unbatched), each in both types.
HALF_SP = {1: (9,), 2: (6, 7), 3: (3, 4, 5)}
HALF_MODE = {1: "reflect", 2: "circular", 3: "replicate"}
HALF_PREFIX = {"float16": "f16", "bfloat16": "bf16"}


def half_cases(r: int) -> list[Case]:
    sp = HALF_SP[r]
    k3 = _k(r, 3)
    many = {1: (1, 32, 12), 2: (1, 32, 5, 6), 3: (1, 16, 3, 3, 4)}[r]
    cases = []
    for dt, pre in HALF_PREFIX.items():
        conv = lambda name, *a, **k: Case(f"conv{r}d", f"{pre}_{name}", *a, dtype=dt, **k)  # noqa: E731
        convt = lambda name, *a, **k: Case(f"conv_transpose{r}d", f"{pre}_{name}", *a, dtype=dt, **k)  # noqa: E731
        back = lambda name, *a, **k: Case(f"conv{r}d_backward", f"{pre}_{name}", *a, dtype=dt, **k)  # noqa: E731
        backt = lambda name, *a, **k: Case(f"conv_transpose{r}d_backward", f"{pre}_{name}", *a, dtype=dt, **k)  # noqa: E731
        lo = [R.transposed_output_size(i, 3, 2, 1, 0, 1) for i in sp]
        cases += [
            conv("basic", (2, 4, *sp), (6, 4, *k3), dict(padding=1)),
            conv("groups_stride_dil", (2, 6, *sp), (6, 2, *_k(r, 2)),
                 dict(groups=3, stride=2, dilation=_per(r, [1, 2, 2])), bias=False),
            conv("depthwise", (1, 4, *sp), (8, 1, *k3), dict(groups=4, padding="same")),
            conv(f"mode_{HALF_MODE[r]}", (2, 3, *sp), (4, 3, *k3), dict(padding=1, padding_mode=HALF_MODE[r])),
            conv("channels", many, (16, many[1], *k3), dict(padding=1),
                 description=f"{many[1]} input channels: K = {many[1] * 3 ** r + 1} terms per output"),
            conv("unbatched", (3, *sp), (4, 3, *k3), dict(padding=[[0, 1]] * r)),
            convt("basic", (2, 4, *sp), (4, 3, *k3), dict(stride=2, padding=1, output_padding=1)),
            convt("groups_dil", (2, 4, *sp), (4, 2, *_k(r, 2)), dict(groups=2, dilation=2), bias=False),
            convt("output_size", (1, 3, *sp), (3, 2, *k3), dict(stride=2, padding=1, output_size=[v + 1 for v in lo])),
            back("basic", (2, 4, *sp), (6, 4, *k3), dict(padding=1, stride=2)),
            back(f"mode_{HALF_MODE[r]}", (2, 3, *sp), (4, 3, *k3), dict(padding=1, padding_mode=HALF_MODE[r])),
            back("groups_unbatched", (4, *sp), (6, 2, *k3), dict(groups=2, padding="same")),
            backt("basic", (2, 4, *sp), (4, 3, *k3), dict(stride=2, padding=1, output_padding=1)),
            backt("groups", (2, 4, *sp), (4, 1, *_k(r, 2)), dict(groups=2, stride=_per(r, [1, 2, 3]))),
        ]
    return cases


def channels_last_cases(r: int) -> list[Case]:
    """Channels-last memory (NLC, NHWC, NDHWC) for every op and rank: dense and grouped
    convs with enough channels for swiftconv's channels-last GEMM, a 1x1, shapes that take
    the conversion path (few channels, depthwise, a padding mode, 3-D), unbatched inputs,
    a channels-last weight with a contiguous input, and grad_output in the other layout."""
    sp = {1: (9,), 2: (7, 6), 3: (4, 5, 3)}[r]
    k3, k1 = _k(r, 3), _k(r, 1)
    CL = "channels_last"
    conv = lambda name, *a, **k: Case(f"conv{r}d", f"cl_{name}", *a, layout=k.pop("layout", CL), **k)  # noqa: E731
    convt = lambda name, *a, **k: Case(f"conv_transpose{r}d", f"cl_{name}", *a, layout=CL, **k)  # noqa: E731
    back = lambda name, *a, **k: Case(f"conv{r}d_backward", f"cl_{name}", *a, layout=k.pop("layout", CL), **k)  # noqa: E731
    backt = lambda name, *a, **k: Case(f"conv_transpose{r}d_backward", f"cl_{name}", *a, layout=CL, **k)  # noqa: E731
    return [
        conv("dense", (2, 8, *sp), (16, 8, *k3), dict(padding=1)),
        conv("groups_stride_dil", (2, 16, *sp), (32, 8, *k3), dict(groups=2, stride=2, dilation=_per(r, [1, 2, 1]), padding=1),
             bias=False),
        conv("pointwise", (2, 16, *sp), (16, 16, *k1)),
        conv("pointwise_stride2", (1, 8, *sp), (16, 8, *k1), dict(stride=2)),
        conv("f64_dense", (1, 8, *sp), (16, 8, *k3), dict(padding="same"), dtype="float64"),
        conv("few_channels", (2, 3, *sp), (4, 3, *k3), dict(padding=1)),
        conv("depthwise", (2, 6, *sp), (6, 1, *k3), dict(groups=6, padding=1)),
        conv("mode_reflect", (1, 8, *sp), (16, 8, *k3), dict(padding=1, padding_mode="reflect")),
        conv("unbatched", (8, *sp), (16, 8, *k3), dict(padding=1)),
        conv("one_channel", (2, 1, *sp), (16, 1, *k3), dict(padding=1),
             description="C == 1: the strides of the size-1 channel axis decide, as torch"),
        conv("one_pixel", (2, 8, *(1,) * r), (16, 8, *k3), dict(padding=1),
             description="every spatial size 1: the strides decide, as torch"),
        conv("weight_only", (2, 8, *sp), (16, 8, *k3), dict(padding=1), layout="", weight_layout=CL,
             description="contiguous input, channels-last weight: torch's output is channels-last"),
        convt("basic", (2, 8, *sp), (8, 4, *k3), dict(stride=2, padding=1, output_padding=1)),
        convt("groups", (1, 4, *sp), (4, 3, *_k(r, 2)), dict(groups=2)),
        convt("stride1", (2, 16, *sp), (16, 16, *k3), dict(padding=1),
              description="stride 1: the flipped-kernel channels-last GEMM (2-D, 1-D)"),
        back("dense", (2, 8, *sp), (16, 8, *k3), dict(padding=1, stride=2)),
        back("groups", (2, 6, *sp), (6, 3, *k3), dict(groups=2, padding=1)),
        back("grad_contiguous", (1, 8, *sp), (16, 8, *k3), dict(padding=1), grad_layout="",
             description="channels-last input, contiguous grad_output"),
        back("unbatched", (8, *sp), (16, 8, *k3), dict(padding=1)),
        back("pointwise", (2, 16, *sp), (16, 16, *k1),
             description="1x1: every gradient channels-last in place (2-D, 1-D)"),
        back("weight_only", (2, 4, *sp), (8, 4, *k3), dict(padding=1), layout="", weight_layout=CL,
             description="contiguous input, channels-last weight: grad_weight channels-last"),
        backt("basic", (2, 8, *sp), (8, 4, *k3), dict(stride=2, padding=1)),
    ]


def all_cases() -> list[Case]:
    return (conv2d_cases() + conv_transpose2d_cases() + conv2d_backward_cases()
            + conv_transpose2d_backward_cases()
            + conv1d_cases() + conv_transpose1d_cases() + conv1d_backward_cases()
            + conv_transpose1d_backward_cases()
            + conv3d_cases() + conv_transpose3d_cases() + conv3d_backward_cases()
            + conv_transpose3d_backward_cases()
            + [c for r in (1, 2, 3) for c in padding_mode_cases(r) + padding_mode_backward_cases(r)
               + output_size_cases(r) + output_size_backward_cases(r)]
            + [c for r in (1, 2, 3) for c in half_cases(r)]
            + [c for r in (1, 2, 3) for c in channels_last_cases(r)])


# ----------------------------------------------------------------------- parameters


def op_info(op: str) -> tuple[int, bool, bool]:
    """(number of spatial axes, transposed?, backward?) of an op name."""
    assert op in OPS, op
    backward = op.endswith("_backward")
    base = op[:-len("_backward")] if backward else op
    return int(base[-2]), base.startswith("conv_transpose"), backward


def per_axis(v, r: int, name: str = "parameter") -> tuple[int, ...]:
    """``_reference.per_axis``, stricter on a list: the fixture format allows an int or
    exactly one int per spatial axis (no broadcasting of a 1-element list for r > 1)."""
    if isinstance(v, (list, tuple)):
        assert len(v) == r, (name, v, r)
    return R.per_axis(v, r, name)


def is_asym(kwargs: dict) -> bool:
    """Padding given as (before, after) pairs (torch needs an explicit F.pad)."""
    p = kwargs.get("padding", 0)
    return isinstance(p, (list, tuple)) and isinstance(p[0], (list, tuple))


def validate(case: Case) -> None:
    """The case's shapes and kwargs are consistent with its op's rank."""
    r, transposed, _ = op_info(case.op)
    assert len(case.w) == r + 2, (case.stem, case.w)
    assert len(case.x) in (r + 1, r + 2), (case.stem, case.x)
    allowed = {"stride", "padding", "dilation", "groups"}
    allowed |= {"output_padding", "output_size"} if transposed else {"padding_mode"}
    assert set(case.kwargs) <= allowed, (case.stem, case.kwargs)
    assert case.kwargs.get("padding_mode", "zeros") in ("zeros",) + MODES, case.stem
    if "output_size" in case.kwargs:
        assert isinstance(case.kwargs["output_size"], list), case.stem
    for k in ("stride", "dilation", "output_padding"):
        if k in case.kwargs:
            per_axis(case.kwargs[k], r, k)
    p = case.kwargs.get("padding", 0)
    if transposed:
        per_axis(p, r, "padding")
    elif not isinstance(p, str):
        if not is_asym(case.kwargs):
            per_axis(p, r, "padding")
        R.conv_padding(p, case.w[2:])  # one (before, after) pair per axis
    assert case.dtype in ("float32", "float64", "float16", "bfloat16"), case.stem


def expected_shape(case: Case) -> tuple[int, ...]:
    """The forward result's shape by the reference's output-size rules."""
    r, transposed, _ = op_info(case.op)
    kw, kernel = case.kwargs, case.w[2:]
    s = per_axis(kw.get("stride", 1), r, "stride")
    d = per_axis(kw.get("dilation", 1), r, "dilation")
    g = kw.get("groups", 1)
    if transposed:
        p = per_axis(kw.get("padding", 0), r, "padding")
        op = per_axis(kw.get("output_padding", 0), r, "output_padding")
        if "output_size" in kw:
            op = R.transposed_output_padding(kw["output_size"], case.x, kernel, s, p, d)
        channels = case.w[1] * g
        size = [R.transposed_output_size(*a) for a in zip(case.x[-r:], kernel, s, p, op, d)]
    else:
        pads = R.conv_padding(kw.get("padding", 0), kernel, d)
        channels = case.w[0]
        size = [R.output_size(*a) for a in zip(case.x[-r:], kernel, s, *zip(*pads), d)]
    return tuple(case.x[:-r - 1]) + (channels, *size)


def torch_forward(case: Case, x, w, b):
    """The PyTorch reference call for the case's forward op."""
    r, transposed, _ = op_info(case.op)
    kw = case.kwargs
    stride = per_axis(kw.get("stride", 1), r)
    dilation = per_axis(kw.get("dilation", 1), r)
    groups = kw.get("groups", 1)
    params = {"weight": w} if b is None else {"weight": w, "bias": b}
    if not transposed:
        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[r]
        p = kw.get("padding", 0)
        mode = kw.get("padding_mode", "zeros")
        if is_asym(kw):
            # F.pad lists the pads from the last axis backwards
            pads = [v for q in reversed(R.conv_padding(p, tuple(w.shape[2:]))) for v in q]
            x = F.pad(x, pads) if mode == "zeros" else F.pad(x, pads, mode=mode)
            p = 0
        elif not isinstance(p, str):
            p = per_axis(p, r)
        if mode != "zeros" and not is_asym(kw):
            # torch.nn.Conv{r}d(padding_mode=...) itself, with the case's weight and bias
            module = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[r](
                w.shape[1] * groups, w.shape[0], tuple(w.shape[2:]), stride=stride, padding=p,
                dilation=dilation, groups=groups, bias=b is not None, padding_mode=mode, dtype=w.dtype)
            return torch.func.functional_call(module, params, (x,))
        return conv(x, w, b, stride=stride, padding=p, dilation=dilation, groups=groups)
    if "output_size" in kw:
        # torch.nn.ConvTranspose{r}d.forward(input, output_size)
        module = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}[r](
            w.shape[0], w.shape[1] * groups, tuple(w.shape[2:]), stride=stride,
            padding=per_axis(kw.get("padding", 0), r), output_padding=per_axis(kw.get("output_padding", 0), r),
            groups=groups, bias=b is not None, dilation=dilation, dtype=w.dtype)
        return torch.func.functional_call(module, params, (x,), {"output_size": kw["output_size"]})
    conv_t = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[r]
    return conv_t(x, w, b, stride=stride, padding=per_axis(kw.get("padding", 0), r),
                  output_padding=per_axis(kw.get("output_padding", 0), r),
                  groups=groups, dilation=dilation)


# ------------------------------------------------------------------ memory layouts


def to_layout(t, layout: str, r: int):
    """t (torch, logical (N, C, *spatial) or unbatched (C, *spatial)) with the same values
    in channels-last memory (channel axis innermost), or t itself for ""."""
    if t is None or layout == "":
        return t
    assert layout == "channels_last", layout
    c = t.dim() - r - 1
    order = [i for i in range(t.dim()) if i != c] + [c]
    inv = [order.index(i) for i in range(t.dim())]
    # A fresh (N, *spatial, C) allocation (not .contiguous(), which keeps the strides of
    # size-1 axes as they are, and with them the layout torch infers)
    out = torch.empty([t.shape[i] for i in order], dtype=t.dtype)
    out.copy_(t.detach().permute(order))
    out = out.permute(inv)
    if t.requires_grad:
        out = out.detach().requires_grad_(True)
    return out


def strides_of(t) -> list[int]:
    return [int(v) for v in t.stride()]


# --------------------------------------------------------------------- generation


def terms(case: Case, out_shape) -> dict[str, int]:
    """Largest number of products summed into one element of each result
    (``_reference.terms``; a forward bias counts as one)."""
    r, transposed, backward = op_info(case.op)
    extra = {}
    if case.kwargs.get("padding_mode", "zeros") != "zeros":  # grad_input folds padded terms
        extra = dict(padding=case.kwargs.get("padding", 0), padding_mode=case.kwargs["padding_mode"],
                     dilation=per_axis(case.kwargs.get("dilation", 1), r))
    k = R.terms(case.op, case.x, case.w, out_shape if backward else None,
                case.kwargs.get("groups", 1), case.bias and not backward, **extra)
    return dict(zip(R.result_names(case.op), k))


def reference_forward(op: str, x, w, b, kwargs):
    """The forward op (``op`` may name a backward op: its forward) in float64 by the NumPy
    reference, batched or unbatched as ``x``."""
    forward = op[:-len("_backward")] if op.endswith("_backward") else op
    return R.compute(forward, x, w, b, **kwargs)[0]


def grads(case: Case, x, w, b, gout):
    """(grad_input, grad_weight, grad_bias) of the forward call by autograd, with the
    case's memory layouts (autograd gives each gradient its leaf's layout)."""
    r = op_info(case.op)[0]
    x = to_layout(x.detach().clone(), case.layout, r).requires_grad_(True)
    w = to_layout(w.detach().clone(), case.weight_layout, r).requires_grad_(True)
    b = b.detach().clone().requires_grad_(True)
    gout = to_layout(gout, case.layout if case.grad_layout is None else case.grad_layout, r)
    out = torch_forward(case, x, w, b)
    assert out.shape == gout.shape, (out.shape, gout.shape)
    out.backward(gout)
    res = []
    for t in (x, w, b):
        res.append(torch.zeros_like(t) if t.grad is None else t.grad.detach())
    return res


# A self-check compares a result rounded once (torch's, in the case's dtype) with the
# float64 reference, which is exact for this purpose: one rounded side, so it is held
# to half of the shared two-sided bound (_reference.error_bound, 4*K*eps*S + tiny) that
# the tests allow between swiftconv and torch.
SELF_CHECK_SHARE = 0.5
# The adjoint identities (below) sum many such errors weighted by random probes, and both
# sides of an identity are rounded again in float64: twice the shared bound of the
# probe-weighted scale.
ADJOINT_SHARE = 2.0


def check_close(name, got, ref, scale, k, dtype, stem):
    """|got - ref| <= SELF_CHECK_SHARE * _reference.error_bound(scale, k, dtype),
    elementwise."""
    got = np.asarray(got, np.float64)
    ref = np.asarray(ref, np.float64)
    assert got.shape == ref.shape, (stem, name, got.shape, ref.shape)
    share = R.share_of_bound(got, ref, scale, k, dtype)
    if not share <= SELF_CHECK_SHARE:
        bound = np.broadcast_to(R.error_bound(scale, k, dtype), got.shape)
        worst = np.unravel_index(np.argmax(np.abs(got - ref) / bound), got.shape)
        i = tuple(int(j) for j in worst)
        raise AssertionError(f"{stem}: self-check of {name} failed at {i}: got {got[i]!r}, "
                             f"reference {ref[i]!r}, {share:.2f} of the shared bound "
                             f"{bound[i]!r} (K={k}, {np.dtype(dtype)}), allowed "
                             f"{SELF_CHECK_SHARE}")


def make_case(case: Case) -> dict[str, np.ndarray]:
    if case.dtype in HALF_PREFIX:
        return make_half_case(case)
    dt = np.dtype(case.dtype)
    tdt = torch.float32 if dt == np.float32 else torch.float64
    rng = np.random.default_rng(zlib.crc32(case.stem.encode()))

    def draw(shape):
        return rng.standard_normal(shape).astype(dt)

    validate(case)
    r, transposed, backward = op_info(case.op)
    x_np, w_np = draw(case.x), draw(case.w)
    g = case.kwargs.get("groups", 1)
    cout = case.w[1] * g if transposed else case.w[0]
    use_bias = case.bias or backward
    b_np = draw((cout,)) if use_bias else None
    T = lambda a: None if a is None else torch.from_numpy(a)  # noqa: E731
    T64 = lambda a: None if a is None else torch.from_numpy(np.asarray(a, np.float64))  # noqa: E731
    A64 = lambda t: t.detach().numpy().astype(np.float64)  # noqa: E731

    with torch.no_grad():
        out = torch_forward(case, to_layout(T(x_np), case.layout, r), to_layout(T(w_np), case.weight_layout, r), T(b_np))
    assert out.dtype == tdt
    out_shape = tuple(out.shape)
    assert out_shape == expected_shape(case), (case.stem, out_shape, expected_shape(case))
    K = terms(case, out_shape)
    arrays: dict[str, np.ndarray] = {}

    if not backward:
        with torch.no_grad():
            scale = torch_forward(case, T64(np.abs(x_np)), T64(np.abs(w_np)),
                                  T64(None if b_np is None else np.abs(b_np)))
        ref = reference_forward(case.op, x_np, w_np, b_np, case.kwargs)
        check_close("output", out.numpy(), ref, scale.numpy(), K["output"], dt, case.stem)
        result_strides = {"output": strides_of(out)}
        arrays.update(input=x_np, weight=w_np, output=np.ascontiguousarray(out.numpy()).astype(dt))
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
            check_close(name, got.numpy(), ref.numpy(), sc.numpy(), K[name], dt, case.stem)
        # self-check 2: adjoint identities against the NumPy reference forward, with random
        # probes: <result, probe> is off by at most the probe-weighted sum of the elementwise
        # errors, i.e. within the shared bound of that sum's scale (times ADJOINT_SHARE,
        # with K the largest of the op's term counts)
        fwd = lambda xx, ww: reference_forward(case.op, xx, ww, None, case.kwargs)  # noqa: E731
        g64, x64, w64 = (a.astype(np.float64) for a in (go_np, x_np, w_np))
        prng = np.random.default_rng(12345)
        k_max = max(K.values())
        bound = lambda mag: ADJOINT_SHARE * float(R.error_bound(mag, k_max, dt))  # noqa: E731
        for _ in range(2):
            u = prng.standard_normal(x_np.shape)
            lhs, rhs = float(np.sum(A64(gi) * u)), float(np.sum(g64 * fwd(u, w64)))
            mag = float(np.sum(A64(si) * np.abs(u)))
            assert abs(lhs - rhs) <= bound(mag), (case.stem, "grad_input adjoint", lhs, rhs)
            v = prng.standard_normal(w_np.shape)
            lhs, rhs = float(np.sum(A64(gw) * v)), float(np.sum(g64 * fwd(x64, v)))
            mag = float(np.sum(A64(sw) * np.abs(v)))
            assert abs(lhs - rhs) <= bound(mag), (case.stem, "grad_weight adjoint", lhs, rhs)
        # sum over everything but the channel axis (axis 1, or 0 when unbatched)
        red = tuple(i for i in range(g64.ndim) if i != g64.ndim - r - 1)
        check_close("grad_bias(sum)", gb.numpy(), g64.sum(axis=red), sb.numpy(),
                    K["grad_bias"], dt, case.stem)
        result_strides = {"grad_input": strides_of(gi), "grad_weight": strides_of(gw), "grad_bias": strides_of(gb)}
        C = np.ascontiguousarray  # noqa: N806
        arrays.update(grad_output=go_np, input=x_np, weight=w_np,
                      grad_input=C(gi.numpy()).astype(dt), grad_weight=C(gw.numpy()).astype(dt),
                      grad_bias=gb.numpy().astype(dt),
                      scale_grad_input=C(si.numpy()).astype(np.float32),
                      scale_grad_weight=C(sw.numpy()).astype(np.float32),
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
    if case.layout or case.weight_layout:
        # Memory layouts given to torch, and the strides (in elements) of torch's results.
        params["layout"] = {"input": case.layout, "weight": case.weight_layout,
                            "grad_output": case.layout if case.grad_layout is None else case.grad_layout}
        params["torch_strides"] = result_strides
    arrays["params"] = np.array(json.dumps(params, sort_keys=True))
    for k, v in arrays.items():
        if k != "params":
            assert v.flags.c_contiguous and v.dtype.isnative, (case.stem, k)
    return arrays


HALF_TORCH = {"float16": torch.float16, "bfloat16": torch.bfloat16}


def half_check(name, got, ref, scale, k, dtype, stem, extra=0):
    """A float16 / bfloat16 result of torch against the float64 reference of the same
    values: within SELF_CHECK_SHARE of the float32 accumulation part of the shared bound
    plus one rounding of the result's type (_reference.rounding_error), and `extra`
    intermediate roundings at the scale (_reference.torch_intermediate_roundings),
    elementwise."""
    got = np.asarray(got, np.float64)
    ref = np.asarray(ref, np.float64)
    assert got.shape == ref.shape, (stem, name, got.shape, ref.shape)
    allowed = (SELF_CHECK_SHARE * R.error_bound(scale, k, dtype) + R.rounding_error(got, dtype)
               + extra * R.rounding_error(scale, dtype))
    err = np.abs(got - ref)
    if not np.all(err <= allowed):
        i = tuple(int(j) for j in np.unravel_index(np.argmax(err / allowed), got.shape))
        raise AssertionError(f"{stem}: self-check of {name} failed at {i}: got {got[i]!r}, reference "
                             f"{ref[i]!r}, allowed {allowed[i]!r} (K={k}, {dtype})")


def make_half_case(case: Case) -> dict[str, np.ndarray]:
    """A float16 / bfloat16 case: torch computes in that dtype; the arrays are stored in it
    (bfloat16 as uint16 bit patterns). Self-checks against the float64 reference of the same
    values (half_check, and the adjoint identities of the backward ops with the rounding of
    the gradients added to their bound); prints how many result elements differ from torch's
    float32 computation of the same values rounded once."""
    tdt = HALF_TORCH[case.dtype]
    rng = np.random.default_rng(zlib.crc32(case.stem.encode()))

    def draw(shape):  # a half tensor of rounded standard normal values
        return torch.from_numpy(rng.standard_normal(shape).astype(np.float32)).to(tdt)

    def store(t):  # the array saved in the file
        t = t.detach().contiguous()
        if case.dtype == "bfloat16":
            return t.view(torch.int16).numpy().view(np.uint16).copy()
        return t.numpy().copy()

    f64 = lambda t: None if t is None else t.detach().double()  # noqa: E731
    A64 = lambda t: t.detach().double().numpy()  # noqa: E731
    abs64 = lambda t: None if t is None else t.detach().double().abs()  # noqa: E731

    validate(case)
    r, transposed, backward = op_info(case.op)
    x, w = draw(case.x), draw(case.w)
    g = case.kwargs.get("groups", 1)
    cout = case.w[1] * g if transposed else case.w[0]
    use_bias = case.bias or backward
    b = draw((cout,)) if use_bias else None

    with torch.no_grad():
        out = torch_forward(case, x, w, b)
    assert out.dtype == tdt
    out_shape = tuple(out.shape)
    assert out_shape == expected_shape(case), (case.stem, out_shape, expected_shape(case))
    K = terms(case, out_shape)
    arrays: dict[str, np.ndarray] = {}
    f32 = lambda t: None if t is None else t.detach().float()  # noqa: E731
    differ = []  # (result, elements differing from torch's float32 result rounded once, total)

    if not backward:
        with torch.no_grad():
            scale = torch_forward(case, abs64(x), abs64(w), abs64(b))
            once = torch_forward(case, f32(x), f32(w), f32(b)).to(tdt)
        ref = reference_forward(case.op, A64(x), A64(w), None if b is None else A64(b), case.kwargs)
        half_check("output", A64(out), ref, scale.numpy(), K["output"], case.dtype, case.stem)
        differ.append(("output", int((out != once).sum()), out.numel()))
        arrays.update(input=store(x), weight=store(w), output=store(out))
        if b is not None:
            arrays["bias"] = store(b)
        arrays["scale_output"] = scale.numpy().astype(np.float32)
    else:
        go = draw(out_shape)
        gi, gw, gb = grads(case, x, w, b, go)
        si, sw, sb = grads(case, abs64(x), abs64(w), abs64(b), abs64(go))
        kw = case.kwargs
        extra = R.torch_intermediate_roundings(case.op, case.x, case.w, case.dtype, padding=kw.get("padding", 0),
                                               dilation=kw.get("dilation", 1),
                                               padding_mode=kw.get("padding_mode", "zeros"))
        ri, rw, rb = grads(case, f64(x), f64(w), f64(b), f64(go))
        oi, ow, ob = grads(case, f32(x), f32(w), f32(b), f32(go))
        for name, got, ref, sc, one in (("grad_input", gi, ri, si, oi), ("grad_weight", gw, rw, sw, ow),
                                        ("grad_bias", gb, rb, sb, ob)):
            half_check(name, A64(got), ref.numpy(), sc.numpy(), K[name], case.dtype, case.stem, extra.get(name, 0))
            differ.append((name, int((got != one.to(tdt)).sum()), got.numel()))
        fwd = lambda xx, ww: reference_forward(case.op, xx, ww, None, case.kwargs)  # noqa: E731
        g64, x64, w64 = A64(go), A64(x), A64(w)
        prng = np.random.default_rng(12345)
        k_max = max(K.values())
        for _ in range(2):
            u = prng.standard_normal(x64.shape)
            lhs, rhs = float(np.sum(A64(gi) * u)), float(np.sum(g64 * fwd(u, w64)))
            mag = float(np.sum(A64(si) * np.abs(u)))
            allowed = ADJOINT_SHARE * float(R.error_bound(mag, k_max, case.dtype)) \
                + float(np.sum(R.rounding_error(A64(gi), case.dtype) * np.abs(u))) \
                + extra.get("grad_input", 0) * float(np.sum(R.rounding_error(A64(si), case.dtype) * np.abs(u)))
            assert abs(lhs - rhs) <= allowed, (case.stem, "grad_input adjoint", lhs, rhs)
            v = prng.standard_normal(w64.shape)
            lhs, rhs = float(np.sum(A64(gw) * v)), float(np.sum(g64 * fwd(x64, v)))
            mag = float(np.sum(A64(sw) * np.abs(v)))
            allowed = ADJOINT_SHARE * float(R.error_bound(mag, k_max, case.dtype)) \
                + float(np.sum(R.rounding_error(A64(gw), case.dtype) * np.abs(v)))
            assert abs(lhs - rhs) <= allowed, (case.stem, "grad_weight adjoint", lhs, rhs)
        arrays.update(grad_output=store(go), input=store(x), weight=store(w), grad_input=store(gi),
                      grad_weight=store(gw), grad_bias=store(gb),
                      scale_grad_input=si.numpy().astype(np.float32),
                      scale_grad_weight=sw.numpy().astype(np.float32),
                      scale_grad_bias=sb.numpy().astype(np.float32))
        for k in ("grad_input", "grad_weight", "grad_bias"):
            want = {"grad_input": case.x, "grad_weight": case.w, "grad_bias": (cout,)}[k]
            assert arrays[k].shape == tuple(want), (case.stem, k, arrays[k].shape, want)

    desc = case.description or case.name.replace("_", " ")
    shape_txt = f"input {tuple(case.x)}, weight {tuple(case.w)}, result {out_shape}"
    params = {
        "op": case.op,
        "kwargs": case.kwargs,
        "dtype": case.dtype,
        "description": f"{desc}; {shape_txt}" + ("" if (case.bias or backward) else "; no bias")
                       + f"; computed by torch in {case.dtype}",
        "has_bias": bool(use_bias),
        "terms": K,
        "torch_version": torch.__version__,
    }
    if backward and extra:
        params["torch_roundings"] = extra
    arrays["params"] = np.array(json.dumps(params, sort_keys=True))
    for k, v in arrays.items():
        if k != "params":
            assert v.flags.c_contiguous and v.dtype.isnative, (case.stem, k)
    HALF_DIFFER[case.stem] = differ
    return arrays


#: Per half case: (result, elements that differ from torch's float32 result rounded once, total).
HALF_DIFFER: dict[str, list] = {}


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
        if case.stem in HALF_DIFFER:
            print("    differs from torch's float32 result rounded once: "
                  + ", ".join(f"{n} {d}/{t}" for n, d, t in HALF_DIFFER[case.stem]))
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
