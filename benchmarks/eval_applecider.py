"""Horizon sweep of AppleCiDEr on BTS, cross-fitted (5 folds; the Maven folds where they exist).

Stages (each writes into --out, later ones read it):

  train      for every fold k: train on the other folds (+ unlabelled BTS light curves for the masked
             pre-training), predict the held-out fold with light curves cut at first detection + h for
             h in HORIZONS, with and without metadata -> oof_applecider_fold{k}.parquet
  baselines  (--baselines-name NAME -> oof_NAME.parquet) at each horizon and fold: logistic regression (fixed C=1, balanced class weights, standardised
             inputs; nothing tuned) on (a) the hand-made light-curve features of evaluate.features,
             (b) those + the metadata features with missing indicators, (c) maven / maven-sim embeddings of
             the cut light curves -> oof_baselines.parquet
  spectra    OSC spectrum classification, cross-fitted, SpectraNet vs an SNID-like template baseline
             (see applecider_spectra.py) -> spectra_oof.parquet, spectra_table.md
  report     metrics per horizon and method (pooled out-of-fold predictions; ± = std over the 5 folds)
             -> horizon_table.md, horizon_metrics.csv, plots

  PYTHONPATH=src OMP_NUM_THREADS=1 nice -n 10 python benchmarks/eval_applecider.py --stage train --out runs/applecider_eval
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HORIZONS = (3, 5, 10, 20, 30, 50, 100)


def _data(args):
    from astroembed.models.applecider.bts import crossfit_folds, load_bts_applecider

    d = load_bts_applecider(args.data_root)
    folds = crossfit_folds(d.objects["object_id"], d.labels)
    return d, folds


def _cut(lc, h):
    from astroembed.models.applecider.features import truncate_lightcurve

    return truncate_lightcurve(lc, h)


def predict_rows(model, cfg, d, te, fold, tag, horizons=HORIZONS) -> list[dict]:
    """Out-of-sample prediction rows of ``model`` for the objects ``te`` of ``d``, light curves cut at
    first detection + h for h in ``horizons`` (objects with too few detections at h skipped), with and
    without metadata (method ``"TAG (phot)"`` / ``"TAG (phot+meta)"``)."""
    from astroembed.models.applecider.features import photometry_tokens

    classes = list(cfg.model.classes)
    rows = []
    for h in horizons:
        lcs, idx = [], []
        for i in te:
            try:
                lc = _cut(d.lightcurves[i], h)
                photometry_tokens(lc, cfg.model.photometry)
            except ValueError:
                continue
            lcs.append(lc)
            idx.append(i)
        idx = np.asarray(idx)
        for mode in (("phot", "phot+meta") if cfg.model.metadata is not None else ("phot",)):
            meta = d.metadata.iloc[idx].reset_index(drop=True) if mode == "phot+meta" else None
            p = model.predict_proba(lcs, metadata=meta).to_numpy()
            for j, i in enumerate(idx):
                rows.append({"object_id": d.objects["object_id"][i], "label": d.labels[i], "fold": fold,
                             "horizon": h, "method": f"{tag} ({mode})",
                             **{c: float(p[j, m]) for m, c in enumerate(classes)}})
    return rows


def stage_train(args):
    import torch

    from astroembed.models.applecider.config import AppleCiderTrainConfig
    from astroembed.models.applecider.training import train_applecider

    torch.set_num_threads(args.threads)
    cfg = AppleCiderTrainConfig.from_file(args.config, seed=args.seed)
    d, folds = _data(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for k in args.folds:
        path = out / f"oof_{args.tag}_fold{k}.parquet"
        if path.exists():
            print(f"fold {k}: exists, skipped")
            continue
        t0 = time.time()
        tr = np.flatnonzero(folds != k)          # includes unlabelled (-1): pre-training only
        te = np.flatnonzero(folds == k)
        model, hist = train_applecider(cfg, [d.lightcurves[i] for i in tr], [d.labels[i] for i in tr],
                                       d.metadata.iloc[tr].reset_index(drop=True), log=lambda s: None)
        rows = predict_rows(model, cfg, d, te, k, args.tag)
        pd.DataFrame(rows).to_parquet(path)
        print(f"fold {k}: {hist['epochs_done']} epochs, {len(te)} test objects, {time.time() - t0:.0f} s", flush=True)


def embed_sources(specs) -> dict:
    """``--embed-models`` entries -> {row label: what ``ae.load_pretrained`` gets}: a registry name is its
    own label; ``LABEL=DIR`` loads a saved model directory under LABEL."""
    out = {}
    for spec in specs:
        label, eq, src = spec.partition("=")
        if eq and not (label and src):
            raise ValueError(f"--embed-models {spec!r}: expected NAME or LABEL=DIR")
        if label in out:
            raise ValueError(f"--embed-models: label {label!r} given twice")
        out[label] = src if eq else label
    return out


def _logreg_oof(X, y, folds, valid, classes):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    P = np.full((len(y), len(classes)), np.nan)
    for k in range(5):
        tr = np.flatnonzero((folds != k) & (folds >= 0) & valid)
        te = np.flatnonzero((folds == k) & valid)
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000))
        clf.fit(X[tr], y[tr])
        pr = clf.predict_proba(X[te])
        P[np.ix_(te, [classes.index(c) for c in clf.classes_])] = pr
        P[te] = np.nan_to_num(P[te])
    return P


def stage_baselines(args):
    import torch

    import astroembed as ae
    from astroembed.evaluate.features import lightcurve_features
    from astroembed.models.applecider.config import AppleCiderTrainConfig
    from astroembed.models.applecider.features import METADATA_FIELDS, metadata_matrix, photometry_tokens

    torch.set_num_threads(args.threads)
    cfg = AppleCiderTrainConfig.from_file(args.config)
    classes = list(cfg.model.classes)
    d, folds = _data(args)
    lab = np.flatnonzero(folds >= 0)
    y = np.array([d.labels[i] for i in lab], dtype=object)
    f = folds[lab]
    mv, mm = metadata_matrix(d.metadata.iloc[lab].reset_index(drop=True), tuple(METADATA_FIELDS), len(lab))
    meta = np.concatenate([mv, mm], axis=1)
    embedders = {label: ae.load_pretrained(src) for label, src in embed_sources(args.embed_models).items()}
    rows = []
    for h in HORIZONS:
        t0 = time.time()
        valid = np.zeros(len(lab), bool)
        cut = []
        for j, i in enumerate(lab):
            try:
                lc = _cut(d.lightcurves[i], h)
                photometry_tokens(lc, cfg.model.photometry)   # same objects as the model (>= 2 detections)
                valid[j] = True
            except ValueError:
                lc = d.lightcurves[i]
            cut.append(lc)
        inputs = {}
        if not args.embed_only:
            feats = np.stack([lightcurve_features(lc) for lc in cut])
            inputs = {"features": feats, "features+meta": np.concatenate([feats, meta], axis=1)}
        for name, m in embedders.items():
            # rows of objects unusable at h (not in `valid`) are never fitted or scored: NaN -> 0 is harmless
            inputs[f"{name} emb."] = np.nan_to_num(m.embed_lightcurve(cut, batch_size=256, errors="coerce"))
        inputs.update({f"{name} emb.+meta": np.concatenate([inputs[f"{name} emb."], meta], axis=1)
                       for name in embedders})
        for meth, X in inputs.items():
            P = _logreg_oof(X, y, f, valid, classes)
            for j in np.flatnonzero(valid):
                rows.append({"object_id": d.objects["object_id"][lab[j]], "label": y[j], "fold": int(f[j]),
                             "horizon": h, "method": meth, **{c: float(P[j, m]) for m, c in enumerate(classes)}})
        print(f"horizon {h}: {valid.sum()} objects, {time.time() - t0:.0f} s", flush=True)
    pd.DataFrame(rows).to_parquet(Path(args.out) / f"oof_{args.baselines_name}.parquet")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stage", choices=("train", "baselines", "report", "spectra"), required=True)
    p.add_argument("--out", default="runs/applecider_eval")
    p.add_argument("--config", default="configs/applecider_crossfit.json")
    p.add_argument("--data-root", default=None)
    p.add_argument("--spectra-config", default="configs/applecider_spectra_crossfit.json")
    p.add_argument("--folds", type=lambda s: [int(x) for x in s.split(",")], default=[0, 1, 2, 3, 4])
    p.add_argument("--embed-models", nargs="*", default=["maven-sim", "maven"],
                   help="registry names, or LABEL=DIR for a saved model directory (rows named 'LABEL emb.')")
    p.add_argument("--baselines-name", default="baselines",
                   help="the baselines stage writes oof_NAME.parquet (keep the default file when adding rows)")
    p.add_argument("--embed-only", action="store_true",
                   help="baselines stage: only the embedding rows (the feature rows are already in oof_baselines)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=None, help="train stage: replaces the config's seed")
    p.add_argument("--img-dir", default="docs/img/models", help="where the report stage writes its plots")
    p.add_argument("--plot-exclude", default=None,
                   help="report stage: regex of methods left out of the plots (the tables keep every method)")
    p.add_argument("--tag", default="applecider", help="method name / file prefix of the trained model's predictions")
    args = p.parse_args(argv)
    if args.stage == "train":
        stage_train(args)
    elif args.stage == "baselines":
        stage_baselines(args)
    elif args.stage == "spectra":
        from applecider_spectra import stage_spectra

        stage_spectra(args)
    else:
        from applecider_report import stage_report

        stage_report(args)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
