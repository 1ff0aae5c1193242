"""Cross-validation over objects, with hyper-parameters fixed in advance or chosen by nested CV.

The outer loop is a stratified K-fold over **objects**: when an object has several rows (e.g. several
spectra), ``StratifiedGroupKFold`` keeps all of them on one side.  Hyper-parameters are either fixed
(``hyperparams="fixed"``) or selected by an inner CV that sees **only the training part of the outer
fold** (``"nested"``); the test fold is used once, to score the refitted probe.  Maven's notebook chose
k on the test folds; this module cannot, by construction (tested with a spy estimator).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .metrics import classification_metrics, redshift_metrics
from .probes import FIXED_PARAMS, PARAM_GRIDS, make_probe

__all__ = ["outer_splits", "inner_splits", "select_params", "cross_validate_probe", "limited_scenario",
           "CVResult", "stratification_key"]


@dataclass
class CVResult:
    """Per-fold metrics, chosen parameters and out-of-fold predictions of one probe."""

    task: str
    probe: str
    fold_metrics: list[dict] = field(default_factory=list)
    params: list[dict] = field(default_factory=list)
    predictions: np.ndarray | None = None
    test_index: list[np.ndarray] = field(default_factory=list)

    def summary(self) -> dict[str, dict[str, float]]:
        keys = self.fold_metrics[0].keys() if self.fold_metrics else []
        out = {}
        for k in keys:
            v = np.array([m[k] for m in self.fold_metrics], dtype=np.float64)
            out[k] = {"mean": float(np.nanmean(v)), "std": float(np.nanstd(v)), "values": v.tolist()}
        return out


def stratification_key(y=None, z=None, n_bins: int = 5) -> np.ndarray:
    """Labels when given; otherwise redshift quantile bins (for regression-only data)."""
    if y is not None:
        return np.asarray(y, dtype=object).astype(str)
    z = np.asarray(z, dtype=np.float64)
    edges = np.unique(np.quantile(z, np.linspace(0, 1, n_bins + 1)[1:-1]))
    return np.digitize(z, edges).astype(str)


def _has_repeats(groups) -> bool:
    return groups is not None and len(set(np.asarray(groups, dtype=object).tolist())) < len(groups)


def outer_splits(strat, groups=None, n_splits: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified K-fold index pairs; grouped (objects never straddle folds) when ``groups`` repeat."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    strat = np.asarray(strat, dtype=object).astype(str)
    if len(strat) < n_splits:
        raise ValueError(f"outer_splits: {len(strat)} objects is fewer than n_splits={n_splits}")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        if _has_repeats(groups):
            cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
            return [(tr, te) for tr, te in cv.split(np.zeros(len(strat)), strat, np.asarray(groups, dtype=object))]
        cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        return [(tr, te) for tr, te in cv.split(np.zeros(len(strat)), strat)]


def inner_splits(strat, groups=None, n_splits: int = 3, seed: int = 0):
    """Inner CV splits of a training part: stratified when every class has ≥ 2 members, else plain K-fold
    (small "Limited" draws); grouped when groups repeat."""
    from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

    strat = np.asarray(strat, dtype=object).astype(str)
    n = len(strat)
    _, counts = np.unique(strat, return_counts=True)
    k = int(min(n_splits, n))
    if k < 2:
        raise ValueError(f"inner_splits: need at least 2 training objects, got {n}")
    x = np.zeros(n)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        if _has_repeats(groups):
            g = np.asarray(groups, dtype=object)
            k = min(k, len(set(g.tolist())))
            cv = StratifiedGroupKFold(k, shuffle=True, random_state=seed) if counts.min() >= k else GroupKFold(k)
            return list(cv.split(x, strat, g))
        if counts.min() >= 2:
            return list(StratifiedKFold(int(min(k, counts.min())) if counts.min() < k else k, shuffle=True,
                                        random_state=seed).split(x, strat))
        return list(KFold(k, shuffle=True, random_state=seed).split(x))


def _score(task, y_true, y_pred, labels=None) -> float:
    if task == "classification":
        return classification_metrics(y_true, y_pred, labels=labels)["macro_f1"]
    return -float(np.mean((np.asarray(y_pred, float) - np.asarray(y_true, float)) ** 2))


def _metrics(task, y_true, y_pred, labels=None) -> dict:
    if task == "classification":
        return classification_metrics(y_true, y_pred, labels=labels)
    return redshift_metrics(y_true, y_pred)


def _fit_predict(factory, params, Xtr, ytr, Xte, task):
    if task == "classification" and len(set(np.asarray(ytr, dtype=object).tolist())) < 2:
        # a one-class training set (tiny Limited draws): predict that class
        return np.full(len(Xte), np.asarray(ytr, dtype=object)[0], dtype=object)
    est = factory(params)
    est.fit(Xtr, ytr)
    return est.predict(Xte)


def select_params(X, y, *, task: str, grid: list[dict], factory: Callable, strat=None, groups=None,
                  n_inner: int = 3, seed: int = 0, labels=None) -> tuple[dict, list[float]]:
    """Pick the grid entry with the best mean inner-CV score (macro-F1, or −MSE for regression).

    Only ``X``/``y`` (the outer training part) are ever passed to the estimators.  Ties go to the first
    grid entry.  Returns ``(best_params, mean_scores)``.
    """
    if len(grid) == 1:
        return dict(grid[0]), [float("nan")]
    strat = stratification_key(y if task == "classification" else None, None if task == "classification" else y) \
        if strat is None else strat
    splits = inner_splits(strat, groups, n_inner, seed)
    y = np.asarray(y, dtype=object if task == "classification" else np.float64)
    scores = []
    for params in grid:
        s = []
        for tr, va in splits:
            pred = _fit_predict(factory, params, X[tr], y[tr], X[va], task)
            s.append(_score(task, y[va], pred, labels))
        scores.append(float(np.mean(s)))
    return dict(grid[int(np.argmax(scores))]), scores


def cross_validate_probe(X, y, *, task: str, probe: str, hyperparams="nested", n_splits: int = 5,
                         seed: int = 0, strat=None, groups=None, splits=None, factory: Callable | None = None,
                         grid: list[dict] | None = None, labels=None, train_subset: Callable | None = None,
                         n_inner: int = 3) -> CVResult:
    """Stratified K-fold CV of one probe on frozen embeddings ``X``.

    Parameters
    ----------
    X : (N, D) array
    y : (N,) labels (classification) or redshifts (regression)
    task : {"classification", "regression"}
    probe : str
        Probe name (see :func:`~astroembed.evaluate.probes.make_probe`).
    hyperparams : "nested", "fixed" or dict
        ``"nested"``: chosen from ``grid`` (default :data:`PARAM_GRIDS`) by an inner CV on the training
        part only; ``"fixed"``: :data:`FIXED_PARAMS`; a dict: those values.
    strat, groups, splits
        Stratification key (default: ``y`` or redshift bins), object ids (rows of one object never
        straddle folds) or explicit outer ``splits``.
    factory : callable(params) -> estimator, optional
        Build the estimator (default :func:`make_probe`); lets tests inject a spy.
    train_subset : callable(train_idx, fold) -> subset of train_idx, optional
        Restrict the labelled training objects (the "Limited" scenario).
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=object if task == "classification" else np.float64)
    if len(X) != len(y):
        raise ValueError(f"cross_validate_probe: {len(X)} embeddings for {len(y)} targets")
    factory = factory or (lambda p: make_probe(task, probe, **p))
    if isinstance(hyperparams, dict):
        grid_used = [hyperparams]
    elif hyperparams == "fixed":
        grid_used = [FIXED_PARAMS[(task, probe)]]
    elif hyperparams == "nested":
        grid_used = grid if grid is not None else PARAM_GRIDS[(task, probe)]
    else:
        raise ValueError(f"hyperparams: 'nested', 'fixed' or a dict, got {hyperparams!r}")
    if strat is None:
        strat = stratification_key(y if task == "classification" else None, None if task == "classification" else y)
    if splits is None:
        splits = outer_splits(strat, groups, n_splits, seed)
    labels = labels if labels is not None else (sorted(set(y.tolist())) if task == "classification" else None)
    res = CVResult(task=task, probe=probe)
    preds = np.empty(len(y), dtype=object if task == "classification" else np.float64)
    for fold, (tr, te) in enumerate(splits):
        if train_subset is not None:
            tr = np.asarray(train_subset(tr, fold))
        g_tr = None if groups is None else np.asarray(groups, dtype=object)[tr]
        params, _ = select_params(X[tr], y[tr], task=task, grid=grid_used, factory=factory,
                                  strat=np.asarray(strat, dtype=object)[tr] if task == "classification" else None,
                                  groups=g_tr, n_inner=n_inner, seed=seed + fold, labels=labels)
        pred = _fit_predict(factory, params, X[tr], y[tr], X[te], task)
        preds[te] = pred
        res.fold_metrics.append(_metrics(task, y[te], pred, labels))
        res.params.append(params)
        res.test_index.append(np.asarray(te))
    res.predictions = preds
    return res


def limited_scenario(X, y, *, task: str, probe: str, n_labelled: int = 128, n_draws: int = 5, seed: int = 0,
                     **kw) -> list[CVResult]:
    """The "Limited" scenario: for each of ``n_draws`` random draws, each outer training fold is cut to
    ``n_labelled`` random objects (uniform, without replacement) and the probe is scored on the full test
    fold.  Returns one :class:`CVResult` per draw (summarise as mean ± std over draws of the fold means).
    """
    out = []
    for d in range(n_draws):
        rng = np.random.default_rng([seed, d])

        def subset(tr, fold, rng=rng):
            return tr if len(tr) <= n_labelled else np.sort(rng.choice(tr, size=n_labelled, replace=False))

        out.append(cross_validate_probe(X, y, task=task, probe=probe, seed=seed, train_subset=subset, **kw))
    return out
