#!/usr/bin/env python3
"""The operator model's figures (``make bench`` runs this after bench.py):

1. Every rank on the same machinery: conv1d and conv3d layers whose GEMM (M = C_out,
   K = C_in/groups * kernel taps, N = output positions) equals a conv2d layer's, timed in
   the same run; the target is >= 0.85x the conv2d's GFLOP/s.
2. float16 / bfloat16 against float32: the same layers (depthwise, 1x1, dense 3x3) in the
   three dtypes, function and prepared, and conv2d_backward (all three gradients) on the
   depthwise layers, each half result checked bit for bit against the float32 result of the
   widened arrays rounded once; the target is half time <= float32 time on the depthwise and
   1x1 layers, within 1.15x on dense ones.
3. Prepared vs functional: ``swiftconv.prepare`` (validated, planned and packed once) against
   the plain function on the same arrays: the notebook's tiny conv (per-call overhead from
   Python; target <= 2.5 us on one thread) and a 512-channel 3x3 layer on a 7x7 plane (the
   saving should be at least the weight-packing share, estimated by the time ``prepare``
   takes).

4. Padding modes: reflect, replicate and circular against zeros on the same layers
   (style-transfer / pix2pix layers, 1-D and 3-D ones, a depthwise one), function and
   prepared, and the path the plan takes (the border read through index maps while packing,
   or a padded copy first). Each mode's result is checked bit for bit against the same
   convolution of the input padded by NumPy (the padded-copy path).

Every timed result is checked against the plain function (bitwise for prepared calls) or the
float64 NumPy reference. Medians of interleaved blocks; the machine is shared, so compare
ratios within one run.

    PYTHONPATH=python python3 benchmarks/operator_bench.py [--quick] [--threads 1,2]
                                                          [--sections ranks,half,prepared,padding]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np

import swiftconv as sc
from swiftconv import _reference as ref


def timed(fns: Dict[str, Callable[[], object]], seconds: float, passes: int = 3) -> Dict[str, float]:
    """Median seconds per call of each function, in interleaved blocks (A B A B ...)."""
    samples: Dict[str, List[float]] = {k: [] for k in fns}
    for fn in fns.values():  # warm up (first calls fault in workspaces)
        for _ in range(3):
            fn()
    for _ in range(passes):
        for name, fn in fns.items():
            end = time.perf_counter() + seconds / passes
            while True:
                t0 = time.perf_counter()
                fn()
                samples[name].append(time.perf_counter() - t0)
                if time.perf_counter() > end and len(samples[name]) >= 3:
                    break
    return {k: statistics.median(v) for k, v in samples.items()}


# ------------------------------------------------------------------------------ ranks

# (label, op, input shape, weight shape, padding) — each group shares one GEMM shape.
RANK_GROUPS: List[Tuple[str, List[Tuple[str, str, Tuple[int, ...], Tuple[int, ...], object]]]] = [
    ("M64 K1728 N3136", [
        ("conv2d", "conv2d", (1, 192, 56, 56), (64, 192, 3, 3), 1),
        ("conv1d", "conv1d", (1, 576, 3136), (64, 576, 3), 1),
        ("conv3d", "conv3d", (1, 64, 4, 28, 28), (64, 64, 3, 3, 3), 1),
    ]),
    ("M256 K6912 N196", [
        ("conv2d", "conv2d", (1, 768, 14, 14), (256, 768, 3, 3), 1),
        ("conv1d", "conv1d", (1, 2304, 196), (256, 2304, 3), 1),
        ("conv3d", "conv3d", (1, 256, 4, 7, 7), (256, 256, 3, 3, 3), 1),
    ]),
    ("M128 K1152 N12544 (batch 4)", [
        ("conv2d", "conv2d", (4, 128, 56, 56), (128, 128, 3, 3), 1),
        ("conv1d", "conv1d", (4, 384, 3136), (128, 384, 3), 1),
        ("conv3d", "conv3d", (4, 128, 4, 28, 28), (128, 128, 1, 3, 3), (0, 1, 1)),
    ]),
]


def gemm_shape(op: str, x: Tuple[int, ...], w: Tuple[int, ...], padding: object) -> Tuple[int, int, int]:
    rank = len(w) - 2
    pads = ref.conv_padding(padding, w[2:])
    out = [ref.output_size(x[2 + a], w[2 + a], 1, pads[a][0], pads[a][1], 1) for a in range(rank)]
    return w[0], int(np.prod(w[1:])), x[0] * int(np.prod(out))


def rank_section(seconds: float) -> Tuple[str, bool]:
    rng = np.random.default_rng(0)
    lines, ok = [], True
    lines.append(f"{'GEMM shape':30s} {'op':7s} {'input':22s} {'median':>10s} {'GFLOP/s':>8s} {'vs conv2d':>9s}  check")
    for label, members in RANK_GROUPS:
        data, fns, flops = {}, {}, {}
        for name, op, xs, ws, pad in members:
            x = rng.standard_normal(xs).astype(np.float32)
            w = rng.standard_normal(ws).astype(np.float32)
            data[name] = (op, x, w, pad)
            m, k, n = gemm_shape(op, xs, ws, pad)
            flops[name] = 2.0 * m * k * n
            fns[name] = (lambda op=op, x=x, w=w, pad=pad: getattr(sc, op)(x, w, None, 1, pad))
        shapes = {gemm_shape(op, x.shape, w.shape, pad) for op, x, w, pad in data.values()}
        assert len(shapes) == 1, f"{label}: GEMM shapes differ: {shapes}"
        t = timed(fns, seconds)
        base = flops["conv2d"] / t["conv2d"]
        for name, (op, x, w, pad) in data.items():
            got = fns[name]()
            # Check a slice against the float64 reference (the full reference is slow in NumPy).
            want = ref.conv(x[:1], w, None, 1, pad)
            scale = ref.conv(np.abs(x[:1]), np.abs(w), None, 1, pad)
            good = bool(np.all(ref.within_bound(got[:1], want, scale, int(np.prod(w.shape[1:])), "float32")))
            ok &= good
            rate = flops[name] / t[name]
            lines.append(f"{label:30s} {name:7s} {'x'.join(map(str, x.shape)):22s} {t[name] * 1e3:8.2f}ms "
                         f"{rate / 1e9:8.1f} {rate / base:8.2f}x  {'ok' if good else 'FAIL'}")
    return "\n".join(lines), ok


# ------------------------------------------------------------------------------ prepared

PREPARED_CASES = [
    # (label, op, input, weight, kwargs)
    ("notebook tiny conv", "conv2d", (1, 2, 10, 10), (4, 2, 3, 3), dict(stride=2, padding=1, dilation=2)),
    ("512ch 3x3 on 7x7", "conv2d", (1, 512, 7, 7), (512, 512, 3, 3), dict(padding=1)),
    ("audio conv1d 256ch k9", "conv1d", (1, 256, 400), (256, 256, 9), dict(padding=4)),
    ("video conv3d 64ch k3", "conv3d", (1, 64, 8, 28, 28), (64, 64, 3, 3, 3), dict(padding=1)),
]


def prepared_section(seconds: float) -> Tuple[str, bool]:
    rng = np.random.default_rng(1)
    lines, ok = [], True
    lines.append(f"{'layer':24s} {'functional':>11s} {'prepared':>10s} {'saved':>10s} {'prepare()':>10s} "
                 f"{'packed':>9s}  check")
    for label, op, xs, ws, kw in PREPARED_CASES:
        x = rng.standard_normal(xs).astype(np.float32)
        w = rng.standard_normal(ws).astype(np.float32)
        b = rng.standard_normal(ws[0]).astype(np.float32)
        fn = getattr(sc, op)
        creation = []
        for _ in range(5):
            t0 = time.perf_counter()
            p = sc.prepare(op, w, b, **kw)
            creation.append(time.perf_counter() - t0)
        same = bool(np.array_equal(p(x), fn(x, w, b, **kw)))
        ok &= same
        t = timed({"functional": lambda: fn(x, w, b, **kw), "prepared": lambda: p(x)}, seconds)
        saved = t["functional"] - t["prepared"]
        fmt = lambda s: f"{s * 1e6:8.1f}us" if s < 1e-3 else f"{s * 1e3:8.2f}ms"  # noqa: E731
        lines.append(f"{label:24s} {fmt(t['functional']):>11s} {fmt(t['prepared']):>10s} {fmt(saved):>10s} "
                     f"{fmt(statistics.median(creation)):>10s} {p.packed_bytes / 1e6:7.2f}MB  "
                     f"{'bitwise' if same else 'DIFFERS'}")
    return "\n".join(lines), ok


# ------------------------------------------------------------------------------ half

HALF_CASES = [
    # (label, input, weight, kwargs)
    ("dw 144ch 56x56 k3", (1, 144, 56, 56), (144, 1, 3, 3), dict(padding=1, groups=144)),
    ("dw 960ch 7x7 k3", (1, 960, 7, 7), (960, 1, 3, 3), dict(padding=1, groups=960)),
    ("dw 672ch 14x14 k5", (1, 672, 14, 14), (672, 1, 5, 5), dict(padding=2, groups=672)),
    ("dw 384ch 28x28 k3", (1, 384, 28, 28), (384, 1, 3, 3), dict(padding=1, groups=384)),
    ("dw 96ch 112x112 k3 s2", (1, 96, 112, 112), (96, 1, 3, 3), dict(padding=1, stride=2, groups=96)),
    ("dw 32ch 112x112 k3", (1, 32, 112, 112), (32, 1, 3, 3), dict(padding=1, groups=32)),
    ("1x1 256->64 56x56", (1, 256, 56, 56), (64, 256, 1, 1), {}),
    ("1x1 512->2048 7x7", (1, 512, 7, 7), (2048, 512, 1, 1), {}),
    ("3x3 64->64 56x56", (1, 64, 56, 56), (64, 64, 3, 3), dict(padding=1)),
    ("3x3 256->256 14x14", (1, 256, 14, 14), (256, 256, 3, 3), dict(padding=1)),
    ("1x1 s2 256->512 56x56", (1, 256, 56, 56), (512, 256, 1, 1), dict(stride=2)),
]


def half_section(seconds: float) -> Tuple[str, bool]:
    try:
        import ml_dtypes
        types = [("float16", np.dtype(np.float16)), ("bfloat16", np.dtype(ml_dtypes.bfloat16))]
    except ImportError:
        types = [("float16", np.dtype(np.float16))]
    rng = np.random.default_rng(2)
    lines, ok = [], True
    head = " ".join(f"{n + '/f32':>13s}" for n, _ in types)
    lines.append(f"{'layer':21s} {'float32':>9s} {head} {'prep. f32':>10s} {head} {'bwd f32':>10s} {head}  check")
    for label, xs, ws, kw in HALF_CASES:
        x = rng.standard_normal(xs).astype(np.float32)
        w = (rng.standard_normal(ws) * 0.1).astype(np.float32)
        b = rng.standard_normal(ws[0]).astype(np.float32)
        fns = {}
        good = True
        for name, dt in [("float32", np.dtype(np.float32))] + types:
            xx, ww, bb = x.astype(dt), w.astype(dt), b.astype(dt)
            p = sc.prepare("conv2d", ww, bb, **kw)
            fns[name] = lambda xx=xx, ww=ww, bb=bb: sc.conv2d(xx, ww, bb, **kw)
            fns[name + " prepared"] = lambda p=p, xx=xx: p(xx)
            if name != "float32":
                want = sc.conv2d(xx.astype(np.float32), ww.astype(np.float32), bb.astype(np.float32), **kw).astype(dt)
                good &= bool(np.array_equal(fns[name]().view(np.uint16), want.view(np.uint16)))
                good &= bool(np.array_equal(p(xx).view(np.uint16), want.view(np.uint16)))
        depthwise = kw.get("groups", 1) == xs[1] == ws[0]
        if depthwise:  # conv2d_backward, all three gradients (the training step's half)
            dy = rng.standard_normal(sc.conv2d(x, w, **kw).shape).astype(np.float32)
            for name, dt in [("float32", np.dtype(np.float32))] + types:
                xx, ww, dd = x.astype(dt), w.astype(dt), dy.astype(dt)
                fns[name + " backward"] = lambda xx=xx, ww=ww, dd=dd: sc.conv2d_backward(dd, xx, ww, **kw)
                if name != "float32":
                    want = sc.conv2d_backward(dd.astype(np.float32), xx.astype(np.float32), ww.astype(np.float32), **kw)
                    good &= all(np.array_equal(g.view(np.uint16), f.astype(dt).view(np.uint16))
                                for g, f in zip(fns[name + " backward"](), want))
        ok &= good
        t = timed(fns, seconds)
        fmt = lambda s: f"{s * 1e6:7.0f}us"  # noqa: E731
        ratios = " ".join(f"{t[n] / t['float32']:12.2f}x" for n, _ in types)
        pratios = " ".join(f"{t[n + ' prepared'] / t['float32 prepared']:12.2f}x" for n, _ in types)
        if depthwise:
            bwd = f"{fmt(t['float32 backward']):>10s} " + " ".join(
                f"{t[n + ' backward'] / t['float32 backward']:12.2f}x" for n, _ in types)
        else:
            bwd = f"{'-':>10s} " + " ".join(f"{'-':>13s}" for _ in types)
        lines.append(f"{label:21s} {fmt(t['float32']):>9s} {ratios} {fmt(t['float32 prepared']):>10s} {pratios} {bwd}  "
                     f"{'bitwise' if good else 'DIFFERS'}")
    return "\n".join(lines), ok


# ------------------------------------------------------------------------------ padding

PADDING_MODES = ("reflect", "replicate", "circular")
#: np.pad's names of the modes (np.pad(x, pads, mode) is F.pad(x, pads, mode)).
NUMPY_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}

PADDING_CASES = [
    # (label, op, input, weight, kwargs)
    ("style 3->32 9x9 256x256", "conv2d", (1, 3, 256, 256), (32, 3, 9, 9), dict(padding=4)),
    ("pix2pix 3->64 7x7 256x256", "conv2d", (1, 3, 256, 256), (64, 3, 7, 7), dict(padding=3)),
    ("res 128->128 3x3 64x64", "conv2d", (1, 128, 64, 64), (128, 128, 3, 3), dict(padding=1)),
    ("res N8 128->128 3x3 64x64", "conv2d", (8, 128, 64, 64), (128, 128, 3, 3), dict(padding=1)),
    ("64->64 3x3 128x128", "conv2d", (1, 64, 128, 128), (64, 64, 3, 3), dict(padding=1)),
    ("N8 32->32 3x3 32x32", "conv2d", (8, 32, 32, 32), (32, 32, 3, 3), dict(padding=1)),
    ("256->256 3x3 16x16", "conv2d", (1, 256, 16, 16), (256, 256, 3, 3), dict(padding=1)),
    ("64->128 4x4 s2 128x128", "conv2d", (1, 64, 128, 128), (128, 64, 4, 4), dict(padding=1, stride=2)),
    ("conv1d 64->64 k9 4000", "conv1d", (1, 64, 4000), (64, 64, 9), dict(padding=4)),
    ("conv1d N8 32->32 k3 1000", "conv1d", (8, 32, 1000), (32, 32, 3), dict(padding=1)),
    ("conv1d 128->128 k3 256", "conv1d", (1, 128, 256), (128, 128, 3), dict(padding=1)),
    ("conv1d N8 64->64 k5 128", "conv1d", (8, 64, 128), (64, 64, 5), dict(padding=2)),
    ("conv1d 16->32 k7 s2 2000", "conv1d", (1, 16, 2000), (32, 16, 7), dict(padding=3, stride=2)),
    ("conv3d 32->32 k3 16x32x32", "conv3d", (1, 32, 16, 32, 32), (32, 32, 3, 3, 3), dict(padding=1)),
    ("conv3d N2 16->16 k3 8x16x16", "conv3d", (2, 16, 8, 16, 16), (16, 16, 3, 3, 3), dict(padding=1)),
    ("conv3d 64->64 k3 8x28x28", "conv3d", (1, 64, 8, 28, 28), (64, 64, 3, 3, 3), dict(padding=1)),
    ("dw 144ch 56x56 k3", "conv2d", (1, 144, 56, 56), (144, 1, 3, 3), dict(padding=1, groups=144)),
]


def padded_copy(x: np.ndarray, rank: int, padding: object, mode: str) -> np.ndarray:
    """x padded by NumPy as `mode` pads it (the padded-copy path's input)."""
    pads = (padding,) * rank if isinstance(padding, int) else padding
    pads = [(p, p) if isinstance(p, int) else tuple(p) for p in pads]
    return np.pad(x, [(0, 0)] * (x.ndim - rank) + pads, mode=NUMPY_PAD_MODES[mode])


def padding_path(op: str, x: np.ndarray, w: np.ndarray, kw: dict, mode: str) -> str:
    """The border step the plan takes: 'maps' (read while packing / gathering) or 'copy'."""
    text = sc.explain(op, x, w, padding_mode=mode, **kw)
    return "maps" if "index maps" in text else "copy"


def padding_section(seconds: float) -> Tuple[str, bool]:
    rng = np.random.default_rng(3)
    lines, ok = [], True
    head = " ".join(f"{m:>10s} {'path':>4s}" for m in PADDING_MODES)
    lines.append(f"{'layer':26s} {'call':8s} {'zeros':>9s} {head}  check   (mode time / zeros time)")
    for label, op, xs, ws, kw in PADDING_CASES:
        x = rng.standard_normal(xs).astype(np.float32)
        w = (rng.standard_normal(ws) * 0.1).astype(np.float32)
        b = rng.standard_normal(ws[0]).astype(np.float32)
        fn, rank = getattr(sc, op), len(ws) - 2
        plain = {k: v for k, v in kw.items() if k != "padding"}
        fns, good = {}, True
        for mode in ("zeros",) + PADDING_MODES:
            p = sc.prepare(op, w, b, padding_mode=mode, **kw)
            fns[mode] = lambda mode=mode: fn(x, w, b, padding_mode=mode, **kw)
            fns[mode + " prepared"] = lambda p=p: p(x)
            if mode != "zeros":
                want = fn(padded_copy(x, rank, kw["padding"], mode), w, b, **plain)
                good &= bool(np.array_equal(fns[mode](), want)) and bool(np.array_equal(p(x), want))
        ok &= good
        t = timed(fns, seconds)
        paths = {m: padding_path(op, x, w, kw, m) for m in PADDING_MODES}
        fmt = lambda s: f"{s * 1e6:7.0f}us" if s < 1e-2 else f"{s * 1e3:7.2f}ms"  # noqa: E731
        for call, suffix in (("function", ""), ("prepared", " prepared")):
            zeros = t["zeros" + suffix]
            cells = " ".join(f"{t[m + suffix] / zeros:9.3f}x {paths[m]:>4s}" for m in PADDING_MODES)
            lines.append(f"{label if not suffix else '':26s} {call:8s} {fmt(zeros):>9s} {cells}  "
                         f"{'bitwise' if good else 'DIFFERS'}")
    return "\n".join(lines), ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter measurements")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--sections", default="ranks,half,prepared,padding",
                        help="comma-separated: ranks, half, prepared, padding")
    args = parser.parse_args(argv)
    seconds = 0.6 if args.quick else 2.5
    from bench import cpu_model  # the same CPU description as the main table
    print(f"\nswiftconv {sc.__version__} operator figures on {cpu_model()}")
    all_ok = True
    for n in (int(t) for t in args.threads.split(",")):
        sc.set_num_threads(n)
        plural = "s" if n > 1 else ""
        sections = [("ranks", f"every rank on the same GEMM, {n} thread{plural} (float32, no bias)", rank_section),
                    ("half", f"float16 / bfloat16 vs float32, {n} thread{plural} (with bias; time / float32 time)",
                     half_section),
                    ("prepared", f"prepared vs functional, {n} thread{plural} (float32, with bias)", prepared_section),
                    ("padding", f"padding modes vs zeros, {n} thread{plural} (float32, with bias; path: border read "
                                "through index maps, or a padded copy)", padding_section)]
        for key, title, section in sections:
            if key not in args.sections.split(","):
                continue
            print(f"\n== {title} ==")
            text, ok = section(seconds)
            print(text)
            all_ok &= ok
    print("\nchecks: " + ("all ok" if all_ok else "FAILED"))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    sys.exit(main())
