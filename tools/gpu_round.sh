#!/usr/bin/env bash
# One GPU round: the training runs of this release that want more than a shared 2-core CPU, side by side on
# one GPU machine, each bounded in wall-clock time, results packed into $OUT/models.tar.gz + logs.
#
#   bash tools/gpu_round.sh            # on the GPU machine, repo root, with .whl/ and .gpudata/ carried
#   SMOKE=1 bash tools/gpu_round.sh    # tiny settings on a CPU, to check the script end to end
#
# .gpudata/ holds the layout of ../shared/data without the OSC spectra (a names-only stand-in of
# oac_2010_2014/spectra.parquet keeps maven v2's template de-duplication against OSC names working);
# .whl/ holds astropy, pyerfa, astropy-iers-data, extinction and speclite wheels for the simulator.
# Jobs:
#   bench       GPU embedding throughput rows (benchmarks/bench_embed.py --cuda), alone, first
#   maven-sim2  simulator v2: 150k ZTF pairs (same options as the v1 pre-training set), then the v1
#               pre-training config (configs/maven_pretrain_sim.json) on them
#   mavenv2     tools/train_maven_v2.py (SpecFormer, masked LC, maven-ssl)
#   transceiver tools/train_transceiver.py on 60k simulated pairs (OSC fine-tuning runs on the CPU after)
set -u
cd "$(dirname "$0")/.."
OUT=$(realpath -m "${OUT:-runs/gpu_round_out}")
W=$(realpath -m "${W:-/tmp/gpu_round}")
mkdir -p "$OUT" "$W"
export PYTHONUNBUFFERED=1
T0=$(date +%s)
el() { echo $(( $(date +%s) - T0 )); }
if [ -d .whl ] && [ -z "${SMOKE:-}" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site:$PWD/src || { echo "wheel install failed"; exit 1; }
else
  export PYTHONPATH=$PWD/src
fi
PY=${PY:-python3}
DEV=cuda; NSIM=150000; NTR=60000; NMV=20000; MIN_MV=5; MIN_TR=5; TL_MS=270; WK=8; BENCH="--quick"
if [ -n "${SMOKE:-}" ]; then DEV=cpu; NSIM=300; NTR=200; NMV=200; MIN_MV=0.4; MIN_TR=0.3; TL_MS=20; WK=2; BENCH=""; fi
DATA=.gpudata
{ nvidia-smi -L; $PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"; } \
  2>&1 | tee "$OUT/env.log"

# 1. GPU embedding throughput, alone on the machine
if [ -z "${SMOKE:-}" ]; then
  timeout 150 bash benchmarks/bench_embed_gpu.sh $BENCH > "$OUT/bench_embed_gpu.log" 2>&1
  echo "[$(el)s] bench done (rc $?)"
fi

# 2. trainings side by side
( set -o pipefail
  $PY -m astroembed.cli simulate --survey ztf --n $NSIM --seed 0 --classes balanced --min-detections 5 \
      --peak-mag-max 19.5 --templates-dir $DATA/spectra_templates --workers $WK --out $W/sim_ztf_v2 --no-progress \
  && $PY - "$W" "$TL_MS" "$DEV" <<'EOF'
import sys, time
from astroembed.train import load_train_config, train
w, tl, dev = sys.argv[1], float(sys.argv[2]), sys.argv[3]
cfg = load_train_config("configs/maven_pretrain_sim.json", output_dir=f"{w}/maven-sim-v2", device=dev)
cfg = cfg.replace(data=cfg.data.replace(kwargs={"path": f"{w}/sim_ztf_v2"}, cache=f"{w}/cache_sim_ztf_v2.npz"))
t = time.time()
res = train(cfg, time_limit_s=tl)
print("maven-sim-v2:", getattr(res, "status", res), f"{time.time() - t:.0f}s")
if res.model is not None:
    res.model.save_pretrained(f"{w}/maven-sim-v2-final")  # best weights so far, also when interrupted
print("best epoch", res.best_epoch, "val loss", res.best_val_loss, "epochs", res.epochs_run, "steps", res.global_step)
EOF
) > "$OUT/maven_sim_v2.log" 2>&1 &
P1=$!
timeout 420 $PY tools/train_maven_v2.py --device $DEV --data-root $DATA --out $W/mavenv2 --minutes $MIN_MV \
    --sim-n $NMV > "$OUT/mavenv2.log" 2>&1 &
P2=$!
timeout 430 $PY tools/train_transceiver.py --config configs/transceiver_sim_gpu.json --device $DEV --data-root $DATA \
    --simulate $NTR --workers $WK --threads 4 --out $W/transceiver --minutes $MIN_TR > "$OUT/transceiver.log" 2>&1 &
P3=$!
# the whole script must end inside the device call's limit: stop stragglers at 500 s
LIMIT=500; [ -n "${SMOKE:-}" ] && LIMIT=1500
( sleep $(( LIMIT - $(el) )); kill $P1 $P2 $P3 2>/dev/null; pkill -f astroembed 2>/dev/null ) &
KILLER=$!
wait $P1; echo "[$(el)s] maven-sim-v2 rc $?"
wait $P2; echo "[$(el)s] mavenv2 rc $?"
wait $P3; echo "[$(el)s] transceiver rc $?"
kill $KILLER 2>/dev/null

# 3. pack the model directories (config.json + model.safetensors + small json/csv beside them), one tar per job
for job in maven-sim-v2 mavenv2 transceiver; do
  [ -d "$W/$job" ] || continue
  ( cd "$W" && find "$job" $( [ $job = maven-sim-v2 ] && [ -d $W/maven-sim-v2-final ] && echo maven-sim-v2-final ) -maxdepth 2 \( -name 'config.json' -o -name 'model.safetensors' -o -name '*.json' -o -name '*.csv' \) \
      -not -path '*/sim*' -not -path '*/checkpoints/*' -size -15M | tar czf "$OUT/models_${job}.tar.gz" -T - )
done
ls -la "$OUT"; echo "[$(el)s] done"
