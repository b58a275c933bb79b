"""Thread scaling per network (benchmarks/networks.py), forward: every distinct layer at one
and two threads, this build and optionally an older one (imported as `swiftconv_old`, made
as benchmarks/depthwise_bench.py describes), in one process, timing blocks interleaved
(new 1t, old 1t, new 2t, old 2t, new 1t, ...), medians of the block medians. A network's
total is the sum of its layers' medians times their counts.

    PYTHONPATH=python:DIR /opt/torchenv/bin/python benchmarks/thread_bench.py \
        [--networks mobilenet_v2,efficientnet_b0] [--batches 1,8] [--passes 7] [--layers]

--first: instead, each layer's first call of a shape against its later calls (a fresh
process per build, a forward pass of the whole network, then a second pass): times and the
page faults of this process (getrusage minor faults).
"""
import argparse
import resource
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, "benchmarks")
from networks import NETWORKS, distinct  # noqa: E402
from bench import median_block  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--networks", default="resnet50,mobilenet_v2,efficientnet_b0,dcgan,unet_decoder")
ap.add_argument("--batches", default="1,8")
ap.add_argument("--threads", default="1,2")
ap.add_argument("--passes", type=int, default=7)
ap.add_argument("--block", type=float, default=0.01, help="seconds per timing block")
ap.add_argument("--layers", action="store_true", help="print every layer")
ap.add_argument("--no-old", action="store_true")
ap.add_argument("--first", action="store_true", help="first pass of a network vs the second")
ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                help="cpu: this process's CPU time (meaningful at one thread only, on a busy machine)")
a = ap.parse_args()
clock = time.process_time if a.clock == "cpu" else time.perf_counter

import swiftconv as sc  # noqa: E402
libs = {"new": sc}
if not a.no_old:
    try:
        import swiftconv_old  # noqa: E402
        libs["old"] = swiftconv_old
    except ImportError:
        pass


def call(lib, L, x, w, b):
    kw = dict(stride=L.stride, padding=L.padding, dilation=L.dilation, groups=L.groups)
    if L.transposed:
        return lambda: lib.conv_transpose2d(x, w, b, output_padding=L.output_padding, **kw)
    return lambda: lib.conv2d(x, w, b, **kw)


def data(L, N, rng):
    x = rng.standard_normal((N, *L.input)).astype(np.float32)
    w = rng.standard_normal(L.weight_shape()).astype(np.float32)
    b = rng.standard_normal(L.out_channels).astype(np.float32) if L.bias else None
    return x, w, b


def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


if a.first:
    # One network pass, then another: per pass the wall time and the page faults.
    rng = np.random.default_rng(0)
    for lib in libs.values():
        lib.set_num_threads(int(a.threads.split(",")[-1]))
    for net in a.networks.split(","):
        for N in [int(n) for n in a.batches.split(",")]:
            layers = [(L, data(L, N, rng)) for L in NETWORKS[net].layers]
            for name, lib in libs.items():
                row = []
                for p in range(3):
                    f0, t0 = faults(), time.perf_counter()
                    for L, (x, w, b) in layers:
                        call(lib, L, x, w, b)()
                    row.append((time.perf_counter() - t0, faults() - f0))
                print(f"{net:16s} N{N} {name}: " + "  ".join(f"pass{i + 1} {t * 1e3:8.2f} ms {f:7d} faults"
                                                           for i, (t, f) in enumerate(row)), flush=True)
    sys.exit(0)

threads = [int(t) for t in a.threads.split(",")]
rng = np.random.default_rng(0)
for net in a.networks.split(","):
    for N in [int(n) for n in a.batches.split(",")]:
        totals = {}
        if a.layers:
            print(f"\n{net} N{N}: per layer (us), count x")
        for L in distinct(NETWORKS[net].layers):
            x, w, b = data(L, N, rng)
            fns = {(name, t): call(lib, L, x, w, b) for name, lib in libs.items() for t in threads}
            ref = None
            for (name, t), fn in fns.items():
                libs[name].set_num_threads(t)
                y = fn(); fn()
                if ref is None:
                    ref = y
                elif not np.array_equal(ref, y):
                    print(f"MISMATCH {net} {L.describe()} {name} {t}t", flush=True)
            res = {k: [] for k in fns}
            for _ in range(a.passes):
                for (name, t), fn in fns.items():
                    libs[name].set_num_threads(t)
                    res[(name, t)].append(median_block(fn, a.block, clock))
            med = {k: statistics.median(v) for k, v in res.items()}
            for k, v in med.items():
                totals[k] = totals.get(k, 0.0) + v * L.count
            if a.layers:
                cells = "  ".join(f"{name}{t} {med[(name, t)] * 1e6:8.1f}" for name in libs for t in threads)
                sp = "  ".join(f"{name} x{med[(name, threads[0])] / med[(name, threads[-1])]:4.2f}" for name in libs)
                print(f"  {L.count:2d} x {L.describe():30s} {cells}  {sp}", flush=True)
        cells = "  ".join(f"{name} {t}t {totals[(name, t)] * 1e3:7.2f} ms" for name in libs for t in threads)
        sp = "  ".join(f"{name} {threads[-1]}t speed-up {totals[(name, threads[0])] / totals[(name, threads[-1])]:4.2f}"
                       for name in libs)
        extra = ""
        if "old" in libs:
            extra = "  new/old " + " ".join(f"{t}t {totals[('new', t)] / totals[('old', t)]:4.2f}" for t in threads)
        print(f"TOTAL {net:16s} N{N}: {cells}  |  {sp}{extra}", flush=True)
