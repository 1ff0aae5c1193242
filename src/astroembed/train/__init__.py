"""Training: CLIP pre-training on simulated pairs, fine-tuning on real data, baselines, cross-validation.

Never imported by ``import astroembed``.  Entry points: :func:`train` (Python) and
``astroembed train --config FILE`` (:mod:`astroembed.cli.train`).
"""

from .config import (
    AugmentConfig,
    CVConfig,
    DataConfig,
    OptimConfig,
    SupervisedConfig,
    TrainConfig,
    load_train_config,
)
from .data import PairedData, prepare_data
from .folds import stratified_group_folds
from .loop import TrainingDivergedError, TrainResult, train

__all__ = [
    "TrainConfig", "DataConfig", "OptimConfig", "AugmentConfig", "CVConfig", "SupervisedConfig",
    "load_train_config", "train", "TrainResult", "TrainingDivergedError", "PairedData", "prepare_data",
    "stratified_group_folds",
]
