"""The Maven CLIP model: light-curve, spectrum and (optional) metadata encoders into one L2-normalised space.

Examples
--------
>>> import numpy as np, astroembed as ae
>>> from astroembed.models import MavenConfig, MavenModel
>>> model = MavenModel(MavenConfig())          # random weights
>>> lc = ae.LightCurve(time=[59000.0, 59002.0, 59005.0], band=["ztfg", "ztfr", "ztfg"],
...                    mag=[19.1, 18.9, 18.7], mag_err=[0.1, 0.1, 0.1])
>>> model.embed_lightcurve([lc, lc]).shape
(2, 128)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from ...data.collate import LightCurveBatch, SpectrumBatch, collate_lightcurves, collate_spectra
from ...data.containers import LightCurve, Spectrum
from ...data.preprocess import preprocess_lightcurve, preprocess_spectrum
from ..embedding import (
    Prepared,
    as_container_list,
    prepare_lightcurves,
    prepare_packed_lightcurves,
    run_embedding,
)
from ..persistence import (
    PretrainedMixin,
    encodes_bands,
)
from .config import MavenConfig, SpecFormerConfig
from .encoders import LightCurveEncoder, MetadataEncoder, SpectrumEncoder
from .losses import LogitScales, clip_loss
from .specformer import SpecFormerEncoder

__all__ = ["MavenModel", "MetadataBatch", "Embeddings", "MODEL_TYPE"]

#: value of ``model_type`` in config.json
MODEL_TYPE = "maven"


@dataclass
class MetadataBatch:
    """Class ids (B,) int64 (0 = unknown, i + 1 for ``class_names[i]``) and redshifts (B,) (NaN = unknown)."""

    class_id: torch.Tensor
    redshift: torch.Tensor

    def to(self, device) -> MetadataBatch:
        return MetadataBatch(self.class_id.to(device), self.redshift.to(device))

    def __len__(self) -> int:
        return int(self.class_id.shape[0])


class Embeddings(NamedTuple):
    """Result of :meth:`MavenModel.embed`: (N, D) float32 arrays, ``None`` for a modality not asked for."""

    lightcurve: np.ndarray | None
    spectrum: np.ndarray | None


class MavenModel(PretrainedMixin, nn.Module):
    """Multimodal CLIP model built from a :class:`~astroembed.models.MavenConfig`.

    Tensor API: :meth:`encode_lightcurves`, :meth:`encode_spectra`, :meth:`encode_metadata`,
    :meth:`forward`, :meth:`loss`.  Container API (numpy out): :meth:`embed_lightcurve`,
    :meth:`embed_spectrum`, :meth:`embed_metadata`, :meth:`embed`.  Persistence:
    :meth:`save_pretrained` / :meth:`from_pretrained` (``config.json`` + ``model.safetensors``).
    """

    model_type = MODEL_TYPE
    config_class = MavenConfig

    def __init__(self, config: MavenConfig):
        super().__init__()
        if not isinstance(config, MavenConfig):
            raise TypeError(f"MavenModel: expected a MavenConfig, got {type(config).__name__}")
        self.config = config
        c = config
        self.lightcurve_encoder = (LightCurveEncoder(c.lightcurve, c.embed_dim, len(c.band_vocab))
                                   if c.lightcurve is not None else None)
        if isinstance(c.spectrum, SpecFormerConfig):  # v2: SpecFormer-style encoder (specformer.py)
            self.spectrum_encoder = SpecFormerEncoder(c.spectrum, c.embed_dim, c.spectrum_preprocess.n_bins)
        else:
            self.spectrum_encoder = SpectrumEncoder(c.spectrum, c.embed_dim) if c.spectrum is not None else None
        self.metadata_encoder = MetadataEncoder(c.metadata, c.embed_dim) if c.metadata is not None else None
        self.logit_scales = LogitScales(c.pairs, c.logit_scale_init, c.logit_scale_max, c.learn_logit_scale)
        self._class_index = ({n: i + 1 for i, n in enumerate(c.metadata.class_names)}
                             if c.metadata is not None else {})
        self.eval()

    # -- helpers ------------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        for p in self.parameters():
            return p.device
        return torch.device("cpu")  # pragma: no cover

    @property
    def embed_dim(self) -> int:
        return self.config.embed_dim

    @property
    def modalities(self) -> tuple[str, ...]:
        return self.config.modalities

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    def encoder(self, modality: str) -> nn.Module:
        enc = getattr(self, f"{modality}_encoder", None)
        if enc is None:
            raise ValueError(f"this model has no {modality} encoder (its modalities: {list(self.modalities)})")
        return enc

    @staticmethod
    def _finish(x: torch.Tensor, normalize: bool) -> torch.Tensor:
        return nn.functional.normalize(x.float(), dim=-1, eps=1e-12) if normalize else x

    # -- tensors in, tensors out --------------------------------------------------------------
    def encode_lightcurves(self, batch: LightCurveBatch, normalize: bool = True) -> torch.Tensor:
        """(B, embed_dim) embeddings of a :class:`~astroembed.data.collate.LightCurveBatch`."""
        return self._finish(self.encoder("lightcurve")(batch), normalize)

    def encode_spectra(self, batch: SpectrumBatch, normalize: bool = True) -> torch.Tensor:
        """(B, embed_dim) embeddings of a :class:`~astroembed.data.collate.SpectrumBatch`."""
        return self._finish(self.encoder("spectrum")(batch), normalize)

    def encode_metadata(self, batch: MetadataBatch, normalize: bool = True) -> torch.Tensor:
        """(B, embed_dim) embeddings of class ids + redshifts."""
        return self._finish(self.encoder("metadata")(batch.class_id, batch.redshift), normalize)

    def forward(self, lightcurve: LightCurveBatch | None = None, spectrum: SpectrumBatch | None = None,
                metadata: MetadataBatch | None = None) -> dict[str, torch.Tensor]:
        """Unit-norm embeddings of every batch given, keyed by modality name."""
        out = {}
        if lightcurve is not None:
            out["lightcurve"] = self.encode_lightcurves(lightcurve)
        if spectrum is not None:
            out["spectrum"] = self.encode_spectra(spectrum)
        if metadata is not None:
            out["metadata"] = self.encode_metadata(metadata)
        return out

    def loss(self, embeddings: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """CLIP loss over every pair of modalities in ``embeddings`` (see :func:`~.losses.clip_loss`)."""
        return clip_loss(embeddings, self.logit_scales.scales())

    # -- preprocessing + batching -------------------------------------------------------------
    @encodes_bands
    def preprocess_lightcurve(self, lc: LightCurve):
        if self.config.lightcurve_preprocess is None:
            raise ValueError(f"this model has no light-curve encoder (its modalities: {list(self.modalities)})")
        return preprocess_lightcurve(lc, self.config.lightcurve_preprocess)

    def preprocess_spectrum(self, spec: Spectrum):
        if self.config.spectrum_preprocess is None:
            raise ValueError(f"this model has no spectrum encoder (its modalities: {list(self.modalities)})")
        return preprocess_spectrum(spec, self.config.spectrum_preprocess)

    @encodes_bands
    def prepare_lightcurves(self, items, packed=None, index=None, failures=None) -> Prepared:
        """Vectorised preprocessing (:mod:`astroembed.data.packed`) of ``LightCurve`` items, or of an
        already packed table (``packed=PackedObservations``, used by :func:`astroembed.embed_table`)."""
        cfg = self.config.lightcurve_preprocess
        if packed is not None:
            return prepare_packed_lightcurves(packed, cfg, self.config.band_vocab, index, failures)
        return prepare_lightcurves(items, cfg, self.config.band_vocab)

    def collate_lightcurves(self, items) -> LightCurveBatch:
        return collate_lightcurves(items, self.config.band_vocab)

    def class_ids(self, labels) -> np.ndarray:
        """Class ids for the metadata encoder (0 for unknown or missing labels)."""
        return np.array([self._class_index.get(lab, 0) if isinstance(lab, str) else 0 for lab in labels],
                        dtype=np.int64)

    def collate_metadata(self, labels, redshifts) -> MetadataBatch:
        z = np.array([np.nan if r is None else float(r) for r in redshifts], dtype=np.float32)
        return MetadataBatch(torch.from_numpy(self.class_ids(labels)), torch.from_numpy(z))

    # -- containers in, numpy out -------------------------------------------------------------
    def _embed(self, items, modality: str, *, batch_size, progress, normalize, errors) -> np.ndarray:
        self.encoder(modality)
        was_training = self.training
        self.eval()
        try:
            if modality == "lightcurve":
                if self.config.lightcurve_preprocess is None:
                    raise ValueError(f"this model has no light-curve encoder (its modalities: {list(self.modalities)})")
                return run_embedding(
                    items, prepare=self.prepare_lightcurves, encode=self.encode_lightcurves, dim=self.embed_dim,
                    device=self.device, batch_size=batch_size, progress=progress, normalize=normalize,
                    desc="embed light curves", errors=errors)
            return run_embedding(
                items, preprocess=self.preprocess_spectrum, collate=collate_spectra, encode=self.encode_spectra,
                length=lambda p: int(p.mask.sum()), dim=self.embed_dim, device=self.device,
                batch_size=batch_size, progress=progress, normalize=normalize, desc="embed spectra",
                errors=errors)
        finally:
            self.train(was_training)

    @encodes_bands
    def embed_lightcurve(self, objs, *, batch_size: int | None = None, progress: bool | None = None,
                         normalize: bool = True, errors: str = "raise") -> np.ndarray:
        """Embed light curves.

        Parameters
        ----------
        objs : LightCurve, table, or iterable of them
            One object or many (astropy Tables / DataFrames go through ``LightCurve.from_table``).
        batch_size : int, optional
            Objects per forward pass (sorted by length to minimise padding; the input order is restored).
            ``None``: 64 on a CPU (the fastest measured, docs/benchmarks.md), 4096 on a GPU.
        progress : bool or None
            Show a tqdm bar; ``None`` = only for more than 1000 objects.
        normalize : bool
            L2-normalise (default; cosine = inner product).
        errors : {"raise", "coerce"}
            An item that cannot be converted or preprocessed raises (naming its index and ``object_id``),
            or, with ``"coerce"``, gets a row of NaN so the output stays aligned with the input.

        Returns
        -------
        numpy.ndarray
            float32, C-contiguous, shape (N, embed_dim) — (1, D) for one object, (0, D) for none.
        """
        return self._embed(as_container_list(objs, LightCurve, errors), "lightcurve", batch_size=batch_size,
                           progress=progress, normalize=normalize, errors=errors)

    def embed_spectrum(self, objs, *, batch_size: int | None = None, progress: bool | None = None,
                       normalize: bool = True, errors: str = "raise") -> np.ndarray:
        """Embed spectra; same conventions as :meth:`embed_lightcurve` (wavelengths in Å, observed or rest
        frame as the model's ``spectrum_preprocess.frame`` requires; ``errors="coerce"`` gives a NaN row
        to a spectrum that does not cover ``min_valid_bins`` bins of the model grid)."""
        return self._embed(as_container_list(objs, Spectrum, errors), "spectrum", batch_size=batch_size,
                           progress=progress, normalize=normalize, errors=errors)

    def embed_metadata(self, labels, redshifts, *, batch_size: int = 4096, normalize: bool = True) -> np.ndarray:
        """Embed (class label, redshift) pairs (unknown label or ``None``/NaN redshift allowed) → (N, D)."""
        self.encoder("metadata")
        labels, redshifts = list(labels), list(redshifts)
        if len(labels) != len(redshifts):
            raise ValueError(f"embed_metadata: {len(labels)} labels but {len(redshifts)} redshifts")
        out = np.zeros((len(labels), self.embed_dim), dtype=np.float32)
        was_training = self.training
        self.eval()
        try:
            with torch.inference_mode():
                for s in range(0, len(labels), batch_size):
                    b = self.collate_metadata(labels[s:s + batch_size], redshifts[s:s + batch_size]).to(self.device)
                    out[s:s + batch_size] = self.encode_metadata(b, normalize=normalize).float().cpu().numpy()
        finally:
            self.train(was_training)
        return out

    def embed(self, lightcurves=None, spectra=None, **kwargs) -> Embeddings:
        """Embed light curves and/or spectra; returns ``Embeddings(lightcurve, spectrum)`` (None where not
        given).  ``kwargs`` go to :meth:`embed_lightcurve` / :meth:`embed_spectrum`."""
        if lightcurves is None and spectra is None:
            raise ValueError("embed: give lightcurves=... and/or spectra=...")
        return Embeddings(None if lightcurves is None else self.embed_lightcurve(lightcurves, **kwargs),
                          None if spectra is None else self.embed_spectrum(spectra, **kwargs))

    # -- persistence --------------------------------------------------------------------------

    def extra_repr(self) -> str:
        return f"modalities={list(self.modalities)}, embed_dim={self.embed_dim}, params={self.num_parameters():,}"
