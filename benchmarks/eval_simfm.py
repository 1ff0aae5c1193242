"""Evaluate SimFM (and maven, maven-sim, the feature baseline) on real ZTF BTS and on the ZTF → LSST
zero-shot redshift task; writes ``<out>/results.json`` and prints the markdown tables of docs/models/simfm.md.

Cross-fitting: the project's folds (``_weights/maven/folds.csv``, ``crossfit_fold`` of the ztf_bts rows);
objects without a fold there (the rare types, used only as anomalies) get a fold from a seeded
permutation.  Every hyper-parameter is fixed here in advance (logistic C = 1, ridge α = 1, kNN k = 10,
isolation forests of 200 trees, fine-tuning epochs); nothing is chosen on a test fold.

Tasks (per model)
* ``probe``: frozen embedding → standardised logistic regression (class-balanced) on the training folds →
  macro one-vs-rest AUROC on the test fold (5 classes, ``class_maven5``); ``Full`` = all training-fold
  objects, ``Limited`` = 128 random training-fold objects (5 draws, uniform as evaluate's limited scenario).
* ``redshift``: frozen embedding → ridge (α = 1) and kNN (k = 10) → MSE × 10² on the test fold.
* ``anomaly``: AnomalyDetector(method) fitted on the normal objects (SN Ia, II + IIP, Ib + Ic + Ib/c, IIn)
  of the training folds, scoring the test fold's normal objects and its share of the rare types;
  AUROC (all anomalies vs normals, on the pooled cross-fitted scores; fold std) and macro AUROC (mean
  over anomaly types with >= 5 objects of type-vs-normals AUROC).
* ``anomaly_select`` (``--anomaly-methods``, default all of ``AnomalyDetector``'s methods with the fixed
  settings above; LOF with k = 10): every method on the same outer folds, and the **declared selection
  rule** (fixed in commit "eval_simfm: declared anomaly-method rule" before any test number of a new
  method was computed, applied identically to every embedding):
  within each outer fold k, only the four training folds are used: for each of them j, fit every method on
  the normal objects of the training folds other than j and score fold j's normal and rare-type objects;
  the method with the highest AUROC on these pooled inner scores (inner validation: normals and
  rare-type objects of the *training* folds only) is used for test fold k (ties: the first in
  ``--anomaly-methods`` order, mcif first).  The reported anomaly AUROC of a model is the mean ± std over
  the five outer folds of the selected method's test-fold AUROC (per fold, since the scales of different
  methods are not comparable across folds); the model's recommended method is the one picked in most
  outer folds (ties: the higher mean inner AUROC).  Fixed methods are reported with the same per-fold
  mean and, as before, the pooled AUROC.
* ``finetune`` (SimFM models, ``--finetune``): the encoder is unfrozen and trained with a new 5-class head
  + the redshift head on the training folds (Full) or on 128 of them (Limited, 5 draws); AUROC and
  redshift MSE from the heads.
* ``zero_shot``: simulated ZTF (``ztf_zs``, or each ``--zs-refs`` set) embeddings → ridge / standardised
  ridge / kNN redshift → predict simulated LSST (``lsst_zs``, restricted to the reference's z range); R² and
  MSE, plus the regressor picked by 5-fold CV *within* the ZTF reference (no LSST label is used to choose).

Usage::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/eval_simfm.py --models simfm maven maven-sim features \
        --out /work/data_sim/eval_simfm
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

import astroembed as ae
from astroembed.anomaly import METHODS as AD_METHODS
from astroembed.anomaly import AnomalyDetector
from astroembed.datasets import load_ztf_bts
from astroembed.evaluate.features import FeatureEmbedder
from astroembed.evaluate.probes import make_probe
from astroembed.models.registry import bundled_weights_dir

CLASSES5 = ("Ia", "II", "Ibc", "IIn", "SLSN-I")
from simfm_anomaly import ANOMALY_TYPES, N_FOLDS, NORMAL_TYPES, anomaly_select_task, print_anomaly_select  # noqa: E402

N_LABELLED, N_DRAWS = 128, 5


def load_bts():
    ds = load_ztf_bts(classes=None)
    obj = ds.objects.reset_index(drop=True)
    folds = pd.read_csv(bundled_weights_dir() / "maven" / "folds.csv")
    fmap = dict(zip(folds.object_id[folds.dataset == "ztf_bts"], folds.crossfit_fold[folds.dataset == "ztf_bts"]))
    rng = np.random.default_rng(0)
    extra = rng.permutation(len(obj)) % N_FOLDS
    fold = np.array([int(fmap.get(oid, extra[i])) for i, oid in enumerate(obj.object_id)])
    return ds.lightcurves, obj, fold, int(sum(oid in fmap for oid in obj.object_id))


def load_model(name: str):
    """``features``, a registered name, or ``label=path`` (a local model directory)."""
    if name == "features":
        return FeatureEmbedder(dim=64, seed=0)
    return ae.load_pretrained(name.partition("=")[2] or name)


def embed(model, lcs, cache: Path) -> np.ndarray:
    if cache.exists():
        return np.load(cache)
    X = model.embed_lightcurve(lcs) if isinstance(model, FeatureEmbedder) else model.embed_lightcurve(
        lcs, batch_size=128)
    np.save(cache, X)
    return X


def macro_auroc(y, P, classes) -> float:
    from sklearn.metrics import roc_auc_score

    return float(np.mean([roc_auc_score(y == c, P[:, k]) for k, c in enumerate(classes)]))


def _logistic():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced"))


def _proba(clf, X, classes):
    P = np.zeros((len(X), len(classes)))
    got = clf.predict_proba(X)
    for j, c in enumerate(clf.classes_):
        P[:, classes.index(c)] = got[:, j]
    return P


def _subsets(tr, scenario, seed=0):
    if scenario == "full":
        return [tr]
    return [np.sort(np.random.default_rng([seed, d]).choice(tr, size=N_LABELLED, replace=False))
            for d in range(N_DRAWS)]


def _summ(vals_by_draw):
    """mean ± std over draws of the fold means (one draw for Full: std over folds)."""
    v = np.asarray(vals_by_draw, dtype=float)  # (draws, folds)
    if v.shape[0] == 1:
        return {"mean": float(v.mean()), "std": float(v.std(ddof=1)), "std_over": "folds"}
    return {"mean": float(v.mean()), "std": float(v.mean(1).std(ddof=1)), "std_over": "draws"}


def probe_tasks(X, obj, fold):
    lab = obj["class_maven5"].to_numpy(dtype=object)
    has = np.array([c in CLASSES5 for c in lab])
    z = obj["redshift"].to_numpy(float)
    hz = has & np.isfinite(z)
    out = {}
    for scen in ("full", "limited"):
        auc, mse_r, mse_k = [], [], []
        for d in range(1 if scen == "full" else N_DRAWS):
            a_f, r_f, k_f = [], [], []
            for k in range(N_FOLDS):
                tr, te = np.flatnonzero(has & (fold != k)), np.flatnonzero(has & (fold == k))
                sub = _subsets(tr, scen)[0 if scen == "full" else d]
                clf = _logistic().fit(X[sub], lab[sub])
                a_f.append(macro_auroc(lab[te], _proba(clf, X[te], list(CLASSES5)), CLASSES5))
                trz, tez = np.intersect1d(sub, np.flatnonzero(hz)), np.flatnonzero(hz & (fold == k))
                for probe, acc in (("ridge", r_f), ("knn", k_f)):
                    est = make_probe("regression", probe, **({"alpha": 1.0} if probe == "ridge" else {"n_neighbors": 10}))
                    est.fit(X[trz], z[trz])
                    acc.append(100 * float(np.mean((est.predict(X[tez]) - z[tez]) ** 2)))
            auc.append(a_f), mse_r.append(r_f), mse_k.append(k_f)
        out[scen] = {"auroc": _summ(auc), "z_mse_ridge": _summ(mse_r), "z_mse_knn": _summ(mse_k)}
    return out


def anomaly_task(X, obj, fold, method, **kw):
    from sklearn.metrics import roc_auc_score

    typ = obj["type"].to_numpy(dtype=object)
    normal = np.array([t in NORMAL_TYPES for t in typ])
    anom = np.array([t in ANOMALY_TYPES for t in typ])
    cls = np.array([NORMAL_TYPES.get(t) for t in typ], dtype=object)
    score = np.full(len(X), np.nan)
    per_fold = []
    for k in range(N_FOLDS):
        tr = np.flatnonzero(normal & (fold != k))
        te = np.flatnonzero((normal | anom) & (fold == k))
        det = AnomalyDetector(None, method=method, seed=0, **kw).fit_embeddings(X[tr], cls[tr])
        score[te] = det.score_embeddings(X[te])
        per_fold.append(roc_auc_score(anom[te], score[te]))
    sel = normal | anom
    types = [t for t in ANOMALY_TYPES if (typ == t).sum() >= 5]
    per_type = {t: float(roc_auc_score(np.r_[np.zeros(normal.sum()), np.ones((typ == t).sum())],
                                       np.r_[score[normal], score[typ == t]])) for t in types}
    return {"auroc": float(roc_auc_score(anom[sel], score[sel])), "fold_std": float(np.std(per_fold, ddof=1)),
            "macro_auroc": float(np.mean(list(per_type.values()))), "per_type": per_type,
            "n_normal": int(normal.sum()), "n_anomaly": int(anom.sum())}


ZS_PROBES = ("ridge", "ridge_std", "knn")  # fixed in advance; ridge_std = StandardScaler → Ridge(α = 1)


def _zs_probe(name):
    if name == "ridge_std":
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(StandardScaler(), make_probe("regression", "ridge", alpha=1.0))
    return make_probe("regression", name, **({"alpha": 1.0} if name == "ridge" else {"n_neighbors": 10}))


def ztf_cv_pick(X, z, k=5, seed=0):
    """The zero-shot regressor chosen with ZTF labels only: lowest 5-fold cross-validated MSE *within* the
    ZTF reference set (no LSST event is looked at).  Returns (name, {name: cv mse})."""
    fold = np.random.default_rng(seed).permutation(len(z)) % k
    mse = {}
    for name in ZS_PROBES:
        pred = np.empty(len(z))
        for f in range(k):
            pred[fold == f] = _zs_probe(name).fit(X[fold != f], z[fold != f]).predict(X[fold == f])
        mse[name] = float(np.mean((pred - z) ** 2))
    return min(mse, key=mse.get), mse


def zero_shot(model, sim_root: Path, cache_dir: Path, name: str, ref_dir: Path | None = None):
    """ZTF reference (``ref_dir``, default ``<sim_root>/ztf_zs``) → LSST (``<sim_root>/lsst_zs``, always)."""
    from sklearn.metrics import r2_score

    from astroembed.simulate.dataset import read_parquet

    ref_dir = ref_dir or sim_root / "ztf_zs"
    tag = "ztf_zs" if ref_dir == sim_root / "ztf_zs" else ref_dir.name
    ztf, lsst = read_parquet(ref_dir), read_parquet(sim_root / "lsst_zs")
    Xz = embed(model, ztf.lightcurves, cache_dir / f"{name}_{tag}.npy")
    Xl = embed(model, lsst.lightcurves, cache_dir / f"{name}_lsst_zs.npy")
    zz, zl = ztf.truth["redshift"].to_numpy(float), lsst.truth["redshift"].to_numpy(float)
    pick, cv_mse = ztf_cv_pick(Xz, zz)
    out = {"reference": str(ref_dir), "n_ztf": len(zz), "z_range": [float(zz.min()), float(zz.max())],
           "z_quantiles_5_50_95": [float(v) for v in np.quantile(zz, [0.05, 0.5, 0.95])],
           "ztf_cv_mse": cv_mse, "ztf_cv_pick": pick}
    # "full": LSST events within the ZTF set's [min, max] z; "core": within its 5-95 % quantiles
    for rng_name, (lo, hi) in (("full", (zz.min(), zz.max())), ("core", tuple(np.quantile(zz, [0.05, 0.95])))):
        keep = (zl >= lo) & (zl <= hi)
        res = {"n_lsst": int(keep.sum()), "z_range": [float(lo), float(hi)],
               "constant_r2": float(r2_score(zl[keep], np.full(keep.sum(), zz.mean())))}
        for probe in ZS_PROBES:
            pred = _zs_probe(probe).fit(Xz, zz).predict(Xl[keep])
            res[probe] = {"r2": float(r2_score(zl[keep], pred)), "mse": float(np.mean((pred - zl[keep]) ** 2))}
        res["ztf_cv_pick"] = res[pick] | {"probe": pick}
        out[rng_name] = res
    return out


def finetune_task(name, lcs, obj, fold, epochs_full=8, epochs_limited=20):
    import torch

    from astroembed.models.simfm import SimFMModel
    from astroembed.models.simfm.training import SimFMTrainConfig, fit_simfm

    base = ae.load_pretrained(name)
    name = getattr(base.config, "encoder", name)
    cfg = base.config.replace(class_names=CLASSES5, n_surveys=0, redshift_head=True)
    lab = obj["class_maven5"].to_numpy(dtype=object)
    has = np.array([c in CLASSES5 for c in lab])
    z = obj["redshift"].to_numpy(float)
    y = np.array([CLASSES5.index(c) if c in CLASSES5 else -100 for c in lab])
    out = {}
    for scen in ("full", "limited"):
        auc, mse = [], []
        for d in range(1 if scen == "full" else N_DRAWS):
            a_f, m_f = [], []
            for k in range(N_FOLDS):
                tr, te = np.flatnonzero(has & (fold != k)), np.flatnonzero(has & (fold == k))
                sub = _subsets(tr, scen)[0 if scen == "full" else d]
                torch.manual_seed(k)
                model = SimFMModel(cfg)
                sd = {kk: v for kk, v in base.state_dict().items()
                      if not kk.startswith(("classifier.", "survey_head."))}
                model.load_state_dict(sd, strict=False)
                items = [model.preprocess_lightcurve(lcs[i]) for i in sub]
                tc = SimFMTrainConfig(variant="classifier", lr=5e-4, batch_size=64, seed=k,
                                      epochs=epochs_full if scen == "full" else epochs_limited,
                                      val_fraction=0.1 if scen == "full" else 0.0, max_minutes=3.0)
                fit_simfm(model, items, y[sub], z[sub].astype(np.float32), np.zeros(len(sub), int), tc,
                          log=lambda m: None)
                P, zp = model.predict([lcs[i] for i in te])
                a_f.append(macro_auroc(lab[te], P, CLASSES5))
                ok = np.isfinite(z[te])
                m_f.append(100 * float(np.mean((zp[ok] - z[te][ok]) ** 2)))
            auc.append(a_f), mse.append(m_f)
            print(f"  finetune {name} {scen} draw {d}: AUROC {np.mean(a_f):.3f} zMSE×100 {np.mean(m_f):.3f}", flush=True)
        out[scen] = {"auroc": _summ(auc), "z_mse_head": _summ(mse)}
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=["simfm", "maven", "maven-sim", "features"],
                   help="registered names, 'features', or label=DIR for a local model directory")
    p.add_argument("--out", default="/work/data_sim/eval_simfm")
    p.add_argument("--sim-root", default="/work/data_sim/simfm")
    p.add_argument("--zs-refs", nargs="+", type=Path, default=None,
                   help="ZTF reference sets for zero_shot (default <sim-root>/ztf_zs); results under "
                        "'zero_shot' for ztf_zs and 'zero_shot@<dir name>' for the others; LSST is always "
                        "<sim-root>/lsst_zs")
    p.add_argument("--finetune", nargs="*", default=[], help="labels of SimFM models to fine-tune (unfrozen)")
    p.add_argument("--tasks", nargs="+", default=["probe", "anomaly", "zero_shot"],
                   help="tasks to (re)compute; results of other tasks already in results.json are kept")
    p.add_argument("--anomaly-methods", nargs="+", default=list(AD_METHODS),
                   help="candidate methods of the anomaly_select task, in tie-break order")
    p.add_argument("--print-only", nargs="+", metavar="RESULTS_JSON",
                   help="only print the tables of these results.json files (merged, in order)")
    a = p.parse_args(argv)
    if a.print_only:
        merged: dict = {}
        for f in a.print_only:
            merged |= json.loads(Path(f).read_text())
        print_tables(merged)
        return 0
    out = Path(a.out)
    (out / "emb").mkdir(parents=True, exist_ok=True)
    res_path = out / "results.json"
    results: dict = {}
    lcs, obj, fold, n_in_folds = load_bts()
    print(f"BTS: {len(lcs)} objects ({n_in_folds} with a project fold); folds {np.bincount(fold).tolist()}",
          flush=True)
    for spec in a.models:
        t = time.time()
        model, name = load_model(spec), spec.partition("=")[0]
        X = embed(model, lcs, out / "emb" / f"{name}_bts.npy")
        r = {}
        if "probe" in a.tasks:
            r["probe"] = probe_tasks(X, obj, fold)
        if "anomaly" in a.tasks:
            r |= {"anomaly_mcif": anomaly_task(X, obj, fold, "mcif"),
                  "anomaly_mcif_plain": anomaly_task(X, obj, fold, "mcif", extrapolation=False),
                  "anomaly_knn": anomaly_task(X, obj, fold, "knn")}
        if "anomaly_select" in a.tasks:
            r["anomaly_select"] = anomaly_select_task(X, obj, fold, list(a.anomaly_methods))
        if "zero_shot" in a.tasks:
            root = Path(a.sim_root)
            for ref in a.zs_refs or [root / "ztf_zs"]:
                key = "zero_shot" if ref == root / "ztf_zs" else f"zero_shot@{ref.name}"
                r[key] = zero_shot(model, root, out / "emb", name, ref)
        if name in a.finetune:
            r["finetune"] = finetune_task(spec.partition("=")[2] or spec, lcs, obj, fold)
        r["seconds"] = round(time.time() - t, 1)
        # re-read before writing: another run may have added models meanwhile
        results = json.loads(res_path.read_text()) if res_path.exists() else {}
        results[name] = copy.deepcopy(r) | {k: v for k, v in results.get(name, {}).items() if k not in r}
        res_path.write_text(json.dumps(results, indent=1) + "\n")
        print(f"{name}: done in {r['seconds']} s", flush=True)
    print_tables(json.loads(res_path.read_text()))
    return 0


def _f(d, key="mean"):
    return f"{d['mean']:.3f} ± {d['std']:.3f}" if d else "—"


def print_tables(results: dict) -> None:
    print("\nZTF→LSST columns: LSST events within the ZTF z range [min, max]; see the zero-shot table for MSE")
    print("\n| model | probe AUROC Full | probe AUROC Limited | z MSE×10² ridge Full | z MSE×10² kNN Full | "
          "z MSE×10² ridge Limited | anomaly AUROC MCIF | anomaly macro AUROC MCIF | anomaly AUROC plain MCIF | "
          "anomaly AUROC kNN | ZTF→LSST R² ridge | ZTF→LSST R² kNN |")
    print("|" + "---|" * 12)
    for name, r in results.items():
        if "probe" not in r or "anomaly_mcif" not in r:
            continue
        pr, zs = r["probe"], (r.get("zero_shot") or {}).get("full")
        print(f"| {name} | {_f(pr['full']['auroc'])} | {_f(pr['limited']['auroc'])} | {_f(pr['full']['z_mse_ridge'])} | "
              f"{_f(pr['full']['z_mse_knn'])} | {_f(pr['limited']['z_mse_ridge'])} | "
              f"{r['anomaly_mcif']['auroc']:.3f} ± {r['anomaly_mcif']['fold_std']:.3f} | "
              f"{r['anomaly_mcif']['macro_auroc']:.3f} | {r['anomaly_mcif_plain']['auroc']:.3f} | "
              f"{r['anomaly_knn']['auroc']:.3f} ± {r['anomaly_knn']['fold_std']:.3f} | "
              + (f"{zs['ridge']['r2']:.3f} | {zs['knn']['r2']:.3f} |" if zs else "— | — |"))
    print("\n| model | ZTF reference | ZTF→LSST z range | n LSST | R² ridge | R² kNN | R² ridge (standardised) | "
          "R² ZTF-CV pick | MSE ridge | MSE kNN | R² constant (ZTF mean) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        for key in sorted(k for k in r if k.startswith("zero_shot")):
            ref = "ztf_zs" if key == "zero_shot" else key.partition("@")[2]
            for rn in ("full", "core"):
                zs = r[key].get(rn)
                if not zs:
                    continue
                std = f"{zs['ridge_std']['r2']:.2f}" if "ridge_std" in zs else "—"
                pick = (f"{zs['ztf_cv_pick']['r2']:.2f} ({zs['ztf_cv_pick']['probe']})" if "ztf_cv_pick" in zs
                        else "—")
                print(f"| {name} | {ref} | {rn} {zs['z_range'][0]:.3f}–{zs['z_range'][1]:.3f} | {zs['n_lsst']} | "
                      f"{zs['ridge']['r2']:.2f} | {zs['knn']['r2']:.2f} | {std} | {pick} | "
                      f"{zs['ridge']['mse']:.4f} | {zs['knn']['mse']:.4f} | {zs['constant_r2']:.2f} |")
    ft = {n: r["finetune"] for n, r in results.items() if "finetune" in r}
    if ft:
        print("\n| model (unfrozen fine-tuning) | AUROC Full | AUROC Limited | z MSE×10² Full | z MSE×10² Limited |")
        print("|---|---|---|---|---|")
        for n, f in ft.items():
            print(f"| {n} | {_f(f['full']['auroc'])} | {_f(f['limited']['auroc'])} | {_f(f['full']['z_mse_head'])} | "
                  f"{_f(f['limited']['z_mse_head'])} |")
    print_anomaly_select(results)
    for n, r in results.items():
        if "anomaly_mcif" not in r:
            continue
        print(f"\n{n} anomaly per type (MCIF): " + ", ".join(f"{t} {v:.2f}" for t, v in r["anomaly_mcif"]["per_type"].items()))


if __name__ == "__main__":
    raise SystemExit(main())
