"""Padding modes: the border read through index maps while packing (this build) against the
padded copy made first (an older build), on operator_bench.py's padding layers, in one
process, timing blocks interleaved (new, old, new, ...), median of the block medians; the
measurements behind KernelSelector.readsBorderWhilePacking.

The older build is imported as the package `swiftconv_old` (how to make one:
depthwise_bench.py's docstring). Each result is checked bit for bit against the old build's.

    PYTHONPATH=python:DIR python3 benchmarks/padding_bench.py --threads 1 --clock cpu
"""
import argparse
import statistics
import sys
import time

import numpy as np

import swiftconv as sc
import swiftconv_old as so

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from operator_bench import PADDING_CASES, padding_path  # noqa: E402
from bench import median_block  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--threads", default="1")
ap.add_argument("--modes", default="reflect")
ap.add_argument("--passes", type=int, default=5)
ap.add_argument("--block", type=float, default=0.05, help="seconds per block")
ap.add_argument("--clock", choices=("wall", "cpu"), default="cpu")
ap.add_argument("--only", default="", help="';'-separated substrings of the layer labels")
ap.add_argument("--backward", action="store_true", help="time conv*_backward (all three gradients) instead")
a = ap.parse_args()
clock = time.process_time if a.clock == "cpu" else time.perf_counter


rng = np.random.default_rng(0)
print(f"{'layer':26s} {'mode':9s} {'t':>2s} {'call':8s} {'path':>4s} {'new':>9s} {'old':>9s} {'new/old':>8s}")
for threads in (int(t) for t in a.threads.split(",")):
    sc.set_num_threads(threads); so.set_num_threads(threads)
    for label, op, xs, ws, kw in PADDING_CASES:
        if a.only and not any(o in label for o in a.only.split(";")):
            continue
        x = rng.standard_normal(xs).astype(np.float32)
        w = (rng.standard_normal(ws) * 0.1).astype(np.float32)
        b = rng.standard_normal(ws[0]).astype(np.float32)
        for mode in a.modes.split(","):
            pn, po = sc.prepare(op, w, b, padding_mode=mode, **kw), so.prepare(op, w, b, padding_mode=mode, **kw)
            if a.backward:
                gy = rng.standard_normal(pn(x).shape).astype(np.float32)
                fns = {("function", "new"): lambda: getattr(sc, op + "_backward")(gy, x, w, padding_mode=mode, **kw),
                       ("function", "old"): lambda: getattr(so, op + "_backward")(gy, x, w, padding_mode=mode, **kw),
                       ("prepared", "new"): lambda: pn.backward(gy, x), ("prepared", "old"): lambda: po.backward(gy, x)}
            else:
                fns = {("function", "new"): lambda: getattr(sc, op)(x, w, b, padding_mode=mode, **kw),
                       ("function", "old"): lambda: getattr(so, op)(x, w, b, padding_mode=mode, **kw),
                       ("prepared", "new"): lambda: pn(x), ("prepared", "old"): lambda: po(x)}
            for call in ("function", "prepared"):
                new, old = fns[(call, "new")](), fns[(call, "old")]()
                for n, o in zip(new if a.backward else [new], old if a.backward else [old]):
                    assert np.array_equal(n, o), (label, mode, call)
            blocks = {k: [] for k in fns}
            for fn in fns.values():
                fn(); fn()
            for _ in range(a.passes):
                for k, fn in fns.items():
                    blocks[k].append(median_block(fn, a.block, clock))
            t = {k: statistics.median(v) for k, v in blocks.items()}
            path = padding_path(op, x, w, kw, mode)
            for call in ("function", "prepared"):
                new, old = t[(call, "new")], t[(call, "old")]
                print(f"{label:26s} {mode:9s} {threads:2d} {call:8s} {path:>4s} {new * 1e3:7.3f}ms {old * 1e3:7.3f}ms "
                      f"{new / old:8.3f}", flush=True)
