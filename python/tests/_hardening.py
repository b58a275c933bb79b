"""Helpers shared by the hardening tests (test_errors, test_arrays, test_threads, test_leaks,
test_properties): calling any op with any algorithm, the NumPy reference
(swiftconv._reference) with its error bound, and running risky probes in a child
interpreter so a crash fails a test instead of killing pytest."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Sequence

import numpy as np

import swiftconv as sc
from swiftconv import _reference

PYTHON_DIR = str(Path(sc.__file__).resolve().parent.parent)
OPS = ("conv2d", "conv_transpose2d", "conv2d_backward", "conv_transpose2d_backward")
# The engine's own lists (sc.algorithms), the same for every rank.
ALGORITHMS = {op: sc.algorithms(op) for op in OPS}


def ops(rank: int) -> tuple:
    """The four ops of a rank: conv{r}d, conv_transpose{r}d and their backward functions."""
    return tuple(op.replace("2d", f"{rank}d") for op in OPS)


def algorithms(op: str) -> tuple:
    """The algorithms of any rank's op (the same names for every rank)."""
    return ALGORITHMS[re.sub(r"[123]d", "2d", op)]


def general_algorithms(op: str) -> tuple:
    """The algorithms that compute every shape of any rank's op: all but "dot" (1x1 convs of
    one input pixel only, a ValueError on other shapes; test_one_pixel.py and the parity
    fixtures run it)."""
    return tuple(a for a in algorithms(op) if a != "dot")


def run(op: str, x: Any, w: Any, b: Any = None, gy: Any = None, *, algorithm: str = "auto",
        mask: Sequence[bool] = (True, True, True), **params: Any) -> tuple:
    """Any op of any rank with any algorithm, always as a tuple of results. The backward
    functions take no `algorithm` argument publicly; for anything but "auto" the internal
    runner is used."""
    if not op.endswith("_backward"):
        return (getattr(sc, op)(x, w, b, algorithm=algorithm, **params),)
    if algorithm == "auto":
        return getattr(sc, op)(gy, x, w, output_mask=mask, **params)
    p = {"stride": 1, "padding": 0, "dilation": 1, "output_padding": 0, "groups": 1, **params}
    return tuple(sc._run(op, x, w, None, gy, p["stride"], p["padding"], p["dilation"],
                         p["output_padding"], p["groups"], algorithm, sc._mask(mask, op)))


def contiguous(a: Any) -> Any:
    return None if a is None else np.array(np.asarray(a), order="C", copy=True)


def reference(op: str, x: Any, w: Any, b: Any = None, gy: Any = None, **params: Any) -> tuple:
    """The NumPy reference (float64, straight from the definition) of any op of any rank."""
    return _reference.compute(op, x, w, b, gy, **params)


def assert_matches_reference(results: tuple, op: str, x: Any, w: Any, b: Any = None,
                             gy: Any = None, **params: Any) -> None:
    """Results have the input's (native) dtype and agree with the NumPy reference within the
    shared dot-product error bound (swiftconv._reference.error_bound: 4*K*eps*S + tiny, S
    from the same op on absolute values). NaN/Inf must be at the same places."""
    want = reference(op, x, w, b, gy, **params)
    scales = _reference.scale(op, x, w, b, gy, **params)
    terms = _reference.terms(op, np.shape(x), np.shape(w), None if gy is None else np.shape(gy),
                             params.get("groups", 1), b is not None)
    dtype = np.asarray(x).dtype.newbyteorder("=")
    assert len(results) == len(want)
    for got, ref, scale, k, name in zip(results, want, scales, terms, _reference.result_names(op)):
        if ref is None:
            assert got is None
            continue
        assert got.shape == ref.shape and got.dtype == dtype, \
            f"{name}: {got.shape} {got.dtype}, expected {ref.shape} {dtype}"
        _reference.assert_close(got, ref, scale, k, dtype, name=f"{op} {name}")


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
