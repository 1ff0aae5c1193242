"""Perceiver-style encoders and latent-conditioned decoders of the Transceiver.

Encoder: learnable latent tokens cross-attend into observation tokens (padding excluded as keys), then
self-attention blocks on the latents; their mean gives a Laplace posterior (location, scale).
Decoder: context tokens made from a latent sample (and, for spectra, the phase token) condition
cross-attention blocks whose queries are the encodings of (time, band λ_eff) or of the wavelength;
queries never attend to each other, so each output point depends only on its own query and z.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..layers import INPUT_CLIP, TransformerStack, sinusoidal_encoding, wavelength_position
from .config import TransceiverConfig

__all__ = ["SinusoidalMLP", "LightCurveTokenizer", "SpectrumTokenizer", "PerceiverEncoder", "QueryDecoder",
           "laplace_scale"]


def laplace_scale(raw: torch.Tensor, floor: float) -> torch.Tensor:
    """Positive Laplace scale from an unconstrained output: ``softplus(raw) + floor``."""
    return F.softplus(raw) + floor


class SinusoidalMLP(nn.Module):
    """Sinusoidal features (``n_frequencies`` sin/cos pairs, periods up to ``base``) → 2-layer GELU MLP."""

    def __init__(self, n_frequencies: int, base: float, d_model: int):
        super().__init__()
        self.dim, self.base = 2 * n_frequencies, float(base)
        self.mlp = nn.Sequential(nn.Linear(self.dim, d_model), nn.GELU(), nn.Linear(d_model, d_model))

    def forward(self, pos: torch.Tensor) -> torch.Tensor:
        return self.mlp(sinusoidal_encoding(pos, self.dim, self.base))


class _FFN(nn.Module):
    def __init__(self, d: int, ff: int, dropout: float):
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, ff), nn.GELU(), nn.Dropout(dropout), nn.Linear(ff, d))

    def forward(self, x):
        return x + self.net(x)


class _CrossBlock(nn.Module):
    """x ← x + Attn(LN(x), LN(ctx)); x ← x + FFN(x).  ``key_mask`` (B, L) True = real key."""

    def __init__(self, d: int, heads: int, ff: int, dropout: float):
        super().__init__()
        self.nq, self.nk = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, dropout=dropout, batch_first=True)
        self.ffn = _FFN(d, ff, dropout)

    def forward(self, x, ctx, key_mask=None):
        k = self.nk(ctx)
        h, _ = self.attn(self.nq(x), k, k, key_padding_mask=None if key_mask is None else ~key_mask,
                         need_weights=False)
        return self.ffn(x + h)


class LightCurveTokenizer(nn.Module):
    """Observation tokens of a light curve: flux + time encoding + band (λ_eff) encoding."""

    def __init__(self, c: TransceiverConfig, time_enc: SinusoidalMLP, wave_enc: SinusoidalMLP):
        super().__init__()
        self.value = nn.Linear(2, c.d_model)
        self._enc = (time_enc, wave_enc)  # shared with the model (a tuple: not registered twice)

    def forward(self, time, flux, flux_err, wavelength):
        v = torch.stack([flux, flux_err], -1).float().clamp(-INPUT_CLIP, INPUT_CLIP)
        time_enc, wave_enc = self._enc
        return self.value(v) + time_enc(time) + wave_enc(wavelength_position(wavelength.float(), "log"))


class SpectrumTokenizer(nn.Module):
    """Patch tokens of a gridded spectrum + one phase context token (learned token when unknown)."""

    def __init__(self, c: TransceiverConfig, time_enc: SinusoidalMLP, wave_enc: SinusoidalMLP):
        super().__init__()
        self.p = c.patch_size
        self.value = nn.Linear(3 * c.patch_size, c.d_model)
        self._enc = (time_enc, wave_enc)  # shared with the model (a tuple: not registered twice)
        self.phase_type = nn.Parameter(torch.zeros(c.d_model))
        self.unknown_phase = nn.Parameter(torch.randn(c.d_model) * 0.02)

    def phase_token(self, phase: torch.Tensor) -> torch.Tensor:
        """(B,) phases in days (NaN = unknown) → (B, d) context tokens."""
        known = torch.isfinite(phase)
        tok = self._enc[0](torch.where(known, phase, torch.zeros_like(phase))) + self.phase_type
        return torch.where(known.unsqueeze(-1), tok, self.unknown_phase.expand_as(tok))

    def forward(self, flux, flux_err, mask, wavelength, phase):
        B, P = flux.shape
        n = P // self.p
        mf = mask.float()
        vals = torch.stack([(flux * mf).clamp(-INPUT_CLIP, INPUT_CLIP), (flux_err * mf).clamp(-INPUT_CLIP, INPUT_CLIP),
                            mf], -1).reshape(B, n, 3 * self.p)
        wave = wavelength.float().reshape(-1, n, self.p).mean(-1)
        x = self.value(vals) + self._enc[1](wavelength_position(wave, "log"))
        tok_mask = mask.reshape(B, n, self.p).any(-1)
        x = torch.cat([self.phase_token(phase).unsqueeze(1), x], 1)
        return x, torch.cat([torch.ones_like(tok_mask[:, :1]), tok_mask], 1)


class PerceiverEncoder(nn.Module):
    """Tokens (B, L, d) + key mask → Laplace posterior (loc (B, D), scale (B, D))."""

    def __init__(self, c: TransceiverConfig):
        super().__init__()
        d = c.d_model
        self.latents = nn.Parameter(torch.randn(c.n_latents, d) * 0.02)
        self.cross = _CrossBlock(d, c.n_heads, c.ff_dim, c.dropout)
        self.self_attn = TransformerStack(d, c.n_heads, c.ff_dim, c.dropout, c.n_self_layers) \
            if c.n_self_layers else nn.Identity()
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, 2 * c.latent_dim)
        self.floor = 1e-4

    def forward(self, tokens: torch.Tensor, key_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        B = tokens.shape[0]
        lat = self.latents.unsqueeze(0).expand(B, -1, -1).to(tokens.dtype)
        lat = self.self_attn(self.cross(lat, tokens, key_mask.bool()))
        loc, raw = self.head(self.norm(lat).mean(1)).chunk(2, -1)
        return loc, laplace_scale(raw, self.floor)


class _DecoderBlock(nn.Module):
    """Queries (B, Q, d) attend to a few context tokens (B, C, d) (SDPA), then a GELU FFN (width 2d)."""

    def __init__(self, d: int, heads: int, dropout: float):
        super().__init__()
        self.h = heads
        self.nq, self.nk = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q, self.kv, self.o = nn.Linear(d, d), nn.Linear(d, 2 * d), nn.Linear(d, d)
        self.ffn = _FFN(d, 2 * d, dropout)

    def forward(self, x, ctx):
        B, Q, d = x.shape
        C, h = ctx.shape[1], self.h
        q = self.q(self.nq(x)).reshape(B, Q, h, d // h).transpose(1, 2)
        k, v = self.kv(self.nk(ctx)).reshape(B, C, 2, h, d // h).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(B, Q, d)
        return self.ffn(x + self.o(a))


class QueryDecoder(nn.Module):
    """Latent-conditioned decoder queried by points (time and band λ_eff, or wavelength).

    ``z`` (B, D) → ``n_context_tokens`` tokens of width ``decoder_dim`` (plus an optional extra context
    token, the phase); query tokens = Σ sinusoidal-MLP encodings of the query coordinates + a FiLM-like
    shift from z; ``n_decoder_layers`` blocks of cross-attention + FFN; each query → Laplace (loc, scale)
    of ``outputs_per_query`` consecutive points (spectra: one query per patch of ``patch_size`` bins).
    """

    def __init__(self, c: TransceiverConfig, bases: tuple[float, ...], extra_base: float | None = None,
                 outputs_per_query: int = 1):
        super().__init__()
        d = c.decoder_dim
        self.k = outputs_per_query
        self.n_ctx, self.d, self.floor = c.n_context_tokens, d, c.min_scale
        self.query_enc = nn.ModuleList([SinusoidalMLP(c.n_frequencies, b, d) for b in bases])
        self.extra_enc = SinusoidalMLP(c.n_frequencies, extra_base, d) if extra_base is not None else None
        self.unknown_extra = nn.Parameter(torch.randn(d) * 0.02) if extra_base is not None else None
        self.ctx = nn.Linear(c.latent_dim, c.n_context_tokens * d)
        self.film = nn.Linear(c.latent_dim, d)
        self.blocks = nn.ModuleList([_DecoderBlock(d, c.decoder_heads, c.dropout) for _ in range(c.n_decoder_layers)])
        self.out = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 2 * outputs_per_query))

    def encode_queries(self, *coords: torch.Tensor) -> torch.Tensor:
        """Query tokens (..., d) from coordinates (times in days / positions of log λ), one per base."""
        return sum(enc(x) for enc, x in zip(self.query_enc, coords, strict=True))

    def forward(self, z: torch.Tensor, queries: torch.Tensor, extra: torch.Tensor | None = None):
        """``queries`` (B or 1, Q, d) from :meth:`encode_queries`; ``extra`` (B,) coordinate (NaN = unknown)."""
        B = z.shape[0]
        ctx = self.ctx(z).reshape(B, self.n_ctx, self.d)
        if self.extra_enc is not None:
            known = torch.isfinite(extra)
            tok = self.extra_enc(torch.where(known, extra, torch.zeros_like(extra)))
            tok = torch.where(known.unsqueeze(-1), tok, self.unknown_extra.expand_as(tok))
            ctx = torch.cat([tok.unsqueeze(1), ctx], 1)
        h = queries.expand(B, -1, -1) + self.film(z).unsqueeze(1)
        for blk in self.blocks:
            h = blk(h, ctx)
        out = self.out(h).reshape(B, -1, self.k, 2)  # (B, Q, k, 2): k consecutive outputs per query
        loc, raw = out.reshape(B, -1, 2).unbind(-1)
        return loc, laplace_scale(raw, self.floor)
