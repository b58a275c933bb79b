"""Every convolution layer of five networks, as data, for ``benchmarks/network_bench.py``.

Each network is its conv layers in forward order, one line per layer shape at batch 1:
input (C_in, H, W), C_out, kernel, stride, padding, dilation, groups, bias, and how many
times the network runs that layer (``count``: the repeated blocks of a stage). Nothing else
of the network (norms, activations, pooling, the classifier) is listed: only convolutions.
The tables are written from the published architectures:

* ResNet-50 — He et al. 2015, "Deep Residual Learning for Image Recognition", table 1, as
  torchvision's ``resnet50`` builds it (v1.5: the stride of a stage's first block sits on its
  3x3 conv; the projection shortcut is a strided 1x1); 224x224 input; no conv bias (BN).
* MobileNetV2 — Sandler et al. 2018, table 2 (t, c, n, s), width 1.0, as torchvision's
  ``mobilenet_v2``; 224x224 input; no conv bias (BN).
* EfficientNet-B0 — Tan & Le 2019, table 1, as torchvision's ``efficientnet_b0``: MBConv
  blocks (1x1 expand, depthwise k x k, squeeze-and-excitation, 1x1 project), the SE block's
  two 1x1 convs on the pooled 1x1 plane, with bias, squeezing to C_in/4 of the block's input
  (torchvision's rule: 672->28->672); 224x224 input; no bias elsewhere (BN).
* DCGAN generator — Radford et al. 2015, as the PyTorch DCGAN tutorial builds it: nz=100,
  ngf=64, nc=3, transposed 4x4 convs, 1x1 -> 64x64; no bias (BN).
* U-Net decoder — Ronneberger et al. 2015 (64 base channels, 2 classes), the expansive path:
  per level a transposed 2x2 stride-2 up-conv halving the channels, concatenation with the
  skip connection, two 3x3 convs; a final 1x1 conv to the classes. Padded 3x3 convs ("same"
  size, as PyTorch implementations do) on a 112x112 image, so the last up-conv is bench.py's
  ``unet_up`` case (128->64 on 56x56); convs with bias, as in the paper (no BN).

``benchmarks/check_networks.py`` builds the same five networks in PyTorch and checks these
tables against every conv layer its forward hooks see.

Weights follow torch's layout: (C_out, C_in/groups, kH, kW) for a convolution,
(C_in, C_out/groups, kH, kW) for a transposed one.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Dict, Iterable, List, Tuple

Pair = Tuple[int, int]


def _pair(v: "int | Pair") -> Pair:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


@dataclass(frozen=True)
class Layer:
    """One conv layer at batch 1 (a transposed conv when ``transposed``), run ``count`` times."""

    name: str
    input: Tuple[int, int, int]  # C_in, H, W
    out_channels: int
    kernel: Pair
    stride: Pair = (1, 1)
    padding: Pair = (0, 0)
    dilation: Pair = (1, 1)
    groups: int = 1
    bias: bool = False
    transposed: bool = False
    output_padding: Pair = (0, 0)
    count: int = 1

    @property
    def in_channels(self) -> int:
        return self.input[0]

    @property
    def op(self) -> str:
        return "conv_transpose2d" if self.transposed else "conv2d"

    def weight_shape(self) -> Tuple[int, int, int, int]:
        if self.transposed:
            return (self.in_channels, self.out_channels // self.groups, *self.kernel)
        return (self.out_channels, self.in_channels // self.groups, *self.kernel)

    def output_hw(self) -> Pair:
        _, h, w = self.input
        if self.transposed:
            return tuple((i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i, k, s, p, d, op in  # type: ignore[return-value]
                         zip((h, w), self.kernel, self.stride, self.padding, self.dilation,
                             self.output_padding))
        return tuple((i + 2 * p - d * (k - 1) - 1) // s + 1 for i, k, s, p, d in  # type: ignore[return-value]
                     zip((h, w), self.kernel, self.stride, self.padding, self.dilation))

    def macs(self) -> int:
        """Multiply-adds of one forward call at batch 1 (bias not counted)."""
        kk = self.kernel[0] * self.kernel[1]
        if self.transposed:
            _, h, w = self.input
            return self.in_channels * h * w * (self.out_channels // self.groups) * kk
        ho, wo = self.output_hw()
        return self.out_channels * ho * wo * (self.in_channels // self.groups) * kk

    def key(self) -> tuple:
        """The layer's shape and parameters: what makes two layers the same computation."""
        return (self.transposed, self.input, self.out_channels, self.kernel, self.stride,
                self.padding, self.dilation, self.groups, self.bias, self.output_padding)

    def describe(self) -> str:
        """e.g. ``672->28 1x1 k1 +b`` / ``672 dw 14x14 k5 s2 p2`` / ``T 100->512 1x1 k4``."""
        c, h, w = self.input
        depthwise = self.groups == c and self.groups > 1 and not self.transposed
        parts = ["T" if self.transposed else ""]
        parts.append(f"{c} dw" if depthwise and self.out_channels == c
                     else f"{c}->{self.out_channels}")
        parts.append(f"{h}x{w}")
        k = self.kernel
        parts.append(f"k{k[0]}" if k[0] == k[1] else f"k{k[0]}x{k[1]}")
        for label, value, default in (("s", self.stride, (1, 1)), ("p", self.padding, (0, 0)),
                                      ("d", self.dilation, (1, 1)), ("op", self.output_padding, (0, 0))):
            if value != default:
                parts.append(f"{label}{value[0]}" if value[0] == value[1] else f"{label}{value}")
        if self.groups > 1 and not (depthwise and self.out_channels == c):
            parts.append(f"g{self.groups}")
        if self.bias:
            parts.append("+b")
        return " ".join(p for p in parts if p)


def conv(name: str, c_in: int, hw: int, c_out: int, k: int, s: int = 1, p: int = 0, *,
         g: int = 1, d: int = 1, bias: bool = False, n: int = 1) -> Layer:
    """A square conv on a square ``hw`` x ``hw`` plane."""
    return Layer(name, (c_in, hw, hw), c_out, _pair(k), _pair(s), _pair(p), _pair(d), g, bias,
                 count=n)


def deconv(name: str, c_in: int, hw: int, c_out: int, k: int, s: int = 1, p: int = 0, *,
           op: int = 0, g: int = 1, d: int = 1, bias: bool = False, n: int = 1) -> Layer:
    """A square transposed conv from a square ``hw`` x ``hw`` plane."""
    return Layer(name, (c_in, hw, hw), c_out, _pair(k), _pair(s), _pair(p), _pair(d), g, bias,
                 transposed=True, output_padding=_pair(op), count=n)


def dw(name: str, c: int, hw: int, k: int, s: int = 1, *, n: int = 1) -> Layer:
    """A depthwise k x k conv (groups = channels), padding (k-1)/2, no bias."""
    return conv(name, c, hw, c, k, s, (k - 1) // 2, g=c, n=n)


def se(name: str, c: int, squeeze: int, *, n: int = 1) -> List[Layer]:
    """Squeeze-and-excitation: two 1x1 convs with bias on the pooled 1x1 plane."""
    return [conv(name + ".se.fc1", c, 1, squeeze, 1, bias=True, n=n),
            conv(name + ".se.fc2", squeeze, 1, c, 1, bias=True, n=n)]


# --------------------------------------------------------------------------- ResNet-50
# Bottleneck: 1x1 reduce, 3x3 (stride of the stage on the first block), 1x1 expand (x4);
# the first block of a stage adds a 1x1 projection shortcut (strided from stage 2 on).

RESNET50: List[Layer] = [
    conv("conv1", 3, 224, 64, 7, 2, 3),
    # layer1: 56x56, width 64, out 256, 3 blocks
    conv("layer1.0.conv1", 64, 56, 64, 1),
    conv("layer1.*.conv2", 64, 56, 64, 3, 1, 1, n=3),
    conv("layer1.*.conv3", 64, 56, 256, 1, n=3),
    conv("layer1.0.downsample", 64, 56, 256, 1),
    conv("layer1.1-2.conv1", 256, 56, 64, 1, n=2),
    # layer2: 56 -> 28, width 128, out 512, 4 blocks
    conv("layer2.0.conv1", 256, 56, 128, 1),
    conv("layer2.0.conv2", 128, 56, 128, 3, 2, 1),
    conv("layer2.*.conv3", 128, 28, 512, 1, n=4),
    conv("layer2.0.downsample", 256, 56, 512, 1, 2),
    conv("layer2.1-3.conv1", 512, 28, 128, 1, n=3),
    conv("layer2.1-3.conv2", 128, 28, 128, 3, 1, 1, n=3),
    # layer3: 28 -> 14, width 256, out 1024, 6 blocks
    conv("layer3.0.conv1", 512, 28, 256, 1),
    conv("layer3.0.conv2", 256, 28, 256, 3, 2, 1),
    conv("layer3.*.conv3", 256, 14, 1024, 1, n=6),
    conv("layer3.0.downsample", 512, 28, 1024, 1, 2),
    conv("layer3.1-5.conv1", 1024, 14, 256, 1, n=5),
    conv("layer3.1-5.conv2", 256, 14, 256, 3, 1, 1, n=5),
    # layer4: 14 -> 7, width 512, out 2048, 3 blocks
    conv("layer4.0.conv1", 1024, 14, 512, 1),
    conv("layer4.0.conv2", 512, 14, 512, 3, 2, 1),
    conv("layer4.*.conv3", 512, 7, 2048, 1, n=3),
    conv("layer4.0.downsample", 1024, 14, 2048, 1, 2),
    conv("layer4.1-2.conv1", 2048, 7, 512, 1, n=2),
    conv("layer4.1-2.conv2", 512, 7, 512, 3, 1, 1, n=2),
]

# --------------------------------------------------------------------------- MobileNetV2
# Inverted residual: 1x1 expand (t x, absent when t = 1), depthwise 3x3 (stride s on the
# first block of a stage), 1x1 project. Stages (t, c, n, s): (1,16,1,1) (6,24,2,2)
# (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2) (6,320,1,1).

MOBILENET_V2: List[Layer] = [
    conv("features.0", 3, 224, 32, 3, 2, 1),
    # t1 c16 n1 s1 @112
    dw("features.1.dw", 32, 112, 3),
    conv("features.1.project", 32, 112, 16, 1),
    # t6 c24 n2 s2: 112 -> 56
    conv("features.2.expand", 16, 112, 96, 1),
    dw("features.2.dw", 96, 112, 3, 2),
    conv("features.2.project", 96, 56, 24, 1),
    conv("features.3.expand", 24, 56, 144, 1),
    dw("features.3.dw", 144, 56, 3),
    conv("features.3.project", 144, 56, 24, 1),
    # t6 c32 n3 s2: 56 -> 28
    conv("features.4.expand", 24, 56, 144, 1),
    dw("features.4.dw", 144, 56, 3, 2),
    conv("features.4.project", 144, 28, 32, 1),
    conv("features.5-6.expand", 32, 28, 192, 1, n=2),
    dw("features.5-6.dw", 192, 28, 3, n=2),
    conv("features.5-6.project", 192, 28, 32, 1, n=2),
    # t6 c64 n4 s2: 28 -> 14
    conv("features.7.expand", 32, 28, 192, 1),
    dw("features.7.dw", 192, 28, 3, 2),
    conv("features.7.project", 192, 14, 64, 1),
    conv("features.8-10.expand", 64, 14, 384, 1, n=3),
    dw("features.8-10.dw", 384, 14, 3, n=3),
    conv("features.8-10.project", 384, 14, 64, 1, n=3),
    # t6 c96 n3 s1 @14
    conv("features.11.expand", 64, 14, 384, 1),
    dw("features.11.dw", 384, 14, 3),
    conv("features.11.project", 384, 14, 96, 1),
    conv("features.12-13.expand", 96, 14, 576, 1, n=2),
    dw("features.12-13.dw", 576, 14, 3, n=2),
    conv("features.12-13.project", 576, 14, 96, 1, n=2),
    # t6 c160 n3 s2: 14 -> 7
    conv("features.14.expand", 96, 14, 576, 1),
    dw("features.14.dw", 576, 14, 3, 2),
    conv("features.14.project", 576, 7, 160, 1),
    conv("features.15-16.expand", 160, 7, 960, 1, n=2),
    dw("features.15-16.dw", 960, 7, 3, n=2),
    conv("features.15-16.project", 960, 7, 160, 1, n=2),
    # t6 c320 n1 s1 @7
    conv("features.17.expand", 160, 7, 960, 1),
    dw("features.17.dw", 960, 7, 3),
    conv("features.17.project", 960, 7, 320, 1),
    conv("features.18", 320, 7, 1280, 1),
]

# --------------------------------------------------------------------------- EfficientNet-B0
# MBConv: 1x1 expand (6x, absent when the ratio is 1), depthwise k x k (stride on the first
# block of a stage), SE (C_exp -> C_in/4 -> C_exp, 1x1 with bias on the pooled 1x1 plane),
# 1x1 project. Stages (ratio, k, s, C_in, C_out, n): (1,3,1,32,16,1) (6,3,2,16,24,2)
# (6,5,2,24,40,2) (6,3,2,40,80,3) (6,5,1,80,112,3) (6,5,2,112,192,4) (6,3,1,192,320,1).

EFFICIENTNET_B0: List[Layer] = [
    conv("features.0", 3, 224, 32, 3, 2, 1),
    # stage 1: e1 k3 s1 32 -> 16 @112
    dw("features.1.0.dw", 32, 112, 3),
    *se("features.1.0", 32, 8),
    conv("features.1.0.project", 32, 112, 16, 1),
    # stage 2: e6 k3 s2 16 -> 24, 112 -> 56
    conv("features.2.0.expand", 16, 112, 96, 1),
    dw("features.2.0.dw", 96, 112, 3, 2),
    *se("features.2.0", 96, 4),
    conv("features.2.0.project", 96, 56, 24, 1),
    conv("features.2.1.expand", 24, 56, 144, 1),
    dw("features.2.1.dw", 144, 56, 3),
    *se("features.2.1", 144, 6),
    conv("features.2.1.project", 144, 56, 24, 1),
    # stage 3: e6 k5 s2 24 -> 40, 56 -> 28
    conv("features.3.0.expand", 24, 56, 144, 1),
    dw("features.3.0.dw", 144, 56, 5, 2),
    *se("features.3.0", 144, 6),
    conv("features.3.0.project", 144, 28, 40, 1),
    conv("features.3.1.expand", 40, 28, 240, 1),
    dw("features.3.1.dw", 240, 28, 5),
    *se("features.3.1", 240, 10),
    conv("features.3.1.project", 240, 28, 40, 1),
    # stage 4: e6 k3 s2 40 -> 80, 28 -> 14
    conv("features.4.0.expand", 40, 28, 240, 1),
    dw("features.4.0.dw", 240, 28, 3, 2),
    *se("features.4.0", 240, 10),
    conv("features.4.0.project", 240, 14, 80, 1),
    conv("features.4.1-2.expand", 80, 14, 480, 1, n=2),
    dw("features.4.1-2.dw", 480, 14, 3, n=2),
    *se("features.4.1-2", 480, 20, n=2),
    conv("features.4.1-2.project", 480, 14, 80, 1, n=2),
    # stage 5: e6 k5 s1 80 -> 112 @14
    conv("features.5.0.expand", 80, 14, 480, 1),
    dw("features.5.0.dw", 480, 14, 5),
    *se("features.5.0", 480, 20),
    conv("features.5.0.project", 480, 14, 112, 1),
    conv("features.5.1-2.expand", 112, 14, 672, 1, n=2),
    dw("features.5.1-2.dw", 672, 14, 5, n=2),
    *se("features.5.1-2", 672, 28, n=2),
    conv("features.5.1-2.project", 672, 14, 112, 1, n=2),
    # stage 6: e6 k5 s2 112 -> 192, 14 -> 7
    conv("features.6.0.expand", 112, 14, 672, 1),
    dw("features.6.0.dw", 672, 14, 5, 2),
    *se("features.6.0", 672, 28),
    conv("features.6.0.project", 672, 7, 192, 1),
    conv("features.6.1-3.expand", 192, 7, 1152, 1, n=3),
    dw("features.6.1-3.dw", 1152, 7, 5, n=3),
    *se("features.6.1-3", 1152, 48, n=3),
    conv("features.6.1-3.project", 1152, 7, 192, 1, n=3),
    # stage 7: e6 k3 s1 192 -> 320 @7
    conv("features.7.0.expand", 192, 7, 1152, 1),
    dw("features.7.0.dw", 1152, 7, 3),
    *se("features.7.0", 1152, 48),
    conv("features.7.0.project", 1152, 7, 320, 1),
    conv("features.8", 320, 7, 1280, 1),
]

# --------------------------------------------------------------------------- DCGAN generator
# z (100x1x1) -> 512x4x4 -> 256x8x8 -> 128x16x16 -> 64x32x32 -> 3x64x64.

DCGAN_GENERATOR: List[Layer] = [
    deconv("main.0", 100, 1, 512, 4, 1, 0),
    deconv("main.3", 512, 4, 256, 4, 2, 1),
    deconv("main.6", 256, 8, 128, 4, 2, 1),
    deconv("main.9", 128, 16, 64, 4, 2, 1),
    deconv("main.12", 64, 32, 3, 4, 2, 1),
]

# --------------------------------------------------------------------------- U-Net decoder
# From the 1024x7x7 bottleneck of a 112x112 image: up-conv, concat (channels double), 3x3, 3x3.

UNET_DECODER: List[Layer] = [
    deconv("up1.up", 1024, 7, 512, 2, 2, bias=True),
    conv("up1.conv1", 1024, 14, 512, 3, 1, 1, bias=True),
    conv("up1.conv2", 512, 14, 512, 3, 1, 1, bias=True),
    deconv("up2.up", 512, 14, 256, 2, 2, bias=True),
    conv("up2.conv1", 512, 28, 256, 3, 1, 1, bias=True),
    conv("up2.conv2", 256, 28, 256, 3, 1, 1, bias=True),
    deconv("up3.up", 256, 28, 128, 2, 2, bias=True),
    conv("up3.conv1", 256, 56, 128, 3, 1, 1, bias=True),
    conv("up3.conv2", 128, 56, 128, 3, 1, 1, bias=True),
    deconv("up4.up", 128, 56, 64, 2, 2, bias=True),
    conv("up4.conv1", 128, 112, 64, 3, 1, 1, bias=True),
    conv("up4.conv2", 64, 112, 64, 3, 1, 1, bias=True),
    conv("outc", 64, 112, 2, 1, bias=True),
]


@dataclass(frozen=True)
class Network:
    name: str
    title: str
    layers: Tuple[Layer, ...]

    def conv_layers(self) -> int:
        """Conv layers the network runs (multiplicities included)."""
        return sum(l.count for l in self.layers)

    def macs(self) -> int:
        """Multiply-adds of every conv layer at batch 1."""
        return sum(l.macs() * l.count for l in self.layers)


NETWORKS: Dict[str, Network] = {n.name: n for n in (
    Network("resnet50", "ResNet-50, 224x224", tuple(RESNET50)),
    Network("mobilenet_v2", "MobileNetV2, 224x224", tuple(MOBILENET_V2)),
    Network("efficientnet_b0", "EfficientNet-B0, 224x224 (incl. SE 1x1 convs)", tuple(EFFICIENTNET_B0)),
    Network("dcgan", "DCGAN generator, 1x1 -> 64x64 (transposed)", tuple(DCGAN_GENERATOR)),
    Network("unet_decoder", "U-Net decoder, 112x112 (up-convs + 3x3)", tuple(UNET_DECODER)),
)}


def distinct(layers: Iterable[Layer]) -> List[Layer]:
    """The layers with identical computations merged (counts added, first name kept with the
    others appended), in order of first appearance: what a benchmark times once."""
    merged: Dict[tuple, Layer] = {}
    for l in layers:
        if l.key() in merged:
            m = merged[l.key()]
            merged[l.key()] = replace(m, name=f"{m.name}, {l.name}", count=m.count + l.count)
        else:
            merged[l.key()] = l
    return list(merged.values())


def expanded(layers: Iterable[Layer]) -> List[tuple]:
    """Every layer's key, repeated ``count`` times (for comparing with a model's layers)."""
    return [l.key() for l in layers for _ in range(l.count)]


if __name__ == "__main__":
    for net in NETWORKS.values():
        uniq = distinct(net.layers)
        print(f"{net.title}: {net.conv_layers()} conv layers, {len(uniq)} distinct shapes, "
              f"{net.macs() / 1e9:.3f} GMAC at batch 1")
        for l in uniq:
            print(f"  {l.count:2d} x {l.describe():28s} {l.macs() / 1e6:9.2f} MMAC  {l.name}")
