"""Stratified K-fold splits over *objects* (rows sharing an object id stay in one fold) and the
validation split for early stopping; fold ids are written as ``folds.csv`` beside the weights."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np

from ..labels import clean_labels

__all__ = ["check_labels", "stratified_group_folds", "validation_split", "split_for_run", "write_folds",
           "read_folds"]


def check_labels(labels) -> np.ndarray:
    """Labels as an object array (:func:`~astroembed.datasets.labels.clean_labels`: missing -> ``None``); an
    empty, unlabelled or single-class set is an error."""
    labels = clean_labels(labels)
    if len(labels) == 0:
        raise ValueError("training set is empty (0 objects)")
    known = {lab for lab in labels.tolist() if lab is not None}
    if not known:
        raise ValueError("training set has no class labels; labels are needed for the stratified "
                         "cross-validation folds (set LightCurve.label / truth['class'])")
    if len(known) < 2:
        raise ValueError(f"training set has a single class ({sorted(known)[0]!r}); stratified folds, "
                         "validation and the evaluation need at least two classes")
    return labels


def _group_labels(labels: np.ndarray, groups: np.ndarray):
    uniq, first, inv = np.unique(groups.astype(str), return_index=True, return_inverse=True)
    glab = np.array(["<none>" if labels[i] is None else str(labels[i]) for i in first])
    return uniq, inv, glab


def stratified_group_folds(labels, groups, n_folds: int = 5, seed: int = 0) -> np.ndarray:
    """Fold id (0..n_folds-1) per row: stratified by label, rows of one group (object) together."""
    from sklearn.model_selection import StratifiedGroupKFold

    labels = check_labels(labels)
    groups = np.asarray(groups)
    uniq, inv, glab = _group_labels(labels, groups)
    if len(uniq) < n_folds:
        raise ValueError(f"{len(uniq)} objects cannot be split into {n_folds} folds")
    y = np.array([str(v) if v is not None else "<none>" for v in labels])
    folds = np.full(len(labels), -1, dtype=np.int64)
    skf = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class")
        for k, (_, test) in enumerate(skf.split(np.zeros(len(y)), y, groups.astype(str))):
            folds[test] = k
    return folds


def validation_split(labels, groups, fraction: float, seed: int) -> np.ndarray:
    """Boolean validation mask: about ``fraction`` of the objects of each class (at least one of every
    class with two or more objects), whole objects only."""
    labels = np.asarray(labels, dtype=object)
    groups = np.asarray(groups)
    uniq, inv, glab = _group_labels(labels, groups)
    rng = np.random.default_rng([seed, 7919])
    is_val = np.zeros(len(uniq), dtype=bool)
    for lab in sorted(set(glab.tolist())):
        g = np.flatnonzero(glab == lab)
        if len(g) < 2:
            continue
        k = min(len(g) - 1, max(1, int(round(fraction * len(g)))))
        is_val[rng.permutation(g)[:k]] = True
    if not is_val.any() or is_val.all():
        raise ValueError(f"cannot make a validation split of {len(uniq)} objects (fraction {fraction})")
    return is_val[inv]


def split_for_run(labels, groups, *, n_folds: int, fold: int | None, seed: int, validation_fraction: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(fold id per row, split per row in {"train", "val", "test"}) for one run."""
    labels = check_labels(labels)
    folds = stratified_group_folds(labels, groups, n_folds, seed)
    split = np.full(len(labels), "train", dtype=object)
    pool = np.ones(len(labels), dtype=bool)
    if fold is not None:
        split[folds == fold] = "test"
        pool = folds != fold
    idx = np.flatnonzero(pool)
    check_labels(labels[idx])
    val = validation_split(labels[idx], np.asarray(groups)[idx], validation_fraction, seed)
    split[idx[val]] = "val"
    return folds, split


def write_folds(path: str | Path, object_ids, labels, folds, split) -> None:
    """``object_id,label,fold,split`` per row (CSV)."""
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["object_id", "label", "fold", "split"])
        for row in zip(object_ids, labels, folds, split):
            w.writerow(["" if v is None else v for v in row])


def read_folds(path: str | Path) -> dict[str, np.ndarray]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {k: np.array([r[k] for r in rows], dtype=object if k != "fold" else np.int64)
            for k in ("object_id", "label", "fold", "split")}
