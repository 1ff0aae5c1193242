"""Typed, strict configs of the Maven model.

Every field is used by :class:`astroembed.models.MavenModel`; ``from_dict`` rejects unknown and
missing keys (naming them), so a ``config.json`` can never carry a silently ignored setting.

A modality is *present* when its encoder config is not ``None``; its preprocessing config must then
be given too (and must be ``None`` when the encoder is absent).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from ...config import (
    StrictConfig,
    check_choice,
    check_int,
    check_positive,
    check_prob,
    config_sha256,
    sub_config,
)
from ...data.preprocess import LightCurvePreprocessConfig, SpectrumPreprocessConfig
from ...errors import ConfigError
from ...labels import MAVEN5

__all__ = [
    "LightCurveEncoderConfig", "SpectrumEncoderConfig", "SpecFormerConfig", "MetadataEncoderConfig",
    "MavenConfig", "MODALITIES", "config_sha256",
]

#: canonical order of the modalities (pair names follow it, e.g. ``"lightcurve-spectrum"``)
MODALITIES = ("lightcurve", "spectrum", "metadata")

_POOLING = ("mean", "attention")
_SCALE_INPUT = ("token", "feature", "none")
_WAVE_ENC = ("linear", "log")


def _check_transformer(where: str, c) -> None:
    check_int(f"{where}.d_model", c.d_model, 1)
    check_int(f"{where}.n_layers", c.n_layers, 1)
    check_int(f"{where}.n_heads", c.n_heads, 1)
    check_int(f"{where}.ff_dim", c.ff_dim, 1)
    check_prob(f"{where}.dropout", c.dropout)
    if c.d_model % c.n_heads:
        raise ConfigError(f"{where}.n_heads: d_model={c.d_model} must be divisible by n_heads={c.n_heads}")
    if c.d_model % 2:
        raise ConfigError(f"{where}.d_model: must be even (sinusoidal encodings), got {c.d_model}")
    check_choice(f"{where}.pooling", c.pooling, _POOLING)
    check_choice(f"{where}.scale_input", c.scale_input, _SCALE_INPUT)
    check_positive(f"{where}.log_scale_width", c.log_scale_width)
    if not isinstance(c.log_scale_offset, (int, float)) or isinstance(c.log_scale_offset, bool):
        raise ConfigError(f"{where}.log_scale_offset: must be a number, got {c.log_scale_offset!r}")


@dataclass(frozen=True)
class LightCurveEncoderConfig(StrictConfig):
    """Light-curve transformer encoder.

    One token per observation = ``Linear(flux, flux_err)`` + sinusoidal encoding of the time (days since
    the reference epoch; frequencies ``time_base ** (-2i / d_model)``) + sinusoidal encoding of the
    band's effective wavelength (``band_encoding``: ``"log"`` uses positions ``5000 Å · ln(λ / 5000 Å)``,
    ``"linear"`` uses λ in Å; frequencies ``band_base ** (-2i / d_model)``) + a learned vector per band of
    :attr:`MavenConfig.band_vocab` (none when the vocabulary is empty).

    ``scale_input`` says how the per-object brightness scale ``log10(s / µJy)`` enters, after
    standardisation ``(log_scale - log_scale_offset) / log_scale_width``: as an extra token
    (``"token"``), concatenated to the pooled vector (``"feature"``), or not at all (``"none"``).
    ``pooling`` is the masked mean of the tokens or attention pooling with a learned query.
    """

    d_model: int = 64
    n_layers: int = 5
    n_heads: int = 4
    ff_dim: int = 128
    dropout: float = 0.1
    time_base: float = 2.0e4
    band_encoding: str = "log"
    band_base: float = 1.8e4
    scale_input: str = "token"
    log_scale_offset: float = 2.0
    log_scale_width: float = 1.0
    pooling: str = "mean"

    def __post_init__(self):
        w = "LightCurveEncoderConfig"
        _check_transformer(w, self)
        check_positive(f"{w}.time_base", self.time_base)
        check_positive(f"{w}.band_base", self.band_base)
        check_choice(f"{w}.band_encoding", self.band_encoding, _WAVE_ENC)


@dataclass(frozen=True)
class SpectrumEncoderConfig(StrictConfig):
    """Spectrum transformer encoder over the preprocessing grid.

    ``patch_size`` consecutive bins form one token (``Linear`` of their flux, error and validity mask),
    which keeps the sequence short on a CPU; the token's wavelength (mean of its bin centres) is encoded
    sinusoidally in Å (``wavelength_encoding="linear"``, Maven) or in log λ (``"log"``) with frequencies
    ``wavelength_base ** (-2i / d_model)``.  A token whose bins are all invalid is padding.  The other
    keys mean the same as in :class:`LightCurveEncoderConfig`.
    """

    d_model: int = 64
    n_layers: int = 5
    n_heads: int = 4
    ff_dim: int = 128
    dropout: float = 0.1
    patch_size: int = 8
    wavelength_encoding: str = "linear"
    wavelength_base: float = 1.8e4
    scale_input: str = "none"
    log_scale_offset: float = 0.0
    log_scale_width: float = 1.0
    pooling: str = "mean"

    def __post_init__(self):
        w = "SpectrumEncoderConfig"
        _check_transformer(w, self)
        check_int(f"{w}.patch_size", self.patch_size, 1)
        check_positive(f"{w}.wavelength_base", self.wavelength_base)
        check_choice(f"{w}.wavelength_encoding", self.wavelength_encoding, _WAVE_ENC)


@dataclass(frozen=True)
class SpecFormerConfig(StrictConfig):
    """SpecFormer-style spectrum encoder (AstroCLIP, Parker+2024), see :mod:`.specformer`.

    The spectrum on the preprocessing grid is standardised over its valid bins; the dropped mean and
    standard deviation (plus ``log_scale``) form one extra token.  Overlapping patches of ``patch_size``
    bins with stride ``patch_stride`` (``(n_bins - patch_size)`` must be a multiple of the stride) are
    linearly embedded (flux + validity mask) and get a learned position vector each.  ``mask_chunks``
    contiguous chunks of ``mask_chunk_len`` patches are hidden during masked-chunk pre-training
    (:meth:`~.specformer.SpecFormerEncoder.masked_loss`: MSE on the masked patches only).
    ``kind`` is always ``"specformer"``: it tells :class:`MavenConfig` which spectrum encoder to build.
    """

    kind: str = "specformer"
    d_model: int = 96
    n_layers: int = 4
    n_heads: int = 4
    ff_dim: int = 192
    dropout: float = 0.1
    patch_size: int = 20
    patch_stride: int = 10
    mask_chunks: int = 3
    mask_chunk_len: int = 3
    pooling: str = "mean"

    def __post_init__(self):
        w = "SpecFormerConfig"
        check_choice(f"{w}.kind", self.kind, ("specformer",))
        for k in ("d_model", "n_layers", "n_heads", "ff_dim", "patch_size", "patch_stride", "mask_chunks",
                  "mask_chunk_len"):
            check_int(f"{w}.{k}", getattr(self, k), 1)
        check_prob(f"{w}.dropout", self.dropout)
        if self.d_model % self.n_heads:
            raise ConfigError(f"{w}.n_heads: d_model={self.d_model} must be divisible by n_heads={self.n_heads}")
        if self.patch_stride > self.patch_size:
            raise ConfigError(f"{w}.patch_stride: {self.patch_stride} must be <= patch_size={self.patch_size}")
        check_choice(f"{w}.pooling", self.pooling, _POOLING)

    def n_patches(self, n_bins: int) -> int:
        """Number of patch tokens on a grid of ``n_bins`` bins."""
        return (n_bins - self.patch_size) // self.patch_stride + 1


def _spectrum_config(value, where):
    """A v1 :class:`SpectrumEncoderConfig` mapping, or a :class:`SpecFormerConfig` one (``kind``)."""
    if isinstance(value, dict) and value.get("kind") == "specformer":
        return sub_config(SpecFormerConfig, value, where)
    return sub_config(SpectrumEncoderConfig, value, where)


@dataclass(frozen=True)
class MetadataEncoderConfig(StrictConfig):
    """Metadata encoder (Maven appendix A.2): a learned embedding of the class (``class_names``; index 0
    = unknown) plus an MLP of the redshift (``log1p(z)`` and a known-flag), followed by ``n_layers``
    hidden layers of width ``hidden_dim``."""

    class_names: tuple = MAVEN5
    hidden_dim: int = 64
    n_layers: int = 2
    dropout: float = 0.0

    def __post_init__(self):
        w = "MetadataEncoderConfig"
        if not isinstance(self.class_names, tuple):
            object.__setattr__(self, "class_names", tuple(self.class_names))
        if not self.class_names or len(set(self.class_names)) != len(self.class_names) or not all(
                isinstance(c, str) and c for c in self.class_names):
            raise ConfigError(f"{w}.class_names: must be distinct non-empty strings, got {self.class_names!r}")
        check_int(f"{w}.hidden_dim", self.hidden_dim, 1)
        check_int(f"{w}.n_layers", self.n_layers, 1)
        check_prob(f"{w}.dropout", self.dropout)


@dataclass(frozen=True)
class MavenConfig(StrictConfig):
    """The whole CLIP model: which modalities (encoder configs that are not ``None``), their
    preprocessing, the shared embedding dimension and the logit scales of the contrastive loss.

    ``band_vocab``: bands that get a learned vector in the light-curve encoder (any registered band is
    still embedded through its wavelength).  ``logit_scale_init``: initial value of each pair's
    log-temperature (ln 20 ≈ 3.0); ``logit_scale_max``: upper bound of ``exp(logit_scale)``;
    ``learn_logit_scale``: learn it (Maven, CLIP) or keep it fixed (AstroCLIP).
    """

    embed_dim: int = 128
    lightcurve: LightCurveEncoderConfig | None = field(default_factory=LightCurveEncoderConfig)
    spectrum: SpectrumEncoderConfig | SpecFormerConfig | None = field(default_factory=SpectrumEncoderConfig)
    metadata: MetadataEncoderConfig | None = None
    lightcurve_preprocess: LightCurvePreprocessConfig | None = field(
        default_factory=lambda: LightCurvePreprocessConfig(max_length=128))
    spectrum_preprocess: SpectrumPreprocessConfig | None = field(default_factory=SpectrumPreprocessConfig)
    band_vocab: tuple = ("ztfg", "ztfr", "ztfi")
    logit_scale_init: float = math.log(20.0)
    logit_scale_max: float = 100.0
    learn_logit_scale: bool = True

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, where: str | None = None) -> MavenConfig:
        where = where or cls.__name__
        if not isinstance(d, dict):
            raise ConfigError(f"{where}: expected a mapping, got {type(d).__name__}")
        d = dict(d)
        for name, sub in (("lightcurve", LightCurveEncoderConfig), ("metadata", MetadataEncoderConfig),
                          ("lightcurve_preprocess", LightCurvePreprocessConfig),
                          ("spectrum_preprocess", SpectrumPreprocessConfig)):
            if name in d:
                d[name] = sub_config(sub, d[name], f"{where}.{name}")
        if "spectrum" in d:
            d["spectrum"] = _spectrum_config(d["spectrum"], f"{where}.spectrum")
        return super().from_dict(d, where=where)

    def __post_init__(self):
        w = "MavenConfig"
        check_int(f"{w}.embed_dim", self.embed_dim, 1)
        for name, cls in (("lightcurve", LightCurveEncoderConfig), ("spectrum", SpectrumEncoderConfig),
                          ("metadata", MetadataEncoderConfig),
                          ("lightcurve_preprocess", LightCurvePreprocessConfig),
                          ("spectrum_preprocess", SpectrumPreprocessConfig)):
            v = getattr(self, name)
            if isinstance(v, dict):  # direct construction with a dict
                v = _spectrum_config(v, f"{w}.{name}") if name == "spectrum" else cls.from_dict(v, where=f"{w}.{name}")
                object.__setattr__(self, name, v)
            if name == "spectrum" and isinstance(v, SpecFormerConfig):
                continue
            if v is not None and not isinstance(v, cls):
                raise ConfigError(f"{w}.{name}: expected {cls.__name__} or None, got {type(v).__name__}")
        if len(self.modalities) < 1:
            raise ConfigError(f"{w}: at least one of lightcurve / spectrum / metadata must be configured")
        for enc, pre in (("lightcurve", "lightcurve_preprocess"), ("spectrum", "spectrum_preprocess")):
            if (getattr(self, enc) is None) != (getattr(self, pre) is None):
                raise ConfigError(f"{w}.{pre}: must be given exactly when {enc} is (set both or neither)")
        if not isinstance(self.band_vocab, tuple):
            object.__setattr__(self, "band_vocab", tuple(self.band_vocab))
        if self.band_vocab:
            from ...data.bands import resolve_band

            if self.lightcurve is None:
                raise ConfigError(f"{w}.band_vocab: must be empty without a light-curve encoder")
            for b in self.band_vocab:
                try:
                    canon = resolve_band(b)
                except Exception as exc:
                    raise ConfigError(f"{w}.band_vocab: {exc}") from None
                if canon != b:
                    raise ConfigError(f"{w}.band_vocab: use canonical band names ({b!r} -> {canon!r})")
            if len(set(self.band_vocab)) != len(self.band_vocab):
                raise ConfigError(f"{w}.band_vocab: duplicated band in {self.band_vocab}")
        if isinstance(self.spectrum, SpecFormerConfig):
            n = self.spectrum_preprocess.n_bins
            if n < self.spectrum.patch_size or (n - self.spectrum.patch_size) % self.spectrum.patch_stride:
                raise ConfigError(f"{w}.spectrum.patch_stride: (spectrum_preprocess.n_bins={n} - patch_size="
                                  f"{self.spectrum.patch_size}) must be a non-negative multiple of "
                                  f"patch_stride={self.spectrum.patch_stride}")
        elif self.spectrum is not None and self.spectrum_preprocess.n_bins % self.spectrum.patch_size:
            raise ConfigError(f"{w}.spectrum.patch_size: {self.spectrum.patch_size} must divide "
                              f"spectrum_preprocess.n_bins={self.spectrum_preprocess.n_bins}")
        check_positive(f"{w}.logit_scale_max", self.logit_scale_max)
        if not isinstance(self.logit_scale_init, (int, float)) or isinstance(self.logit_scale_init, bool) or \
                not math.isfinite(self.logit_scale_init) or self.logit_scale_init > math.log(self.logit_scale_max):
            raise ConfigError(f"{w}.logit_scale_init: must be a finite number <= ln(logit_scale_max)="
                              f"{math.log(self.logit_scale_max):.3f}, got {self.logit_scale_init!r}")
        if not isinstance(self.learn_logit_scale, bool):
            raise ConfigError(f"{w}.learn_logit_scale: must be true/false, got {self.learn_logit_scale!r}")

    @property
    def modalities(self) -> tuple[str, ...]:
        """The configured modalities, in canonical order."""
        return tuple(m for m in MODALITIES if getattr(self, m) is not None)

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """Every pair of configured modalities (one logit scale each)."""
        m = self.modalities
        return tuple((m[i], m[j]) for i in range(len(m)) for j in range(i + 1, len(m)))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)
