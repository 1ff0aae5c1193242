"""The one scorer of the evaluation protocol: given embeddings and outer splits (all folds of a plain CV,
or the one held-out fold of a cross-fitted run), fit the probes on each training part, score each test
part, and collect the per-fold metrics in an :class:`Accumulator` that becomes an
:class:`~astroembed.evaluate.report.EvaluationReport`.

:func:`~astroembed.evaluate.report.evaluate_embeddings` calls :func:`score_folds` once with all its
folds; the cross-fitted evaluation calls it once per fold with that fold's split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..labels import MAVEN3, MAVEN5, clean_labels
from .crossval import cross_validate_probe, limited_scenario
from .metrics import (
    classification_metrics,
    confusion_matrices,
    redshift_metrics,
    retrieval_metrics,
    retrieval_ranks,
)
from .probes import CLASSIFICATION_PROBES, REGRESSION_PROBES

__all__ = ["CLS_METRICS", "Z_METRICS", "RET_METRICS", "ProbeSettings", "Accumulator", "class_subsets", "score_folds",
           "zero_shot_fold"]

CLS_METRICS = ("macro_f1", "micro_f1", "macro_precision", "macro_recall")
Z_METRICS = ("r2", "l1", "rmse", "outlier_frac", "outlier_frac_abs")
RET_METRICS = ("top1", "top10", "median_rank")


@dataclass(frozen=True)
class ProbeSettings:
    """What to score (the cross-fit's ``CrossFitEvalConfig`` has the same fields)."""

    hyperparams: str = "nested"
    scenarios: tuple = ("full", "limited")
    n_labelled: int = 128
    n_draws: int = 5
    zero_shot_k: int = 100
    classification_probes: tuple = CLASSIFICATION_PROBES
    regression_probes: tuple = REGRESSION_PROBES
    direct: bool = True


def class_subsets(labels, sets="auto") -> dict[str, tuple]:
    """The class subsets to evaluate: 5-way (Maven 5) and 3-way when at least two of their classes are
    present (``"auto"``), else all labels; or the given ``{name: classes}``."""
    if sets != "auto":
        return {name: tuple(cs) for name, cs in (sets or {}).items()}
    present = set(v for v in clean_labels(labels).tolist() if v is not None)
    out = {}
    for name, cs in (("5-way", MAVEN5), ("3-way", MAVEN3)):
        if len(present & set(cs)) >= 2:
            out[name] = cs
    if not out and len(present) >= 2:
        out["all"] = tuple(sorted(present))
    return out


def has_dupes(g) -> bool:
    return g is not None and len(set(np.asarray(g, dtype=object).tolist())) < len(g)


class Accumulator:
    """Per-fold metrics → report rows (values over folds; for *limited*: per draw, averaged over folds)."""

    def __init__(self):
        self.vals, self.meta, self.preds = {}, {}, {}

    def add(self, key, mets, names, n, params=None):
        """``mets``: one metrics dict per fold."""
        for m in names:
            self.vals.setdefault(key + (m,), []).extend(met[m] for met in mets)
        self.meta.setdefault(key, [n, []])[1].extend(params or [])

    def add_draws(self, key, draws, names, n, params):
        """``draws``: per draw, the list of per-fold metrics dicts."""
        for m in names:
            cur = self.vals.setdefault(key + (m,), [[] for _ in draws])
            for d, mets in enumerate(draws):
                cur[d].extend(met[m] for met in mets)
        self.meta.setdefault(key, [n, []])[1].extend(params)

    def pred(self, key, labels, y, p):
        _, ys, ps = self.preds.setdefault(key, (labels, [], []))
        ys.append(np.asarray(y, dtype=object))
        ps.append(np.asarray(p, dtype=object))

    def report(self, config, info):
        from .report import EvaluationReport

        rep = EvaluationReport(config=config, info=info)
        for key, v in self.vals.items():
            vals = [float(np.nanmean(x)) for x in v] if key[3] == "limited" else v
            n, params = self.meta[key[:5]]
            rep.add(task=key[0], subset=key[1], modality=key[2], scenario=key[3], probe=key[4], metric=key[5],
                    values=vals, n=n, params=params or None)
        for (subset, mod, probe), (labels, yt, yp) in self.preds.items():
            rep.confusion[f"{subset} {mod} {probe}"] = {
                "labels": labels, **confusion_matrices(np.concatenate(yt), np.concatenate(yp), labels)}
        return rep


def _probe(acc, X, y, splits, groups, *, task, subset, mod, probe, st, seed, n, labels=None):
    kw = dict(task=task, probe=probe, hyperparams=st.hyperparams, labels=labels, splits=splits, groups=groups)
    names = CLS_METRICS if task == "classification" else Z_METRICS
    key = (task if task == "classification" else "redshift", subset, mod)
    if "full" in st.scenarios:
        res = cross_validate_probe(X, y, seed=seed, **kw)
        acc.add(key + ("full", probe), res.fold_metrics, names, n, res.params)
        if task == "classification":
            for _, te in splits:
                acc.pred((subset, mod, probe), labels, y[te], res.predictions[te])
    if "limited" in st.scenarios:
        draws = limited_scenario(X, y, n_labelled=st.n_labelled, n_draws=st.n_draws, seed=seed, **kw)
        acc.add_draws(key + ("limited", probe), [d.fold_metrics for d in draws], names, n,
                      [p for d in draws for p in d.params])


def zero_shot_fold(Xq, Xr, z, tr, te, k: int) -> dict:
    """Zero-shot kNN redshift of the test part from the training part (astroembed.tasks.zero_shot_redshift,
    k clipped to the training size), scored."""
    from ..tasks import zero_shot_redshift

    zp, _ = zero_shot_redshift(Xq[te], Xr[tr], z[tr], k=int(min(k, len(tr))))
    return redshift_metrics(z[te], zp)


def score_folds(acc: Accumulator, emb: dict, st, *, seed: int, labels=None, z=None, groups=None,
                class_splits=None, z_splits=None, retrieval_splits=None, direct=None) -> None:
    """Score the probes on the given outer splits into ``acc``.

    ``class_splits``: ``{subset name: (rows, classes, splits)}`` (``splits`` index into ``rows``);
    ``z_splits``: ``(rows with a redshift, splits)``; ``retrieval_splits``: splits over all rows (their
    test parts are the retrieval galleries); ``direct``: ``(class probabilities, redshifts, class
    names)`` predicted by the model itself (the supervised baseline), scored on the same test parts.
    """
    grp = None if groups is None else np.asarray(groups, dtype=object)
    for subset, (sel, classes, splits) in (class_splits or {}).items():
        y = clean_labels(np.asarray(labels, dtype=object)[sel])
        present = [c for c in classes if c in set(y.tolist())]
        g = None if grp is None else grp[sel]
        for mod, X in emb.items():
            for probe in st.classification_probes:
                _probe(acc, X[sel], y, splits, g, task="classification", subset=subset, mod=mod, probe=probe, st=st,
                       seed=seed, n=len(sel), labels=present)
        if direct is not None and st.direct:
            probs, _, names = direct
            cols = [names.index(c) for c in present if c in names]
            for _, te in splits:
                pred = np.asarray(names, dtype=object)[np.asarray(cols)[probs[sel][te][:, cols].argmax(1)]]
                acc.add(("classification", subset, "lightcurve", "full", "direct"),
                        [classification_metrics(y[te], pred, labels=present)], CLS_METRICS, len(sel))
                acc.pred((subset, "lightcurve", "direct"), present, y[te], pred)
    if z_splits is not None:
        sel, splits = z_splits
        zz = np.asarray(z, dtype=np.float64)[sel]
        g = None if grp is None else grp[sel]
        for mod, X in emb.items():
            for probe in st.regression_probes:
                _probe(acc, X[sel], zz, splits, g, task="regression", subset="redshift", mod=mod, probe=probe, st=st,
                       seed=seed, n=len(sel))
        if "full" in st.scenarios:
            for qm, Xq in emb.items():
                for rm, Xr in emb.items():
                    acc.add(("zero-shot redshift", "redshift", qm if qm == rm else f"{rm}→{qm}", "full",
                             f"kNN k={st.zero_shot_k}"),
                            [zero_shot_fold(Xq[sel], Xr[sel], zz, tr, te, st.zero_shot_k) for tr, te in splits],
                            Z_METRICS, len(sel))
        if direct is not None and st.direct:
            acc.add(("redshift", "redshift", "lightcurve", "full", "direct"),
                    [redshift_metrics(zz[te], direct[1][sel][te]) for _, te in splits], Z_METRICS, len(sel))
    if retrieval_splits is not None and len(emb) == 2:
        (ma, A), (mb, B) = emb.items()
        for qa, qb, name in ((A, B, f"{ma}→{mb}"), (B, A, f"{mb}→{ma}")):
            per_fold = []
            for _, te in retrieval_splits:
                gt = None if grp is None else grp[te]
                ranks = retrieval_ranks(qa[te], qb[te], gt, gt) if has_dupes(gt) else retrieval_ranks(qa[te], qb[te])
                per_fold.append(retrieval_metrics(ranks))
            acc.add(("retrieval", "pairs", name, "full", "cosine"), per_fold, RET_METRICS, len(A))
