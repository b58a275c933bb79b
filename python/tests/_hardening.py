"""Helpers shared by the hardening tests (test_errors, test_arrays, test_threads, test_leaks,
test_properties): calling any op with any algorithm, the reference oracle with an error
bound, and running risky probes in a child interpreter so a crash fails a test instead of
killing pytest."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

import swiftconv as sc

PYTHON_DIR = str(Path(sc.__file__).resolve().parent.parent)
OPS = ("conv2d", "conv_transpose2d", "conv2d_backward", "conv_transpose2d_backward")
ALGORITHMS = {
    "conv2d": ("auto", "direct", "im2col", "taps", "reference"),
    "conv_transpose2d": ("auto", "scatter", "upsample", "reference"),
    "conv2d_backward": ("auto", "reference"),
    "conv_transpose2d_backward": ("auto", "reference"),
}
# Unit round-off; the reference and the fast kernels both keep the dot-product error bound
# |err| <= K * u * sum|terms| (K = number of terms); we allow 4*K*u*sum|terms| with K <= 64.
TOLERANCE = {np.dtype(np.float32): 4 * 64 * 2.0**-24, np.dtype(np.float64): 4 * 64 * 2.0**-53}


def run(op: str, x: Any, w: Any, b: Any = None, gy: Any = None, *, algorithm: str = "auto",
        mask: Sequence[bool] = (True, True, True), **params: Any) -> tuple:
    """Any op with any algorithm, always as a tuple of results. The backward functions take
    no `algorithm` argument publicly; for anything but "auto" the internal runner is used."""
    if op == "conv2d":
        return (sc.conv2d(x, w, b, algorithm=algorithm, **params),)
    if op == "conv_transpose2d":
        return (sc.conv_transpose2d(x, w, b, algorithm=algorithm, **params),)
    if algorithm == "auto":
        return getattr(sc, op)(gy, x, w, output_mask=mask, **params)
    p = {"stride": 1, "padding": 0, "dilation": 1, "output_padding": 0, "groups": 1, **params}
    return tuple(sc._run(op, x, w, None, gy, p["stride"], p["padding"], p["dilation"],
                         p["output_padding"], p["groups"], algorithm, sc._mask(mask, op)))


def contiguous(a: Any) -> Any:
    return None if a is None else np.array(np.asarray(a), order="C", copy=True)


def reference(op: str, x: Any, w: Any, b: Any = None, gy: Any = None, **params: Any) -> tuple:
    """The engine's plain-loop oracle on contiguous native copies."""
    c = lambda a: None if a is None else np.ascontiguousarray(np.asarray(a).astype(np.asarray(a).dtype.newbyteorder("=")))
    return run(op, c(x), c(w), c(b), c(gy), algorithm="reference", **params)


def assert_matches_reference(results: tuple, op: str, x: Any, w: Any, b: Any = None,
                             gy: Any = None, **params: Any) -> None:
    """Results agree with the reference within the dot-product error bound, computed from a
    reference run on absolute values. NaN/Inf must be at the same places."""
    ref = reference(op, x, w, b, gy, **params)
    a = lambda v: None if v is None else np.abs(np.asarray(v))
    bound = reference(op, a(x), a(w), a(b), a(gy), **params)
    assert len(results) == len(ref)
    for got, want, bnd in zip(results, ref, bound):
        if want is None:
            assert got is None
            continue
        assert got.shape == want.shape and got.dtype == want.dtype
        tol = TOLERANCE[got.dtype] * np.where(np.isfinite(bnd), bnd, 0) + np.finfo(got.dtype).tiny
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
        fin = np.isfinite(want)
        err = np.abs(got[fin] - want[fin])
        assert np.all(err <= tol[fin]), f"max error {err.max()} beyond tolerance {tol[fin].max()}"


def assert_fresh_result(r: np.ndarray, dtype: Any) -> None:
    """A new C-contiguous, native-endian, writable array of the input's dtype."""
    assert isinstance(r, np.ndarray) and type(r) is np.ndarray
    assert r.flags.c_contiguous and r.flags.owndata and r.flags.writeable and r.flags.aligned
    assert r.dtype == np.dtype(dtype).newbyteorder("=") and r.dtype.isnative


def rng_array(rng: np.random.Generator, shape: Sequence[int], dtype: Any = np.float32) -> np.ndarray:
    return rng.uniform(-1, 1, size=tuple(shape)).astype(dtype)


def run_probes(source: str, probes: list, timeout: float = 120.0) -> list:
    """Runs `source` (defining `probe(arg) -> str`) on each of `probes` (JSON values) in a
    child interpreter; returns the outcome strings. A crash or hang raises AssertionError
    naming the probe that was running."""
    driver = textwrap.dedent("""
        import json, sys
        import numpy as np
        import swiftconv as sc
        {source}
        probes = json.loads(sys.stdin.read())
        for i, p in enumerate(probes):
            print("START", i, flush=True)
            print("RESULT", json.dumps(probe(p)), flush=True)
    """).format(source=textwrap.dedent(source))
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        proc = subprocess.run([sys.executable, "-c", driver], input=json.dumps(probes), text=True,
                              capture_output=True, timeout=timeout, env=env)
        out, err, rc = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err, rc = "timeout", "timeout"
    results = [json.loads(l[len("RESULT "):]) for l in out.splitlines() if l.startswith("RESULT ")]
    if rc != 0 or len(results) != len(probes):
        started = [int(l.split()[1]) for l in out.splitlines() if l.startswith("START ")]
        last = probes[started[-1]] if started else None
        raise AssertionError(f"child interpreter died (rc={rc}) while running probe {last!r}\n"
                             f"stderr tail: {err[-2000:]}")
    return results
