#!/bin/bash
# Label-free CLIP-alignment ablation of Maven v2 (issue 14), frozen evaluation; one job at a time, 1 thread.
# Usage: bash tools/ablate_clip_align.sh TOWERS_DIR RANDOM_LC_DIR SIM_DIR OUT
#   TOWERS_DIR    holds maven-v2-lc (MPT) and maven-v2-spec-ssl (masked-only spectrum tower), from
#                 tools/train_maven_v2.py --stage lc / --stage spec_ssl
#   RANDOM_LC_DIR a MavenModel with the same light-curve config, randomly initialised (no MPT)
#   SIM_DIR       simulated ZTF pairs (astroembed simulate --out)
# Each alignment run has the same wall-clock budget (8 min; the step counts it reached are in OUT/*.log).
set -euo pipefail
R=$1; RND=$2; SIM=$3; OUT=$4
export OMP_NUM_THREADS=1 PYTHONPATH=src
mkdir -p "$OUT"
run() { name=$1; shift
  python tools/train_maven_v2.py --stage align --data-root ../shared/data --out "$OUT" --name "$name" \
     --minutes 8 --threads 1 --sim-dir "$SIM" --max-pairs 8000 --spec-dir "$R/maven-v2-spec-ssl" "$@" > "$OUT/$name.log" 2>&1
}
run learnable --lc-dir "$R/maven-v2-lc"
run fixed15.5 --lc-dir "$R/maven-v2-lc" --fixed-scale 15.5
run random-lc --lc-dir "$RND"
python benchmarks/eval_retrieval_osc.py --model learnable="$OUT/learnable" --model fixed15.5="$OUT/fixed15.5" \
    --model random-lc="$OUT/random-lc" --out "$OUT/retrieval"
for n in learnable fixed15.5 random-lc; do
  python -m astroembed.cli evaluate --model "$OUT/$n" --data ztf_bts --hyperparams fixed --no-limited --no-plots \
      --out "$OUT/eval_bts_$n"
done
