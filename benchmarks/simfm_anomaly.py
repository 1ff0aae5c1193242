"""The anomaly-method comparison of ``eval_simfm.py`` (task ``anomaly_select``): every
``AnomalyDetector`` method on the project's outer folds, plus the declared inner-validation rule that
picks the reported method per outer fold from the training folds only (rule: ``eval_simfm.py``'s module
docstring, task ``anomaly_select``).  Imported by ``eval_simfm.py``; not run on its own.
"""

from __future__ import annotations

import numpy as np

from astroembed.anomaly import AnomalyDetector

NORMAL_TYPES = {"SN Ia": "Ia", "SN II": "II", "SN IIP": "II", "SN Ib": "Ibc", "SN Ic": "Ibc", "SN Ib/c": "Ibc",
                "SN IIn": "IIn"}
ANOMALY_TYPES = ("SN Ia-91T", "SN Ia-91bg", "SN Ia-pec", "SN Iax", "SN Ia-CSM", "SN Ic-BL", "SN Ibn", "SN Icn",
                 "SLSN-I", "SLSN-II", "TDE", "ILRT", "LRN", "LBV", "Ca-rich", "nova")
N_FOLDS = 5


def _anomaly_summary(score, typ, normal, anom, fold) -> dict:
    from sklearn.metrics import roc_auc_score

    sel = normal | anom
    per_fold = [float(roc_auc_score(anom[sel & (fold == k)], score[sel & (fold == k)])) for k in range(N_FOLDS)]
    types = [t for t in ANOMALY_TYPES if (typ == t).sum() >= 5]
    per_type = {t: float(roc_auc_score(np.r_[np.zeros(normal.sum()), np.ones((typ == t).sum())],
                                       np.r_[score[normal], score[typ == t]])) for t in types}
    return {"auroc": float(roc_auc_score(anom[sel], score[sel])), "fold_mean": float(np.mean(per_fold)),
            "fold_std": float(np.std(per_fold, ddof=1)), "per_fold": per_fold,
            "macro_auroc": float(np.mean(list(per_type.values()))), "per_type": per_type}


def anomaly_select_task(X, obj, fold, methods) -> dict:
    """Every method in ``methods`` on the outer folds, plus the declared inner-validation selection (module
    docstring, task ``anomaly_select``); no test-fold object is used to choose a method."""
    from sklearn.metrics import roc_auc_score

    typ = obj["type"].to_numpy(dtype=object)
    normal = np.array([t in NORMAL_TYPES for t in typ])
    anom = np.array([t in ANOMALY_TYPES for t in typ])
    cls = np.array([NORMAL_TYPES.get(t) for t in typ], dtype=object)

    def scores(fit_idx, score_idx):
        out = {}
        for m in methods:
            det = AnomalyDetector(None, method=m, seed=0).fit_embeddings(X[fit_idx], cls[fit_idx])
            out[m] = det.score_embeddings(X[score_idx])
        return out

    outer = {m: np.full(len(X), np.nan) for m in methods}
    chosen = np.full(len(X), np.nan)
    picks, inner_aurocs = [], []
    for k in range(N_FOLDS):
        inner = {m: np.full(len(X), np.nan) for m in methods}
        for j in (f for f in range(N_FOLDS) if f != k):
            fit_idx = np.flatnonzero(normal & (fold != k) & (fold != j))
            val_idx = np.flatnonzero((normal | anom) & (fold == j))
            for m, v in scores(fit_idx, val_idx).items():
                inner[m][val_idx] = v
        val = (normal | anom) & (fold != k)
        auc = {m: float(roc_auc_score(anom[val], inner[m][val])) for m in methods}
        pick = max(methods, key=lambda m: (auc[m], -methods.index(m)))
        picks.append(pick), inner_aurocs.append(auc)
        te = np.flatnonzero((normal | anom) & (fold == k))
        for m, v in scores(np.flatnonzero(normal & (fold != k)), te).items():
            outer[m][te] = v
        chosen[te] = outer[pick][te]
        print(f"  anomaly_select fold {k}: inner AUROC " + ", ".join(f"{m} {a:.3f}" for m, a in auc.items())
              + f" -> {pick}", flush=True)
    res = {m: _anomaly_summary(outer[m], typ, normal, anom, fold) for m in methods}
    sel = normal | anom
    per_fold = [float(roc_auc_score(anom[sel & (fold == k)], chosen[sel & (fold == k)])) for k in range(N_FOLDS)]
    mean_inner = {m: float(np.mean([a[m] for a in inner_aurocs])) for m in methods}
    recommended = max(methods, key=lambda m: (picks.count(m), mean_inner[m], -methods.index(m)))
    res["selected"] = {"fold_mean": float(np.mean(per_fold)), "fold_std": float(np.std(per_fold, ddof=1)),
                       "per_fold": per_fold, "picks": picks, "inner_auroc": inner_aurocs,
                       "mean_inner_auroc": mean_inner, "recommended": recommended,
                       "pooled_auroc_if_unanimous": (res[picks[0]]["auroc"] if len(set(picks)) == 1 else None)}
    return res


def print_anomaly_select(results: dict) -> None:
    sel = {n: r["anomaly_select"] for n, r in results.items() if "anomaly_select" in r}
    if not sel:
        return
    methods = [m for m in next(iter(sel.values())) if m != "selected"]
    print("\nAnomaly AUROC, mean ± std over the 5 outer folds of the per-fold AUROC (pooled AUROC in brackets); "
          "'selected' = the declared inner-validation rule")
    print("\n| model | " + " | ".join(methods) + " | **selected (rule)** | picks per outer fold | recommended |")
    print("|" + "---|" * (len(methods) + 4))
    for n, r in sel.items():
        cells = [f"{r[m]['fold_mean']:.3f} ± {r[m]['fold_std']:.3f} ({r[m]['auroc']:.3f})" for m in methods]
        s = r["selected"]
        print(f"| {n} | " + " | ".join(cells) + f" | **{s['fold_mean']:.3f} ± {s['fold_std']:.3f}** | "
              f"{', '.join(s['picks'])} | {s['recommended']} |")
    print("\n| model | " + " | ".join(f"mean inner AUROC {m}" for m in methods) + " |")
    print("|" + "---|" * (len(methods) + 1))
    for n, r in sel.items():
        print(f"| {n} | " + " | ".join(f"{r['selected']['mean_inner_auroc'][m]:.3f}" for m in methods) + " |")
    print("\n| model | method | macro AUROC (types ≥ 5) | " + " | ".join(
        t for t in next(iter(sel.values()))[methods[0]]["per_type"]) + " |")
    print("|" + "---|" * (3 + len(next(iter(sel.values()))[methods[0]]["per_type"])))
    for n, r in sel.items():
        for m in methods:
            print(f"| {n} | {m} | {r[m]['macro_auroc']:.3f} | "
                  + " | ".join(f"{v:.2f}" for v in r[m]["per_type"].values()) + " |")
