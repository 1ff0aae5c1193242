"""Masked light-curve pre-training (AppleCiDEr MPT, Cao+2025): hide 30 % of the observations and predict
their flux, band and time gap.

For every light curve, ``round(mask_frac · n)`` (at least 1, at most n − 1) of its ``n`` real observations
are hidden: their token is replaced by a learned mask vector plus a sinusoidal encoding of the
observation's *rank* in the sequence (so the model knows which observation to fill in, but not its time,
band or flux).  Heads on the transformer's output states predict, for the hidden observations only,

* ``flux`` — the preprocessed (scaled) flux, MSE;
* ``band`` — the band id of the model's band vocabulary, cross-entropy (observations whose band is not in
  the vocabulary are skipped);
* ``dt`` — ``log1p`` of the time since the previous observation (0 for the first), in days, MSE.

``loss = 5 · flux + 3 · band + 5 · dt`` (AppleCiDEr's λ weights).

The objective is encoder-agnostic: it needs a ``tokens(batch) -> (B, L, d)`` function and a
``context(tokens, mask, batch) -> (B, L, d)`` function returning the transformer states aligned with the
tokens (:func:`maven_lc_adapter` builds both for the Maven light-curve encoder; another family passes its
own).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ...data.collate import LightCurveBatch
from ..layers import safe_key_mask, sinusoidal_encoding

__all__ = ["MaskedLightCurveObjective", "observation_mask", "time_gaps", "maven_lc_adapter", "MPT_WEIGHTS"]

#: AppleCiDEr's loss weights (flux, band, Δt)
MPT_WEIGHTS = (5.0, 3.0, 5.0)


def observation_mask(mask: torch.Tensor, frac: float = 0.3, generator=None) -> torch.Tensor:
    """(B, L) bool: ``round(frac · n)`` random real observations per row (≥ 1 and ≤ n − 1 when n ≥ 2;
    none when n < 2)."""
    mask = mask.bool()
    n = mask.sum(1)
    k = torch.clamp(torch.round(frac * n.float()).long(), min=1)
    k = torch.minimum(k, (n - 1).clamp_min(0))
    score = torch.rand(mask.shape, generator=generator).to(mask.device)
    score = torch.where(mask, score, torch.full_like(score, 2.0))
    rank = score.argsort(1).argsort(1)
    return (rank < k.unsqueeze(1)) & mask


def time_gaps(time: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Days since the previous real observation (0 for the first and for padding); time-ordered rows."""
    prev = torch.cat([time[:, :1], time[:, :-1]], 1)
    return torch.where(mask.bool(), (time - prev).clamp_min(0.0), torch.zeros_like(time))


class MaskedLightCurveObjective(nn.Module):
    """Heads + loss of masked light-curve pre-training (see the module docstring).

    Parameters
    ----------
    d_model : width of the encoder's tokens/states
    n_bands : size of the band vocabulary (band ids 1..n_bands; 0 = unknown/padding); 0 disables the band loss
    mask_frac : fraction of observations hidden (AppleCiDEr: 0.3)
    weights : (flux, band, dt) loss weights (AppleCiDEr: 5, 3, 5)
    """

    def __init__(self, d_model: int, n_bands: int, mask_frac: float = 0.3, weights=MPT_WEIGHTS):
        super().__init__()
        if not 0.0 < mask_frac < 1.0:
            raise ValueError(f"MaskedLightCurveObjective.mask_frac: must be in (0, 1), got {mask_frac!r}")
        self.d_model, self.n_bands, self.mask_frac = int(d_model), int(n_bands), float(mask_frac)
        self.weights = tuple(float(w) for w in weights)
        self.mask_token = nn.Parameter(torch.randn(d_model) * 0.02)
        self.flux_head = nn.Linear(d_model, 1)
        self.dt_head = nn.Linear(d_model, 1)
        self.band_head = nn.Linear(d_model, n_bands + 1) if n_bands else None

    def hide(self, tokens: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
        """Replace hidden tokens by the mask vector + sinusoidal encoding of their rank."""
        rank = torch.arange(tokens.shape[1], device=tokens.device, dtype=torch.float32)
        pos = sinusoidal_encoding(rank.expand(tokens.shape[0], -1), self.d_model, 1.0e4)
        return torch.where(hidden.unsqueeze(-1), (self.mask_token + pos).to(tokens.dtype), tokens)

    def forward(self, batch: LightCurveBatch, tokens_fn: Callable, context_fn: Callable, generator=None
                ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``(loss, parts)`` for one batch; ``parts`` has the unweighted ``flux``, ``band``, ``dt`` losses."""
        mask = batch.mask.bool()
        hidden = observation_mask(mask, self.mask_frac, generator)
        h = context_fn(self.hide(tokens_fn(batch), hidden), mask, batch)
        hs = h[hidden]
        zero = h.sum() * 0.0
        parts = {}
        parts["flux"] = F.mse_loss(self.flux_head(hs).squeeze(-1), batch.flux[hidden].float()) if len(hs) else zero
        dt = torch.log1p(time_gaps(batch.time.float(), mask))[hidden]
        parts["dt"] = F.mse_loss(self.dt_head(hs).squeeze(-1), dt) if len(hs) else zero
        if self.band_head is not None:
            bid = batch.band_id[hidden].long()
            known = bid > 0
            parts["band"] = F.cross_entropy(self.band_head(hs[known]), bid[known]) if bool(known.any()) else zero
        else:
            parts["band"] = zero
        wf, wb, wd = self.weights
        return wf * parts["flux"] + wb * parts["band"] + wd * parts["dt"], parts


def maven_lc_adapter(encoder) -> tuple[Callable, Callable]:
    """``(tokens_fn, context_fn)`` for the Maven :class:`~astroembed.models.maven.encoders.LightCurveEncoder`
    (mirrors its ``encode_tokens`` up to the final norm, dropping the scale token's state)."""

    def tokens_fn(batch):
        return encoder.tokens(batch)

    def context_fn(tokens, mask, batch):
        mask = mask.bool()
        n_extra = 0
        if encoder.scale_input == "token":
            st = (encoder.scale_proj(encoder._scale(batch.log_scale)) + encoder.scale_type).unsqueeze(1)
            tokens = torch.cat([st.to(tokens.dtype), tokens], 1)
            mask = torch.cat([torch.ones_like(mask[:, :1]), mask], 1)
            n_extra = 1
        h = encoder.norm(encoder.transformer(tokens, safe_key_mask(mask)))
        return h[:, n_extra:]

    return tokens_fn, context_fn
