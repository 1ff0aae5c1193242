"""SpecFormer-style spectrum encoder (AstroCLIP, Parker+2024) with masked-chunk reconstruction.

Input: a :class:`~astroembed.data.collate.SpectrumBatch` on the model's log-λ grid (``P`` bins).

1. Each spectrum is standardised over its valid bins: ``x = (f − μ) / σ`` (0 at invalid bins); the
   dropped ``μ``, ``log σ`` and the preprocessing ``log_scale`` become one *statistics token*.
2. Overlapping patches of ``patch_size`` bins, stride ``patch_stride`` (``N = (P − size) / stride + 1``
   tokens), are embedded linearly from (standardised flux, validity mask); every patch gets a learned
   position vector (the patch always covers the same wavelengths, so position = wavelength).
3. A pre-norm transformer; masked-mean (or attention) pooling over the statistics token and the valid
   patches; a linear projection to ``embed_dim``.

Padding (patches with no valid bin) is excluded as attention key and from pooling, so an object's
embedding does not depend on the other objects of a batch.

Masked-chunk pre-training (:meth:`SpecFormerEncoder.masked_loss`): ``mask_chunks`` random contiguous
runs of ``mask_chunk_len`` patches are hidden — their bins are zeroed (flux and mask channel) in every
patch that covers them and the hidden patch tokens are replaced by a learned mask token — and a linear
head reconstructs the standardised flux of the hidden patches; the loss is the MSE over the valid bins
of the hidden patches only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...data.collate import SpectrumBatch
from ..layers import INPUT_CLIP, TransformerStack, safe_key_mask
from .config import SpecFormerConfig

__all__ = ["SpecFormerEncoder", "standardise_spectra", "chunk_mask"]

_EPS = 1e-6


def standardise_spectra(flux: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-spectrum mean and standard deviation over valid bins; returns ``(x, mean, std)`` with
    ``x = (flux − mean) / std`` at valid bins and 0 elsewhere (clipped to ±``INPUT_CLIP``)."""
    m = mask.float()
    n = m.sum(-1, keepdim=True).clamp_min(1.0)
    mean = (flux * m).sum(-1, keepdim=True) / n
    var = (((flux - mean) * m) ** 2).sum(-1, keepdim=True) / n
    std = var.sqrt().clamp_min(_EPS)
    x = ((flux - mean) / std * m).clamp(-INPUT_CLIP, INPUT_CLIP)
    return x, mean.squeeze(-1), std.squeeze(-1)


def chunk_mask(n_tokens: int, batch: int, n_chunks: int, chunk_len: int, generator=None,
               device=None) -> torch.Tensor:
    """(batch, n_tokens) bool: ``n_chunks`` random contiguous runs of ``chunk_len`` tokens per row
    (runs may overlap; each run lies fully inside the sequence)."""
    out = torch.zeros(batch, n_tokens, dtype=torch.bool, device=device)
    length = min(chunk_len, n_tokens)
    starts = torch.randint(0, n_tokens - length + 1, (batch, n_chunks), generator=generator).to(out.device)
    offs = torch.arange(length, device=out.device)
    idx = (starts.unsqueeze(-1) + offs).reshape(batch, -1)
    out.scatter_(1, idx, True)
    return out


class SpecFormerEncoder(nn.Module):
    """Spectrum (fixed grid of ``n_bins``) → (B, embed_dim), see the module docstring."""

    def __init__(self, cfg: SpecFormerConfig, embed_dim: int, n_bins: int):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.n_bins = int(n_bins)
        self.n_patches = cfg.n_patches(self.n_bins)
        self.patch_proj = nn.Linear(2 * cfg.patch_size, d)
        self.position = nn.Parameter(torch.randn(1, self.n_patches, d) * 0.02)
        self.stats_proj = nn.Linear(3, d)
        self.stats_type = nn.Parameter(torch.zeros(d))
        self.mask_token = nn.Parameter(torch.zeros(d))
        self.transformer = TransformerStack(d, cfg.n_heads, cfg.ff_dim, cfg.dropout, cfg.n_layers)
        self.norm = nn.LayerNorm(d)
        if cfg.pooling == "attention":
            self.query = nn.Parameter(torch.randn(1, 1, d) * 0.02)
            self.attn = nn.MultiheadAttention(d, cfg.n_heads, batch_first=True)
        self.pool_norm = nn.LayerNorm(d)
        self.proj = nn.Linear(d, embed_dim, bias=False)
        self.recon_head = nn.Linear(d, cfg.patch_size)

    # -- pieces ----------------------------------------------------------------------------------
    def _patches(self, x: torch.Tensor) -> torch.Tensor:
        c = self.cfg
        if x.shape[-1] != self.n_bins:
            raise ValueError(f"SpecFormerEncoder: expected spectra on {self.n_bins} bins, got {x.shape[-1]}")
        return x.unfold(-1, c.patch_size, c.patch_stride)  # (B, N, size)

    def _bin_mask_of_tokens(self, tok: torch.Tensor) -> torch.Tensor:
        """(B, N) bool token mask → (B, P) bool mask of the bins those tokens cover."""
        c = self.cfg
        B = tok.shape[0]
        cover = torch.zeros(B, self.n_bins, device=tok.device)
        idx = (torch.arange(self.n_patches, device=tok.device) * c.patch_stride)[:, None] + \
            torch.arange(c.patch_size, device=tok.device)[None, :]
        cover.scatter_add_(1, idx.reshape(1, -1).expand(B, -1),
                           tok.float().unsqueeze(-1).expand(-1, -1, c.patch_size).reshape(B, -1))
        return cover > 0

    def _stats(self, batch: SpectrumBatch, mean, std) -> torch.Tensor:
        s = torch.stack([mean.clamp(-INPUT_CLIP, INPUT_CLIP), torch.log(std).clamp(-INPUT_CLIP, INPUT_CLIP),
                         batch.log_scale.float().clamp(-INPUT_CLIP, INPUT_CLIP)], -1)
        return self.stats_proj(s) + self.stats_type

    def _encode(self, batch: SpectrumBatch, hide: torch.Tensor | None):
        """Token states (B, 1 + N, d), token mask (B, 1 + N), standardised flux (B, P), bin mask (B, P)."""
        m = batch.mask.bool()
        x, mean, std = standardise_spectra(batch.flux.float(), m)
        mf = m.float()
        if hide is not None:
            keep = ~self._bin_mask_of_tokens(hide)
            xin, min_ = x * keep, mf * keep
        else:
            xin, min_ = x, mf
        px, pm = self._patches(xin), self._patches(min_)
        tok = self.patch_proj(torch.cat([px, pm], -1)) + self.position
        valid = self._patches(mf).amax(-1) > 0
        if hide is not None:
            tok = torch.where(hide.unsqueeze(-1), self.mask_token.to(tok.dtype).expand_as(tok), tok)
        tokens = torch.cat([self._stats(batch, mean, std).unsqueeze(1).to(tok.dtype), tok], 1)
        tmask = safe_key_mask(torch.cat([torch.ones_like(valid[:, :1]), valid], 1))
        h = self.norm(self.transformer(tokens, tmask))
        return h, tmask, x, m

    def _pool(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.cfg.pooling == "mean":
            w = mask.to(h.dtype).unsqueeze(-1)
            return (h * w).sum(1) / w.sum(1).clamp_min(1.0)
        q = self.query.expand(h.shape[0], -1, -1).to(h.dtype)
        out, _ = self.attn(q, h, h, key_padding_mask=~mask, need_weights=False)
        return out.squeeze(1)

    # -- public ----------------------------------------------------------------------------------
    def forward(self, batch: SpectrumBatch) -> torch.Tensor:
        h, tmask, _, _ = self._encode(batch, None)
        return self.proj(self.pool_norm(self._pool(h, tmask)))

    def masked_forward(self, batch: SpectrumBatch, generator=None, hide: torch.Tensor | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor]:
        """One pass over the chunk-masked spectra: ``(embedding, loss)``.

        ``loss`` = MSE of the standardised flux over the valid bins of the hidden patches only (``hide``:
        (B, N) bool, default ``mask_chunks`` random chunks of ``mask_chunk_len`` patches).  ``embedding``
        (B, embed_dim, before normalisation) pools the visible tokens only, so the same pass can feed a
        contrastive loss (the masking then acts as an augmentation).
        """
        c = self.cfg
        B = batch.flux.shape[0]
        if hide is None:
            hide = chunk_mask(self.n_patches, B, c.mask_chunks, c.mask_chunk_len, generator, batch.flux.device)
        valid_tok = self._patches(batch.mask.float()).amax(-1) > 0
        hide = hide & valid_tok
        h, tmask, x, m = self._encode(batch, hide)
        pred = self.recon_head(h[:, 1:])                       # (B, N, size)
        target, tm = self._patches(x), self._patches(m.float())
        w = tm * hide.unsqueeze(-1).float()
        loss = (F.mse_loss(pred, target, reduction="none") * w).sum() / w.sum().clamp_min(1.0)
        visible = tmask & ~torch.cat([torch.zeros_like(hide[:, :1]), hide], 1)
        emb = self.proj(self.pool_norm(self._pool(h, safe_key_mask(visible))))
        return emb, loss

    def masked_loss(self, batch: SpectrumBatch, generator=None, hide: torch.Tensor | None = None) -> torch.Tensor:
        """Masked-chunk reconstruction loss of :meth:`masked_forward` (MSE on the hidden patches only)."""
        return self.masked_forward(batch, generator, hide)[1]

    @property
    def blocks(self) -> nn.ModuleList:
        return self.transformer.layers

    @property
    def input_modules(self) -> list[nn.Module]:
        return [self.patch_proj, self.stats_proj]
