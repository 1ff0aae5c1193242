"""Run the whole protocol on embeddings or on a model + data set, and report it (table, markdown, JSON)."""

from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..labels import MAVEN3, MAVEN5, clean_labels
from .crossval import outer_splits, stratification_key
from .embedding import embed_dataset_robust
from .metrics import redshift_metrics, retrieval_metrics, retrieval_ranks
from .probes import CLASSIFICATION_PROBES, REGRESSION_PROBES
from .scoring import (
    CLS_METRICS,
    RET_METRICS,
    Z_METRICS,
    Accumulator,
    ProbeSettings,
    class_subsets,
    has_dupes,
    score_folds,
)

__all__ = ["EvaluationReport", "evaluate_embeddings", "evaluate_model", "evaluate_zero_shot", "embed_dataset",
           "MAVEN5", "MAVEN3"]



@dataclass
class EvaluationReport:
    """Results of one evaluation: long-format rows (one per task/subset/modality/scenario/probe/metric),
    confusion matrices and the configuration.  ``str(report)`` is the markdown."""

    rows: list[dict] = field(default_factory=list)
    confusion: dict[str, dict] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def add(self, *, task, subset, modality, scenario, probe, metric, values, n, params=None):
        v = np.asarray(values, dtype=np.float64)
        self.rows.append({"task": task, "subset": subset, "modality": modality, "scenario": scenario,
                          "probe": probe, "metric": metric, "mean": float(np.nanmean(v)),
                          "std": float(np.nanstd(v)) if len(v) > 1 else 0.0, "n_repeats": int(len(v)),
                          "n_objects": int(n), "values": [float(x) for x in v], "params": params})

    def table(self) -> pd.DataFrame:
        """Long-format DataFrame of all results."""
        cols = ["task", "subset", "modality", "scenario", "probe", "metric", "mean", "std", "n_repeats",
                "n_objects", "values", "params"]
        return pd.DataFrame(self.rows, columns=cols)

    def get(self, **match) -> dict:
        """The single row matching ``task=…, subset=…, probe=…, metric=…`` etc."""
        hits = [r for r in self.rows if all(r.get(k) == v for k, v in match.items())]
        if len(hits) != 1:
            raise KeyError(f"{len(hits)} rows match {match}")
        return hits[0]

    def to_dict(self) -> dict:
        conf = {k: {kk: (vv.tolist() if isinstance(vv, np.ndarray) else vv) for kk, vv in v.items()}
                for k, v in self.confusion.items()}
        return {"config": self.config, "info": self.info, "results": self.rows, "confusion": conf}

    def to_json(self, path=None, **kw) -> str:
        text = json.dumps(self.to_dict(), indent=kw.pop("indent", 1), default=_json_default, **kw)
        if path is not None:
            Path(path).write_text(text)
        return text

    def to_markdown(self) -> str:
        """Maven-style tables: classification, redshift, zero-shot and retrieval, "mean ± std"."""
        t = self.table()
        if t.empty:
            return "(no results)\n"
        out = []
        head = self.config.get("title")
        if head:
            out.append(f"### {head}\n")
        fmt = _fmt
        cls = t[t.task == "classification"]
        if not cls.empty:
            cls = cls.assign(col=cls.subset + " " + cls.metric)
            piv = cls.pivot_table(index=["modality", "scenario", "probe"], columns="col", values="mean", aggfunc="first")
            sd = cls.pivot_table(index=["modality", "scenario", "probe"], columns="col", values="std", aggfunc="first")
            order = [c for s in ("5-way", "3-way", "all") for m in CLS_METRICS if (c := f"{s} {m}") in piv.columns]
            out.append("**Classification** (stratified CV over objects; mean ± std over folds — over draws "
                       "for *limited*)\n")
            out.append(_md(piv[order], sd[order], fmt))
        z = t[t.task.isin(["redshift", "zero-shot redshift"])]
        if not z.empty:
            z = z.assign(probe=np.where(z.task == "zero-shot redshift", "zero-shot " + z.probe, z.probe))
            piv = z.pivot_table(index=["modality", "scenario", "probe"], columns="metric", values="mean", aggfunc="first")
            sd = z.pivot_table(index=["modality", "scenario", "probe"], columns="metric", values="std", aggfunc="first")
            order = [m for m in Z_METRICS if m in piv.columns]
            out.append("\n**Redshift** (R², L1 = mean |Δz|, RMSE, outlier fraction |Δz|/(1+z) > 0.15, "
                       "|Δz| > 0.07)\n")
            out.append(_md(piv[order], sd[order], fmt))
        r = t[t.task == "retrieval"]
        if not r.empty:
            piv = r.pivot_table(index=["modality"], columns="metric", values="mean", aggfunc="first")
            sd = r.pivot_table(index=["modality"], columns="metric", values="std", aggfunc="first")
            order = [m for m in RET_METRICS if m in piv.columns]
            n = int(r.n_objects.iloc[0])
            out.append(f"\n**Cross-modal retrieval** (gallery = test fold; mean ± std over folds; {n} pairs)\n")
            out.append(_md(piv[order], sd[order], fmt))
        return "\n".join(out) + "\n"

    def __str__(self) -> str:
        return self.to_markdown()

    def save(self, out_dir, *, plots: bool = True) -> dict[str, Path]:
        """Write ``results.json``, ``results.md`` and (``plots``) the confusion-matrix PNGs to ``out_dir``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = {"json": out / "results.json", "markdown": out / "results.md"}
        self.to_json(files["json"])
        files["markdown"].write_text(self.to_markdown())
        if plots:
            from .plots import plot_confusion_matrix

            for key, cm in self.confusion.items():
                for norm in ("recall", "precision"):
                    p = out / f"confusion_{_slug(key)}_{norm}.png"
                    plot_confusion_matrix(cm[norm], cm["labels"], p, normalised=norm,
                                          title=f"{key} ({norm}-normalised)")
                    files[f"confusion {key} {norm}"] = p
        return files


def _slug(s: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in s).strip("_")


def _fmt(m, s):
    if not np.isfinite(m):
        return ""
    if abs(m) >= 100:
        return f"{m:.0f} ± {s:.0f}"
    return f"{m:.3f} ± {s:.3f}"


def _md(mean: pd.DataFrame, std: pd.DataFrame, fmt) -> str:
    idx_names = list(mean.index.names)
    header = "| " + " | ".join(idx_names + list(mean.columns)) + " |"
    sep = "|" + "---|" * (len(idx_names) + len(mean.columns))
    lines = [header, sep]
    for key in mean.index:
        key_t = key if isinstance(key, tuple) else (key,)
        cells = [fmt(mean.loc[key, c], std.loc[key, c]) if pd.notna(mean.loc[key, c]) else "" for c in mean.columns]
        lines.append("| " + " | ".join([str(k) for k in key_t] + cells) + " |")
    return "\n".join(lines) + "\n"


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def evaluate_embeddings(embeddings, *, labels=None, redshifts=None, groups=None, n_splits: int = 5, seed: int = 0,
                        hyperparams="nested", scenarios=("full", "limited"), n_labelled: int = 128,
                        n_draws: int = 5, class_sets="auto", classification_probes=CLASSIFICATION_PROBES,
                        regression_probes=REGRESSION_PROBES, zero_shot_k: int = 100, retrieval: bool = True,
                        title: str | None = None) -> EvaluationReport:
    """Evaluate frozen embeddings with Maven's protocol.

    Parameters
    ----------
    embeddings : dict {modality: (N, D) array} or an array
        e.g. ``{"lightcurve": E_lc, "spectrum": E_spec}``; row *i* of every modality is the same item.
    labels : (N,) class labels, ``None`` where unknown
        5-way (Ia, II, Ibc, IIn, SLSN-I) and 3-way (Ia, II, Ibc) subsets are evaluated when present
        (``class_sets="auto"``), else all labels; or pass ``{"name": classes}``.
    redshifts : (N,) float, NaN where unknown
    groups : (N,) object ids; rows of one object never straddle folds
    hyperparams : "nested" (inner CV on training folds) or "fixed"
    scenarios : subset of ("full", "limited"); *limited* = ``n_labelled`` labelled objects, ``n_draws`` draws
    zero_shot_k : k of the distance-weighted zero-shot kNN redshift (train folds → test fold, and across
        modalities when two are given)
    retrieval : evaluate cross-modal retrieval when exactly two modalities are given (gallery = test fold)
    """
    if not isinstance(embeddings, dict):
        embeddings = {"embedding": embeddings}
    emb = {k: _check_emb(k, v) for k, v in embeddings.items()}
    n = len(next(iter(emb.values())))
    if any(len(v) != n for v in emb.values()):
        raise ValueError(f"evaluate_embeddings: modalities have different lengths {[len(v) for v in emb.values()]}")
    for s in scenarios:
        if s not in ("full", "limited"):
            raise ValueError(f"scenarios: 'full' and/or 'limited', got {s!r}")
    config = {"n_splits": n_splits, "seed": seed, "hyperparams": hyperparams, "scenarios": list(scenarios),
              "n_labelled": n_labelled, "n_draws": n_draws, "zero_shot_k": zero_shot_k, "title": title, "n_items": n}
    st = ProbeSettings(hyperparams=hyperparams, scenarios=tuple(scenarios), n_labelled=n_labelled, n_draws=n_draws,
                       zero_shot_k=zero_shot_k, classification_probes=tuple(classification_probes),
                       regression_probes=tuple(regression_probes), direct=False)
    grp = None if groups is None else np.asarray(groups, dtype=object)
    t0 = time.perf_counter()
    lab = None if labels is None else clean_labels(labels)

    cls = {}  # classification: per class subset, stratified by class
    if lab is not None:
        for set_name, classes in class_subsets(lab, class_sets).items():
            sel = np.flatnonzero(np.isin(lab, list(classes)))
            if len(sel) >= n_splits:
                cls[set_name] = (sel, classes, outer_splits(lab[sel], None if grp is None else grp[sel], n_splits,
                                                            seed))
    z_splits = None  # redshift: rows with a redshift, stratified by class (rare classes merged) or z bins
    if redshifts is not None:
        z_all = np.asarray(redshifts, dtype=np.float64)
        sel = np.flatnonzero(np.isfinite(z_all))
        if len(sel) >= n_splits:
            strat = _merge_rare(lab[sel], n_splits) if lab is not None else stratification_key(None, z_all[sel])
            z_splits = (sel, outer_splits(strat, None if grp is None else grp[sel], n_splits, seed))
    ret = None  # retrieval: all rows; the test part of each fold is the gallery
    if retrieval and len(emb) == 2 and n >= n_splits:
        strat = _merge_rare(lab, n_splits) if lab is not None else np.zeros(n).astype(str)
        ret = outer_splits(strat, grp, n_splits, seed)
    acc = Accumulator()
    score_folds(acc, emb, st, seed=seed, labels=lab, z=redshifts, groups=grp, class_splits=cls, z_splits=z_splits,
                retrieval_splits=ret)
    report = acc.report(config, {})
    if ret is not None:  # whole-set retrieval (gallery = all items) for reference
        (ma, A), (mb, B) = emb.items()
        ranks = retrieval_ranks(A, B, grp, grp) if has_dupes(grp) else retrieval_ranks(A, B)
        report.info["retrieval_whole_set"] = {"n": n, f"{ma}→{mb}": retrieval_metrics(ranks)}
    report.info["seconds_probes"] = round(time.perf_counter() - t0, 2)
    return report


def _merge_rare(lab, n_splits: int) -> np.ndarray:
    """Class labels as a stratification key, classes with fewer than ``n_splits`` members merged."""
    strat = np.asarray(["none" if v is None else str(v) for v in lab])
    values, cnt = np.unique(strat, return_counts=True)
    if cnt.min() < n_splits:
        rare = set(values[cnt < n_splits].tolist())
        strat = np.array(["rare" if s in rare else s for s in strat])
    return strat


def _check_emb(name, x) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 2 or not np.issubdtype(a.dtype, np.floating):
        raise ValueError(f"embeddings[{name!r}]: expected a float (N, D) array, got {a.dtype} {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"embeddings[{name!r}]: non-finite values")
    return a.astype(np.float64)


def embed_dataset(model, dataset, *, batch_size: int | None = None) -> dict[str, np.ndarray]:
    """Embed a :class:`~astroembed.datasets.SupernovaDataset` with any object that has
    ``embed_lightcurve(list) -> (N, D)`` (and ``embed_spectrum`` for paired sets); every item must be
    embeddable (see :func:`~astroembed.evaluate.embedding.embed_dataset_robust` to drop the others)."""
    emb, ok, dropped = embed_dataset_robust(model, dataset, batch_size=batch_size)
    if dropped:
        d = dropped[0]
        raise ValueError(f"{len(dropped)} of {len(dataset)} items cannot be embedded; first: row {d['row']} "
                         f"(object {d['object_id']!r}, {d['modality']}): {d['reason']}")
    return emb


def _report_dropped(dataset, dropped, ok) -> dict:
    """Say on stderr what could not be embedded; the summary stored in ``report.info``."""
    import sys

    if not dropped:
        return {"n": 0}
    by_mod = {}
    for d in dropped:
        by_mod[d["modality"]] = by_mod.get(d["modality"], 0) + 1
    first = "; ".join(f"{d['object_id']} ({d['modality']}): {d['reason']}" for d in dropped[:3])
    print(f"astroembed evaluate: {int((~ok).sum())} of {len(dataset)} {dataset.name} items cannot be embedded "
          f"and are left out ({by_mod}); first: {first}", file=sys.stderr)
    return {"n": int((~ok).sum()), "by_modality": by_mod, "items": dropped[:50]}


def evaluate_model(model, dataset, *, out=None, plots: bool = True, batch_size: int | None = None,
                   model_name: str | None = None, **kw) -> EvaluationReport:
    """Embed ``dataset`` with ``model`` and run :func:`evaluate_embeddings`; write results to ``out``.

    ``model`` is anything with ``embed_lightcurve`` (and ``embed_spectrum`` for paired data), e.g.
    ``astroembed.load_pretrained("maven")``.  ``dataset`` is a
    :class:`~astroembed.datasets.SupernovaDataset`.  Extra keywords go to :func:`evaluate_embeddings`.
    With ``out``, writes ``results.json``, ``results.md``, confusion matrices and (``plots``) the
    embedding maps and retrieval examples.
    """
    t0 = time.perf_counter()
    emb, ok, dropped = embed_dataset_robust(model, dataset, batch_size=batch_size)
    t_embed = time.perf_counter() - t0
    not_embeddable = _report_dropped(dataset, dropped, ok)
    if not ok.all():
        dataset = dataset.subset(np.flatnonzero(ok))
    name = model_name or type(model).__name__
    kw.setdefault("title", f"{name} on {dataset.name} ({len(dataset)} items)")
    report = evaluate_embeddings(emb, labels=dataset.labels, redshifts=dataset.redshifts, groups=dataset.object_ids,
                                 **kw)
    report.info.update({"model": name, "dataset": dataset.name, "n_items": len(dataset),
                        "n_objects": int(len(set(dataset.object_ids.tolist()))),
                        "dataset_info": {k: v for k, v in dataset.info.items() if k != "data_dir"},
                        "embedding_dim": {k: int(v.shape[1]) for k, v in emb.items()},
                        "seconds_embed": round(t_embed, 2), "not_embeddable": not_embeddable, "python": platform.python_version(),
                        "machine": platform.machine(), "processor": platform.processor() or platform.machine()})
    try:
        from importlib.metadata import version

        report.info["astroembed_version"] = version("astroembed")
    except Exception:  # pragma: no cover - not installed
        pass
    if out is not None:
        out = Path(out)
        report.save(out, plots=plots)
        if plots:
            from .plots import plot_embedding_map, plot_retrieval_examples

            for mod, E in emb.items():
                plot_embedding_map(E, out / f"embedding_map_{mod}.png", labels=dataset.labels,
                                   redshift=dataset.redshifts, title=f"{name}: {mod} embeddings, {dataset.name}")
            if "spectrum" in emb:
                plot_retrieval_examples(dataset.lightcurves, dataset.spectra, emb["lightcurve"], emb["spectrum"],
                                        out / "retrieval_examples.png")
    return report


def evaluate_zero_shot(model, reference, query, *, k: int = 100, modality: str = "lightcurve",
                       reference_modality: str | None = None) -> EvaluationReport:
    """Zero-shot kNN redshift from a ``reference`` data set (e.g. simulated) to a ``query`` set (e.g. real).

    Uses the redshifts of the reference only; the query redshifts are only used to score.
    """
    from ..tasks import zero_shot_redshift

    reference_modality = reference_modality or modality
    emb_r, ok_r, drop_r = embed_dataset_robust(model, reference)
    emb_q, ok_q, drop_q = embed_dataset_robust(model, query)
    _report_dropped(reference, drop_r, ok_r)
    _report_dropped(query, drop_q, ok_q)
    zr, zq = reference.redshifts[ok_r], query.redshifts[ok_q]
    okr, okq = np.isfinite(zr), np.isfinite(zq)
    zp, _ = zero_shot_redshift(emb_q[modality][okq], emb_r[reference_modality][okr], zr[okr],
                               k=int(min(k, int(okr.sum()))))
    report = EvaluationReport(config={"zero_shot_k": k, "title": f"zero-shot redshift {reference.name} → {query.name}"})
    met = redshift_metrics(zq[okq], zp)
    for m in Z_METRICS:
        report.add(task="zero-shot redshift", subset=f"{reference.name}→{query.name}",
                   modality=modality if modality == reference_modality else f"{reference_modality}→{modality}",
                   scenario="full", probe=f"kNN k={k}", metric=m, values=[met[m]], n=int(okq.sum()))
    return report
