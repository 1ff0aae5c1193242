"""Transformer encoders of the Maven model: light curve, spectrum and metadata.

Each encoder maps a batch to an (B, embed_dim) tensor *before* L2 normalisation (the model
normalises).  Padding never influences a real object's output: padding tokens are excluded as
attention keys (a boolean mask to ``scaled_dot_product_attention``, see
:class:`~astroembed.models.layers.TransformerBlock`) and from pooling.  A row that is all padding (which the
containers never produce) gets a dummy unmasked token so that no NaN can appear; its output is finite.
"""

from __future__ import annotations

import torch
from torch import nn

from ...data.collate import LightCurveBatch, SpectrumBatch
from ..layers import INPUT_CLIP, TransformerStack, safe_key_mask, sinusoidal_encoding, wavelength_position
from .config import LightCurveEncoderConfig, MetadataEncoderConfig, SpectrumEncoderConfig

__all__ = ["LightCurveEncoder", "SpectrumEncoder", "MetadataEncoder"]

class _Pooling(nn.Module):
    def __init__(self, d_model: int, kind: str, n_heads: int):
        super().__init__()
        self.kind = kind
        if kind == "attention":
            self.query = nn.Parameter(torch.randn(1, 1, d_model) * 0.02)
            self.attn = nn.MultiheadAttention(d_model, n_heads, batch_first=True)

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.kind == "mean":
            w = mask.to(h.dtype).unsqueeze(-1)
            return (h * w).sum(1) / w.sum(1).clamp_min(1.0)
        q = self.query.expand(h.shape[0], -1, -1).to(h.dtype)
        out, _ = self.attn(q, h, h, key_padding_mask=~mask, need_weights=False)
        return out.squeeze(1)


class _SequenceEncoder(nn.Module):
    """Shared core: optional scale token, transformer, pooling, optional scale feature, projection."""

    def __init__(self, cfg, embed_dim: int):
        super().__init__()
        d = cfg.d_model
        self.scale_input = cfg.scale_input
        self.log_scale_offset = float(cfg.log_scale_offset)
        self.log_scale_width = float(cfg.log_scale_width)
        if cfg.scale_input == "token":
            self.scale_proj = nn.Linear(1, d)
            self.scale_type = nn.Parameter(torch.zeros(d))
        self.transformer = TransformerStack(d, cfg.n_heads, cfg.ff_dim, cfg.dropout, cfg.n_layers)
        self.norm = nn.LayerNorm(d)
        self.pool = _Pooling(d, cfg.pooling, cfg.n_heads)
        extra = 1 if cfg.scale_input == "feature" else 0
        self.pool_norm = nn.LayerNorm(d)
        self.proj = nn.Linear(d + extra, embed_dim, bias=False)

    def _scale(self, log_scale: torch.Tensor) -> torch.Tensor:
        return ((log_scale.float() - self.log_scale_offset) / self.log_scale_width).unsqueeze(-1)

    def encode_tokens(self, tokens: torch.Tensor, mask: torch.Tensor, log_scale: torch.Tensor) -> torch.Tensor:
        mask = mask.bool()
        if self.scale_input == "token":
            st = (self.scale_proj(self._scale(log_scale)) + self.scale_type).unsqueeze(1)
            tokens = torch.cat([st.to(tokens.dtype), tokens], dim=1)
            mask = torch.cat([torch.ones_like(mask[:, :1]), mask], dim=1)
        mask = safe_key_mask(mask)
        h = self.transformer(tokens, mask)
        h = self.norm(h)
        pooled = self.pool_norm(self.pool(h, mask))
        if self.scale_input == "feature":
            pooled = torch.cat([pooled, self._scale(log_scale).to(pooled.dtype)], dim=-1)
        return self.proj(pooled)

    @property
    def blocks(self) -> nn.ModuleList:
        return self.transformer.layers


class LightCurveEncoder(_SequenceEncoder):
    """Light curve → (B, embed_dim) (see :class:`~astroembed.models.LightCurveEncoderConfig`)."""

    def __init__(self, cfg: LightCurveEncoderConfig, embed_dim: int, n_bands: int):
        super().__init__(cfg, embed_dim)
        self.cfg = cfg
        self.value_proj = nn.Linear(2, cfg.d_model)
        self.time_proj = nn.Linear(cfg.d_model, cfg.d_model, bias=False)
        self.band_proj = nn.Linear(cfg.d_model, cfg.d_model, bias=False)
        self.band_embed = nn.Embedding(n_bands + 1, cfg.d_model, padding_idx=0) if n_bands else None
        if self.band_embed is not None:
            nn.init.normal_(self.band_embed.weight, std=0.1)
            with torch.no_grad():
                self.band_embed.weight[0].zero_()

    def tokens(self, batch: LightCurveBatch) -> torch.Tensor:
        c = self.cfg
        vals = torch.stack([batch.flux, batch.flux_err], dim=-1).float().clamp(-INPUT_CLIP, INPUT_CLIP)
        x = self.value_proj(vals)
        x = x + self.time_proj(sinusoidal_encoding(batch.time, c.d_model, c.time_base))
        x = x + self.band_proj(sinusoidal_encoding(wavelength_position(batch.wavelength.float(), c.band_encoding),
                                                   c.d_model, c.band_base))
        if self.band_embed is not None:
            x = x + self.band_embed(batch.band_id)
        return x

    def forward(self, batch: LightCurveBatch) -> torch.Tensor:
        return self.encode_tokens(self.tokens(batch), batch.mask, batch.log_scale)

    @property
    def input_modules(self) -> list[nn.Module]:
        mods = [self.value_proj, self.time_proj, self.band_proj] + (
            [self.band_embed] if self.band_embed is not None else [])
        return mods + ([self.scale_proj] if self.scale_input == "token" else [])


class SpectrumEncoder(_SequenceEncoder):
    """Spectrum (fixed grid) → (B, embed_dim); ``patch_size`` bins per token."""

    def __init__(self, cfg: SpectrumEncoderConfig, embed_dim: int):
        super().__init__(cfg, embed_dim)
        self.cfg = cfg
        self.value_proj = nn.Linear(3 * cfg.patch_size, cfg.d_model)
        self.wave_proj = nn.Linear(cfg.d_model, cfg.d_model, bias=False)

    def tokens(self, batch: SpectrumBatch) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.cfg
        B, P = batch.flux.shape
        if P % c.patch_size:
            raise ValueError(f"SpectrumEncoder: {P} bins are not a multiple of patch_size={c.patch_size}")
        n = P // c.patch_size
        m = batch.mask.bool()
        mf = m.float()
        flux = (batch.flux.float() * mf).clamp(-INPUT_CLIP, INPUT_CLIP)
        err = (batch.flux_err.float() * mf).clamp(-INPUT_CLIP, INPUT_CLIP)
        vals = torch.stack([flux, err, mf], dim=-1).reshape(B, n, 3 * c.patch_size)
        x = self.value_proj(vals)
        wave = batch.wavelength.float().reshape(B, n, c.patch_size).mean(-1)
        x = x + self.wave_proj(sinusoidal_encoding(wavelength_position(wave, c.wavelength_encoding), c.d_model,
                                                   c.wavelength_base))
        tok_mask = m.reshape(B, n, c.patch_size).any(-1)
        return x, tok_mask

    def forward(self, batch: SpectrumBatch) -> torch.Tensor:
        x, tok_mask = self.tokens(batch)
        return self.encode_tokens(x, tok_mask, batch.log_scale)

    @property
    def input_modules(self) -> list[nn.Module]:
        return [self.value_proj, self.wave_proj] + ([self.scale_proj] if self.scale_input == "token" else [])


class MetadataEncoder(nn.Module):
    """(class id, redshift) → (B, embed_dim).  Class id 0 = unknown; a NaN redshift = unknown."""

    def __init__(self, cfg: MetadataEncoderConfig, embed_dim: int):
        super().__init__()
        self.cfg = cfg
        h = cfg.hidden_dim
        self.class_embed = nn.Embedding(len(cfg.class_names) + 1, h)
        self.redshift_proj = nn.Linear(2, h)
        layers: list[nn.Module] = []
        for _ in range(cfg.n_layers):
            layers += [nn.GELU(), nn.Dropout(cfg.dropout), nn.Linear(h, h)]
        self.mlp = nn.Sequential(*layers)
        self.out = nn.Sequential(nn.GELU(), nn.Linear(h, embed_dim))

    def forward(self, class_id: torch.Tensor, redshift: torch.Tensor) -> torch.Tensor:
        z = redshift.float()
        known = torch.isfinite(z)
        zf = torch.where(known, torch.log1p(z.clamp_min(0.0)), torch.zeros_like(z))
        x = self.class_embed(class_id.long()) + self.redshift_proj(torch.stack([zf, known.float()], -1))
        return self.out(self.mlp(x))

    @property
    def blocks(self) -> nn.ModuleList:
        return nn.ModuleList([m for m in self.mlp if isinstance(m, nn.Linear)])

    @property
    def input_modules(self) -> list[nn.Module]:
        return [self.class_embed, self.redshift_proj]
