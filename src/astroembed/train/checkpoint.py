"""Training checkpoints (``checkpoints/last.pt``): format tag, atomic writing, and what a resumed run
must match (the config up to run-level keys, the data fingerprint)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .config import RUN_LEVEL_KEYS, TrainConfig
from .data import PairedData

CHECKPOINT_NAME = "last.pt"
_CKPT_FORMAT = "astroembed-train-checkpoint-v1"


def _data_fingerprint(data: PairedData, split: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update("\x1f".join(map(str, data.object_ids.tolist())).encode())
    h.update("\x1f".join(map(str, split.tolist())).encode())
    h.update("\x1f".join(map(str, data.labels.tolist())).encode())
    h.update(np.ascontiguousarray(data.redshifts).tobytes())
    return h.hexdigest()


def _comparable(cfg: TrainConfig) -> dict:
    d = cfg.to_dict()
    for k in RUN_LEVEL_KEYS:
        d.pop(k, None)
    return json.loads(json.dumps(d))


def _finite_state(model: nn.Module) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in model.state_dict().values() if t.is_floating_point())


def _save_checkpoint(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)
