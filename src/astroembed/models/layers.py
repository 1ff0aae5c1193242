"""Layers shared by every model family: positional encodings of time and wavelength, padding masks,
and the pre-norm transformer block (:class:`TransformerBlock`, :class:`TransformerStack`).

Family-specific encoders (``models/<family>/encoders.py``) build on these, so a light curve's time and
band (through its effective wavelength in Å) are encoded the same way everywhere.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["WAVE_REF", "INPUT_CLIP", "sinusoidal_encoding", "wavelength_position", "safe_key_mask",
           "TransformerBlock", "TransformerStack", "transformer_flops"]

#: reference wavelength (Å) of the log-λ positions ``λ_ref · ln(λ / λ_ref)``
WAVE_REF = 5000.0
#: scaled fluxes/errors are clipped to ±INPUT_CLIP before the token projection (outliers, huge errors)
INPUT_CLIP = 10.0


def sinusoidal_encoding(pos: torch.Tensor, dim: int, base: float) -> torch.Tensor:
    """Transformer sinusoidal encoding of real-valued positions.

    ``pos`` (...,) → (..., dim): ``[sin(p ω_0), cos(p ω_0), sin(p ω_1), …]`` with
    ``ω_i = base ** (-2i / dim)``.
    """
    half = dim // 2
    freqs = torch.exp(-math.log(base) * torch.arange(half, device=pos.device, dtype=torch.float32) * 2.0 / dim)
    ang = pos.float().unsqueeze(-1) * freqs
    return torch.stack((torch.sin(ang), torch.cos(ang)), dim=-1).flatten(-2)


def wavelength_position(wave: torch.Tensor, mode: str) -> torch.Tensor:
    """Positions for the wavelength encoding: λ in Å (``"linear"``) or ``λ_ref ln(λ/λ_ref)`` (``"log"``)."""
    if mode == "linear":
        return wave
    return WAVE_REF * torch.log(wave.clamp_min(1.0) / WAVE_REF)


def safe_key_mask(mask: torch.Tensor) -> torch.Tensor:
    """Key mask with at least one True per row (all-padding rows get their first token)."""
    empty = ~mask.any(dim=1)
    if bool(empty.any()):
        mask = mask.clone()
        mask[empty, 0] = True
    return mask


class TransformerBlock(nn.Module):
    """Pre-norm transformer encoder layer (GELU) on ``scaled_dot_product_attention`` with a key-padding mask.

    Same computation and the same parameter names/shapes as ``nn.TransformerEncoderLayer(d, n_heads,
    ff_dim, dropout, activation="gelu", batch_first=True, norm_first=True)`` (``self_attn.in_proj_weight``,
    ``self_attn.in_proj_bias``, ``self_attn.out_proj``, ``linear1``, ``linear2``, ``norm1``, ``norm2``), so
    weights trained with either load into the other.  PyTorch's fused fast path of that layer becomes
    slow on CPU once a padding mask is passed (``aten::_masked_softmax``); this block calls
    :func:`torch.nn.functional.scaled_dot_product_attention` with a boolean (B, 1, 1, L) mask instead.
    """

    def __init__(self, d_model: int, n_heads: int, ff_dim: int, dropout: float = 0.0):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"TransformerBlock: d_model={d_model} is not divisible by n_heads={n_heads}")
        self.n_heads = n_heads
        self.self_attn = nn.MultiheadAttention(d_model, n_heads, dropout=dropout, batch_first=True)
        self.linear1 = nn.Linear(d_model, ff_dim)
        self.linear2 = nn.Linear(ff_dim, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)

    def attention(self, x: torch.Tensor, attn_mask: torch.Tensor | None) -> torch.Tensor:
        """Multi-head self-attention of ``x`` (B, L, d); ``attn_mask`` bool (B, 1, 1, L), True = attend."""
        B, L, d = x.shape
        a = self.self_attn
        qkv = F.linear(x, a.in_proj_weight, a.in_proj_bias).view(B, L, 3, self.n_heads, d // self.n_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask,
                                           dropout_p=float(a.dropout) if self.training else 0.0)
        return a.out_proj(o.transpose(1, 2).reshape(B, L, d))

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.dropout1(self.attention(self.norm1(x), attn_mask))
        return x + self.dropout2(self.linear2(self.dropout(F.gelu(self.linear1(self.norm2(x))))))


class TransformerStack(nn.Module):
    """``n_layers`` :class:`TransformerBlock` s in ``.layers`` (state-dict keys ``layers.{i}.…`` as
    ``nn.TransformerEncoder``).  ``forward(x, mask)``: ``mask`` (B, L) bool, True on real tokens; every
    row needs at least one True (see :func:`safe_key_mask`)."""

    def __init__(self, d_model: int, n_heads: int, ff_dim: int, dropout: float, n_layers: int):
        super().__init__()
        self.layers = nn.ModuleList(TransformerBlock(d_model, n_heads, ff_dim, dropout) for _ in range(n_layers))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        attn_mask = None if mask is None or bool(mask.all()) else mask[:, None, None, :]
        for layer in self.layers:
            x = layer(x, attn_mask)
        return x


def transformer_flops(lengths, d_model: int, ff_dim: int, n_layers: int) -> float:
    """Forward FLOPs (multiply + add = 2) of a :class:`TransformerStack` on sequences of ``lengths`` tokens.

    Per layer and sequence of L tokens: ``8 L d²`` (Q, K, V and output projections) ``+ 4 L d ff``
    (feed-forward) ``+ 4 L² d`` (scores and weighted values); layer norms, GELU and softmax are not
    counted.  (``torch.utils.flop_counter`` misses PyTorch's fused encoder-layer op, so count by formula.)
    """
    import numpy as np

    L = np.asarray(lengths, dtype=np.float64)
    d, ff = float(d_model), float(ff_dim)
    return float(n_layers * np.sum(8 * L * d * d + 4 * L * d * ff + 4 * L * L * d))
