"""Configuration of a cross-fitted evaluation (``astroembed.evaluate.crossfit``): :class:`CrossFitConfig`
with its :class:`StageConfig` fine-tuning stages and :class:`CrossFitEvalConfig` probes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..._config import StrictConfig, check_choice, check_int, check_number
from ...errors import ConfigError
from ..probes import CLASSIFICATION_PROBES, REGRESSION_PROBES

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
        check_number("StageConfig.validation_fraction", self.validation_fraction, 0, 1, lo_open=True, hi_open=True)
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
        check_int("evaluation.n_labelled", self.n_labelled, 1)
        check_int("evaluation.n_draws", self.n_draws, 1)
        check_int("evaluation.zero_shot_k", self.zero_shot_k, 1)
        for p in self.classification_probes:
            check_choice("evaluation.classification_probes", p, CLASSIFICATION_PROBES)
        for p in self.regression_probes:
            check_choice("evaluation.regression_probes", p, REGRESSION_PROBES)


@dataclass(frozen=True)
class CrossFitConfig(StrictConfig):
    """A cross-fitted evaluation (see the module docstring and ``configs/crossfit_*.json``).

    ``base_model``: pre-trained model (directory or registered name) that initialises stage 1, or the
    frozen model when ``stages`` is empty; ``null`` = from scratch (Maven-lite, supervised) with
    ``model`` = a MavenConfig mapping, a JSON file holding one (or a training config's ``model``), or a
    registered model name / model directory whose architecture (not weights) is used.
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
        check_int("CrossFitConfig.n_folds", self.n_folds, 2)
        check_int("CrossFitConfig.seed", self.seed)
        check_int("CrossFitConfig.folds_seed", self.folds_seed)
        if self.num_threads is not None:
            check_int("CrossFitConfig.num_threads", self.num_threads, 1)
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
