#!/usr/bin/env python3
"""Check ``benchmarks/networks.py`` against the same networks built in PyTorch.

Builds ResNet-50, MobileNetV2, EfficientNet-B0, the DCGAN generator and a U-Net (encoder and
decoder) in torch, written here from the published architectures the way torchvision and the
PyTorch DCGAN tutorial write them (torchvision is not needed), runs one batch-1 forward with
forward hooks on every ``nn.Conv2d`` / ``nn.ConvTranspose2d`` (of the U-Net, its decoder
only), and compares the layers the hooks see (input shape, C_out, kernel, stride, padding,
dilation, groups, bias, output_padding, each as often as it runs) with the tables. It also
checks that the hooked output shapes are the tables' and prints each network's multiply-adds.
Needs torch; exits 1 on any difference.

    PYTHONPATH=python python benchmarks/check_networks.py
"""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import List, Tuple

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from networks import NETWORKS, expanded  # noqa: E402

# --------------------------------------------------------------------------- models


class Bottleneck(nn.Module):
    """torchvision's ResNet v1.5 bottleneck (stride on the 3x3)."""

    def __init__(self, c_in: int, width: int, stride: int) -> None:
        super().__init__()
        out = width * 4
        self.conv1 = nn.Conv2d(c_in, width, 1, bias=False)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.down = (nn.Conv2d(c_in, out, 1, stride, bias=False)
                     if stride != 1 or c_in != out else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv3(torch.relu(self.conv2(torch.relu(self.conv1(x)))))
        return torch.relu(y + (self.down(x) if self.down is not None else x))


def resnet50() -> nn.Module:
    layers: List[nn.Module] = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.ReLU(),
                               nn.MaxPool2d(3, 2, 1)]
    c_in = 64
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(blocks):
            layers.append(Bottleneck(c_in, width, stride if i == 0 else 1))
            c_in = width * 4
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """MobileNetV2's block: 1x1 expand (if t != 1), depthwise 3x3, 1x1 project."""

    def __init__(self, c_in: int, c_out: int, stride: int, t: int) -> None:
        super().__init__()
        hidden = c_in * t
        layers: List[nn.Module] = []
        if t != 1:
            layers += [nn.Conv2d(c_in, hidden, 1, bias=False), nn.ReLU6()]
        layers += [nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.ReLU6(),
                   nn.Conv2d(hidden, c_out, 1, bias=False)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x) if self.residual else self.body(x)


def mobilenet_v2() -> nn.Module:
    layers: List[nn.Module] = [nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.ReLU6()]
    c_in = 32
    for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)):
        for i in range(n):
            layers.append(InvertedResidual(c_in, c, s if i == 0 else 1, t))
            c_in = c
    layers += [nn.Conv2d(c_in, 1280, 1, bias=False), nn.ReLU6()]
    return nn.Sequential(*layers)


class MBConv(nn.Module):
    """EfficientNet's block as torchvision writes it: SE squeezes to C_in/4 of the block input."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int, ratio: int) -> None:
        super().__init__()
        hidden = c_in * ratio
        squeeze = max(1, c_in // 4)
        self.expand = nn.Conv2d(c_in, hidden, 1, bias=False) if ratio != 1 else None
        self.dw = nn.Conv2d(hidden, hidden, k, stride, (k - 1) // 2, groups=hidden, bias=False)
        self.fc1 = nn.Conv2d(hidden, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, hidden, 1)
        self.project = nn.Conv2d(hidden, c_out, 1, bias=False)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = nn.functional.silu(self.expand(x)) if self.expand is not None else x
        y = nn.functional.silu(self.dw(y))
        s = nn.functional.adaptive_avg_pool2d(y, 1)
        y = y * torch.sigmoid(self.fc2(nn.functional.silu(self.fc1(s))))
        y = self.project(y)
        return x + y if self.residual else y


def efficientnet_b0() -> nn.Module:
    layers: List[nn.Module] = [nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.SiLU()]
    for ratio, k, s, c_in, c_out, n in ((1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2),
                                        (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
                                        (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4),
                                        (6, 3, 1, 192, 320, 1)):
        for i in range(n):
            layers.append(MBConv(c_in if i == 0 else c_out, c_out, k, s if i == 0 else 1, ratio))
    layers += [nn.Conv2d(320, 1280, 1, bias=False), nn.SiLU()]
    return nn.Sequential(*layers)


def dcgan_generator(nz: int = 100, ngf: int = 64, nc: int = 3) -> nn.Module:
    """The PyTorch DCGAN tutorial's generator (BN + ReLU between, Tanh at the end)."""
    return nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(),
        nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(),
        nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())


def double_conv(c_in: int, c_out: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(c_out, c_out, 3, padding=1), nn.ReLU())


class UNet(nn.Module):
    """Ronneberger et al. 2015 with padded 3x3 convs: 4 levels down, 4 up, 1x1 to classes."""

    def __init__(self, c_in: int = 3, classes: int = 2, base: int = 64) -> None:
        super().__init__()
        widths = [base * 2 ** i for i in range(5)]  # 64 .. 1024
        self.down = nn.ModuleList([double_conv(c_in, widths[0])] +
                                  [double_conv(widths[i], widths[i + 1]) for i in range(4)])
        self.ups = nn.ModuleList([nn.ConvTranspose2d(widths[i + 1], widths[i], 2, 2)
                                  for i in reversed(range(4))])
        self.up_convs = nn.ModuleList([double_conv(widths[i + 1], widths[i])
                                       for i in reversed(range(4))])
        self.out = nn.Conv2d(base, classes, 1)

    def decoder(self) -> List[nn.Module]:
        return [self.ups, self.up_convs, self.out]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else nn.functional.max_pool2d(x, 2))
            skips.append(x)
        x = skips.pop()
        for up, block in zip(self.ups, self.up_convs):
            x = block(torch.cat([skips.pop(), up(x)], dim=1))
        return self.out(x)


# --------------------------------------------------------------------------- hooks


def hooked_layers(model: nn.Module, x: torch.Tensor, scope: List[nn.Module]) -> Tuple[list, list]:
    """(keys as networks.Layer.key(), output shapes) of every conv in ``scope`` as it runs."""
    keys, outputs = [], []

    def hook(m: nn.Module, inputs: tuple, out: torch.Tensor) -> None:
        transposed = isinstance(m, nn.ConvTranspose2d)
        _, c, h, w = inputs[0].shape
        keys.append((transposed, (c, h, w), m.out_channels, tuple(m.kernel_size), tuple(m.stride),
                     tuple(m.padding), tuple(m.dilation), m.groups, m.bias is not None,
                     tuple(m.output_padding) if transposed else (0, 0)))
        outputs.append(tuple(out.shape[1:]))

    handles = [m.register_forward_hook(hook) for s in scope for m in s.modules()
               if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    with torch.no_grad():
        model.eval()(x)
    for h in handles:
        h.remove()
    return keys, outputs


def main() -> int:
    unet = UNet()
    models = {
        "resnet50": (resnet50(), (1, 3, 224, 224), None),
        "mobilenet_v2": (mobilenet_v2(), (1, 3, 224, 224), None),
        "efficientnet_b0": (efficientnet_b0(), (1, 3, 224, 224), None),
        "dcgan": (dcgan_generator(), (1, 100, 1, 1), None),
        "unet_decoder": (unet, (1, 3, 112, 112), unet.decoder()),
    }
    failed = False
    for name, (model, shape, scope) in models.items():
        net = NETWORKS[name]
        keys, outputs = hooked_layers(model, torch.zeros(shape), scope or [model])
        got, want = Counter(keys), Counter(expanded(net.layers))
        shapes = {l.key(): (l.out_channels, *l.output_hw()) for l in net.layers}
        bad_out = [(k, o) for k, o in zip(keys, outputs) if k in shapes and shapes[k] != o]
        macs = net.macs()
        ok = got == want and not bad_out
        print(f"{name:16s} {'ok  ' if ok else 'DIFF'} {sum(got.values())} conv layers hooked, "
              f"{sum(want.values())} in the table, {len(want)} distinct; {macs / 1e9:.3f} GMAC")
        for k in sorted(set(got) | set(want), key=str):
            if got[k] != want[k]:
                print(f"    {k}: hooked {got[k]}, table {want[k]}")
        for k, o in bad_out:
            print(f"    {k}: output {o}, table {shapes[k]}")
        failed |= not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
