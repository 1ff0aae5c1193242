#!/usr/bin/env bash
# Run the peers side by side on the real ZTF BTS objects (see docs/peers.md).  Each peer lives in its own
# venv (VENVS, default /work/peers); astroembed's own environment is PYTHON (default python).
#   benchmarks/peers/run_peers.sh            # export, ParSNIP (2 variants), astromcad (2 variants), evaluate
#   SETUP=1 benchmarks/peers/run_peers.sh    # first create the venvs from PyPI
# Budget: 2 x ~9.5 min ParSNIP training (run in parallel), ~1 min astromcad, ~3 min per evaluation.
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
PY="${PYTHON:-python}"
VENVS="${VENVS:-/work/peers}"
WORK="${ASTROEMBED_PEERS_WORK:-/tmp/astroembed-peers}"
OUT="${OUT:-runs/peers}"
MINUTES="${PARSNIP_MINUTES:-8.5}"
NICE="nice -n 15"
if [[ "${SETUP:-0}" == "1" ]]; then
  python3 -m venv "$VENVS/venv-parsnip"
  "$VENVS/venv-parsnip/bin/pip" install torch==2.13.0          # CPU wheel first, or pip pulls a CUDA build
  "$VENVS/venv-parsnip/bin/pip" install astro-parsnip pyarrow
  python3 -m venv "$VENVS/venv-astromcad"
  "$VENVS/venv-astromcad/bin/pip" install astromcad pyarrow pandas matplotlib seaborn   # last 3: undeclared deps
  python3 -m venv "$VENVS/venv-astromer"
  "$VENVS/venv-astromer/bin/pip" install ASTROMER pyarrow tensorboard tf-keras         # see docs/peers.md
fi
export ASTROEMBED_PEERS_WORK="$WORK"
$NICE "$PY" benchmarks/peers/export_ztf_bts.py --out "$WORK"
for v in specz zblind; do
  $NICE "$VENVS/venv-parsnip/bin/python" benchmarks/peers/run_parsnip.py --variant "$v" --minutes "$MINUTES" \
    > "$WORK/parsnip-$v.log" 2>&1 &
done
wait
for v in nohost host; do
  $NICE "$VENVS/venv-astromcad/bin/python" benchmarks/peers/run_astromcad.py --variant "$v" --swap-bands \
    > "$WORK/astromcad-$v.log" 2>&1
done
$NICE "$PY" benchmarks/peers/evaluate_peer.py "$WORK/parsnip-specz_ztf_bts.parquet" --out "$OUT/parsnip-specz" --no-redshift
$NICE "$PY" benchmarks/peers/evaluate_peer.py "$WORK/parsnip-zblind_ztf_bts.parquet" --out "$OUT/parsnip-zblind"
$NICE "$PY" benchmarks/peers/evaluate_peer.py "$WORK/astromcad-nohost_ztf_bts.parquet" --out "$OUT/astromcad-nohost"
$NICE "$PY" benchmarks/peers/evaluate_peer.py "$WORK/astromcad-host_ztf_bts.parquet" --out "$OUT/astromcad-host" --no-redshift
$NICE "$PY" -m astroembed.evaluate.cli --model features --data ztf_bts --out "$OUT/features"
"$PY" benchmarks/peers/summarise.py "$OUT/features" "$OUT/parsnip-specz" "$OUT/parsnip-zblind" \
  "$OUT/astromcad-nohost" "$OUT/astromcad-host"
