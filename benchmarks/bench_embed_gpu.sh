#!/usr/bin/env bash
# GPU rows for docs/benchmarks.md: light curves/s on one CUDA GPU (forward only and end to end, float32
# and AMP, large batches).  Needs the package importable (pip install -e . or PYTHONPATH=src) and torch
# with CUDA.  Finishes in about 3 minutes or less; pass --quick for a ~1-minute smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="${PYTHONPATH:-$PWD/src}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
exec timeout 300 "${PYTHON:-python}" benchmarks/bench_embed.py --cuda "$@"
