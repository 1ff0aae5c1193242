"""Per-fold evaluation of a cross-fitted run: embed the objects with the fold's model and score the probes
on the held-out fold into an accumulator that becomes an :class:`EvaluationReport`."""

from __future__ import annotations

import numpy as np

from .crossfit_config import CrossFitEvalConfig
from .crossval import cross_validate_probe, limited_scenario
from .metrics import (
    classification_metrics,
    confusion_matrices,
    redshift_metrics,
    retrieval_metrics,
    retrieval_ranks,
)
from .embedding import embed_dataset_robust
from .probes import knn_redshift
from .report import _CLS_METRICS, _RET_METRICS, _Z_METRICS, EvaluationReport, _class_sets, _has_dupes


def _embed(model, ds) -> tuple[dict, np.ndarray, tuple | None]:
    """``(embeddings of the embeddable rows, their mask, the supervised baseline's own predictions)``."""
    from ..models.supervised import SupervisedLightCurveModel

    emb, ok, _ = embed_dataset_robust(model, ds)
    direct = None
    if isinstance(model, SupervisedLightCurveModel):
        probs, z = model.predict([ds.lightcurves[i] for i in np.flatnonzero(ok)])
        direct = (probs, z.astype(np.float64), list(model.config.class_names))
    return emb, ok, direct


class _Acc:
    """Per-fold metrics → :class:`EvaluationReport` rows (values over folds; over draws for *limited*)."""

    def __init__(self):
        self.vals, self.meta, self.preds = {}, {}, {}

    def add(self, key, met, names, n, params=None):
        for m in names:
            self.vals.setdefault(key + (m,), []).append(met[m])
        self.meta.setdefault(key, [n, []])[1].extend(params or [])

    def add_draws(self, key, mets, names, n, params):
        for m in names:
            cur = self.vals.setdefault(key + (m,), [[] for _ in mets])
            for d, met in enumerate(mets):
                cur[d].append(met[m])
        self.meta.setdefault(key, [n, []])[1].extend(params)

    def pred(self, key, labels, y, p):
        _, ys, ps = self.preds.setdefault(key, (labels, [], []))
        ys.append(np.asarray(y, dtype=object))
        ps.append(np.asarray(p, dtype=object))

    def report(self, config, info) -> EvaluationReport:
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


def _probe(acc, X, y, tr, te, *, task, subset, mod, probe, ev, seed, n, labels=None):
    kw = dict(task=task, probe=probe, hyperparams=ev.hyperparams, labels=labels, splits=[(tr, te)])
    names = _CLS_METRICS if task == "classification" else _Z_METRICS
    key = (task if task == "classification" else "redshift", subset, mod)
    if "full" in ev.scenarios:
        res = cross_validate_probe(X, y, seed=seed, **kw)
        acc.add(key + ("full", probe), res.fold_metrics[0], names, n, res.params)
        if task == "classification":
            acc.pred((subset, mod, probe), labels, y[te], res.predictions[te])
    if "limited" in ev.scenarios:
        draws = limited_scenario(X, y, n_labelled=ev.n_labelled, n_draws=ev.n_draws, seed=seed, **kw)
        acc.add_draws(key + ("limited", probe), [d.fold_metrics[0] for d in draws], names, n,
                      [p for d in draws for p in d.params])


def evaluate_fold(acc, emb: dict, labels, z, groups, folds, k: int, ev: CrossFitEvalConfig, seed: int = 0,
                  direct=None) -> None:
    """Score fold ``k`` (probes fitted on the other folds) into the accumulator ``acc``."""
    labels = np.asarray(labels, dtype=object)
    is_te = np.asarray(folds) == k
    s = seed + k
    for subset, classes in _class_sets(labels, "auto").items():
        sel = np.flatnonzero(np.isin(labels.astype(str), list(classes)))
        y = labels[sel]
        present = [c for c in classes if c in set(y.tolist())]
        tr, te = np.flatnonzero(~is_te[sel]), np.flatnonzero(is_te[sel])
        if len(te) == 0 or len(tr) < 2:
            continue
        for mod, X in emb.items():
            for probe in ev.classification_probes:
                _probe(acc, X[sel], y, tr, te, task="classification", subset=subset, mod=mod, probe=probe, ev=ev,
                       seed=s, n=len(sel), labels=present)
        if direct is not None and ev.direct:
            probs, _, names = direct
            cols = [names.index(c) for c in present if c in names]
            pred = np.asarray(names, dtype=object)[np.asarray(cols)[probs[sel][te][:, cols].argmax(1)]]
            acc.add(("classification", subset, "lightcurve", "full", "direct"),
                    classification_metrics(y[te], pred, labels=present), _CLS_METRICS, len(sel))
            acc.pred((subset, "lightcurve", "direct"), present, y[te], pred)
    z = np.asarray(z, dtype=np.float64)
    sel = np.flatnonzero(np.isfinite(z))
    zz = z[sel]
    tr, te = np.flatnonzero(~is_te[sel]), np.flatnonzero(is_te[sel])
    if len(te) and len(tr) >= 2:
        for mod, X in emb.items():
            for probe in ev.regression_probes:
                _probe(acc, X[sel], zz, tr, te, task="regression", subset="redshift", mod=mod, probe=probe, ev=ev,
                       seed=s, n=len(sel))
        for qm, Xq in emb.items():
            for rm, Xr in emb.items():
                zp, _ = knn_redshift(Xq[sel][te], Xr[sel][tr], zz[tr], k=ev.zero_shot_k)
                acc.add(("zero-shot redshift", "redshift", qm if qm == rm else f"{rm}→{qm}", "full",
                         f"kNN k={ev.zero_shot_k}"), redshift_metrics(zz[te], zp), _Z_METRICS, len(sel))
        if direct is not None and ev.direct:
            acc.add(("redshift", "redshift", "lightcurve", "full", "direct"),
                    redshift_metrics(zz[te], direct[1][sel][te]), _Z_METRICS, len(sel))
    if len(emb) == 2 and is_te.sum() >= 2:
        (ma, A), (mb, B) = emb.items()
        te = np.flatnonzero(is_te)
        g = np.asarray(groups, dtype=object)[te]
        for qa, qb, name in ((A, B, f"{ma}→{mb}"), (B, A, f"{mb}→{ma}")):
            ranks = retrieval_ranks(qa[te], qb[te], g, g) if _has_dupes(g) else retrieval_ranks(qa[te], qb[te])
            acc.add(("retrieval", "pairs", name, "full", "cosine"), retrieval_metrics(ranks), _RET_METRICS, len(A))
