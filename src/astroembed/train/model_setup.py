"""Building what a training run optimises: the model (initialised from a pre-trained one, partly frozen),
the optimiser's parameter groups, the learning-rate schedule and mixed precision."""

from __future__ import annotations

import math
import os

import torch
from torch import nn

from ..errors import ConfigError
from ..models.maven.model import MavenModel
from ..models.supervised import SupervisedLightCurveModel, SupervisedModelConfig
from .config import TrainConfig


def build_model(cfg: TrainConfig) -> nn.Module:
    torch.manual_seed(cfg.seed)
    if cfg.task == "supervised":
        s = cfg.supervised
        return SupervisedLightCurveModel(SupervisedModelConfig(cfg.model, s.class_names, s.head_hidden_dim))
    return MavenModel(cfg.model)


def _maven(model: nn.Module) -> MavenModel:
    return model.encoder if isinstance(model, SupervisedLightCurveModel) else model


def load_init(model: nn.Module, path: str | os.PathLike) -> list[str]:
    """Copy the encoders (and logit scales) shared with the pre-trained model at ``path``.

    Raises :class:`ConfigError` when a shared encoder's config (or preprocessing, band vocabulary,
    embedding size) differs: those weights belong to another config.
    """
    target = _maven(model)
    src = MavenModel.from_pretrained(path, device="cpu")
    shared = [m for m in target.modalities if m in src.modalities]
    if not shared:
        raise ConfigError(f"init_from {path}: no modality in common (it has {list(src.modalities)}, the model "
                          f"{list(target.modalities)})")
    a, b = src.config, target.config
    checks = [("embed_dim", a.embed_dim, b.embed_dim)]
    for m in shared:
        checks.append((m, getattr(a, m), getattr(b, m)))
        if m in ("lightcurve", "spectrum"):
            checks.append((f"{m}_preprocess", getattr(a, f"{m}_preprocess"), getattr(b, f"{m}_preprocess")))
        if m == "lightcurve":
            checks.append(("band_vocab", a.band_vocab, b.band_vocab))
    diff = [name for name, x, y in checks if x != y]
    if diff:
        raise ConfigError(f"init_from {path}: the pre-trained model was built with another config; these "
                          f"differ from TrainConfig.model: {diff}")
    for m in shared:
        target.encoder(m).load_state_dict(src.encoder(m).state_dict())
    src_scales = dict(src.logit_scales.named_parameters()) | dict(src.logit_scales.named_buffers())
    with torch.no_grad():
        for name, t in list(target.logit_scales.named_parameters()) + list(target.logit_scales.named_buffers()):
            if name in src_scales:
                t.copy_(src_scales[name])
    return shared


def apply_freeze(model: nn.Module, modalities: list[str]) -> None:
    """Freeze the pre-trained encoders except their input layers and first block."""
    target = _maven(model)
    for m in modalities:
        enc = target.encoder(m)
        for p in enc.parameters():
            p.requires_grad_(False)
        keep = list(enc.input_modules) + [enc.blocks[0]]
        for mod in keep:
            for p in mod.parameters():
                p.requires_grad_(True)
        if getattr(enc, "scale_input", None) == "token":
            enc.scale_type.requires_grad_(True)


def _param_groups(model: nn.Module, weight_decay: float):
    skip = {id(p) for m in model.modules() if isinstance(m, (nn.Embedding, nn.LayerNorm)) for p in m.parameters()}
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim < 2 or id(p) in skip or "logit_scales" in name or name.endswith("query"):
            no_decay.append(p)
        else:
            decay.append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _lr_lambda(warmup: int, total: int, min_ratio: float):
    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        prog = min(1.0, (step - warmup) / max(1, total - warmup))
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * prog))
    return f


def _amp(cfg: TrainConfig, device: torch.device):
    if device.type != "cuda" or cfg.amp == "off":
        return None, None
    if cfg.amp == "bf16" or (cfg.amp == "auto" and torch.cuda.is_bf16_supported()):
        return torch.bfloat16, None
    return torch.float16, torch.amp.GradScaler("cuda")
