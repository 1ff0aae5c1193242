"""Scores of generated spectra against the truth, in the model's target space, and the simple baselines.

* residual: per pair, the mean |truth − prediction| over the valid bins (MAE; the likelihood is Laplace),
  then averaged over pairs;
* coverage / width of the central ``level`` interval over all valid bins;
* baselines: the training-set mean spectrum per phase bin, and a nearest-neighbour "partner spectrum"
  (for any embedding: the spectrum paired with the closest training light curve).
"""

from __future__ import annotations

import numpy as np

__all__ = ["PHASE_BINS", "phase_bin", "pair_mae", "interval_scores", "MeanSpectrumBaseline", "nearest_partner",
           "summarise"]

#: phase bins (days from the brightest light-curve point, observer frame) of the per-phase tables
PHASE_BINS = (-np.inf, -5.0, 5.0, 15.0, 30.0, np.inf)


def phase_bin(phase) -> np.ndarray:
    """Index of each phase's bin in :data:`PHASE_BINS` (0 .. len-2)."""
    return np.clip(np.searchsorted(PHASE_BINS, np.asarray(phase, float), side="right") - 1, 0, len(PHASE_BINS) - 2)


def phase_bin_labels() -> list[str]:
    b = PHASE_BINS
    return [f"[{b[i]:g}, {b[i + 1]:g})" for i in range(len(b) - 1)]


def pair_mae(target: np.ndarray, mask: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """(N,) mean absolute residual over each pair's valid bins (NaN where a pair has none)."""
    m = np.asarray(mask, bool) & np.isfinite(target) & np.isfinite(pred)
    d = np.where(m, np.abs(np.nan_to_num(target) - np.nan_to_num(pred)), 0.0)
    n = m.sum(1)
    return np.where(n > 0, d.sum(1) / np.maximum(n, 1), np.nan)


def interval_scores(target, mask, lower, upper) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: (fraction of valid bins inside [lower, upper], mean width over valid bins)."""
    m = np.asarray(mask, bool) & np.isfinite(target)
    inside = (np.nan_to_num(target) >= lower) & (np.nan_to_num(target) <= upper) & m
    n = np.maximum(m.sum(1), 1)
    return inside.sum(1) / n, np.where(m, upper - lower, 0.0).sum(1) / n


class MeanSpectrumBaseline:
    """The training pairs' mean target spectrum per phase bin (bins with no training value: the overall mean)."""

    def fit(self, target, mask, phase) -> MeanSpectrumBaseline:
        t = np.where(mask, np.nan_to_num(target), 0.0)
        cnt_all = mask.sum(0)
        overall = t.sum(0) / np.maximum(cnt_all, 1)
        pb = phase_bin(phase)
        self.means = np.zeros((len(PHASE_BINS) - 1, target.shape[1]))
        for b in range(len(PHASE_BINS) - 1):
            sel = pb == b
            c = mask[sel].sum(0)
            self.means[b] = np.where(c > 0, t[sel].sum(0) / np.maximum(c, 1), overall)
        return self

    def predict(self, phase) -> np.ndarray:
        return self.means[phase_bin(phase)]


def nearest_partner(query_emb, ref_emb, ref_target, ref_mask, fallback) -> np.ndarray:
    """Partner spectrum of each query's most cosine-similar reference; bins the partner lacks take ``fallback``
    (N, W) (e.g. the mean-spectrum baseline)."""
    q = query_emb / np.linalg.norm(query_emb, axis=1, keepdims=True)
    r = ref_emb / np.linalg.norm(ref_emb, axis=1, keepdims=True)
    nn = np.argmax(q @ r.T, axis=1)
    return np.where(ref_mask[nn], np.nan_to_num(ref_target[nn]), fallback)


def summarise(mae, cov=None, width=None, phase=None) -> dict:
    """Mean (and per phase bin) of per-pair scores; ``n`` pairs."""
    def agg(sel):
        out = {"n": int(sel.sum()), "mae": float(np.nanmean(mae[sel])) if sel.any() else float("nan")}
        if cov is not None:
            out["coverage68"] = float(np.nanmean(cov[sel])) if sel.any() else float("nan")
            out["width68"] = float(np.nanmean(width[sel])) if sel.any() else float("nan")
        return out

    res = {"all": agg(np.ones(len(mae), bool))}
    if phase is not None:
        pb = phase_bin(phase)
        for b, lab in enumerate(phase_bin_labels()):
            res[lab] = agg(pb == b)
    return res
