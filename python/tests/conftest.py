"""Shared pytest helpers: the saved PyTorch fixtures.

The fixtures (``fixtures/{op}__{case}.npz``) are written by ``python/tools/make_fixtures.py``
(which needs torch); the tests only need NumPy. See that script's docstring for the format.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures"

try:  # optional: bfloat16 arrays exist only with ml_dtypes (tests that need it skip without it)
    import ml_dtypes
    BFLOAT16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:
    ml_dtypes = None
    BFLOAT16 = None
NO_ML_DTYPES = "bfloat16 needs the ml_dtypes package (pip install ml_dtypes)"
#: Marks a test that needs ml_dtypes (bfloat16): skipped with that reason without it.
needs_ml_dtypes = pytest.mark.skipif(ml_dtypes is None, reason=NO_ML_DTYPES)

RANKS = (1, 2, 3)  # number of spatial axes: conv1d, conv2d, conv3d
FORWARD_OPS = tuple(f"{kind}{r}d" for kind in ("conv", "conv_transpose") for r in RANKS)
BACKWARD_OPS = tuple(f"{op}_backward" for op in FORWARD_OPS)
GRAD_NAMES = ("grad_input", "grad_weight", "grad_bias")


def op_rank(op: str) -> int:
    """Number of spatial axes of a (forward or backward) op: 1, 2 or 3."""
    base = op[:-len("_backward")] if op.endswith("_backward") else op
    if base not in FORWARD_OPS:
        raise ValueError(f"unknown op {op!r}")
    return int(base[-2])


def fixture_paths(op: str | None = None) -> list[Path]:
    """All fixture files, sorted; with ``op``, only that op's (``{op}__*.npz``)."""
    paths = sorted(FIXTURE_DIR.glob("*.npz"))
    if op is not None:
        paths = [p for p in paths if p.stem.split("__", 1)[0] == op]
    return paths


def load_case(path: str | Path, raw: bool = False) -> tuple[dict, dict[str, np.ndarray]]:
    """Load one fixture: ``(params, arrays)``.

    ``params`` is the decoded JSON (``op``, ``kwargs``, ``dtype``, ``description``,
    ``has_bias``, ``terms``, ``torch_version``); ``arrays`` maps every other key to a
    (writable) ndarray. The op's number of spatial axes is ``op_rank(params["op"])``
    (also ``arrays["weight"].ndim - 2``); the input is unbatched when it has one axis
    fewer than ``rank + 2``.

    bfloat16 fixtures store their arrays as uint16 bit patterns (NumPy has no bfloat16 of
    its own); they come back as ``ml_dtypes.bfloat16`` arrays, and without ml_dtypes the
    calling test is skipped, unless ``raw`` (shapes and params only: the uint16 patterns).
    """
    with np.load(path, allow_pickle=False) as npz:
        params = json.loads(str(npz["params"][()]))
        arrays = {k: np.array(npz[k]) for k in npz.files if k != "params"}
    if params["dtype"] == "bfloat16" and not raw:
        if BFLOAT16 is None:
            pytest.skip(f"{Path(path).stem}: {NO_ML_DTYPES}")
        arrays = {k: v if k.startswith("scale_") else v.view(BFLOAT16) for k, v in arrays.items()}
    return params, arrays


@pytest.fixture(scope="session")
def fixture_dir() -> Path:
    return FIXTURE_DIR


@pytest.fixture
def case_loader():
    """The ``load_case`` helper as a pytest fixture."""
    return load_case


def results_on_tier(tier: str, module: str, code: str, tmp_path: Path) -> list[np.ndarray]:
    """The arrays a test module computes on another kernel tier: runs ``code`` (which may use
    ``np`` and the module as ``t`` and must leave its list of arrays in ``results``) in a fresh
    interpreter with SWIFTCONV_KERNEL_TIER=``tier`` (the tier is chosen once per process)."""
    import os, subprocess, sys, textwrap
    target = tmp_path / f"{tier}.npz"
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
        import numpy as np, {module} as t
    """) + textwrap.dedent(code) + f"\nnp.savez({str(target)!r}, *results)\n"
    env = dict(os.environ, SWIFTCONV_KERNEL_TIER=tier, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    with np.load(target) as saved:
        return [saved[f"arr_{i}"] for i in range(len(saved.files))]
