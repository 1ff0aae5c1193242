"""Training configuration (JSON file → :class:`TrainConfig`), strict like every astroembed config.

A complete example lives in ``configs/``; ``astroembed train --config FILE`` runs it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._config import StrictConfig, check_choice, check_int, check_number, check_positive
from ..errors import ConfigError
from ..labels import MAVEN5
from ..models.maven.config import MODALITIES, MavenConfig

__all__ = ["DataConfig", "OptimConfig", "AugmentConfig", "CVConfig", "SupervisedConfig", "TrainConfig",
           "load_train_config", "RUN_LEVEL_KEYS"]

#: keys that may differ between a run and its ``--resume`` (they do not change the numbers)
RUN_LEVEL_KEYS = ("output_dir", "device", "num_threads", "progress")


@dataclass(frozen=True)
class DataConfig(StrictConfig):
    """Where the training pairs come from.

    ``source``:
      * ``"simulate"`` — ``astroembed.simulate.simulate(**kwargs)`` (e.g. ``{"n": 100000, "survey": "ztf",
        "seed": 0}``);
      * ``"callable"`` — ``target = "package.module:function"`` called with ``kwargs``; it returns a
        dataset with ``lightcurves`` / ``spectra`` (aligned lists of containers, either may be missing)
        and ``truth`` (DataFrame with ``label_column`` / ``redshift_column``), as an object or a mapping.
    ``modalities``: the modalities to pair (a subset of the model's; ``"metadata"`` = label + redshift).
    ``drop_invalid``: drop objects whose preprocessing fails (e.g. a spectrum not covering the grid)
    instead of stopping; the count is reported.  ``cache``: optional ``.npz`` path where the
    preprocessed arrays are stored and reused (keyed by the data and preprocessing configs).
    """

    source: str = "simulate"
    target: str | None = None
    kwargs: dict | None = None
    modalities: tuple = ("lightcurve", "spectrum")
    label_column: str = "class"
    redshift_column: str = "redshift"
    drop_invalid: bool = True
    cache: str | None = None

    def __post_init__(self):
        w = "DataConfig"
        check_choice(f"{w}.source", self.source, ("simulate", "callable"))
        if self.source == "callable":
            if not isinstance(self.target, str) or ":" not in self.target:
                raise ConfigError(f"{w}.target: needs 'package.module:function' for source='callable', got "
                                  f"{self.target!r}")
        elif self.target is not None:
            raise ConfigError(f"{w}.target: only used with source='callable'; set it to null")
        if self.kwargs is not None and not isinstance(self.kwargs, dict):
            raise ConfigError(f"{w}.kwargs: must be a mapping or null, got {type(self.kwargs).__name__}")
        if not isinstance(self.modalities, tuple):
            object.__setattr__(self, "modalities", tuple(self.modalities))
        for m in self.modalities:
            check_choice(f"{w}.modalities", m, MODALITIES)
        if len(set(self.modalities)) != len(self.modalities) or not self.modalities:
            raise ConfigError(f"{w}.modalities: distinct modality names needed, got {self.modalities}")
        if not isinstance(self.drop_invalid, bool):
            raise ConfigError(f"{w}.drop_invalid: must be true/false")


@dataclass(frozen=True)
class OptimConfig(StrictConfig):
    """Optimiser (``"adamw"`` or ``"radam"``) with linear warm-up over ``warmup_steps`` then cosine decay to
    ``lr * min_lr_ratio`` at the last step; gradients clipped to norm ``grad_clip`` (0 = off).
    Weight decay is not applied to biases, norms, embeddings and logit scales."""

    optimizer: str = "adamw"
    lr: float = 5e-4
    weight_decay: float = 0.01
    betas: tuple = (0.9, 0.98)
    eps: float = 1e-8
    warmup_steps: int = 500
    min_lr_ratio: float = 0.02
    grad_clip: float = 1.0

    def __post_init__(self):
        w = "OptimConfig"
        check_choice(f"{w}.optimizer", self.optimizer, ("adamw", "radam"))
        check_number(f"{w}.lr", self.lr, 0, lo_open=True)
        check_number(f"{w}.weight_decay", self.weight_decay, 0)
        if not isinstance(self.betas, tuple):
            object.__setattr__(self, "betas", tuple(self.betas))
        if len(self.betas) != 2:
            raise ConfigError(f"{w}.betas: two numbers needed, got {self.betas!r}")
        for b in self.betas:
            check_number(f"{w}.betas", b, 0, 1, hi_open=True)
        check_number(f"{w}.eps", self.eps, 0, lo_open=True)
        check_int(f"{w}.warmup_steps", self.warmup_steps)
        check_number(f"{w}.min_lr_ratio", self.min_lr_ratio, 0, 1)
        check_number(f"{w}.grad_clip", self.grad_clip, 0)


@dataclass(frozen=True)
class AugmentConfig(StrictConfig):
    """Training-time augmentation (never applied to validation).

    ``noise_sigma``: add Gaussian noise of ``noise_sigma ×`` the reported errors to fluxes and spectra
    (Maven; 0 = off).  ``obs_dropout``: drop each light-curve observation with this probability, keeping
    at least ``min_obs`` (or all, if fewer).  ``pixel_dropout``: mark each valid spectral bin invalid with
    this probability (at least one bin stays).  ``time_shift_days``: shift all times of a light curve by
    a uniform offset in ±this (the reference epoch is uncertain; 0 = off).
    """

    noise_sigma: float = 1.0
    obs_dropout: float = 0.1
    min_obs: int = 3
    pixel_dropout: float = 0.1
    time_shift_days: float = 0.0

    def __post_init__(self):
        w = "AugmentConfig"
        check_number(f"{w}.noise_sigma", self.noise_sigma, 0)
        check_number(f"{w}.obs_dropout", self.obs_dropout, 0, 1, hi_open=True)
        check_int(f"{w}.min_obs", self.min_obs, 1)
        check_number(f"{w}.pixel_dropout", self.pixel_dropout, 0, 1, hi_open=True)
        check_number(f"{w}.time_shift_days", self.time_shift_days, 0)


@dataclass(frozen=True)
class CVConfig(StrictConfig):
    """Stratified (by label) K-fold split over objects (rows of one ``object_id`` stay together).

    ``fold``: the fold held out as test set (never seen in training or early stopping), or ``null`` to
    train on every fold.  ``validation_fraction`` of the remaining objects (stratified) is the
    validation set for early stopping.  The fold ids of every object are saved as ``folds.csv``.
    """

    n_folds: int = 5
    fold: int | None = None
    seed: int = 0
    validation_fraction: float = 0.1

    def __post_init__(self):
        w = "CVConfig"
        check_int(f"{w}.n_folds", self.n_folds, 2)
        if self.fold is not None:
            check_int(f"{w}.fold", self.fold, 0)
            if self.fold >= self.n_folds:
                raise ConfigError(f"{w}.fold: must be < n_folds={self.n_folds}, got {self.fold}")
        check_int(f"{w}.seed", self.seed)
        check_number(f"{w}.validation_fraction", self.validation_fraction, 0, 0.5, lo_open=True)


@dataclass(frozen=True)
class SupervisedConfig(StrictConfig):
    """The supervised light-curve baseline: cross-entropy over ``class_names`` plus ``redshift_weight``
    × MSE of the redshift, heads with ``head_hidden_dim`` units on the light-curve encoder output."""

    class_names: tuple = MAVEN5
    head_hidden_dim: int = 64
    redshift_weight: float = 10.0

    def __post_init__(self):
        w = "SupervisedConfig"
        if not isinstance(self.class_names, tuple):
            object.__setattr__(self, "class_names", tuple(self.class_names))
        if len(self.class_names) < 2 or len(set(self.class_names)) != len(self.class_names):
            raise ConfigError(f"{w}.class_names: at least two distinct names needed, got {self.class_names!r}")
        check_int(f"{w}.head_hidden_dim", self.head_hidden_dim, 1)
        check_number(f"{w}.redshift_weight", self.redshift_weight, 0)


@dataclass(frozen=True)
class TrainConfig(StrictConfig):
    """One training run.

    ``task``: ``"clip"`` (contrastive, pairs of :attr:`DataConfig.modalities`) or ``"supervised"`` (the
    light-curve baseline; needs ``supervised``).  ``init_from``: a model directory (``save_pretrained``
    output) whose encoders initialise the shared modalities — fine-tuning; their configs must be
    identical to this ``model``'s.  ``freeze``: ``"none"`` (fine-tune all weights, Maven's choice) or
    ``"all_but_first_block"`` (train only the input layers and the first transformer block of each
    pre-trained encoder; needs ``init_from``).  ``patience``: epochs without a validation-loss
    improvement of at least ``min_delta`` before stopping.  ``amp``: mixed precision on CUDA (``"auto"``
    = bf16 when supported, else fp16; never on the CPU).  ``length_bucketing``: group objects of similar
    length into training batches (less padding, faster on a CPU).  ``checkpoint_every_steps``: extra
    mid-epoch checkpoints (0 = only at the end of each epoch).
    """

    model: MavenConfig
    data: DataConfig
    optim: OptimConfig
    augment: AugmentConfig
    cv: CVConfig
    output_dir: str
    task: str = "clip"
    supervised: SupervisedConfig | None = None
    init_from: str | None = None
    freeze: str = "none"
    epochs: int = 20
    batch_size: int = 128
    patience: int = 5
    min_delta: float = 0.0
    seed: int = 0
    device: str = "auto"
    amp: str = "auto"
    num_threads: int | None = None
    length_bucketing: bool = True
    checkpoint_every_steps: int = 0
    progress: bool = True

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, where: str | None = None) -> TrainConfig:
        where = where or cls.__name__
        if not isinstance(d, dict):
            raise ConfigError(f"{where}: expected a mapping, got {type(d).__name__}")
        d = dict(d)
        if isinstance(d.get("supervised"), dict):
            d["supervised"] = SupervisedConfig.from_dict(d["supervised"], where=f"{where}.supervised")
        return super().from_dict(d, where=where)

    def __post_init__(self):
        w = "TrainConfig"
        for name, cls in (("model", MavenConfig), ("data", DataConfig), ("optim", OptimConfig),
                          ("augment", AugmentConfig), ("cv", CVConfig)):
            if not isinstance(getattr(self, name), cls):
                raise ConfigError(f"{w}.{name}: expected {cls.__name__}, got {type(getattr(self, name)).__name__}")
        check_choice(f"{w}.task", self.task, ("clip", "supervised"))
        check_choice(f"{w}.freeze", self.freeze, ("none", "all_but_first_block"))
        check_choice(f"{w}.amp", self.amp, ("auto", "off", "bf16", "fp16"))
        if not isinstance(self.output_dir, str) or not self.output_dir:
            raise ConfigError(f"{w}.output_dir: a directory path is needed")
        missing = [m for m in self.data.modalities if m not in self.model.modalities]
        if missing:
            raise ConfigError(f"{w}.data.modalities: {missing} not in the model's modalities "
                              f"{list(self.model.modalities)}")
        if self.task == "clip":
            if len(self.data.modalities) < 2:
                raise ConfigError(f"{w}.data.modalities: contrastive training needs two or more, got "
                                  f"{list(self.data.modalities)}")
            if self.supervised is not None:
                raise ConfigError(f"{w}.supervised: only used with task='supervised'; set it to null")
        else:
            if self.supervised is None:
                raise ConfigError(f"{w}.supervised: needed for task='supervised'")
            if self.model.modalities != ("lightcurve",) or self.data.modalities != ("lightcurve",):
                raise ConfigError(f"{w}.model: the supervised baseline is a light-curve model; configure only "
                                  "model.lightcurve (spectrum/metadata null) and data.modalities=['lightcurve']")
        if self.freeze != "none" and self.init_from is None:
            raise ConfigError(f"{w}.freeze: {self.freeze!r} needs init_from (a pre-trained model directory)")
        check_int(f"{w}.epochs", self.epochs, 1)
        check_int(f"{w}.batch_size", self.batch_size, 2)
        check_int(f"{w}.patience", self.patience, 1)
        check_number(f"{w}.min_delta", self.min_delta, 0)
        check_int(f"{w}.seed", self.seed)
        if not isinstance(self.device, str):
            raise ConfigError(f"{w}.device: a string such as 'auto', 'cpu', 'cuda', got {self.device!r}")
        if self.num_threads is not None:
            check_int(f"{w}.num_threads", self.num_threads, 1)
        check_int(f"{w}.checkpoint_every_steps", self.checkpoint_every_steps)
        for b in ("length_bucketing", "progress"):
            if not isinstance(getattr(self, b), bool):
                raise ConfigError(f"{w}.{b}: must be true/false")
        check_positive(f"{w}.batch_size", self.batch_size)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def load_train_config(path: str | Path, **overrides) -> TrainConfig:
    """Read a JSON training config; ``overrides`` replace top-level keys (e.g. ``output_dir``)."""
    path = Path(path)
    try:
        d = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"training config {path} not found") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(d, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    d.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig.from_dict(d, where=str(path))
