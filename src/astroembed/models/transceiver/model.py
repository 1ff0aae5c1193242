"""The Transceiver: a multimodal mixture-of-experts VAE (MMVAE) of light curves and spectra.

Perceiver-style encoders give Laplace posteriors q(z | light curve) and q(z | spectrum, phase) in one
latent space; latent-conditioned decoders, queried by (time, band) or by wavelength, give Laplace
likelihoods.  Embeddings are the unit-normalised posterior means; generation lives in
:mod:`.generation` (``generate_spectrum`` / ``generate_lightcurve``).

Examples
--------
>>> import astroembed as ae
>>> from astroembed.models.transceiver import TransceiverConfig, TransceiverModel
>>> model = TransceiverModel(TransceiverConfig())                    # random weights
>>> lc = ae.LightCurve(time=[59000.0, 59002.0, 59005.0, 59009.0], band=["ztfg", "ztfr", "ztfg", "ztfr"],
...                    mag=[19.1, 18.9, 18.7, 19.0], mag_err=[0.1, 0.1, 0.1, 0.1])
>>> model.embed_lightcurve([lc]).shape
(1, 32)
>>> g = model.generate_spectrum([lc], phase=2.0, n_samples=16, seed=0)
>>> g.mean.shape, g.samples.shape
((1, 128), (1, 16, 128))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ...data.collate import LightCurveBatch, SpectrumBatch, collate_lightcurves, collate_spectra
from ...data.containers import LightCurve, Spectrum
from ...data.preprocess import preprocess_lightcurve, preprocess_spectrum
from ..embedding import as_container_list, run_embedding
from ..layers import wavelength_position
from ..persistence import (
    PretrainedMixin,
    encodes_bands,
)
from .config import TransceiverConfig
from .networks import LightCurveTokenizer, PerceiverEncoder, QueryDecoder, SinusoidalMLP, SpectrumTokenizer

__all__ = ["TransceiverModel", "PhasedSpectrumBatch", "MODEL_TYPE"]

MODEL_TYPE = "transceiver"


@dataclass
class PhasedSpectrumBatch:
    """A :class:`~astroembed.data.collate.SpectrumBatch` with its phases (B,) in days (NaN = unknown)."""

    spectrum: SpectrumBatch
    phase: torch.Tensor

    def to(self, device) -> PhasedSpectrumBatch:
        return PhasedSpectrumBatch(self.spectrum.to(device), self.phase.to(device))

    def __len__(self) -> int:
        return len(self.spectrum)


def _phases(phase, n: int, where: str) -> np.ndarray:
    """Scalar / sequence / None → (n,) float64 (NaN = unknown)."""
    if phase is None:
        return np.full(n, np.nan)
    p = np.asarray(phase, dtype=np.float64)
    if p.ndim == 0:
        return np.full(n, float(p))
    if p.shape != (n,):
        raise ValueError(f"{where}: phase must be a number or one value per object ({n}), got shape {p.shape}")
    return p.copy()


class TransceiverModel(PretrainedMixin, nn.Module):
    """MMVAE of light curves and spectra built from a :class:`TransceiverConfig` (see module docstring).

    Target spaces: spectra are rest-frame, continuum-divided (``flux / continuum − 1``) on the log-λ grid
    of ``config.spectrum_preprocess`` (:meth:`spectrum_target`); light curves are fluxes divided by the
    object's peak flux, at times in days from the brightest point.
    """

    model_type = MODEL_TYPE
    config_class = TransceiverConfig
    modalities = ("lightcurve", "spectrum")

    def __init__(self, config: TransceiverConfig):
        super().__init__()
        if not isinstance(config, TransceiverConfig):
            raise TypeError(f"TransceiverModel: expected a TransceiverConfig, got {type(config).__name__}")
        self.config = c = config
        self.time_enc = SinusoidalMLP(c.n_frequencies, c.time_base, c.d_model)
        self.wave_enc = SinusoidalMLP(c.n_frequencies, c.wave_base, c.d_model)
        self.lc_tokens = LightCurveTokenizer(c, self.time_enc, self.wave_enc)
        self.spec_tokens = SpectrumTokenizer(c, self.time_enc, self.wave_enc)
        self.lc_encoder = PerceiverEncoder(c)
        self.spec_encoder = PerceiverEncoder(c)
        self.lc_decoder = QueryDecoder(c, (c.time_base, c.wave_base))
        self.spec_decoder = QueryDecoder(c, (c.wave_base,), extra_base=c.time_base, outputs_per_query=c.patch_size)
        _, centers = c.spectrum_preprocess.grid()
        self.register_buffer("wavelength", torch.tensor(centers, dtype=torch.float32))
        #: multiplies the spread of generated samples around their mean; fitted on a validation split
        self.register_buffer("calibration_temperature", torch.ones((), dtype=torch.float32))
        self.eval()

    # -- properties -----------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return self.wavelength.device

    @property
    def embed_dim(self) -> int:
        return self.config.latent_dim

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # -- tensors -------------------------------------------------------------------------------
    def posterior_lightcurve(self, lc: LightCurveBatch, encoder_mask: torch.Tensor | None = None):
        """Laplace posterior (loc, scale), each (B, latent_dim), of a light-curve batch."""
        m = lc.mask if encoder_mask is None else encoder_mask
        tok = self.lc_tokens(lc.time, lc.flux, lc.flux_err, lc.wavelength)
        return self.lc_encoder(tok, m.bool())

    def posterior_spectrum(self, spec: SpectrumBatch, phase: torch.Tensor):
        """Laplace posterior of spectra (target space) at phases (B,) days (NaN = unknown)."""
        tok, m = self.spec_tokens(spec.flux, spec.flux_err, spec.mask.bool(), spec.wavelength, phase.float())
        return self.spec_encoder(tok, m)

    def decode_spectrum(self, z: torch.Tensor, phase: torch.Tensor):
        """Laplace (loc, scale), each (B, n_bins), of the spectrum at ``phase`` (B,) days given z (B, D)."""
        patch_wave = self.wavelength.reshape(-1, self.config.patch_size).mean(-1)  # one query per patch
        q = self.spec_decoder.encode_queries(wavelength_position(patch_wave, "log")).unsqueeze(0)
        return self.spec_decoder(z, q, phase.float())

    def decode_lightcurve(self, z: torch.Tensor, time: torch.Tensor, wavelength: torch.Tensor):
        """Laplace (loc, scale), each (B, T), of the scaled flux at times (B, T) days and λ_eff (B, T) Å."""
        q = self.lc_decoder.encode_queries(time.float(), wavelength_position(wavelength.float(), "log"))
        return self.lc_decoder(z, q)

    def loss(self, lc, spec, phase, **kwargs):
        """MoE-MMVAE IWAE loss (see :func:`.objective.mmvae_iwae_loss`)."""
        from .objective import mmvae_iwae_loss

        return mmvae_iwae_loss(self, lc, spec, phase, **kwargs)

    def encode_lightcurves(self, batch: LightCurveBatch, normalize: bool = True) -> torch.Tensor:
        loc, _ = self.posterior_lightcurve(batch)
        return nn.functional.normalize(loc.float(), dim=-1, eps=1e-12) if normalize else loc

    def encode_spectra(self, batch: PhasedSpectrumBatch, normalize: bool = True) -> torch.Tensor:
        loc, _ = self.posterior_spectrum(batch.spectrum, batch.phase)
        return nn.functional.normalize(loc.float(), dim=-1, eps=1e-12) if normalize else loc

    # -- preprocessing -------------------------------------------------------------------------
    @encodes_bands
    def preprocess_lightcurve(self, lc: LightCurve):
        """Model-ready light curve (times in days from the brightest kept point, flux / peak flux)."""
        return preprocess_lightcurve(lc, self.config.lightcurve_preprocess)

    def preprocess_spectrum(self, spec: Spectrum):
        """Spectrum in the target space (needs ``spec.redshift``; ``ValueError`` if it misses the grid)."""
        return preprocess_spectrum(spec, self.config.spectrum_preprocess)

    def collate_lightcurves(self, items) -> LightCurveBatch:
        return collate_lightcurves(items)

    @staticmethod
    def collate_phased(items) -> PhasedSpectrumBatch:
        return PhasedSpectrumBatch(collate_spectra([p for p, _ in items]),
                                   torch.tensor([ph for _, ph in items], dtype=torch.float32))

    def spectrum_target(self, spectra) -> tuple[np.ndarray, np.ndarray]:
        """Real spectra in the model's target space: values (N, n_bins) float32 (NaN where invalid) and the
        boolean validity mask (N, n_bins), on the grid ``self.wavelength`` (rest frame, Å)."""
        items = as_container_list(spectra, Spectrum)
        W = self.config.spectrum_preprocess.n_bins
        T = np.full((len(items), W), np.nan, dtype=np.float32)
        M = np.zeros((len(items), W), dtype=bool)
        for i, s in enumerate(items):
            try:
                p = self.preprocess_spectrum(s)
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"spectrum {i} ({s.object_id!r}): {exc}") from exc
            T[i, p.mask] = p.flux[p.mask]
            M[i] = p.mask
        return T, M

    # -- embeddings ----------------------------------------------------------------------------
    def _run(self, fn):
        was = self.training
        self.eval()
        try:
            return fn()
        finally:
            self.train(was)

    @encodes_bands
    def embed_lightcurve(self, objs, *, batch_size: int = 256, progress: bool | None = None,
                         normalize: bool = True, errors: str = "raise") -> np.ndarray:
        """Posterior means of q(z | light curve), float32 (N, latent_dim), unit norm by default;
        ``errors="coerce"`` gives a NaN row for an unusable light curve instead of raising."""
        items = as_container_list(objs, LightCurve)
        return self._run(lambda: run_embedding(
            items, preprocess=self.preprocess_lightcurve, collate=self.collate_lightcurves,
            encode=self.encode_lightcurves, length=len, dim=self.embed_dim, device=self.device,
            batch_size=batch_size, progress=progress, normalize=normalize, desc="embed light curves",
            errors=errors))

    def embed_spectrum(self, objs, *, phase=None, batch_size: int = 256, progress: bool | None = None,
                       normalize: bool = True, errors: str = "raise") -> np.ndarray:
        """Posterior means of q(z | spectrum, phase); ``phase`` (days from peak, one number or one per
        spectrum) is optional — without it the learned "unknown phase" token is used."""
        items = as_container_list(objs, Spectrum)
        ph = _phases(phase, len(items), "embed_spectrum")
        pairs = list(zip(items, ph, strict=True))
        return self._run(lambda: run_embedding(
            pairs, preprocess=lambda sp: (self.preprocess_spectrum(sp[0]), float(sp[1])),
            collate=self.collate_phased, encode=self.encode_spectra, length=lambda p: int(p[0].mask.sum()),
            dim=self.embed_dim, device=self.device, batch_size=batch_size, progress=progress,
            normalize=normalize, desc="embed spectra", errors=errors))

    # -- generation ----------------------------------------------------------------------------
    @encodes_bands
    def generate_spectrum(self, lightcurves, phase, *, n_samples: int = 64, seed: int | None = None,
                          extrapolate: bool = False, temperature: float | None = None, batch_size: int = 64):
        """Spectra implied by light curves; see :func:`.generation.generate_spectrum`."""
        from .generation import generate_spectrum

        return generate_spectrum(self, lightcurves, phase, n_samples=n_samples, seed=seed, extrapolate=extrapolate,
                                 temperature=temperature, batch_size=batch_size)

    @encodes_bands
    def generate_lightcurve(self, spectra, times, bands, *, phase=None, n_samples: int = 64, seed: int | None = None,
                            temperature: float | None = None, batch_size: int = 64):
        """Light curves implied by spectra; see :func:`.generation.generate_lightcurve`."""
        from .generation import generate_lightcurve

        return generate_lightcurve(self, spectra, times, bands, phase=phase, n_samples=n_samples, seed=seed,
                                   temperature=temperature, batch_size=batch_size)

    # -- persistence ---------------------------------------------------------------------------

    def extra_repr(self) -> str:
        return f"latent_dim={self.embed_dim}, params={self.num_parameters():,}"
