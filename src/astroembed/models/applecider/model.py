"""The AppleCiDEr early classifier: photometry + alert metadata + spectrum towers fused by a mixture of
experts, with ``predict_proba`` (class probabilities) and the Embedder API (``embed_lightcurve``).

>>> import astroembed as ae
>>> from astroembed.models.applecider import AppleCiderConfig, AppleCiderModel
>>> model = AppleCiderModel(AppleCiderConfig())       # random weights
>>> lc = ae.LightCurve(time=[59000.0, 59002.0, 59005.0], band=["ztfg", "ztfr", "ztfg"],
...                    mag=[19.1, 18.9, 18.7], mag_err=[0.1, 0.1, 0.1])
>>> p = model.predict_proba([lc], metadata=[{"host_absmag": -20.5, "mw_av": 0.1}])
>>> list(p.columns) == list(model.classes), round(float(p.sum(axis=1)[0]), 5)
(True, 1.0)
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ...data.containers import LightCurve, Spectrum
from ..embedding import run_embedding
from ..persistence import (
    PretrainedMixin,
    encodes_bands,
)
from .batch import CiderBatch, collate
from .config import AppleCiderConfig
from .features import metadata_matrix, photometry_tokens, spectrum_on_grid
from .towers import MetadataTower, MixtureOfExperts, PhotometryTower, SpectraNet

__all__ = ["AppleCiderModel", "MODEL_TYPE"]

MODEL_TYPE = "applecider"


def _as_list(x, cls, name):
    if x is None:
        return None
    if isinstance(x, cls):
        return [x]
    if hasattr(x, "columns") and hasattr(x, "iloc"):
        raise TypeError(f"{name}: expected a list of astroembed.{cls.__name__} (or None per object), got a table")
    out = list(x)
    for i, o in enumerate(out):
        if o is not None and not isinstance(o, cls):
            raise TypeError(f"{name}[{i}]: expected an astroembed.{cls.__name__} or None, got {type(o).__name__}")
    return out


class AppleCiderModel(PretrainedMixin, nn.Module):
    """Multimodal early classifier built from an :class:`~.config.AppleCiderConfig`."""

    model_type = MODEL_TYPE
    config_class = AppleCiderConfig

    def __init__(self, config: AppleCiderConfig):
        super().__init__()
        if not isinstance(config, AppleCiderConfig):
            raise TypeError(f"AppleCiderModel: expected an AppleCiderConfig, got {type(config).__name__}")
        self.config = c = config
        self.photometry = PhotometryTower(c.photometry)
        self.embed_head = nn.Sequential(nn.Linear(c.photometry.d_model, c.embed_dim), nn.GELU())
        n_in = c.embed_dim
        self.metadata = MetadataTower(c.metadata) if c.metadata is not None else None
        n_in += c.metadata.hidden_dim if c.metadata is not None else 0
        self.spectrum = SpectraNet(c.spectrum) if c.spectrum is not None else None
        n_in += c.spectrum.hidden_dim if c.spectrum is not None else 0
        self.fusion = MixtureOfExperts(n_in + 3, len(c.classes), c.fusion)
        self.eval()

    # -- properties ---------------------------------------------------------------------------
    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.config.classes)

    @property
    def embed_dim(self) -> int:
        return self.config.embed_dim

    @property
    def modalities(self) -> tuple[str, ...]:
        """Embedder modalities (only light curves are embedded; spectra enter the classifier only)."""
        return ("lightcurve",)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    # -- tensors ------------------------------------------------------------------------------
    def lightcurve_vector(self, batch: CiderBatch, hide=None) -> tuple[torch.Tensor, torch.Tensor]:
        cls, states = self.photometry(batch.tokens, batch.dt, batch.mask, hide)
        return self.embed_head(cls), states

    def forward(self, batch: CiderBatch) -> torch.Tensor:
        """Class logits (B, C).  In training mode each present modality is hidden with probability
        ``fusion.modality_dropout`` (at least one modality is kept)."""
        has = torch.stack([batch.has_lc, batch.has_meta, batch.has_spec], dim=1)
        if self.metadata is None:
            has = has * torch.tensor([1.0, 0.0, 1.0], device=has.device)
        if self.spectrum is None:
            has = has * torch.tensor([1.0, 1.0, 0.0], device=has.device)
        p = self.config.fusion.modality_dropout
        if self.training and p > 0:
            keep = (torch.rand_like(has) >= p).float() * has
            none = keep.sum(dim=1, keepdim=True) == 0
            keep = torch.where(none, has, keep)
            has = keep
        parts = [self.lightcurve_vector(batch)[0] * has[:, :1]]
        if self.metadata is not None:
            parts.append(self.metadata(batch.meta_values, batch.meta_missing) * has[:, 1:2])
        if self.spectrum is not None:
            parts.append(self.spectrum(batch.spec) * has[:, 2:3])
        return self.fusion(torch.cat(parts + [has], dim=1))

    # -- preprocessing ------------------------------------------------------------------------
    @encodes_bands
    def make_batch(self, lightcurves=None, metadata=None, spectra=None) -> CiderBatch:
        """Validate and preprocess aligned per-object inputs (``None`` entries = modality missing)."""
        c = self.config
        lcs = _as_list(lightcurves, LightCurve, "lightcurves")
        sps = _as_list(spectra, Spectrum, "spectra")
        sizes = {k: len(v) for k, v in (("lightcurves", lcs), ("spectra", sps)) if v is not None}
        if metadata is not None and not isinstance(metadata, dict):
            sizes["metadata"] = len(metadata)
        if not sizes:
            raise ValueError("predict_proba: give at least one of lightcurves=, metadata=, spectra=")
        if len(set(sizes.values())) > 1:
            raise ValueError(f"predict_proba: inputs of different lengths {sizes}; give one entry (or None) per object")
        n = next(iter(sizes.values()))
        lc_items = []
        for i in range(n):
            lc = None if lcs is None else lcs[i]
            try:
                lc_items.append(None if lc is None else photometry_tokens(lc, c.photometry))
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"lightcurves[{i}]: {exc}") from None
        fields = c.metadata.fields if c.metadata is not None else ()
        if metadata is not None and c.metadata is None:
            raise ValueError("metadata: this model has no metadata tower (its modalities: "
                             f"{list(c.modalities)})")
        mv, mm = metadata_matrix(metadata, fields, n)
        sp_items = []
        if sps is not None and c.spectrum is None:
            raise ValueError(f"spectra: this model has no spectrum tower (its modalities: {list(c.modalities)})")
        for i in range(n):
            s = None if sps is None else sps[i]
            try:
                sp_items.append(None if s is None else spectrum_on_grid(s, c.spectrum))
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"spectra[{i}]: {exc}") from None
        n_bins = c.spectrum.n_bins if c.spectrum is not None else 1
        batch = collate(lc_items, mv, mm, sp_items, len(fields), n_bins)
        empty = np.flatnonzero((batch.has_lc + batch.has_meta + batch.has_spec).numpy() == 0)
        if len(empty):
            raise ValueError(f"object(s) {empty[:5].tolist()}: no modality given (light curve, metadata and "
                             "spectrum all missing)")
        return batch

    # -- containers in, results out ------------------------------------------------------------
    @encodes_bands
    def predict_proba(self, lightcurves=None, metadata=None, spectra=None, *, batch_size: int = 256):
        """Class probabilities, a pandas DataFrame: one row per object (input order; index = object ids
        of the light curves where given, else positions), one column per class of :attr:`classes`;
        rows sum to 1.

        Parameters
        ----------
        lightcurves : list of LightCurve (or None per object), optional
            Photometry (µJy/AB mag, MJD); only detections within the horizon after the first one are used.
        metadata : list of dict (or None per object) or DataFrame, optional
            Alert-time features named as in ``config.metadata.fields`` (see
            :data:`~.features.METADATA_FIELDS` for units and ranges); missing values allowed.
        spectra : list of Spectrum (or None per object), optional
            Observed frame with ``redshift``, or ``frame="rest"``.
        """
        import pandas as pd

        batch = self.make_batch(lightcurves, metadata, spectra)
        n = len(batch)
        probs = np.zeros((n, len(self.classes)), np.float32)
        was = self.training
        self.eval()
        try:
            with torch.inference_mode():
                for s in range(0, n, batch_size):
                    sub = CiderBatch(**{k: v[s:s + batch_size] for k, v in batch.__dict__.items()})
                    keep = int(sub.mask.sum(dim=1).max().item()) if bool(sub.mask.any()) else 1
                    sub.tokens, sub.dt, sub.mask = sub.tokens[:, :keep], sub.dt[:, :keep], sub.mask[:, :keep]
                    probs[s:s + batch_size] = torch.softmax(self(sub.to(self.device)).float(), -1).cpu().numpy()
        finally:
            self.train(was)
        lcs = _as_list(lightcurves, LightCurve, "lightcurves")
        index = list(range(n))
        if lcs is not None:
            index = [i if lc is None or lc.object_id is None else lc.object_id for i, lc in enumerate(lcs)]
        return pd.DataFrame(probs, columns=list(self.classes), index=pd.Index(index, name="object_id"))

    def _encode(self, batch: CiderBatch, normalize: bool = True) -> torch.Tensor:
        v = self.lightcurve_vector(batch)[0].float()
        return nn.functional.normalize(v, dim=-1, eps=1e-12) if normalize else v

    @encodes_bands
    def embed_lightcurve(self, objs, *, batch_size: int = 256, progress: bool | None = None,
                         normalize: bool = True, errors: str = "raise") -> np.ndarray:
        """(N, embed_dim) float32 embeddings (the photometry tower's projected [CLS] vector, unit norm);
        ``errors="coerce"`` gives a NaN row for an unusable light curve (e.g. one detection) instead of raising."""
        from ..embedding import as_container_list

        items = as_container_list(objs, LightCurve)
        c = self.config
        nf = len(c.metadata.fields) if c.metadata is not None else 0
        nb = c.spectrum.n_bins if c.spectrum is not None else 1

        def col(xs):
            return collate(list(xs), np.zeros((len(xs), nf)), np.ones((len(xs), nf)), [None] * len(xs), nf, nb)

        was = self.training
        self.eval()
        try:
            return run_embedding(items, preprocess=lambda lc: photometry_tokens(lc, c.photometry), collate=col,
                                 encode=self._encode, length=lambda p: len(p[1]), dim=self.embed_dim,
                                 device=self.device, batch_size=batch_size, progress=progress,
                                 normalize=normalize, desc="embed light curves", errors=errors)
        finally:
            self.train(was)

    def embed_spectrum(self, objs, **kwargs):
        raise NotImplementedError("applecider embeds light curves only (spectra enter the classifier through "
                                  "predict_proba(spectra=...)); modalities: ['lightcurve']")

    # -- persistence --------------------------------------------------------------------------
