"""The training loop: CLIP pre-training / fine-tuning and the supervised baseline, one harness.

Everything random is a function of ``(seed, epoch, batch)`` (shuffling, augmentation, dropout), so a run
resumed from a checkpoint (``resume=True`` / ``astroembed train --resume``) continues exactly as the
uninterrupted run would have, also from a mid-epoch checkpoint.

Files written to ``output_dir``::

    config.json, model.safetensors   best weights so far (lowest validation loss) — a model directory
    folds.csv                        object_id, label, fold, split (train / val / test) of every row
    train_config.json                the full training config
    history.csv, loss_curve.png      per-epoch train / validation loss, learning rate, throughput
    checkpoints/last.pt              model + optimiser + scheduler + RNG states + counters (for --resume)

Checkpoints are written with ``torch.save`` and read with ``torch.load(weights_only=True)`` (tensors and
plain Python values only; no arbitrary objects are unpickled).  The weights users load are safetensors.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data.bands import pinned_band_wavelengths
from ..errors import ConfigError, TrainingDivergedError
from ..models.device import resolve_device
from ..models.maven.model import MavenModel
from ..models.persistence import read_band_table
from ..models.supervised import SupervisedLightCurveModel
from .batching import _Batcher, _eval_batches, epoch_batches
from .checkpoint import (
    _CKPT_FORMAT,
    CHECKPOINT_NAME,
    _comparable,
    _data_fingerprint,
    _finite_state,
    _save_checkpoint,
)
from .config import TrainConfig
from .data import PairedData, load_source, prepare_data
from .folds import split_for_run, write_folds
from .history import _write_history
from .model_setup import _amp, _lr_lambda, _maven, _param_groups, apply_freeze, build_model, load_init

__all__ = ["train", "TrainResult", "TrainingDivergedError", "epoch_batches", "CHECKPOINT_NAME"]


@dataclass
class TrainResult:
    """Outcome of :func:`train`.  ``model`` holds the best weights (lowest validation loss)."""

    output_dir: Path
    status: str  # "completed", "early_stopped" or "interrupted"
    best_epoch: int
    best_val_loss: float
    epochs_run: int
    global_step: int
    history: list[dict] = field(default_factory=list)
    model: nn.Module | None = None


def _ids_preview(data: PairedData, idx) -> str:
    ids = [str(data.object_ids[i]) for i in idx[:5]]
    return ", ".join(ids) + (" …" if len(idx) > 5 else "")


# -- the loop --------------------------------------------------------------------------------------
def train(config: TrainConfig, data=None, *, resume: bool = False, stop_after_steps: int | None = None,
          time_limit_s: float | None = None) -> TrainResult:
    """Run (or resume) one training run described by ``config``.

    With ``init_from``, the run encodes bands with the table of the model it starts from (the
    ``band_wavelengths`` of its ``config.json``) and the trained model records that table; otherwise it
    uses (and records) the live band registry.

    Parameters
    ----------
    config : TrainConfig
    data : dataset, PairedData or None
        Training rows: simulator output, any object/mapping with ``lightcurves`` / ``spectra`` /
        ``truth`` (see :func:`~astroembed.train.data.dataset_arrays`), or a prepared :class:`PairedData`.
        ``None`` loads ``config.data``.
    resume : bool
        Continue from ``output_dir/checkpoints/last.pt`` (its config must equal ``config`` up to
        ``output_dir``, ``device``, ``num_threads`` and ``progress``).
    stop_after_steps, time_limit_s : optional
        Stop after this many optimiser steps / seconds *in this call*, writing a checkpoint to resume
        from (``status="interrupted"``).

    Raises
    ------
    TrainingDivergedError
        On a NaN/inf loss or gradient; names the epoch, batch and objects; no weights are written.
    ValueError
        Empty, unlabelled or single-class training set; too little data for the splits.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"train: expected a TrainConfig, got {type(config).__name__}")
    table = read_band_table(config.init_from) if config.init_from is not None else None
    with pinned_band_wavelengths(table) if table is not None else nullcontext():
        return _train(config, data, resume=resume, stop_after_steps=stop_after_steps, time_limit_s=time_limit_s)


def _train(config: TrainConfig, data=None, *, resume: bool = False, stop_after_steps: int | None = None,
           time_limit_s: float | None = None) -> TrainResult:
    """One training run (see :func:`train`), with the band table already pinned."""
    cfg = config
    t_start = time.perf_counter()
    if cfg.num_threads is not None:
        torch.set_num_threads(cfg.num_threads)
    device = resolve_device(cfg.device)
    out = Path(cfg.output_dir)
    ckpt_path = out / "checkpoints" / CHECKPOINT_NAME
    if not resume and ckpt_path.exists():
        raise FileExistsError(f"{out} already holds a training run ({ckpt_path}); pass resume=True "
                              "(astroembed train --resume) to continue it, or choose another output_dir")
    if resume and not ckpt_path.exists():
        raise FileNotFoundError(f"resume: no checkpoint at {ckpt_path}")

    # data, folds, splits
    if data is None:
        data = load_source(cfg.data)
    pd_data = prepare_data(cfg.model, data, modalities=[m for m in cfg.data.modalities if m != "metadata"],
                           label_column=cfg.data.label_column, redshift_column=cfg.data.redshift_column,
                           drop_invalid=cfg.data.drop_invalid, cache=cfg.data.cache,
                           cache_key=json.dumps(cfg.data.to_dict(), sort_keys=True))
    for m in cfg.data.modalities:
        if m == "lightcurve" and pd_data.lightcurves is None or m == "spectrum" and pd_data.spectra is None:
            raise ValueError(f"training data has no {m}s but data.modalities includes {m!r}")
    folds, split = split_for_run(pd_data.labels, pd_data.object_ids, n_folds=cfg.cv.n_folds, fold=cfg.cv.fold,
                                 seed=cfg.cv.seed, validation_fraction=cfg.cv.validation_fraction)
    tr_idx, va_idx = np.flatnonzero(split == "train"), np.flatnonzero(split == "val")
    if len(tr_idx) < 2 or len(va_idx) < 2:
        raise ValueError(f"training set too small: {len(tr_idx)} training and {len(va_idx)} validation rows "
                         "(need at least 2 each)")
    train_data, val_data = pd_data.subset(tr_idx), pd_data.subset(va_idx)
    fingerprint = _data_fingerprint(pd_data, split)

    # model, optimiser, schedule
    model = build_model(cfg)
    loaded: list[str] = []
    if cfg.init_from is not None:
        loaded = load_init(model, cfg.init_from)
    if cfg.freeze == "all_but_first_block":
        apply_freeze(model, loaded)
    model.to(device)
    groups = _param_groups(model, cfg.optim.weight_decay)
    o = cfg.optim
    opt_cls = torch.optim.AdamW if o.optimizer == "adamw" else torch.optim.RAdam
    extra = {"decoupled_weight_decay": True} if o.optimizer == "radam" else {}
    optimizer = opt_cls(groups, lr=o.lr, betas=tuple(o.betas), eps=o.eps, **extra)
    lengths = train_data.lengths()
    n_batches = len(epoch_batches(len(train_data), lengths, cfg.batch_size, cfg.seed, 0, cfg.length_bucketing))
    total_steps = cfg.epochs * n_batches
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(o.warmup_steps, total_steps,
                                                                           o.min_lr_ratio))
    amp_dtype, scaler = _amp(cfg, device)
    batcher, val_batcher = _Batcher(cfg, model, train_data), _Batcher(cfg, model, val_data)
    maven = _maven(model)

    state = {"epoch": 0, "batch_in_epoch": 0, "global_step": 0, "epoch_loss_sum": 0.0, "epoch_count": 0,
             "epoch_time": 0.0, "best_val": float("inf"), "best_epoch": -1, "bad_epochs": 0, "history": [],
             "elapsed_s": 0.0, "done": False, "status": "running"}
    if resume:
        ck = torch.load(ckpt_path, map_location="cpu", weights_only=True)
        if ck.get("format") != _CKPT_FORMAT:
            raise ValueError(f"{ckpt_path}: not an astroembed training checkpoint")
        if ck["train_config"] != _comparable(cfg):
            a, b = ck["train_config"], _comparable(cfg)
            diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            raise ConfigError(f"resume: {ckpt_path} was written by another training config (differences in "
                              f"{diff}); resume with the config it was started with")
        if ck["data_fingerprint"] != fingerprint:
            raise ValueError(f"resume: the training data (objects, labels or splits) differ from those of "
                             f"{ckpt_path}; resume with the same data")
        model.load_state_dict(ck["model"])
        optimizer.load_state_dict(ck["optimizer"])
        scheduler.load_state_dict(ck["scheduler"])
        if scaler is not None and ck.get("scaler"):
            scaler.load_state_dict(ck["scaler"])
        torch.set_rng_state(ck["rng"]["torch"])
        if torch.cuda.is_available() and ck["rng"].get("cuda"):
            torch.cuda.set_rng_state_all(ck["rng"]["cuda"])
        random.setstate((ck["rng"]["python"][0], tuple(ck["rng"]["python"][1]), ck["rng"]["python"][2]))
        state.update(ck["state"])
        if state["done"]:
            return _finish(cfg, out, state, device)

    out.mkdir(parents=True, exist_ok=True)
    (out / "train_config.json").write_text(cfg.to_json() + "\n")
    write_folds(out / "folds.csv", pd_data.object_ids, pd_data.labels, folds, split)

    def checkpoint():
        if not _finite_state(model):
            raise TrainingDivergedError("weights became non-finite; not writing a checkpoint")
        py = random.getstate()
        _save_checkpoint(ckpt_path, {
            "format": _CKPT_FORMAT, "train_config": _comparable(cfg), "data_fingerprint": fingerprint,
            "model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
            "scaler": scaler.state_dict() if scaler is not None else None,
            "rng": {"torch": torch.get_rng_state(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
                    "python": [py[0], list(py[1]), py[2]]},
            "state": dict(state, elapsed_s=state["elapsed_s"] + time.perf_counter() - t_start)})

    def log(msg: str) -> None:
        if cfg.progress:
            from tqdm.auto import tqdm

            tqdm.write(msg, file=sys.stderr)

    log(f"training {cfg.task} on {device} ({'amp ' + str(amp_dtype) if amp_dtype else 'fp32'}): "
        f"{len(train_data)} train / {len(val_data)} val rows, {n_batches} batches/epoch, "
        f"{sum(p.numel() for p in model.parameters() if p.requires_grad):,} trainable parameters")
    steps_this_call = 0
    t_call = time.perf_counter()
    from tqdm.auto import tqdm

    while state["epoch"] < cfg.epochs:
        epoch = state["epoch"]
        batches = epoch_batches(len(train_data), lengths, cfg.batch_size, cfg.seed, epoch, cfg.length_bucketing)
        model.train()
        bar = tqdm(total=len(batches), initial=state["batch_in_epoch"], desc=f"epoch {epoch + 1}/{cfg.epochs}",
                   unit="batch", disable=not cfg.progress, leave=False, file=sys.stderr)
        t_ep = time.perf_counter()
        n_obj = 0
        try:
            for b in range(state["batch_in_epoch"], len(batches)):
                idx = batches[b]
                torch.manual_seed((cfg.seed * 1_000_003 + state["global_step"]) % (2**63))
                batch = batcher(idx, np.random.default_rng([cfg.seed, epoch, b, 2]), device)
                ctx = torch.autocast(device.type, dtype=amp_dtype) if amp_dtype is not None else nullcontext()
                with ctx:
                    loss = batcher.loss(batch)
                if not bool(torch.isfinite(loss)):
                    raise TrainingDivergedError(
                        f"non-finite loss ({loss.item()}) at epoch {epoch + 1}, batch {b + 1}/{len(batches)} "
                        f"(global step {state['global_step']}), objects {_ids_preview(train_data, idx)}; "
                        f"training stopped, no weights written for this step (last good checkpoint: {ckpt_path})")
                optimizer.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(loss).backward()
                    scaler.unscale_(optimizer)
                else:
                    loss.backward()
                gnorm = (torch.nn.utils.clip_grad_norm_(model.parameters(), o.grad_clip) if o.grad_clip > 0
                         else torch.sqrt(sum((p.grad.float() ** 2).sum() for p in model.parameters()
                                             if p.grad is not None)))
                if scaler is not None:
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    if not bool(torch.isfinite(gnorm)):
                        raise TrainingDivergedError(
                            f"non-finite gradient at epoch {epoch + 1}, batch {b + 1}/{len(batches)} "
                            f"(global step {state['global_step']}), objects {_ids_preview(train_data, idx)}; "
                            "training stopped, no weights written for this step")
                    optimizer.step()
                scheduler.step()
                maven.logit_scales.clamp_()
                lv = float(loss.detach())
                state["epoch_loss_sum"] += lv * len(idx)
                state["epoch_count"] += len(idx)
                state["global_step"] += 1
                state["batch_in_epoch"] = b + 1
                steps_this_call += 1
                n_obj += len(idx)
                el = time.perf_counter() - t_ep
                bar.update(1)
                bar.set_postfix(loss=f"{state['epoch_loss_sum'] / state['epoch_count']:.4f}",
                                obj_s=f"{n_obj / max(el, 1e-9):.0f}", lr=f"{scheduler.get_last_lr()[0]:.2e}")
                stop = (stop_after_steps is not None and steps_this_call >= stop_after_steps) or (
                    time_limit_s is not None and time.perf_counter() - t_call >= time_limit_s)
                last_batch = b + 1 == len(batches)
                if stop and not last_batch:
                    state["epoch_time"] += time.perf_counter() - t_ep
                    checkpoint()
                    bar.close()
                    log(f"stopped after {steps_this_call} steps; resume with --resume")
                    return _finish(cfg, out, dict(state, status="interrupted"), device)
                if cfg.checkpoint_every_steps and state["global_step"] % cfg.checkpoint_every_steps == 0 \
                        and not last_batch:
                    state["epoch_time"] += time.perf_counter() - t_ep
                    t_ep = time.perf_counter()
                    n_obj = 0
                    checkpoint()
        except KeyboardInterrupt:
            bar.close()
            if state["batch_in_epoch"] > 0 and _finite_state(model):
                checkpoint()
                log(f"interrupted; checkpoint written to {ckpt_path} (resume with --resume)")
            raise
        bar.close()
        state["epoch_time"] += time.perf_counter() - t_ep

        # validation, early stopping, outputs
        val_loss = evaluate_loss(model, val_batcher, len(val_data), cfg, device, amp_dtype)
        if not math.isfinite(val_loss):
            raise TrainingDivergedError(f"non-finite validation loss at epoch {epoch + 1}; training stopped, "
                                        "no weights written")
        train_loss = state["epoch_loss_sum"] / max(1, state["epoch_count"])
        rec = {"epoch": epoch + 1, "step": state["global_step"], "train_loss": train_loss, "val_loss": val_loss,
               "lr": scheduler.get_last_lr()[0], "epoch_seconds": state["epoch_time"],
               "objects_per_s": state["epoch_count"] / max(state["epoch_time"], 1e-9)}
        state["history"] = state["history"] + [rec]
        improved = val_loss < state["best_val"] - cfg.min_delta
        if improved:
            state["best_val"], state["best_epoch"], state["bad_epochs"] = val_loss, epoch + 1, 0
            model.save_pretrained(out, extra_metadata={"training": _summary(cfg, state, len(train_data),
                                                                            len(val_data), device)})
        else:
            state["bad_epochs"] += 1
        log(f"epoch {epoch + 1}: train {train_loss:.4f}  val {val_loss:.4f}{'  *' if improved else ''}  "
            f"({rec['objects_per_s']:.0f} obj/s)")
        state.update(epoch=epoch + 1, batch_in_epoch=0, epoch_loss_sum=0.0, epoch_count=0, epoch_time=0.0)
        if state["bad_epochs"] >= cfg.patience:
            state["status"] = "early_stopped"
            state["done"] = True
        elif state["epoch"] >= cfg.epochs:
            state["status"] = "completed"
            state["done"] = True
        checkpoint()
        _write_history(out, state["history"])
        if state["done"]:
            break
        if (stop_after_steps is not None and steps_this_call >= stop_after_steps) or (
                time_limit_s is not None and time.perf_counter() - t_call >= time_limit_s):
            log(f"stopped after {steps_this_call} steps; resume with --resume")
            return _finish(cfg, out, dict(state, status="interrupted"), device)
    return _finish(cfg, out, state, device)


def _summary(cfg: TrainConfig, state: dict, n_train: int, n_val: int, device) -> dict:
    return {"task": cfg.task, "best_epoch": state["best_epoch"], "best_val_loss": state["best_val"],
            "n_train_rows": n_train, "n_val_rows": n_val, "device": str(device), "seed": cfg.seed,
            "init_from": cfg.init_from, "fold": cfg.cv.fold}


@torch.no_grad()
def evaluate_loss(model: nn.Module, batcher: _Batcher, n: int, cfg: TrainConfig, device, amp_dtype=None) -> float:
    """Mean loss over fixed batches (no augmentation, eval mode)."""
    was = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        for idx in _eval_batches(n, cfg.batch_size, cfg.seed):
            batch = batcher(idx, None, device)
            ctx = torch.autocast(device.type, dtype=amp_dtype) if amp_dtype is not None else nullcontext()
            with ctx:
                total += float(batcher.loss(batch)) * len(idx)
            count += len(idx)
    finally:
        model.train(was)
    return total / max(count, 1)


def _finish(cfg: TrainConfig, out: Path, state: dict, device) -> TrainResult:
    model = None
    if (out / "model.safetensors").exists():
        cls = SupervisedLightCurveModel if cfg.task == "supervised" else MavenModel
        model = cls.from_pretrained(out, device=device)
    return TrainResult(output_dir=out, status=state["status"], best_epoch=state["best_epoch"],
                       best_val_loss=state["best_val"], epochs_run=state["epoch"],
                       global_step=state["global_step"], history=list(state["history"]), model=model)
