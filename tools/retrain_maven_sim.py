"""Re-train the simulation-only `maven-sim` recipe (configs/maven_pretrain_sim.json) on another simulated set,
bounded in wall-clock time — used to measure the sim → real gap of simulator v2.

    python tools/retrain_maven_sim.py --sim-dir runs/sim_v2_ztf40k --out runs/maven_sim_v2 --minutes 25 [--epochs 3]
    python tools/retrain_maven_sim.py ... --init-from runs/maven_sim_v2 --epochs 5   # continue a run

Writes OUT/ (the training run: best weights = config.json + model.safetensors, history, folds) and prints
the run's status.  Everything but the data path, the output folder, the epochs and the device is the v1
pre-training config, so the comparison with the shipped `maven-sim` differs only in the simulator, the
number of events and the training budget (say which when quoting).
"""

from __future__ import annotations

import argparse
import time


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sim-dir", required=True, help="simulated pairs written by `astroembed simulate`")
    ap.add_argument("--out", required=True, help="output folder of the training run")
    ap.add_argument("--minutes", type=float, default=30.0, help="wall-clock limit of the training loop")
    ap.add_argument("--epochs", type=int, default=None, help="default: the config's (6)")
    ap.add_argument("--config", default="configs/maven_pretrain_sim.json")
    ap.add_argument("--device", default="auto", help="auto, cpu or cuda")
    ap.add_argument("--init-from", default=None,
                    help="continue from this model directory (a warm restart: fresh optimiser and schedule)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: the config's)")
    args = ap.parse_args(argv)

    from astroembed.train import load_train_config, train

    overrides = {"output_dir": args.out, "device": args.device}
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    if args.init_from is not None:
        overrides["init_from"] = args.init_from
    if args.threads is not None:
        overrides["num_threads"] = args.threads
    cfg = load_train_config(args.config, **overrides)
    cfg = cfg.replace(data=cfg.data.replace(kwargs={"path": args.sim_dir}, cache=f"{args.out}/data_cache.npz"))
    t0 = time.time()
    res = train(cfg, time_limit_s=60.0 * args.minutes)
    print(f"status {res.status}; best epoch {res.best_epoch}, validation loss {res.best_val_loss:.3f}; "
          f"{res.epochs_run} epochs, {res.global_step} steps, {time.time() - t0:.0f} s -> {res.output_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
