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

FORWARD_OPS = ("conv2d", "conv_transpose2d")
BACKWARD_OPS = ("conv2d_backward", "conv_transpose2d_backward")
GRAD_NAMES = ("grad_input", "grad_weight", "grad_bias")


def fixture_paths(op: str | None = None) -> list[Path]:
    """All fixture files, sorted; with ``op``, only that op's (``{op}__*.npz``)."""
    paths = sorted(FIXTURE_DIR.glob("*.npz"))
    if op is not None:
        paths = [p for p in paths if p.stem.split("__", 1)[0] == op]
    return paths


def load_case(path: str | Path) -> tuple[dict, dict[str, np.ndarray]]:
    """Load one fixture: ``(params, arrays)``.

    ``params`` is the decoded JSON (``op``, ``kwargs``, ``dtype``, ``description``,
    ``has_bias``, ``terms``); ``arrays`` maps every other key to a (writable) ndarray.
    """
    with np.load(path, allow_pickle=False) as npz:
        params = json.loads(str(npz["params"][()]))
        arrays = {k: np.array(npz[k]) for k in npz.files if k != "params"}
    return params, arrays


@pytest.fixture(scope="session")
def fixture_dir() -> Path:
    return FIXTURE_DIR


@pytest.fixture
def case_loader():
    """The ``load_case`` helper as a pytest fixture."""
    return load_case
