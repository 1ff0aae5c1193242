"""Metrics of the evaluation harness: classification, redshift, cross-modal retrieval.

All functions are pure numpy / scikit-learn and documented with the exact definition used.
"""

from __future__ import annotations

import numpy as np

__all__ = ["classification_metrics", "confusion_matrices", "redshift_metrics", "retrieval_ranks",
           "retrieval_metrics", "OUTLIER_REL", "OUTLIER_ABS"]

#: Catastrophic-outlier threshold on |Δz| / (1 + z_true).
OUTLIER_REL = 0.15
#: Variant threshold on |Δz|.
OUTLIER_ABS = 0.07


def classification_metrics(y_true, y_pred, labels=None) -> dict[str, float]:
    """Macro-F1, micro-F1 (= accuracy for single-label), macro precision and macro recall, accuracy.

    ``labels`` fixes the class list (classes absent from both ``y_true`` and ``y_pred`` still count in
    the macro averages with score 0 only if listed; ``zero_division=0``).
    """
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

    y_true, y_pred = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    if len(y_true) != len(y_pred) or len(y_true) == 0:
        raise ValueError(f"classification_metrics: need equal, non-zero lengths, got {len(y_true)}, {len(y_pred)}")
    labels = sorted(set(y_true.tolist())) if labels is None else list(labels)
    kw = {"labels": labels, "zero_division": 0}
    return {
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", **kw)),
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", **kw)),
        "macro_precision": float(precision_score(y_true, y_pred, average="macro", **kw)),
        "macro_recall": float(recall_score(y_true, y_pred, average="macro", **kw)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
    }


def confusion_matrices(y_true, y_pred, labels) -> dict[str, np.ndarray]:
    """Counts (rows = true class, columns = predicted), recall-normalised (each row sums to 1) and
    precision-normalised (each column sums to 1); empty rows/columns stay 0."""
    y_true, y_pred = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    labels = list(labels)
    pos = {c: i for i, c in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(y_true.tolist(), y_pred.tolist()):
        if t in pos and p in pos:
            cm[pos[t], pos[p]] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        rec = np.nan_to_num(cm / cm.sum(axis=1, keepdims=True))
        prec = np.nan_to_num(cm / cm.sum(axis=0, keepdims=True))
    return {"counts": cm, "recall": rec, "precision": prec}


def redshift_metrics(z_true, z_pred) -> dict[str, float]:
    """Redshift regression metrics.

    ``r2`` (coefficient of determination), ``l1`` = mean |Δz|, ``rmse`` = sqrt(mean Δz²) ("L2"),
    ``outlier_frac`` = fraction with |Δz| / (1 + z_true) > 0.15, ``outlier_frac_abs`` = fraction with
    |Δz| > 0.07, ``bias`` = median Δz / (1 + z_true), ``nmad`` = 1.4826 · median |δ − median δ| with
    δ = Δz / (1 + z_true).  Δz = z_pred − z_true.
    """
    zt, zp = np.asarray(z_true, dtype=np.float64), np.asarray(z_pred, dtype=np.float64)
    if zt.shape != zp.shape or zt.size == 0:
        raise ValueError(f"redshift_metrics: need equal, non-zero shapes, got {zt.shape}, {zp.shape}")
    if not (np.isfinite(zt).all() and np.isfinite(zp).all()):
        raise ValueError("redshift_metrics: non-finite redshifts; drop objects without a redshift first")
    dz = zp - zt
    rel = dz / (1.0 + zt)
    ss_tot = float(np.sum((zt - zt.mean()) ** 2))
    r2 = 1.0 - float(np.sum(dz**2)) / ss_tot if ss_tot > 0 else float("nan")
    return {
        "r2": r2,
        "l1": float(np.mean(np.abs(dz))),
        "rmse": float(np.sqrt(np.mean(dz**2))),
        "outlier_frac": float(np.mean(np.abs(rel) > OUTLIER_REL)),
        "outlier_frac_abs": float(np.mean(np.abs(dz) > OUTLIER_ABS)),
        "bias": float(np.median(rel)),
        "nmad": float(1.4826 * np.median(np.abs(rel - np.median(rel)))),
    }


def retrieval_ranks(query, gallery, query_groups=None, gallery_groups=None) -> np.ndarray:
    """1-based rank of each query's true partner in the gallery, by cosine similarity.

    Without groups, row *i* of ``query`` is paired with row *i* of ``gallery``.  With groups (e.g.
    object ids, when one object has several spectra), the partner set of a query is every gallery item
    of its group and the rank is that of its best-scoring partner, counting only other-group items.
    Ties are counted against the query (pessimistic): rank = 1 + #{other items with similarity ≥
    the partner's}.  Inputs are L2-normalised here, so any scaling is harmless.
    """
    q = _unit(query, "query")
    g = _unit(gallery, "gallery")
    if q.shape[1] != g.shape[1]:
        raise ValueError(f"retrieval_ranks: dimension mismatch {q.shape[1]} vs {g.shape[1]}")
    sim = q @ g.T
    if query_groups is None and gallery_groups is None:
        if len(q) != len(g):
            raise ValueError("retrieval_ranks: without groups, query and gallery must be paired row by row")
        true = np.diag(sim).copy()
        others = sim.copy()
        np.fill_diagonal(others, -np.inf)
        return 1 + np.sum(others >= true[:, None], axis=1)
    qg = np.asarray(query_groups, dtype=object)
    gg = np.asarray(gallery_groups, dtype=object)
    if len(qg) != len(q) or len(gg) != len(g):
        raise ValueError("retrieval_ranks: groups must match the numbers of query and gallery rows")
    same = qg[:, None] == gg[None, :]
    if not same.any(axis=1).all():
        raise ValueError("retrieval_ranks: some queries have no partner of their group in the gallery")
    true = np.where(same, sim, -np.inf).max(axis=1)
    return 1 + np.sum(np.where(same, -np.inf, sim) >= true[:, None], axis=1)


def retrieval_metrics(ranks, ks=(1, 10)) -> dict[str, float]:
    """Top-k accuracy (fraction of ranks ≤ k), median and mean rank, and the gallery-size-free
    median percentile is left to the caller."""
    r = np.asarray(ranks)
    out = {f"top{k}": float(np.mean(r <= k)) for k in ks}
    out["median_rank"] = float(np.median(r))
    out["mean_rank"] = float(np.mean(r))
    return out


def _unit(x, name):
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or len(a) == 0:
        raise ValueError(f"{name}: expected a non-empty (N, D) array, got shape {a.shape}")
    n = np.linalg.norm(a, axis=1, keepdims=True)
    if not (n > 0).all():
        raise ValueError(f"{name}: rows with zero norm")
    return a / n
