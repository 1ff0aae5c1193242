"""Training objectives: focal loss with class-balanced weights, the masked light-curve objective, EMA.

The masked objective here is a small, self-contained one (hide a fraction of the photometry tokens'
flux features and regress ``log10 flux`` from the transformer states); the Maven-v2 work has its own in
``models/maven/masked_lc.py`` and the two can be merged later.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

__all__ = ["class_balanced_weights", "focal_loss", "MaskedLightCurveHead", "random_token_mask", "EMA"]


def class_balanced_weights(counts, beta: float) -> np.ndarray:
    """Cui+2019 effective-number weights ``(1 - β) / (1 - β^n_c)``, normalised to mean 1 over classes
    (a class with no example gets weight 0)."""
    n = np.asarray(counts, dtype=np.float64)
    w = np.where(n > 0, (1.0 - beta) / (1.0 - np.power(beta, np.maximum(n, 1))), 0.0)
    return (w / w[n > 0].mean()).astype(np.float32)


def focal_loss(logits: torch.Tensor, target: torch.Tensor, alpha: torch.Tensor, gamma: float) -> torch.Tensor:
    """Mean of ``-α_y (1 - p_y)^γ log p_y`` (Lin+2017) over the batch."""
    logp = torch.log_softmax(logits.float(), dim=-1).gather(1, target[:, None]).squeeze(1)
    w = alpha[target] * (1.0 - logp.exp()).clamp_min(0).pow(gamma)
    return -(w * logp).sum() / alpha[target].sum().clamp_min(1e-8)


def random_token_mask(mask: torch.Tensor, frac: float, generator=None) -> torch.Tensor:
    """Hide ``frac`` of the real tokens of each row (at least one, never all of a row with > 1 token)."""
    r = torch.rand(mask.shape, generator=generator, device=mask.device)
    hide = (r < frac) & mask
    n = mask.sum(dim=1)
    first = torch.argmax(torch.where(mask, r, torch.full_like(r, -1.0)), dim=1)
    none = hide.sum(dim=1) == 0
    hide[none, first[none]] = True
    allhid = (hide.sum(dim=1) == n) & (n > 1)
    if bool(allhid.any()):
        keep = torch.argmin(torch.where(mask, r, torch.full_like(r, 2.0)), dim=1)
        hide[allhid, keep[allhid]] = False
    return hide


class MaskedLightCurveHead(nn.Module):
    """Regresses the hidden tokens' ``log10 flux`` feature from their transformer states."""

    def __init__(self, d_model: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_model, d_model), nn.GELU(), nn.Linear(d_model, 1))

    def loss(self, states: torch.Tensor, tokens: torch.Tensor, hide: torch.Tensor) -> torch.Tensor:
        pred = self.net(states).squeeze(-1)
        err = (pred - tokens[..., 2]) ** 2       # log10 flux - 2 of the hidden token
        return (err * hide).sum() / hide.sum().clamp_min(1)


class EMA:
    """Exponential moving average of a module's parameters and buffers (``decay`` per step)."""

    def __init__(self, module: nn.Module, decay: float):
        self.decay = decay
        self.shadow = copy.deepcopy(module).eval()
        for p in self.shadow.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        for s, p in zip(self.shadow.parameters(), module.parameters()):
            s.mul_(self.decay).add_(p.detach(), alpha=1.0 - self.decay)
        for s, b in zip(self.shadow.buffers(), module.buffers()):
            s.copy_(b)
