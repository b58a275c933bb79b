"""The depthwise layers of MobileNetV2 and EfficientNet-B0 (benchmarks/networks.py): swiftconv,
optionally an older build of it, PyTorch and ONNX Runtime (forward), in one process, timing
blocks interleaved (new, old, torch, ort, new, ...), median of the block medians.

Training = conv2d + conv2d_backward (all three gradients) against F.conv2d +
aten.convolution_backward. An older build is imported as the package `swiftconv_old` when one
is on the path: copy its python/swiftconv folder to DIR/swiftconv_old, rename its
libswiftconv.so to libswiftcoLD.so and patch the same-length name in the extension's NEEDED
entry (two libraries of one file name would otherwise be loaded once), then
    PYTHONPATH=python:DIR /opt/torchenv/bin/python benchmarks/depthwise_bench.py --threads 1
"""
import sys, time, statistics, argparse
import numpy as np
import torch, torch.nn.functional as F
import onnx, onnx.helper, onnx.numpy_helper, onnxruntime as ort
import swiftconv as sc
try:
    import swiftconv_old as so
except ImportError:
    so = None
sys.path.insert(0, "benchmarks")
from networks import NETWORKS, distinct

ap = argparse.ArgumentParser()
ap.add_argument("--threads", default="1,2"); ap.add_argument("--batches", default="1")
ap.add_argument("--modes", default="forward,training"); ap.add_argument("--passes", type=int, default=5)
ap.add_argument("--block", type=float, default=0.02); ap.add_argument("--only", default="")
ap.add_argument("--no-old", action="store_true")
a = ap.parse_args()

layers = []
for net in ("mobilenet_v2", "efficientnet_b0"):
    for L in distinct(NETWORKS[net].layers):
        c = L.in_channels
        if L.groups == c and L.out_channels == c and c > 1 and L.describe() not in [l.describe() for l in layers]:
            layers.append(L)
if a.only:
    layers = [L for L in layers if any(o in L.describe() for o in a.only.split(";"))]

def block(fn, t):
    n, t0 = 0, time.perf_counter(); samples = []
    while True:
        s = time.perf_counter(); fn(); e = time.perf_counter(); samples.append(e - s); n += 1
        if e - t0 > t and n >= 3: break
    return statistics.median(samples)

def ort_fn(L, x, w, th):
    h = onnx.helper
    node = h.make_node("Conv", ["X", "W"], ["Y"], kernel_shape=list(L.kernel), strides=list(L.stride),
                       pads=[L.padding[0], L.padding[1]] * 2, dilations=list(L.dilation), group=L.groups)
    g = h.make_graph([node], "g", [h.make_tensor_value_info("X", 1, list(x.shape))],
                     [h.make_tensor_value_info("Y", 1, None)], initializer=[onnx.numpy_helper.from_array(w, "W")])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 17)]); m.ir_version = 8
    o = ort.SessionOptions(); o.intra_op_num_threads = th; o.inter_op_num_threads = 1; o.log_severity_level = 3
    s = ort.InferenceSession(m.SerializeToString(), o, providers=["CPUExecutionProvider"])
    return lambda: s.run(None, {"X": x})

rng = np.random.default_rng(0)
print(f"{'layer':28s} {'N':>2s} {'t':>2s} {'mode':5s} {'new':>9s} {'old':>9s} {'torch':>9s} {'ort':>9s} {'new/old':>8s} {'new/best':>8s}")
for th in [int(t) for t in a.threads.split(",")]:
    sc.set_num_threads(th); torch.set_num_threads(th)
    if so is not None: so.set_num_threads(th)
    for N in [int(b) for b in a.batches.split(",")]:
        for L in layers:
            c, h, wd = L.input
            x = rng.standard_normal((N, c, h, wd)).astype(np.float32)
            w = rng.standard_normal(L.weight_shape()).astype(np.float32)
            kw = dict(stride=L.stride, padding=L.padding, dilation=L.dilation, groups=L.groups)
            y = sc.conv2d(x, w, None, **kw); go = rng.standard_normal(y.shape).astype(np.float32)
            tx, tw, tgo = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(go)
            for mode in a.modes.split(","):
                impls = {}
                if mode == "forward":
                    impls["new"] = lambda: sc.conv2d(x, w, None, **kw)
                    impls["old"] = lambda: so.conv2d(x, w, None, **kw)
                    impls["torch"] = lambda: F.conv2d(tx, tw, None, L.stride, L.padding, L.dilation, L.groups)
                    impls["ort"] = ort_fn(L, x, w, th)
                else:
                    impls["new"] = lambda: (sc.conv2d(x, w, None, **kw), sc.conv2d_backward(go, x, w, **kw))
                    impls["old"] = lambda: (so.conv2d(x, w, None, **kw), so.conv2d_backward(go, x, w, **kw))
                    def tt():
                        with torch.no_grad():
                            F.conv2d(tx, tw, None, L.stride, L.padding, L.dilation, L.groups)
                            torch.ops.aten.convolution_backward(tgo, tx, tw, [c], list(L.stride), list(L.padding),
                                                                list(L.dilation), False, [0, 0], L.groups, [True, True, True])
                    impls["torch"] = tt
                if a.no_old or so is None: impls.pop("old")
                for f in impls.values(): f(); f()
                res = {k: [] for k in impls}
                for _ in range(a.passes):
                    for k, f in impls.items(): res[k].append(block(f, a.block))
                med = {k: statistics.median(v) for k, v in res.items()}
                best = min(v for k, v in med.items() if k in ("torch", "ort"))
                f = lambda k: f"{med[k]*1e6:8.1f}u" if k in med else f"{'-':>9s}"
                print(f"{L.describe():28s} {N:2d} {th:2d} {mode[:5]:5s} {f('new')} {f('old')} {f('torch')} {f('ort')} "
                      f"{(med['new']/med['old']) if 'old' in med else float('nan'):8.2f} {med['new']/best:8.2f}", flush=True)
