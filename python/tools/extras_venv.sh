#!/usr/bin/env bash
# Makes (once) the venv the adapters' tests run in: it sees the system packages (numpy,
# pytest) and adds the optional frameworks swiftconv adapts to — torch, jax, dask (with
# distributed) — and ml_dtypes (bfloat16 arrays). Usage: extras_venv.sh PYTHON VENV_DIR
# torch: the CPU-only wheel this machine kind ships in /opt/wheels when present (about 0.9 GB
# installed, ~45 s), else PyPI's (several GB with its CUDA packages, ~2 min).
set -euo pipefail
python=${1:?python}
venv=${2:?venv dir}
if "$venv/bin/python" -c "import torch, jax, dask.distributed, ml_dtypes" 2>/dev/null; then
  exit 0
fi
echo "extras_venv: installing torch, jax, dask and ml_dtypes into $venv (first run only)" >&2
"$python" -m venv --system-site-packages "$venv"
tag=$("$python" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
wheel=$(ls /opt/wheels/torch-*+cpu-"$tag"-*.whl 2>/dev/null | sort -V | tail -n 1 || true)
"$venv/bin/python" -m pip install -q "${wheel:-torch}" "jax[cpu]" "dask[array,distributed]" ml_dtypes
"$venv/bin/python" -c "import torch, jax, dask.distributed, ml_dtypes"
