"""Supervised pre-training of AppleCiDEr's photometry tower on simulated light curves.

Trains :func:`~astroembed.models.applecider.training.train_applecider` on ``astroembed simulate`` output
(labels from the simulator's classes, :data:`~astroembed.models.applecider.sim_data.SIM_CLASS_MERGE`;
each epoch every light curve is cut at first detection + h, h log-uniform in [horizon_min, 100] d with
probability p_truncate), then scores held-out simulated events cut at 3/5/10/30 days.  The saved model's
photometry tower + embedding head initialise the real-data training through the train config's
``init_from`` (``configs/applecider_crossfit_sim.json``).  No real object is used.

  PYTHONPATH=src OMP_NUM_THREADS=1 nice -n 10 python tools/pretrain_applecider_sim.py \\
      --sim-dir ../main/runs/sim_v2_ztf40k --out runs/applecider_simpretrain --minutes 20

Writes ``OUT/applecider/{config.json, model.safetensors}`` and ``OUT/sim_holdout.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

HOLDOUT_HORIZONS = (3, 5, 10, 30)


def holdout_scores(model, lcs, labels, horizons=HOLDOUT_HORIZONS) -> dict:
    """Macro-AUROC (one-vs-rest) and accuracy of ``model`` on light curves cut at each horizon (objects
    with too few detections at a horizon are skipped; N reported)."""
    from sklearn.metrics import roc_auc_score

    from astroembed.models.applecider.features import photometry_tokens, truncate_lightcurve

    classes = list(model.classes)
    out = {}
    for h in horizons:
        cut, y = [], []
        for lc, lab in zip(lcs, labels):
            c = truncate_lightcurve(lc, h)
            try:
                photometry_tokens(c, model.config.photometry)
            except ValueError:
                continue
            cut.append(c)
            y.append(lab)
        if not cut:
            out[str(h)] = {"n": 0}
            continue
        P = model.predict_proba(cut).to_numpy()
        y = np.asarray(y, dtype=object)
        au = [roc_auc_score(y == c, P[:, m]) for m, c in enumerate(classes) if 0 < (y == c).sum() < len(y)]
        acc = float(np.mean(np.asarray(classes, dtype=object)[P.argmax(1)] == y))
        out[str(h)] = {"n": len(y), "macro_auroc": round(float(np.mean(au)), 4), "accuracy": round(acc, 4)}
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default="configs/applecider_simpretrain.json")
    p.add_argument("--sim-dir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--minutes", type=float, default=20.0, help="replaces the config's max_minutes")
    p.add_argument("--epochs", type=int, default=None, help="override the config's epochs")
    p.add_argument("--n-train", type=int, default=None, help="use at most this many simulated events for training")
    p.add_argument("--n-holdout", type=int, default=2000,
                   help="held-out events: the last N of --sim-dir (never trained on), or the first N of --holdout-dir")
    p.add_argument("--holdout-dir", default=None, help="an independent simulated set (other seed) to score on")
    p.add_argument("--score-only", action="store_true", help="score the model already in OUT/applecider; no training")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)

    import torch

    from astroembed.models.applecider.config import AppleCiderTrainConfig
    from astroembed.models.applecider.sim_data import load_sim_lightcurves
    from astroembed.models.applecider.training import train_applecider

    torch.set_num_threads(args.threads)
    cfg = AppleCiderTrainConfig.from_file(args.config, max_minutes=args.minutes, epochs=args.epochs)
    t0 = time.time()
    out = Path(args.out)
    if args.holdout_dir is not None:
        ho_l, ho_y = load_sim_lightcurves(args.holdout_dir, classes=cfg.model.classes, n_max=args.n_holdout)
    if args.score_only:
        from astroembed.models.applecider.model import AppleCiderModel

        if args.holdout_dir is None:
            raise ValueError("--score-only needs --holdout-dir (the training set's tail depends on --sim-dir)")
        scores = holdout_scores(AppleCiderModel.from_pretrained(out / "applecider"), ho_l, ho_y)
        print(f"held-out simulated events ({args.holdout_dir}):", json.dumps(scores))
        return
    lcs, labels = load_sim_lightcurves(args.sim_dir, classes=cfg.model.classes)
    if args.holdout_dir is None:
        if len(lcs) <= args.n_holdout:
            raise ValueError(f"--n-holdout {args.n_holdout}: the set has only {len(lcs)} events of the model classes")
        tr_l, tr_y = lcs[:-args.n_holdout], labels[:-args.n_holdout]
        ho_l, ho_y = lcs[-args.n_holdout:], labels[-args.n_holdout:]
    else:
        tr_l, tr_y = lcs, labels
    if args.n_train is not None:
        tr_l, tr_y = tr_l[:args.n_train], tr_y[:args.n_train]
    print(f"{len(tr_l)} training / {len(ho_l)} held-out simulated light curves ({time.time() - t0:.0f} s)", flush=True)
    model, hist = train_applecider(cfg, tr_l, tr_y, None, device="cpu", log=lambda s: print(s, flush=True))
    scores = holdout_scores(model, ho_l, ho_y)
    print("held-out simulated events:", json.dumps(scores), flush=True)
    meta = {"trained_on": f"simulated light curves only ({args.sim_dir}, {len(tr_l)} events); no real object",
            "sim_holdout_from": args.holdout_dir or f"last {len(ho_l)} events of {args.sim_dir}",
            "train_config": cfg.to_dict(), "epochs_done": hist["epochs_done"], "class_counts": hist["class_counts"],
            "sim_holdout": scores, "host": platform.machine(), "wall_s": round(time.time() - t0)}
    model.save_pretrained(out / "applecider", extra_metadata=meta)
    (out / "sim_holdout.json").write_text(json.dumps({"holdout": scores, "epochs_done": hist["epochs_done"],
                                                      "finetune_loss": hist["finetune"]}, indent=1))
    print(f"wrote {out / 'applecider'} ({hist['epochs_done']} epochs, {time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
