"""Per-fold evaluation of a cross-fitted run: embed the objects with the fold's model and score the probes
on the held-out fold into an accumulator that becomes an :class:`EvaluationReport`."""

from __future__ import annotations

import numpy as np

from ...labels import clean_labels
from ..embedding import embed_dataset_robust
from ..scoring import Accumulator, class_subsets, score_folds
from .config import CrossFitEvalConfig

__all__ = ["embed_fold", "evaluate_fold"]


def embed_fold(model, ds) -> tuple[dict, np.ndarray, tuple | None]:
    """``(embeddings of the embeddable rows, their mask, the supervised baseline's own predictions)``."""
    from ...models.supervised import SupervisedLightCurveModel

    emb, ok, _ = embed_dataset_robust(model, ds)
    direct = None
    if isinstance(model, SupervisedLightCurveModel):
        probs, z = model.predict([ds.lightcurves[i] for i in np.flatnonzero(ok)])
        direct = (probs, z.astype(np.float64), list(model.config.class_names))
    return emb, ok, direct


def evaluate_fold(acc: Accumulator, emb: dict, labels, z, groups, folds, k: int, ev: CrossFitEvalConfig,
                  seed: int = 0, direct=None) -> None:
    """Score fold ``k`` (probes fitted on the other folds) into the accumulator ``acc``
    (:func:`~astroembed.evaluate.scoring.score_folds` with the one split of fold ``k``, seed ``seed + k``)."""
    labels = clean_labels(labels)
    is_te = np.asarray(folds) == k
    cls = {}
    for subset, classes in class_subsets(labels, "auto").items():
        sel = np.flatnonzero(np.isin(labels.astype(str), list(classes)))
        tr, te = np.flatnonzero(~is_te[sel]), np.flatnonzero(is_te[sel])
        if len(te) and len(tr) >= 2:
            cls[subset] = (sel, classes, [(tr, te)])
    z = np.asarray(z, dtype=np.float64)
    sel = np.flatnonzero(np.isfinite(z))
    tr, te = np.flatnonzero(~is_te[sel]), np.flatnonzero(is_te[sel])
    z_splits = (sel, [(tr, te)]) if len(te) and len(tr) >= 2 else None
    ret = [(np.flatnonzero(~is_te), np.flatnonzero(is_te))] if is_te.sum() >= 2 else None
    score_folds(acc, emb, ev, seed=seed + k, labels=labels, z=z, groups=groups, class_splits=cls, z_splits=z_splits,
                retrieval_splits=ret, direct=direct)
