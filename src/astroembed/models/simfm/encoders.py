"""SimFM sequence encoders: the paper's masked GRU stack and a transformer option.

Both take a (B, L, 4) tensor of per-observation inputs ``[λ_eff / 10⁴, t / time_scale, flux, flux_err]``
and a (B, L) boolean mask (True = real observation, padding at the end) and return (B, hidden_dim).
Padding never reaches the output: the GRU runs on packed sequences (the final hidden state of each
object is taken at its own last observation), the transformer uses a key-padding mask and a masked
mean, so an object's output does not depend on its batch mates.
"""

from __future__ import annotations

import torch
from torch import nn

from ..layers import INPUT_CLIP, TransformerStack, safe_key_mask, sinusoidal_encoding
from .config import SimFMConfig

__all__ = ["GRUEncoder", "TransformerSequenceEncoder", "build_sequence_encoder", "N_INPUTS"]

#: inputs per observation: wavelength, time, flux, flux error
N_INPUTS = 4


class GRUEncoder(nn.Module):
    """``n_layers`` stacked GRUs (``hidden_dim`` units) on packed sequences; returns the top layer's
    final hidden state (B, hidden_dim)."""

    def __init__(self, cfg: SimFMConfig):
        super().__init__()
        self.gru = nn.GRU(N_INPUTS, cfg.hidden_dim, num_layers=cfg.n_layers, batch_first=True)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        lengths = mask.sum(dim=1).clamp_min(1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, h = self.gru(packed)
        return h[-1]


class TransformerSequenceEncoder(nn.Module):
    """Tokens ``Linear([λ, flux, flux_err]) + sinusoidal(t)``, ``n_layers`` pre-norm transformer blocks
    with a key-padding mask, masked mean pooling → (B, hidden_dim)."""

    def __init__(self, cfg: SimFMConfig):
        super().__init__()
        tc = cfg.transformer
        d = cfg.hidden_dim
        self.d, self.time_base = d, float(tc.time_base)
        self.token = nn.Sequential(nn.Linear(N_INPUTS - 1, d), nn.GELU(), nn.Linear(d, d))
        self.blocks = TransformerStack(d, tc.n_heads, tc.ff_dim, 0.0, cfg.n_layers)
        self.norm = nn.LayerNorm(d)
        self._time_scale = float(cfg.time_scale)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        km = safe_key_mask(mask)
        days = x[..., 1] * self._time_scale
        tok = self.token(x[..., [0, 2, 3]]) + sinusoidal_encoding(days, self.d, self.time_base)
        h = self.norm(self.blocks(tok, km))
        w = km.unsqueeze(-1).float()
        return (h * w).sum(1) / w.sum(1)


def build_sequence_encoder(cfg: SimFMConfig) -> nn.Module:
    return GRUEncoder(cfg) if cfg.encoder == "gru" else TransformerSequenceEncoder(cfg)


def observation_inputs(time, flux, flux_err, wavelength, cfg: SimFMConfig) -> torch.Tensor:
    """(B, L, 4) inputs from padded (B, L) tensors (days, scaled fluxes, Å); fluxes clipped to ±10."""
    return torch.stack((wavelength / cfg.wavelength_scale, time / cfg.time_scale,
                        flux.clamp(-INPUT_CLIP, INPUT_CLIP), flux_err.clamp(0.0, INPUT_CLIP)), dim=-1).float()
