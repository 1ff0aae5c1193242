"""Contrastive (CLIP) loss: symmetric InfoNCE over every pair of modalities, one logit scale per pair."""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from .config import MODALITIES

__all__ = ["info_nce", "clip_loss", "LogitScales", "pair_name"]


def pair_name(a: str, b: str) -> str:
    """Canonical name of a modality pair, e.g. ``"lightcurve-spectrum"``."""
    a, b = sorted((a, b), key=MODALITIES.index)
    return f"{a}-{b}"


def info_nce(a: torch.Tensor, b: torch.Tensor, scale: torch.Tensor | float) -> torch.Tensor:
    """Symmetric InfoNCE of two aligned (B, D) batches of unit vectors.

    ``logits = scale · a bᵀ``; the loss is the mean of the cross-entropies of ``logits`` (a → b) and of
    ``logitsᵀ`` (b → a) with the diagonal as targets.  ``scale`` is ``exp(logit_scale)``.
    """
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"info_nce: expected two (B, D) tensors of one shape, got {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    logits = scale * (a.float() @ b.float().T)
    target = torch.arange(a.shape[0], device=a.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def clip_loss(embeddings: Mapping[str, torch.Tensor], scales: Mapping[str, torch.Tensor | float]
              ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Mean symmetric InfoNCE over every pair of the modalities in ``embeddings``.

    ``scales`` maps :func:`pair_name` → ``exp(logit_scale)``.  Returns ``(loss, per_pair_losses)``.
    """
    names = sorted(embeddings, key=MODALITIES.index)
    if len(names) < 2:
        raise ValueError(f"clip_loss: needs at least two modalities, got {names}")
    parts = {}
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            p = pair_name(names[i], names[j])
            if p not in scales:
                raise KeyError(f"clip_loss: no logit scale for the pair {p!r} (have {sorted(scales)})")
            parts[p] = info_nce(embeddings[names[i]], embeddings[names[j]], scales[p])
    return torch.stack(list(parts.values())).mean(), parts


class LogitScales(nn.Module):
    """One log-temperature per modality pair, initialised at ``init`` (ln 20 by default).

    ``scales()`` returns ``exp(min(logit_scale, ln(max_scale)))``.  When ``learnable`` is false the
    values are buffers (saved, never trained).  :meth:`clamp_` clips the stored values after an
    optimiser step, as CLIP does, so a value above the bound cannot get stuck there with zero gradient.
    """

    def __init__(self, pairs, init: float = math.log(20.0), max_scale: float = 100.0, learnable: bool = True):
        super().__init__()
        self.names = [pair_name(a, b) for a, b in pairs]
        self.log_max = math.log(max_scale)
        self.learnable = learnable
        for n in self.names:
            t = torch.tensor(float(init))
            if learnable:
                self.register_parameter(self._attr(n), nn.Parameter(t))
            else:
                self.register_buffer(self._attr(n), t)

    @staticmethod
    def _attr(name: str) -> str:
        return name.replace("-", "__")

    def raw(self, name: str) -> torch.Tensor:
        return getattr(self, self._attr(name))

    def scales(self) -> dict[str, torch.Tensor]:
        return {n: self.raw(n).clamp(max=self.log_max).exp() for n in self.names}

    @torch.no_grad()
    def clamp_(self) -> None:
        for n in self.names:
            self.raw(n).clamp_(max=self.log_max)
