"""Cross-fitted evaluation of fine-tuned models on the real data (ZTF BTS and OSC pairs).

A model fine-tuned on real objects cannot be probed on those objects.  For each of ``n_folds``
stratified folds *k* of the real objects (computed once, stratified by class, written to ``folds.csv``):

1. fine-tune in ``stages`` (each one :func:`astroembed.train.train` run, ``init_from`` = the previous
   stage or ``base_model``) on the **training folds only**: the sources of
   :mod:`astroembed.train.sources` drop fold *k* (``folds_file`` + ``exclude_folds``) and the demo
   objects; early stopping uses a validation split carved from those training objects;
2. embed every object with fold *k*'s model; fit the probes on the training folds (hyper-parameters
   fixed or chosen by nested CV inside them) and score fold *k*: kNN / SVC classification (5- and
   3-way), kNN / linear / ridge redshift, zero-shot kNN redshift (references = training folds),
   LC ↔ spectrum retrieval with gallery = fold *k*; the supervised baseline's own predictions too;
3. aggregate mean ± std over folds into :class:`EvaluationReport` (one per data set).

``stages = []`` evaluates a frozen ``base_model`` through the same folds.  Output directory::

    folds.csv  crossfit_config.json  summary.md  crossfit.json
    fold<k>/stage<i>_<name>/ (training run)  fold<k>/embeddings_<data>.npz  fold<k>/training.json
    <data>/results.json, results.md, confusion PNGs

CLI: ``python -m astroembed.evaluate.crossfit --config configs/crossfit_maven.json --out runs/crossfit_maven``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from .._config import StrictConfig, check_choice
from ..errors import ConfigError
from .crossval import cross_validate_probe, limited_scenario
from .metrics import (
    classification_metrics,
    confusion_matrices,
    redshift_metrics,
    retrieval_metrics,
    retrieval_ranks,
)
from .probes import CLASSIFICATION_PROBES, REGRESSION_PROBES, knn_redshift
from .report import _CLS_METRICS, _RET_METRICS, _Z_METRICS, EvaluationReport, _class_sets, _has_dupes

__all__ = ["CrossFitConfig", "StageConfig", "CrossFitEvalConfig", "load_crossfit_config", "run_crossfit",
           "stage_train_config", "main"]

SOURCES = {"ztf_bts": "astroembed.train.sources:ztf_bts_pairs", "osc": "astroembed.train.sources:osc_triples"}
_MANAGED = ("model", "data", "cv", "output_dir", "init_from")


@dataclass(frozen=True)
class StageConfig(StrictConfig):
    """One fine-tuning stage: ``source`` ("ztf_bts" or "osc"), the ``modalities`` paired, the
    ``validation_fraction`` (early stopping) and ``train``: other :class:`TrainConfig` keys (``optim`` /
    ``augment`` / ``supervised`` may be partial; model, data, cv, output_dir, init_from are set here)."""

    name: str
    source: str
    modalities: tuple
    validation_fraction: float = 0.15
    train: dict | None = None

    def __post_init__(self):
        check_choice("StageConfig.source", self.source, tuple(SOURCES))
        if not (isinstance(self.name, str) and self.name.replace("_", "").replace("-", "").isalnum()):
            raise ConfigError(f"StageConfig.name: letters, digits, - and _ only, got {self.name!r}")
        bad = sorted(set(self.train or {}) & set(_MANAGED))
        if bad:
            raise ConfigError(f"StageConfig.train: {bad} are set by the crossfit harness; remove them")


@dataclass(frozen=True)
class CrossFitEvalConfig(StrictConfig):
    """Probes: ``hyperparams`` "nested" (inner CV on the training folds) or "fixed"; ``direct``: also score
    the supervised baseline's own class / redshift predictions."""

    datasets: tuple = ("ztf_bts", "osc")
    hyperparams: str = "nested"
    scenarios: tuple = ("full", "limited")
    n_labelled: int = 128
    n_draws: int = 5
    zero_shot_k: int = 100
    classification_probes: tuple = CLASSIFICATION_PROBES
    regression_probes: tuple = REGRESSION_PROBES
    direct: bool = True

    def __post_init__(self):
        for name in ("datasets", "scenarios", "classification_probes", "regression_probes"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for d in self.datasets:
            check_choice("evaluation.datasets", d, tuple(SOURCES))
        for s in self.scenarios:
            check_choice("evaluation.scenarios", s, ("full", "limited"))
        check_choice("evaluation.hyperparams", self.hyperparams, ("nested", "fixed"))


@dataclass(frozen=True)
class CrossFitConfig(StrictConfig):
    """A cross-fitted evaluation (see the module docstring and ``configs/crossfit_*.json``).

    ``base_model``: pre-trained model (directory or registered name) that initialises stage 1, or the
    frozen model when ``stages`` is empty; ``null`` = from scratch (Maven-lite, supervised) with
    ``model`` = a MavenConfig mapping or a JSON file holding one (or a training config's ``model``).
    ``model_overrides``: top-level MavenConfig keys replaced (e.g. ``{"spectrum": null}``).  ``data``:
    loader options per data set (``{"ztf_bts": {"min_detections": 5}, "osc": {...}}``), shared by
    training and evaluation."""

    name: str
    base_model: str | None
    model: Any
    model_overrides: dict | None
    stages: tuple
    evaluation: CrossFitEvalConfig
    data: dict | None = None
    data_dir: str | None = None
    n_folds: int = 5
    folds_seed: int = 0
    folds_file: str | None = None
    seed: int = 0
    device: str = "auto"
    num_threads: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "stages", tuple(
            s if isinstance(s, StageConfig) else StageConfig.from_dict(s, where=f"stages[{i}]")
            for i, s in enumerate(self.stages)))
        if self.base_model is None and self.model is None:
            raise ConfigError("CrossFitConfig: set base_model (a pre-trained model) or model (a MavenConfig)")
        if not self.stages and self.base_model is None:
            raise ConfigError("CrossFitConfig: stages = [] evaluates a frozen base_model; base_model is null")
        if not isinstance(self.n_folds, int) or self.n_folds < 2:
            raise ConfigError(f"CrossFitConfig.n_folds: an int >= 2, got {self.n_folds!r}")
        if any((st.train or {}).get("task") == "supervised" for st in self.stages[:-1]):
            raise ConfigError("CrossFitConfig.stages: a supervised stage must be the last one (no init from it)")
        unknown = sorted(set(self.data or {}) - set(SOURCES))
        if unknown:
            raise ConfigError(f"CrossFitConfig.data: unknown data set(s) {unknown}; known {list(SOURCES)}")

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["stages"] = [s.to_dict() for s in self.stages]
        return d


def load_crossfit_config(path) -> CrossFitConfig:
    d = json.loads(Path(path).read_text())
    return CrossFitConfig.from_dict(d, where=str(path))


# -- training -------------------------------------------------------------------------------------
def _base_model_dict(cfg: CrossFitConfig) -> dict:
    if cfg.base_model is not None:
        from ..models.hub import resolve_model_dir

        path, _ = resolve_model_dir(cfg.base_model)
        d = json.loads((path / "config.json").read_text())["config"]
    elif isinstance(cfg.model, dict):
        d = dict(cfg.model)
    else:
        j = json.loads(Path(cfg.model).read_text())
        d = j["model"] if isinstance(j.get("model"), dict) else j.get("config", j)
    return {**d, **(cfg.model_overrides or {})}


def stage_train_config(cfg: CrossFitConfig, i: int, fold: int, *, model: dict, init_from: str | None,
                       out_fold: Path, folds_file: Path, progress: bool = True):
    """The :class:`TrainConfig` of stage ``i`` for fold ``fold`` (a plain, re-runnable training config)."""
    from ..train.config import AugmentConfig, OptimConfig, SupervisedConfig, TrainConfig

    st = cfg.stages[i]
    d = {f.name: f.default for f in fields(TrainConfig) if f.default is not MISSING}
    d.update(optim=OptimConfig().to_dict(), augment=AugmentConfig().to_dict(), seed=cfg.seed, device=cfg.device,
             num_threads=cfg.num_threads, progress=progress)
    t = json.loads(json.dumps(st.train or {}))
    for key in ("optim", "augment"):
        d[key].update(t.pop(key, {}))
    if isinstance(t.get("supervised"), dict):
        t["supervised"] = {**SupervisedConfig().to_dict(), **t["supervised"]}
    d.update(t)
    kwargs = {**(cfg.data or {}).get(st.source, {}), "data_dir": cfg.data_dir, "exclude_demo_ids": True,
              "folds_file": str(folds_file), "exclude_folds": [int(fold)]}
    d.update(model=model, init_from=init_from, output_dir=str(out_fold / f"stage{i + 1}_{st.name}"),
             data={"source": "callable", "target": SOURCES[st.source], "kwargs": kwargs,
                   "modalities": list(st.modalities), "label_column": "class", "redshift_column": "redshift",
                   "drop_invalid": True, "cache": None},
             cv={"n_folds": cfg.n_folds, "fold": None, "seed": cfg.folds_seed,
                 "validation_fraction": st.validation_fraction})
    return TrainConfig.from_dict(json.loads(json.dumps(d)), where=f"stages[{i}] ({st.name}), fold {fold}")


def _load_model(path, device):
    from ..models.hub import resolve_model_dir
    from ..models.model import MavenModel
    from ..train.baselines import SupervisedLightCurveModel

    p, _ = resolve_model_dir(path)
    kind = json.loads((p / "config.json").read_text()).get("model_type")
    cls = SupervisedLightCurveModel if kind == SupervisedLightCurveModel.model_type else MavenModel
    return cls.from_pretrained(p, device=device)


def _elapsed(run_dir) -> float:
    """Training wall time of a run over all its (resumed) calls, from its last checkpoint."""
    import torch

    ck = torch.load(Path(run_dir) / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
    return round(float(ck["state"]["elapsed_s"]), 1)


def _n_rows(run_dir) -> dict:
    from ..train.folds import read_folds

    split = read_folds(Path(run_dir) / "folds.csv")["split"]
    return {"train": int((split == "train").sum()), "val": int((split == "val").sum())}


def _train_fold(cfg, k, out, folds_file, *, resume, max_epochs, progress):
    from ..models.hub import resolve_model_dir
    from ..train.baselines import SupervisedLightCurveModel
    from ..train.loop import train

    model_dict = _base_model_dict(cfg)
    init = None if cfg.base_model is None else str(resolve_model_dir(cfg.base_model)[0])
    model, info = None, []
    for i, st in enumerate(cfg.stages):
        tc = stage_train_config(cfg, i, k, model=model_dict, init_from=init, out_fold=out / f"fold{k}",
                                folds_file=folds_file, progress=progress)
        if max_epochs is not None:
            tc = tc.replace(epochs=min(tc.epochs, max_epochs))
        t0 = time.perf_counter()
        res = train(tc, resume=resume and (Path(tc.output_dir) / "checkpoints" / "last.pt").exists())
        if res.status == "interrupted" or res.model is None:
            raise RuntimeError(f"fold {k} stage {st.name}: training did not finish ({res.status})")
        info.append({"stage": st.name, "status": res.status, "epochs_run": res.epochs_run, "best_epoch": res.best_epoch,
                     "best_val_loss": res.best_val_loss, "steps": res.global_step,
                     "seconds_train": _elapsed(res.output_dir), "seconds_this_call": round(time.perf_counter() - t0, 1),
                     "seconds_epochs": round(sum(h["epoch_seconds"] for h in res.history), 1),
                     "n_train_rows": _n_rows(res.output_dir),
                     "output_dir": str(res.output_dir)})
        model = res.model
        init = str(res.output_dir)
        model_dict = None if isinstance(model, SupervisedLightCurveModel) else model.config.to_dict()
    return (model if model is not None else _load_model(cfg.base_model, cfg.device)), info


# -- embedding + evaluation of one fold -------------------------------------------------------------
def _embed(model, ds) -> tuple[dict, np.ndarray, tuple | None]:
    from ..train.baselines import SupervisedLightCurveModel

    mv = model.encoder if isinstance(model, SupervisedLightCurveModel) else model
    jobs = []
    if "lightcurve" in mv.modalities:
        jobs.append(("lightcurve", ds.lightcurves, mv.preprocess_lightcurve, model.embed_lightcurve))
    if ds.spectra is not None and "spectrum" in mv.modalities:
        jobs.append(("spectrum", ds.spectra, mv.preprocess_spectrum, mv.embed_spectrum))
    ok = np.ones(len(ds), dtype=bool)
    for _, objs, prep, _ in jobs:
        for i, o in enumerate(objs):
            try:
                prep(o)
            except ValueError:
                ok[i] = False
    idx = np.flatnonzero(ok)
    emb = {m: np.asarray(fn([objs[i] for i in idx], progress=False), dtype=np.float64) for m, objs, _, fn in jobs}
    direct = None
    if isinstance(model, SupervisedLightCurveModel):
        probs, z = model.predict([ds.lightcurves[i] for i in idx])
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


# -- the whole protocol ------------------------------------------------------------------------------
def _datasets(cfg, names):
    from ..train import sources

    fns = {"ztf_bts": sources.ztf_bts_pairs, "osc": sources.osc_triples}  # the training sources' own selection
    return {n: fns[n](cfg.data_dir, exclude_demo_ids=False, **(cfg.data or {}).get(n, {}))["dataset"] for n in names}


def run_crossfit(cfg: CrossFitConfig, out, *, resume: bool = False, only_folds=None, max_epochs: int | None = None,
                 folds_file=None, plots: bool = True, progress: bool = True) -> dict[str, EvaluationReport]:
    """Run the cross-fitted protocol; returns one :class:`EvaluationReport` per evaluated data set."""
    import torch

    from ..train.sources import fold_table

    t_all = time.perf_counter()
    if cfg.num_threads is not None:
        torch.set_num_threads(cfg.num_threads)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "crossfit_config.json").write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")
    ev = cfg.evaluation
    data = _datasets(cfg, sorted(SOURCES))  # folds over every real object, so every model gets the same file
    table, fsha = fold_table(data, out / "folds.csv", n_folds=cfg.n_folds, seed=cfg.folds_seed,
                             folds_file=folds_file or cfg.folds_file)
    fpath = out / "folds.csv"
    fold_of = {(d, o): int(f) for d, o, f in zip(table["dataset"], table["object_id"], table["fold"])}
    folds = {n: np.array([fold_of[(n, str(o))] for o in ds.object_ids]) for n, ds in data.items()}
    accs = {n: _Acc() for n in ev.datasets}
    run_folds = list(range(cfg.n_folds)) if only_folds is None else sorted(set(int(k) for k in only_folds))
    training, frozen, n_bad = {}, {}, {}
    for k in run_folds:
        model, info = _train_fold(cfg, k, out, fpath, resume=resume, max_epochs=max_epochs, progress=progress)
        training[k] = info
        t0 = time.perf_counter()
        for n in ev.datasets:
            ds = data[n]
            if cfg.stages or n not in frozen:  # a frozen model is embedded once
                frozen[n] = _embed(model, ds)
            emb, ok, direct = frozen[n]
            n_bad[n] = int((~ok).sum())
            (out / f"fold{k}").mkdir(exist_ok=True)
            np.savez(out / f"fold{k}" / f"embeddings_{n}.npz", object_ids=ds.object_ids[ok].astype(str),
                     fold=folds[n][ok], **emb, **({} if direct is None else {"class_probs": direct[0],
                                                                             "z_pred": direct[1]}))
            evaluate_fold(accs[n], emb, ds.labels[ok], ds.redshifts[ok], ds.object_ids[ok], folds[n][ok], k, ev,
                          cfg.seed, direct)
        (out / f"fold{k}" / "training.json").write_text(json.dumps(
            {"fold": k, "stages": info, "seconds_embed_and_probes": round(time.perf_counter() - t0, 1)}, indent=1))
        if progress:
            print(f"[crossfit {cfg.name}] fold {k} done: " + ", ".join(
                f"{s['stage']} {s['epochs_run']} ep {s['seconds_train']:.0f}s" for s in info), file=sys.stderr)
    train_s = [sum(s["seconds_train"] for s in training[k]) for k in run_folds]
    reports = {}
    for n in ev.datasets:
        ds = data[n]
        config = {"protocol": "crossfit", "title": f"{cfg.name} on {n}, cross-fitted ({len(run_folds)} folds)",
                  "n_splits": cfg.n_folds, "folds_evaluated": run_folds, "seed": cfg.seed,
                  "hyperparams": ev.hyperparams, "scenarios": list(ev.scenarios), "n_labelled": ev.n_labelled,
                  "n_draws": ev.n_draws, "zero_shot_k": ev.zero_shot_k, "n_items": len(ds)}
        info = {"model": cfg.name, "base_model": cfg.base_model, "dataset": n, "n_items": len(ds),
                "n_objects": int(len(set(ds.object_ids.tolist()))), "n_not_embeddable": n_bad.get(n, 0),
                "folds_file": str(fpath), "folds_sha256": fsha, "stages": [s.name for s in cfg.stages],
                "training": {str(k): training[k] for k in run_folds},
                "seconds_training_per_fold": {"mean": float(np.mean(train_s)), "values": train_s},
                "device": str(model.device), "torch_threads": torch.get_num_threads(),
                "python": platform.python_version(), "machine": platform.machine(),
                "processor": platform.processor() or platform.machine()}
        reports[n] = accs[n].report(config, info)
        reports[n].save(out / n, plots=plots)
        table[table["dataset"] == n].to_csv(out / n / "folds.csv", index=False)
    summary = [f"# Cross-fitted evaluation: {cfg.name}\n", f"folds: `{fpath}` (sha256 {fsha[:12]}), "
               f"training {np.mean(train_s):.0f} s per fold (mean), total {time.perf_counter() - t_all:.0f} s\n"]
    summary += [r.to_markdown() for r in reports.values()]
    (out / "summary.md").write_text("\n".join(summary))
    (out / "crossfit.json").write_text(json.dumps({"config": cfg.to_dict(), "folds_sha256": fsha,
                                                   "training": training, "seconds_total": time.perf_counter() - t_all},
                                                  indent=1, default=str))
    return reports


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m astroembed.evaluate.crossfit", description=__doc__.splitlines()[0])
    p.add_argument("--config", required=True, help="crossfit config (JSON), see configs/crossfit_*.json")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--resume", action="store_true", help="continue / reuse the stage runs already in --out")
    p.add_argument("--folds-file", help="reuse this folds.csv (e.g. another model's) instead of computing the folds")
    p.add_argument("--only-folds", type=int, nargs="+", help="run only these folds (the report covers them only)")
    p.add_argument("--max-epochs", type=int, help="cap every stage's epochs (dry runs)")
    p.add_argument("--device", help="override the config's device")
    p.add_argument("--num-threads", type=int, help="override the config's num_threads")
    p.add_argument("--data-dir", help="override the config's data_dir")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    a = p.parse_args(argv)
    try:
        cfg = load_crossfit_config(a.config)
        over = {k: v for k, v in (("device", a.device), ("num_threads", a.num_threads), ("data_dir", a.data_dir))
                if v is not None}
        cfg = cfg.replace(**over) if over else cfg
        reports = run_crossfit(cfg, a.out, resume=a.resume, only_folds=a.only_folds, max_epochs=a.max_epochs,
                               folds_file=a.folds_file, plots=not a.no_plots, progress=not a.no_progress)
    except (ConfigError, ValueError, FileNotFoundError, FileExistsError) as exc:
        print(f"crossfit: error: {exc}", file=sys.stderr)
        return 2
    for r in reports.values():
        print(r.to_markdown())
    print(f"results written to {a.out}/", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
