"""Spectrum tasks on real Open Supernova Catalog spectra: 5-class classification and redshift from spectrum
embeddings (kNN, k fixed in advance), against the SNID-like template cross-correlation baseline.

    PYTHONPATH=src python benchmarks/eval_spectra.py --data-root ../shared/data --out runs/eval_spectra \
        --model maven-v2=runs/mavenv2/maven-v2-spec --model maven-sim --model maven [--snid]

Protocol (fixed before looking at any result):
* objects: every OSC SN with a Maven-5 class (Ia, II, Ibc, IIn, SLSN-I) and a redshift; one spectrum
  per SN = the one covering most of 3800–9200 Å (ties: the first); SNe whose best spectrum covers less
  than half of that window are dropped.
* 5 stratified folds over SNe (:func:`astroembed.train.folds.stratified_group_folds`, seed 0).  For each
  test fold, the references are the other four folds' embeddings: kNN class (k = 10, cosine, majority),
  kNN redshift (k = 10, cosine, distance-weighted), the zero-shot kNN redshift of v1's tables (k = 100),
  and an RBF SVC (C = 1, balanced).  Mean ± std over folds.
* leakage: a model that saw some OSC objects in training is scored only on test objects it never saw
  (``maven`` v1: the objects of its release fine-tuning, ``release_split`` train/val in
  ``_weights/maven/folds.csv``, are references only, never queries).  ``maven-sim`` and the v2 spectrum
  models never saw any OSC spectrum.
* SNID-like: no training; every test spectrum is cross-correlated with the templates of SNe that are
  not OSC objects (the same template bank as the v2 encoder's training data).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

MAVEN5 = ("Ia", "II", "Ibc", "IIn", "SLSN-I")
K_CLASS, K_Z, K_ZERO_SHOT = 10, 10, 100


def load_osc_spectra(data_root):
    """(spectra, labels, redshifts, names) — one Spectrum per SN, see the protocol."""
    from astroembed.datasets.osc import _make_spectrum

    root = Path(data_root) / "oac_2010_2014"
    s = pd.read_parquet(root / "spectra.parquet")
    s = s[s["class_broad"].isin(MAVEN5) & np.isfinite(s["redshift"])]
    best: dict[str, tuple[float, object]] = {}
    for row in s.itertuples(index=False):
        w = np.asarray(row.wave, dtype=np.float64)
        if len(w) < 10 or not np.isfinite(w).any():
            continue
        cov = (min(np.nanmax(w), 9200.0) - max(np.nanmin(w), 3800.0)) / 5400.0
        if row.name not in best or cov > best[row.name][0]:
            best[row.name] = (cov, row)
    spectra, labels, zs, names = [], [], [], []
    for name in sorted(best):
        cov, row = best[name]
        if cov < 0.5:
            continue
        try:
            sp = _make_spectrum(row, name, row.class_broad, float(row.redshift))
        except ValueError:
            continue
        spectra.append(sp)
        labels.append(row.class_broad)
        zs.append(float(row.redshift))
        names.append(name)
    return spectra, np.array(labels, dtype=object), np.array(zs), np.array(names, dtype=object)


def seen_by(model_name: str, names) -> np.ndarray:
    """Objects a bundled model was fine-tuned / validated on (True = never a query)."""
    if model_name != "maven":
        return np.zeros(len(names), bool)
    import astroembed

    f = Path(astroembed.__file__).parent / "_weights" / "maven" / "folds.csv"
    t = pd.read_csv(f, dtype=str)
    used = set(t[(t["dataset"] == "osc") & t["release_split"].isin(["train", "val"])]["object_id"])
    return np.isin(names, list(used))


def fold_metrics(X, labels, zs, folds, seen):
    from astroembed.evaluate import classification_metrics, make_probe, redshift_metrics
    from astroembed.tasks import zero_shot_redshift

    rows = []
    for k in range(int(folds.max()) + 1):
        tr, te = folds != k, (folds == k) & ~seen
        if te.sum() == 0:
            continue
        r = {"fold": k, "n_test": int(te.sum())}
        p = make_probe("classification", "knn", n_neighbors=K_CLASS).fit(X[tr], labels[tr]).predict(X[te])
        r["knn_macro_f1"] = classification_metrics(labels[te], p, labels=MAVEN5)["macro_f1"]
        p = make_probe("classification", "svc", C=1.0).fit(X[tr], labels[tr]).predict(X[te])
        r["svc_macro_f1"] = classification_metrics(labels[te], p, labels=MAVEN5)["macro_f1"]
        zp = make_probe("regression", "knn", n_neighbors=K_Z).fit(X[tr], zs[tr]).predict(X[te])
        m = redshift_metrics(zs[te], zp)
        r.update({"knn_z_r2": m["r2"], "knn_z_nmad": m["nmad"], "knn_z_outlier": m["outlier_frac"]})
        zp, _ = zero_shot_redshift(X[te], X[tr], zs[tr], k=K_ZERO_SHOT, weights="distance")
        r["zeroshot100_z_r2"] = redshift_metrics(zs[te], zp)["r2"]
        rows.append(r)
    return rows


def snid_metrics(pred_label, pred_z, labels, zs, folds):
    from astroembed.evaluate import classification_metrics, redshift_metrics

    rows = []
    for k in range(int(folds.max()) + 1):
        te = folds == k
        lab = np.array([p if p is not None else "none" for p in pred_label[te]], dtype=object)
        z = np.where(np.isfinite(pred_z[te]), pred_z[te], np.nanmedian(pred_z))
        m = redshift_metrics(zs[te], z)
        rows.append({"fold": k, "n_test": int(te.sum()),
                     "knn_macro_f1": classification_metrics(labels[te], lab, labels=MAVEN5)["macro_f1"],
                     "knn_z_r2": m["r2"], "knn_z_nmad": m["nmad"], "knn_z_outlier": m["outlier_frac"]})
    return rows


def summarise(rows):
    keys = [k for k in rows[0] if k not in ("fold",)]
    return {k: (float(np.mean([r[k] for r in rows])), float(np.std([r[k] for r in rows]))) for k in keys}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", default="../shared/data")
    ap.add_argument("--out", required=True)
    ap.add_argument("--model", action="append", default=[], help="NAME or NAME=DIR (repeatable)")
    ap.add_argument("--snid", action="store_true", help="also run the SNID-like baseline")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)

    import torch

    import astroembed as ae
    from astroembed.train.folds import stratified_group_folds

    torch.set_num_threads(a.threads)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    spectra, labels, zs, names = load_osc_spectra(a.data_root)
    folds = stratified_group_folds(labels, names, 5, 0)
    print(f"{len(spectra)} OSC SNe: " + ", ".join(f"{c} {int((labels == c).sum())}" for c in MAVEN5), flush=True)
    pd.DataFrame({"name": names, "label": labels, "redshift": zs, "fold": folds}).to_csv(out / "objects.csv",
                                                                                           index=False)
    results = {}
    for spec in a.model:
        name, _, path = spec.partition("=")
        t0 = time.time()
        model = ae.load_pretrained(path or name)
        X = model.embed_spectrum(spectra, batch_size=128)
        seen = seen_by(name if not path else "", names)
        results[name] = {"rows": fold_metrics(X, labels, zs, folds, seen), "n_seen_excluded": int(seen.sum()),
                         "seconds": time.time() - t0}
        results[name]["summary"] = summarise(results[name]["rows"])
        print(name, json.dumps(results[name]["summary"]), flush=True)
    if a.snid:
        from astroembed.evaluate.snid_baseline import SnidLikeClassifier
        from astroembed.train.spectrum_templates import load_template_bank

        t0 = time.time()
        osc_all = pd.read_parquet(Path(a.data_root) / "oac_2010_2014" / "spectra.parquet", columns=["name"])
        bank = load_template_bank(a.data_root, exclude_names=osc_all["name"].tolist())
        clf = SnidLikeClassifier.from_template_bank(bank)
        res = clf.predict(spectra)
        pd.DataFrame({"name": names, "label": labels, "redshift": zs, "snid_label": res.label,
                      "snid_z": res.redshift, "snid_score": res.score}).to_csv(out / "snid_predictions.csv",
                                                                               index=False)
        results["SNID-like"] = {"rows": snid_metrics(res.label, res.redshift, labels, zs, folds),
                                "seconds": time.time() - t0, "n_templates": len(clf.labels)}
        results["SNID-like"]["summary"] = summarise(results["SNID-like"]["rows"])
        print("SNID-like", json.dumps(results["SNID-like"]["summary"]), flush=True)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    lines = ["| metric | " + " | ".join(results) + " |", "|---|" + "---|" * len(results)]
    for key, lab in (("knn_macro_f1", f"5-class macro-F1, kNN k={K_CLASS} (SNID: best templates)"),
                     ("svc_macro_f1", "5-class macro-F1, SVC C=1"),
                     ("knn_z_r2", f"redshift R², kNN k={K_Z} (SNID: cross-correlation)"),
                     ("zeroshot100_z_r2", f"redshift R², zero-shot kNN k={K_ZERO_SHOT}"),
                     ("knn_z_nmad", "redshift NMAD of Δz/(1+z)"),
                     ("knn_z_outlier", "redshift outliers |Δz|/(1+z) > 0.15"),
                     ("n_test", "test objects per fold")):
        cells = [f"{r['summary'][key][0]:.3f} ± {r['summary'][key][1]:.3f}" if key in r["summary"] else "–"
                 for r in results.values()]
        lines.append(f"| {lab} | " + " | ".join(cells) + " |")
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
