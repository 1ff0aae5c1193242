"""SimFM: a light-curve classifier pre-trained on simulated ZTF + LSST events; its latent is the embedding.

After Gupta & Muthukrishna's simulation-pretrained foundation models (``astromcad``): a sequence
encoder (the paper's GRU stack or a transformer) → dense → ``latent_dim`` latent → softmax head (plus an
optional redshift head and survey discriminator used in pre-training).  ``embed_lightcurve`` returns
the L2-normalised latent.

Examples
--------
>>> import astroembed as ae
>>> from astroembed.models.simfm import SimFMConfig, SimFMModel
>>> model = SimFMModel(SimFMConfig())            # random weights
>>> lc = ae.LightCurve(time=[59000.0, 59002.0, 59005.0], band=["ztfg", "ztfr", "ztfg"],
...                    mag=[19.1, 18.9, 18.7], mag_err=[0.1, 0.1, 0.1])
>>> model.embed_lightcurve([lc, lc]).shape
(2, 100)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ...data.collate import LightCurveBatch, collate_lightcurves
from ...data.containers import LightCurve
from ...data.preprocess import ProcessedLightCurve, preprocess_lightcurve
from ..embedding import as_container_list, run_embedding
from ..persistence import (
    PretrainedMixin,
    encodes_bands,
)
from .config import SimFMConfig
from .encoders import build_sequence_encoder, observation_inputs

__all__ = ["SimFMModel", "SimFMBatch", "MODEL_TYPE"]

MODEL_TYPE = "simfm"
#: the brightness feature is (log10(peak flux / µJy) - _LOG_SCALE_OFFSET) / _LOG_SCALE_WIDTH
_LOG_SCALE_OFFSET, _LOG_SCALE_WIDTH = 2.0, 2.0


@dataclass
class SimFMBatch:
    """Padded light curves plus the host inputs (B, 2) = [redshift, MW E(B−V)] (zeros when unused)."""

    lc: LightCurveBatch
    host: torch.Tensor

    def to(self, device) -> SimFMBatch:
        return SimFMBatch(self.lc.to(device), self.host.to(device))

    def __len__(self) -> int:
        return len(self.lc)


@dataclass
class _Item:
    lc: ProcessedLightCurve
    host: np.ndarray

    def __len__(self) -> int:
        return len(self.lc)


class _GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight):
        ctx.weight = weight
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.weight * grad, None


def grad_reverse(x: torch.Tensor, weight: float = 1.0) -> torch.Tensor:
    """Identity forward, gradient × (−weight) backward (the adversarial variant's gradient reversal)."""
    return _GradReverse.apply(x, float(weight))


class SimFMModel(PretrainedMixin, nn.Module):
    """SimFM model built from a :class:`SimFMConfig` (see the module docstring)."""

    model_type = MODEL_TYPE
    config_class = SimFMConfig

    def __init__(self, config: SimFMConfig):
        super().__init__()
        if not isinstance(config, SimFMConfig):
            raise TypeError(f"SimFMModel: expected a SimFMConfig, got {type(config).__name__}")
        self.config = c = config
        self.encoder = build_sequence_encoder(c)
        n_in = c.hidden_dim + (1 if c.scale_feature else 0) + (2 if c.host else 0)
        self.dense = nn.Sequential(nn.Linear(n_in, c.dense_dim), nn.ReLU(), nn.Dropout(c.dropout))
        self.latent = nn.Linear(c.dense_dim, c.latent_dim)
        self.classifier = nn.Sequential(nn.ReLU(), nn.Dropout(c.dropout), nn.Linear(c.latent_dim, len(c.class_names)))
        self.redshift_head = (nn.Sequential(nn.Linear(c.latent_dim, 64), nn.ReLU(), nn.Linear(64, 1))
                              if c.redshift_head else None)
        self.survey_head = (nn.Sequential(nn.Linear(c.latent_dim, 64), nn.ReLU(), nn.Linear(64, c.n_surveys))
                            if c.n_surveys > 0 else None)
        self._warned_wavelength = False
        self.eval()

    # -- properties ---------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def embed_dim(self) -> int:
        return self.config.latent_dim

    @property
    def modalities(self) -> tuple[str, ...]:
        return ("lightcurve",)

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.config.class_names

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # -- tensors ------------------------------------------------------------------------------
    def encode_latent(self, batch: SimFMBatch) -> torch.Tensor:
        """(B, latent_dim) un-normalised latent."""
        c, lc = self.config, batch.lc
        x = observation_inputs(lc.time, lc.flux, lc.flux_err, lc.wavelength, c)
        h = [self.encoder(x, lc.mask)]
        if c.scale_feature:
            h.append(((lc.log_scale - _LOG_SCALE_OFFSET) / _LOG_SCALE_WIDTH).unsqueeze(-1).float())
        if c.host:
            h.append(batch.host.float())
        return self.latent(self.dense(torch.cat(h, dim=-1)))

    def encode_lightcurves(self, batch: SimFMBatch, normalize: bool = True) -> torch.Tensor:
        """(B, latent_dim) embeddings (L2-normalised latent unless ``normalize=False``)."""
        z = self.encode_latent(batch)
        return nn.functional.normalize(z.float(), dim=-1, eps=1e-12) if normalize else z

    def forward(self, batch: SimFMBatch, *, reverse_weight: float = 1.0) -> dict[str, torch.Tensor]:
        """``latent`` (B, D), ``logits`` (B, C), ``redshift`` (B,) = predicted log10 z if the head exists, ``survey_logits``
        (B, n_surveys) through a gradient-reversal layer of weight ``reverse_weight`` if it exists."""
        z = self.encode_latent(batch)
        out = {"latent": z, "logits": self.classifier(z)}
        if self.redshift_head is not None:
            out["redshift"] = self.redshift_head(z).squeeze(-1)
        if self.survey_head is not None:
            out["survey_logits"] = self.survey_head(grad_reverse(z, reverse_weight))
        return out

    # -- containers ---------------------------------------------------------------------------
    @encodes_bands
    def preprocess_lightcurve(self, lc: LightCurve) -> _Item:
        """Preprocess one light curve (see :mod:`astroembed.data.preprocess`) + its host inputs."""
        p = preprocess_lightcurve(lc, self.config.preprocess)
        lo, hi = self.config.band_wavelength_range
        if not self._warned_wavelength and len(p.wavelength) and (
                p.wavelength.min() < lo or p.wavelength.max() > hi):
            self._warned_wavelength = True
            bad = sorted({str(b) for b, w in zip(p.band, p.wavelength) if not lo <= w <= hi})
            warnings.warn(f"SimFM: band(s) {bad} of {lc.object_id!r} have λ_eff outside the pre-training bands' "
                          f"range {lo:.0f}-{hi:.0f} Å; the model extrapolates in wavelength (warned once)",
                          UserWarning, stacklevel=3)
        host = np.zeros(2, dtype=np.float32)
        if self.config.host:
            if lc.redshift is None or lc.mwebv is None:
                raise ValueError(f"LightCurve {lc.object_id!r}: this SimFM model has the host branch "
                                 "(config.host=true) and needs redshift=... and mwebv=... on every light curve")
            host[:] = (float(lc.redshift), float(lc.mwebv))
        return _Item(p, host)

    def collate(self, items) -> SimFMBatch:
        return SimFMBatch(collate_lightcurves([it.lc for it in items]),
                          torch.from_numpy(np.stack([it.host for it in items]).astype(np.float32)))

    @encodes_bands
    def embed_lightcurve(self, objs, *, batch_size: int = 256, progress: bool | None = None,
                         normalize: bool = True, errors: str = "raise") -> np.ndarray:
        """Embed light curves → float32 (N, latent_dim), unit norm unless ``normalize=False``.

        ``objs``: a LightCurve, a table or an iterable of them (any band with a registered λ_eff).
        ``errors="coerce"`` returns a NaN row for an object that cannot be preprocessed (alignment kept);
        ``"raise"`` (default) raises naming the item.
        """
        if errors not in ("raise", "coerce"):
            raise ValueError(f"errors: 'raise' or 'coerce', got {errors!r}")
        items = as_container_list(objs, LightCurve)
        ok = np.ones(len(items), dtype=bool)
        if errors == "coerce":
            for i, lc in enumerate(items):
                try:
                    preprocess_lightcurve(lc, self.config.preprocess)
                except (ValueError, TypeError):
                    ok[i] = False
        was = self.training
        self.eval()
        try:
            emb = run_embedding([lc for lc, k in zip(items, ok) if k], preprocess=self.preprocess_lightcurve,
                                collate=self.collate, encode=self.encode_lightcurves, length=len,
                                dim=self.embed_dim, device=self.device, batch_size=batch_size, progress=progress,
                                normalize=normalize, desc="embed light curves")
        finally:
            self.train(was)
        if ok.all():
            return emb
        out = np.full((len(items), self.embed_dim), np.nan, dtype=np.float32)
        out[ok] = emb
        return out

    def embed_spectrum(self, objs, **kwargs):
        """SimFM has no spectrum encoder: raises ``NotImplementedError``."""
        raise NotImplementedError("SimFM embeds light curves only (modality 'lightcurve'); it has no "
                                  "'spectrum' encoder — use a Maven model for spectra")

    @encodes_bands
    def predict(self, objs, *, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """(class probabilities (N, C) over ``class_names``, redshift (N,); NaN without a redshift head)."""
        items = [self.preprocess_lightcurve(lc) for lc in as_container_list(objs, LightCurve)]
        from ...data.collate import length_buckets

        probs = np.zeros((len(items), len(self.class_names)), dtype=np.float32)
        z = np.full(len(items), np.nan, dtype=np.float32)
        was = self.training
        self.eval()
        try:
            with torch.inference_mode():
                for idx in length_buckets([len(p) for p in items], batch_size):
                    out = self(self.collate([items[i] for i in idx]).to(self.device))
                    probs[idx] = torch.softmax(out["logits"].float(), -1).cpu().numpy()
                    if "redshift" in out:
                        z[idx] = 10.0 ** out["redshift"].float().cpu().numpy()
        finally:
            self.train(was)
        return probs, z

    # -- persistence --------------------------------------------------------------------------

    def extra_repr(self) -> str:
        return (f"encoder={self.config.encoder}, embed_dim={self.embed_dim}, classes={list(self.class_names)}, "
                f"params={self.num_parameters():,}")


