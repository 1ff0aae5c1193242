"""The per-modality towers: photometry [CLS]-transformer with Time2Vec, metadata MLP, SpectraNet CNN,
and the mixture-of-experts fusion head."""

from __future__ import annotations

import torch
from torch import nn

from ..layers import TransformerStack
from .features import N_TOKEN_FEATURES

__all__ = ["Time2Vec", "PhotometryTower", "MetadataTower", "SpectraNet", "MixtureOfExperts"]


class Time2Vec(nn.Module):
    """Learned Time2Vec (Kazemi+2019): ``[ω₀τ + φ₀, sin(ω_i τ + φ_i)]``, τ = Δt / horizon."""

    def __init__(self, dim: int, horizon: float):
        super().__init__()
        self.horizon = float(horizon)
        self.w = nn.Parameter(torch.randn(dim) * 3.0)
        self.b = nn.Parameter(torch.rand(dim) * 6.283)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        x = (t / self.horizon).unsqueeze(-1) * self.w + self.b
        return torch.cat([x[..., :1], torch.sin(x[..., 1:])], dim=-1)


class PhotometryTower(nn.Module):
    """Tokens (B, L, 6) + Δt (B, L) + mask (B, L) → [CLS] vector (B, d_model) and token states."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.proj = nn.Linear(N_TOKEN_FEATURES, d)
        self.t2v = Time2Vec(cfg.time2vec_dim, cfg.horizon_days)
        self.t2v_proj = nn.Linear(cfg.time2vec_dim, d)
        self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.5)
        self.mask_token = nn.Parameter(torch.zeros(d))
        self.encoder = TransformerStack(d, cfg.n_heads, cfg.ff_dim, cfg.dropout, cfg.n_layers)
        self.norm = nn.LayerNorm(d)

    def forward(self, tokens, dt, mask, hide=None):
        """``hide`` (B, L) bool: tokens whose flux features are replaced by a learned mask vector
        (masked pre-training).  Returns (pooled (B, d) = [CLS] state + masked mean of the token states,
        states (B, L, d))."""
        x = self.proj(tokens.clamp(-10, 10))
        if hide is not None:
            flux_free = tokens.clone()
            flux_free[..., 2:4] = 0.0
            flux_free[..., 5] = 0.0
            x = torch.where(hide.unsqueeze(-1), self.proj(flux_free) + self.mask_token, x)
        x = x + self.t2v_proj(self.t2v(dt))
        b = x.shape[0]
        x = torch.cat([self.cls.expand(b, -1, -1), x], dim=1)
        keep = torch.cat([torch.ones(b, 1, dtype=torch.bool, device=mask.device), mask], dim=1)
        h = self.norm(self.encoder(x, keep))
        m = mask.unsqueeze(-1).float()
        mean = (h[:, 1:] * m).sum(1) / m.sum(1).clamp_min(1.0)
        return h[:, 0] + mean, h[:, 1:]


def _mlp(n_in, hidden, n_layers, dropout):
    layers, d = [], n_in
    for _ in range(n_layers):
        layers += [nn.Linear(d, hidden), nn.GELU(), nn.Dropout(dropout)]
        d = hidden
    return nn.Sequential(*layers)


class MetadataTower(nn.Module):
    """Standardised values (B, F) and missing indicators (B, F) → (B, hidden_dim)."""

    def __init__(self, cfg):
        super().__init__()
        self.net = _mlp(2 * len(cfg.fields), cfg.hidden_dim, cfg.n_layers, cfg.dropout)

    def forward(self, values, missing):
        return self.net(torch.cat([values * (1 - missing), missing], dim=-1))


class SpectraNet(nn.Module):
    """Multi-kernel 1-D CNN: (B, 2, n_bins) [flux, coverage] → (B, hidden_dim)."""

    def __init__(self, cfg):
        super().__init__()
        c = cfg.channels
        self.branches = nn.ModuleList(nn.Conv1d(2, c, k, padding=k // 2) for k in cfg.kernel_sizes)
        nk = len(cfg.kernel_sizes)
        self.conv2 = nn.Conv1d(nk * c, 2 * c, 5, padding=2)
        self.pool = nn.MaxPool1d(2)
        self.head = nn.Sequential(nn.Linear(4 * c, cfg.hidden_dim), nn.GELU(), nn.Dropout(cfg.dropout))

    def forward(self, x):
        h = torch.cat([torch.relu(b(x)) for b in self.branches], dim=1)
        h = torch.relu(self.conv2(self.pool(h)))
        return self.head(torch.cat([h.amax(dim=-1), h.mean(dim=-1)], dim=-1))


class MixtureOfExperts(nn.Module):
    """Gate-weighted sum of expert MLP logits over [tower outputs · presence, presence flags]."""

    def __init__(self, n_in: int, n_classes: int, cfg):
        super().__init__()
        self.experts = nn.ModuleList(
            nn.Sequential(nn.Linear(n_in, cfg.hidden_dim), nn.GELU(), nn.Dropout(cfg.dropout),
                          nn.Linear(cfg.hidden_dim, n_classes)) for _ in range(cfg.n_experts))
        self.gate = nn.Linear(n_in, cfg.n_experts)

    def forward(self, x):
        g = torch.softmax(self.gate(x), dim=-1)                        # (B, E)
        logits = torch.stack([e(x) for e in self.experts], dim=1)      # (B, E, C)
        return (g.unsqueeze(-1) * logits).sum(dim=1)
