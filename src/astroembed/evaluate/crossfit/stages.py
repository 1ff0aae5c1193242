"""Per-fold training of a cross-fitted evaluation: each stage's :class:`TrainConfig` and the stage runs of
one fold."""

from __future__ import annotations

import json
import time
from dataclasses import MISSING, fields
from pathlib import Path

from .config import SOURCES, CrossFitConfig


def base_model_dict(cfg: CrossFitConfig) -> dict:
    """The model config (a dict) the first stage starts from: ``base_model``'s, or ``model``, with ``model_overrides``."""
    if cfg.base_model is not None:
        from ...models.hub import resolve_model_dir

        path, _ = resolve_model_dir(cfg.base_model)
        d = json.loads((path / "config.json").read_text())["config"]
    elif isinstance(cfg.model, dict):
        d = dict(cfg.model)
    elif not Path(cfg.model).is_file():  # a registered model name or model directory: its architecture only
        from ...models.hub import resolve_model_dir

        path, _ = resolve_model_dir(cfg.model)
        d = json.loads((path / "config.json").read_text())["config"]
    else:
        j = json.loads(Path(cfg.model).read_text())
        d = j["model"] if isinstance(j.get("model"), dict) else j.get("config", j)
    return {**d, **(cfg.model_overrides or {})}


def stage_train_config(cfg: CrossFitConfig, i: int, fold: int | None, *, model: dict, init_from: str | None,
                       out_fold: Path, folds_file: Path | None, progress: bool = True):
    """The :class:`TrainConfig` of stage ``i`` for fold ``fold`` (a plain, re-runnable training config).

    ``fold=None`` (with ``folds_file=None``) trains on every development object except the demo ones,
    as the release run does.
    """
    from ...train.config import AugmentConfig, OptimConfig, SupervisedConfig, TrainConfig

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
    kwargs = {**(cfg.data or {}).get(st.source, {}), "data_dir": cfg.data_dir, "exclude_demo_ids": True}
    if fold is not None:
        kwargs.update(folds_file=str(folds_file), exclude_folds=[int(fold)])
    d.update(model=model, init_from=init_from, output_dir=str(out_fold / f"stage{i + 1}_{st.name}"),
             data={"source": "callable", "target": SOURCES[st.source], "kwargs": kwargs,
                   "modalities": list(st.modalities), "label_column": "class", "redshift_column": "redshift",
                   "drop_invalid": True, "cache": None},
             cv={"n_folds": cfg.n_folds, "fold": None, "seed": cfg.folds_seed,
                 "validation_fraction": st.validation_fraction})
    return TrainConfig.from_dict(json.loads(json.dumps(d)), where=f"stages[{i}] ({st.name}), fold {fold if fold is not None else 'none (all data)'}")


def load_trained_model(path, device):
    """Load a trained run directory or registered model of any model type (``load_pretrained``)."""
    from ...models.pretrained import load_pretrained

    return load_pretrained(path, device=device)


def _elapsed(run_dir) -> float:
    """Training wall time of a run over all its (resumed) calls, from its last checkpoint."""
    import torch

    ck = torch.load(Path(run_dir) / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
    return round(float(ck["state"]["elapsed_s"]), 1)


def _n_rows(run_dir) -> dict:
    from ...train.folds import read_folds

    split = read_folds(Path(run_dir) / "folds.csv")["split"]
    return {"train": int((split == "train").sum()), "val": int((split == "val").sum())}


def run_stages(cfg: CrossFitConfig, fold: int | None, out_dir, folds_file=None, *, resume: bool = False,
               max_epochs: int | None = None, progress: bool = True):
    """Train the stages of ``cfg`` in turn (each initialised from the previous one, or ``base_model``) into
    ``out_dir/stage<i>_<name>``, holding out ``fold`` of ``folds_file`` (``fold=None``: every development
    object except the demo ones, the release run).  Returns ``(model, per-stage info)``; with no stages,
    the frozen ``base_model``.  Used by the cross-fit (per fold) and by ``tools/release_maven.py``."""
    from ...models.hub import resolve_model_dir
    from ...models.supervised import SupervisedLightCurveModel
    from ...train.loop import train

    out_dir = Path(out_dir)
    model_dict = base_model_dict(cfg)
    init = None if cfg.base_model is None else str(resolve_model_dir(cfg.base_model)[0])
    model, info = None, []
    where = "all data" if fold is None else f"fold {fold}"
    for i, st in enumerate(cfg.stages):
        tc = stage_train_config(cfg, i, fold, model=model_dict, init_from=init, out_fold=out_dir,
                                folds_file=folds_file, progress=progress)
        if max_epochs is not None:
            tc = tc.replace(epochs=min(tc.epochs, max_epochs))
        t0 = time.perf_counter()
        res = train(tc, resume=resume and (Path(tc.output_dir) / "checkpoints" / "last.pt").exists())
        if res.status == "interrupted" or res.model is None:
            raise RuntimeError(f"{where} stage {st.name}: training did not finish ({res.status})")
        info.append({"stage": st.name, "status": res.status, "epochs_run": res.epochs_run, "best_epoch": res.best_epoch,
                     "best_val_loss": res.best_val_loss, "steps": res.global_step,
                     "seconds_train": _elapsed(res.output_dir), "seconds_this_call": round(time.perf_counter() - t0, 1),
                     "seconds_epochs": round(sum(h["epoch_seconds"] for h in res.history), 1),
                     "n_train_rows": _n_rows(res.output_dir),
                     "output_dir": str(res.output_dir)})
        model = res.model
        init = str(res.output_dir)
        model_dict = None if isinstance(model, SupervisedLightCurveModel) else model.config.to_dict()
    return (model if model is not None else load_trained_model(cfg.base_model, cfg.device)), info
