"""Batches of the three modalities (padding masked; a missing modality is a presence flag of 0)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .features import N_TOKEN_FEATURES

__all__ = ["CiderBatch", "collate"]


@dataclass
class CiderBatch:
    """``tokens`` (B, L, 5), ``dt`` (B, L) days, ``mask`` (B, L) bool (True = real token), ``has_lc`` (B,);
    ``meta_values`` / ``meta_missing`` (B, F), ``has_meta`` (B,); ``spec`` (B, 2, n_bins), ``has_spec`` (B,).
    Presence flags are float32 0/1."""

    tokens: torch.Tensor
    dt: torch.Tensor
    mask: torch.Tensor
    has_lc: torch.Tensor
    meta_values: torch.Tensor
    meta_missing: torch.Tensor
    has_meta: torch.Tensor
    spec: torch.Tensor
    has_spec: torch.Tensor

    def to(self, device) -> CiderBatch:
        return CiderBatch(**{k: v.to(device) for k, v in self.__dict__.items()})

    def __len__(self) -> int:
        return int(self.has_lc.shape[0])


def collate(lc_items, meta_values, meta_missing, spec_items, n_fields: int, n_bins: int) -> CiderBatch:
    """``lc_items``: list of (tokens, dt) or None; ``meta_values``/``meta_missing``: (B, F) arrays (a row of
    all-missing = no metadata); ``spec_items``: list of (flux, mask) or None."""
    b = len(lc_items)
    lmax = max([len(x[1]) for x in lc_items if x is not None] or [1])
    tok = np.zeros((b, lmax, N_TOKEN_FEATURES), np.float32)
    dt = np.zeros((b, lmax), np.float32)
    mask = np.zeros((b, lmax), bool)
    has_lc = np.zeros(b, np.float32)
    for i, it in enumerate(lc_items):
        if it is None:
            continue
        n = len(it[1])
        tok[i, :n], dt[i, :n], mask[i, :n], has_lc[i] = it[0], it[1], True, 1.0
    mv = np.asarray(meta_values, np.float32).reshape(b, n_fields)
    mm = np.asarray(meta_missing, np.float32).reshape(b, n_fields)
    has_meta = (mm.min(axis=1) < 1).astype(np.float32) if n_fields else np.zeros(b, np.float32)
    spec = np.zeros((b, 2, n_bins), np.float32)
    has_spec = np.zeros(b, np.float32)
    for i, it in enumerate(spec_items):
        if it is not None:
            spec[i, 0], spec[i, 1], has_spec[i] = it[0], it[1], 1.0
    t = torch.from_numpy
    return CiderBatch(t(tok), t(dt), t(mask), t(has_lc), t(mv), t(mm), t(has_meta), t(spec), t(has_spec))
