"""Typed, strict config of the Transceiver (multimodal mixture-of-experts VAE).

Every field is used by :class:`~astroembed.models.transceiver.TransceiverModel`; ``from_dict`` rejects
unknown and missing keys.  Units: days for times and phases, Å for wavelengths.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ...config import StrictConfig, check_int, check_number, check_positive, config_sha256
from ...data.preprocess import LightCurvePreprocessConfig, SpectrumPreprocessConfig
from ...errors import ConfigError

__all__ = ["TransceiverConfig", "LEGACY_DEFAULTS", "config_sha256"]


def _default_lc_pre() -> LightCurvePreprocessConfig:
    return LightCurvePreprocessConfig(max_length=96, truncate="snr", time_reference="peak")


def _default_spec_pre() -> SpectrumPreprocessConfig:
    return SpectrumPreprocessConfig(wave_min=3400.0, wave_max=8600.0, n_bins=128, frame="rest",
                                    continuum="poly", continuum_degree=3, min_valid_bins=16)


#: keys added after weights were first released, with the values that reproduce the older objective; a
#: config.json without them loads with these (see ``TransceiverConfig.from_dict`` / ``to_dict``)
LEGACY_DEFAULTS: dict[str, Any] = {"free_bits": 0.0, "contrastive_weight": 0.0, "contrastive_temperature": 0.1}


@dataclass(frozen=True)
class TransceiverConfig(StrictConfig):
    """The whole model.

    Encoders (one per modality): ``n_latents`` learnable latent tokens of width ``d_model`` cross-attend
    (``n_heads`` heads) into the observation tokens, then ``n_self_layers`` self-attention blocks
    (GELU feed-forward of width ``ff_dim``, ``dropout``) act on the latents; their mean gives the
    Laplace posterior q(z | x) of dimension ``latent_dim`` (location and scale).
    Observation tokens: ``Linear(flux, flux_err)`` + sinusoidal-MLP encodings (``n_frequencies``
    sin/cos pairs, then a 2-layer GELU MLP) of the time (days from the light curve's brightest point;
    longest period ``time_base`` days) and of the wavelength (the band's λ_eff for photometry, the bin
    centre for spectra; positions ``λ_ref ln(λ/λ_ref)``, longest period ``wave_base`` Å).  Spectra
    are cut into patches of ``patch_size`` bins; the spectral phase is one extra context token (a
    learned "unknown phase" token when it is not given).

    Decoders (width ``decoder_dim``, ``decoder_heads`` heads; their own sinusoidal-MLP encodings):
    ``n_context_tokens`` tokens made from z (plus a phase token for spectra) condition
    ``n_decoder_layers`` cross-attention + FFN blocks whose queries are the encodings of (time, band
    λ_eff) or of the wavelength; each query gives the location and scale of a Laplace likelihood
    (scale >= ``min_scale`` in target units).

    Objective: MoE-MMVAE (Shi et al. 2019) with a Laplace(0, ``prior_scale``) prior, IWAE bound with
    ``iwae_samples`` samples per modality, ``beta`` weighting log p(z) - log q(z); the photometric
    log-likelihood is multiplied by ``lc_likelihood_weight``.  Augmentation: each training light curve
    loses a fraction U(0, ``obs_dropout_max``) of its points in the encoder (at least ``min_obs``
    kept); the spectrum encoder sees "unknown phase" with probability ``phase_dropout``.

    Latent-usage terms (added in 0.2; absent from older ``config.json`` files, where they default to the
    values that reproduce the old objective, see ``LEGACY_DEFAULTS``): ``free_bits`` — a per-dimension KL
    floor in nats (free bits, Kingma et al. 2016): for each modality's posterior and each latent dimension,
    ``β · max(0, free_bits − KL_d)`` (KL_d: the analytic Laplace KL to the prior, averaged over the batch) is
    added to the negative bound, which removes the pressure towards the prior on dimensions below the floor;
    ``contrastive_weight`` — weight (relative to the per-bin loss) of a symmetric InfoNCE term between the
    L2-normalised posterior means of the light curve and of the spectrum of each pair (temperature
    ``contrastive_temperature``; pairs of the same object in a batch count as positives), which is what makes
    the shared space retrievable (LC → spectrum search); 0 = off.

    Generation checks: a requested spectral phase outside ``phase_range`` (days from the brightest
    light-curve point, observer frame; the range of the training pairs) or farther than
    ``max_phase_gap`` days from every light-curve point is an error unless ``extrapolate=True``.
    """

    latent_dim: int = 32
    n_latents: int = 8
    d_model: int = 64
    n_heads: int = 4
    ff_dim: int = 128
    n_self_layers: int = 2
    dropout: float = 0.0
    n_frequencies: int = 16
    time_base: float = 1000.0
    wave_base: float = 20000.0
    patch_size: int = 4
    n_context_tokens: int = 4
    decoder_dim: int = 32
    decoder_heads: int = 2
    n_decoder_layers: int = 1
    min_scale: float = 0.003
    prior_scale: float = 1.0
    iwae_samples: int = 4
    beta: float = 0.5
    lc_likelihood_weight: float = 2.0
    obs_dropout_max: float = 0.7
    min_obs: int = 3
    phase_dropout: float = 0.3
    free_bits: float = 0.0
    contrastive_weight: float = 0.0
    contrastive_temperature: float = 0.1
    phase_range: tuple = (-20.0, 100.0)
    max_phase_gap: float = 30.0
    lightcurve_preprocess: LightCurvePreprocessConfig = field(default_factory=_default_lc_pre)
    spectrum_preprocess: SpectrumPreprocessConfig = field(default_factory=_default_spec_pre)

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, where: str | None = None) -> TransceiverConfig:
        """Strict, except that keys of ``LEGACY_DEFAULTS`` may be absent (configs written before they
        existed): they take the value that reproduces the old behaviour."""
        if isinstance(d, dict):
            d = {**{k: v for k, v in LEGACY_DEFAULTS.items() if k not in d}, **d}
        return super().from_dict(d, where=where or cls.__name__)

    def to_dict(self) -> dict[str, Any]:
        """All keys; but when every ``LEGACY_DEFAULTS`` key holds its legacy value they are left out, so a
        config that does not use them serialises (and hashes, ``config_sha256``) exactly as before they
        existed, and weights saved then still pair with their ``config.json``."""
        out = super().to_dict()
        if all(out[k] == v for k, v in LEGACY_DEFAULTS.items()):
            for k in LEGACY_DEFAULTS:
                del out[k]
        return out

    def __post_init__(self):
        w = "TransceiverConfig"
        for name in ("latent_dim", "n_latents", "d_model", "n_heads", "ff_dim", "n_frequencies", "patch_size",
                     "n_context_tokens", "decoder_dim", "decoder_heads", "n_decoder_layers", "iwae_samples",
                     "min_obs"):
            check_int(f"{w}.{name}", getattr(self, name), 1)
        check_int(f"{w}.n_self_layers", self.n_self_layers, lo=0)
        if self.d_model % self.n_heads:
            raise ConfigError(f"{w}.n_heads: d_model={self.d_model} must be divisible by n_heads={self.n_heads}")
        if self.decoder_dim % self.decoder_heads:
            raise ConfigError(f"{w}.decoder_heads: decoder_dim={self.decoder_dim} must be divisible by "
                              f"decoder_heads={self.decoder_heads}")
        check_number(f"{w}.dropout", self.dropout, 0.0, 0.9)
        check_number(f"{w}.obs_dropout_max", self.obs_dropout_max, 0.0, 0.95)
        check_number(f"{w}.phase_dropout", self.phase_dropout, 0.0, 1.0)
        check_number(f"{w}.beta", self.beta, 0.0, 100.0)
        check_number(f"{w}.lc_likelihood_weight", self.lc_likelihood_weight, 0.0, 1e4)
        check_number(f"{w}.free_bits", self.free_bits, 0.0, 100.0)
        check_number(f"{w}.contrastive_weight", self.contrastive_weight, 0.0, 1e4)
        check_number(f"{w}.contrastive_temperature", self.contrastive_temperature, 1e-3, 10.0)
        for name in ("time_base", "wave_base", "min_scale", "prior_scale", "max_phase_gap"):
            check_positive(f"{w}.{name}", getattr(self, name))
        if not isinstance(self.phase_range, tuple):
            object.__setattr__(self, "phase_range", tuple(self.phase_range))
        if len(self.phase_range) != 2 or not all(isinstance(x, (int, float)) for x in self.phase_range) or \
                not self.phase_range[0] < self.phase_range[1]:
            raise ConfigError(f"{w}.phase_range: must be [lo, hi] days with lo < hi, got {self.phase_range!r}")
        object.__setattr__(self, "phase_range", tuple(float(x) for x in self.phase_range))
        for name, cls in (("lightcurve_preprocess", LightCurvePreprocessConfig),
                          ("spectrum_preprocess", SpectrumPreprocessConfig)):
            v = getattr(self, name)
            if isinstance(v, dict):
                object.__setattr__(self, name, v := cls.from_dict(v, where=f"{w}.{name}"))
            if not isinstance(v, cls):
                raise ConfigError(f"{w}.{name}: expected {cls.__name__}, got {type(v).__name__}")
        if self.lightcurve_preprocess.time_reference != "peak":
            raise ConfigError(f"{w}.lightcurve_preprocess.time_reference: must be 'peak' (phases are days from "
                              "the brightest point)")
        if self.spectrum_preprocess.n_bins % self.patch_size:
            raise ConfigError(f"{w}.patch_size: {self.patch_size} must divide spectrum_preprocess.n_bins="
                              f"{self.spectrum_preprocess.n_bins}")

    @property
    def embed_dim(self) -> int:
        return self.latent_dim

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)
