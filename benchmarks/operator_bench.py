#!/usr/bin/env python3
"""The operator model's figures (``make bench`` runs this after bench.py):

1. Every rank on the same machinery: conv1d and conv3d layers whose GEMM (M = C_out,
   K = C_in/groups * kernel taps, N = output positions) equals a conv2d layer's, timed in
   the same run; the target is >= 0.85x the conv2d's GFLOP/s.
2. Prepared vs functional: ``swiftconv.prepare`` (validated, planned and packed once) against
   the plain function on the same arrays: the notebook's tiny conv (per-call overhead from
   Python; target <= 2.5 us on one thread) and a 512-channel 3x3 layer on a 7x7 plane (the
   saving should be at least the weight-packing share, estimated by the time ``prepare``
   takes).

Every timed result is checked against the plain function (bitwise for prepared calls) or the
float64 NumPy reference. Medians of interleaved blocks; the machine is shared, so compare
ratios within one run.

    PYTHONPATH=python python3 benchmarks/operator_bench.py [--quick] [--threads 1,2]
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter measurements")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    args = parser.parse_args(argv)
    seconds = 0.6 if args.quick else 2.5
    from bench import cpu_model  # the same CPU description as the main table
    print(f"\nswiftconv {sc.__version__} operator figures on {cpu_model()}")
    all_ok = True
    for n in (int(t) for t in args.threads.split(",")):
        sc.set_num_threads(n)
        print(f"\n== every rank on the same GEMM, {n} thread{'s' if n > 1 else ''} (float32, no bias) ==")
        text, ok = rank_section(seconds)
        print(text)
        all_ok &= ok
        print(f"\n== prepared vs functional, {n} thread{'s' if n > 1 else ''} (float32, with bias) ==")
        text, ok = prepared_section(seconds)
        print(text)
        all_ok &= ok
    print("\nchecks: " + ("all ok" if all_ok else "FAILED"))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    sys.exit(main())
