"""Typed, strict config of the SimFM model (every field is used by :class:`~.model.SimFMModel`).

``from_dict`` rejects unknown and missing keys, naming them.  The encoder is either the paper's GRU
stack (``encoder="gru"``, ``transformer=None``) or a transformer (``encoder="transformer"`` with a
:class:`TransformerConfig`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...config import StrictConfig, check_choice, check_int, check_positive, check_prob, config_sha256
from ...data.preprocess import LightCurvePreprocessConfig
from ...errors import ConfigError

__all__ = ["SimFMConfig", "TransformerConfig", "config_sha256", "ENCODERS"]

ENCODERS = ("gru", "transformer")


@dataclass(frozen=True)
class TransformerConfig(StrictConfig):
    """Transformer option: ``n_heads`` attention heads, feed-forward width ``ff_dim``; the time (days,
    scaled) enters through a sinusoidal encoding with frequencies ``time_base ** (-2i / d)``."""

    n_heads: int = 4
    ff_dim: int = 200
    time_base: float = 1000.0

    def __post_init__(self):
        check_int("TransformerConfig.n_heads", self.n_heads, 1)
        check_int("TransformerConfig.ff_dim", self.ff_dim, 1)
        check_positive("TransformerConfig.time_base", self.time_base)


@dataclass(frozen=True)
class SimFMConfig(StrictConfig):
    """SimFM light-curve classifier whose ``latent_dim`` latent (L2-normalised) is the embedding.

    Per observation the encoder sees ``[λ_eff / wavelength_scale, t / time_scale, flux, flux_err]``
    (λ in Å, t in days since the first detection, flux and error divided by the object's peak flux;
    see :mod:`astroembed.data.preprocess`).

    Fields
    ------
    encoder : ``"gru"`` (``n_layers`` stacked GRUs of ``hidden_dim`` units, packed sequences) or
        ``"transformer"`` (``n_layers`` transformer blocks of width ``hidden_dim``, masked mean pooling).
    hidden_dim, n_layers : width and depth of the sequence encoder (paper: 100, 2).
    dense_dim : width of the dense layer after the encoder (paper: 100).
    latent_dim : embedding dimension (paper: 100).
    dropout : dropout in the dense layers during training.
    time_scale : days; scaled time = t / time_scale.
    wavelength_scale : Å; scaled wavelength = λ_eff / wavelength_scale (paper: 10⁴).
    scale_feature : concatenate the standardised brightness ``(log10(peak flux / µJy) - 2) / 2`` to the
        encoder output (apparent brightness carries distance information).
    host : the paper's optional host branch: ``[redshift, MW E(B−V)]`` of each light curve (both needed).
    class_names : classes of the pre-training softmax head.
    redshift_head : an auxiliary redshift regression head on the latent (used in pre-training only).
    n_surveys : outputs of the survey discriminator (adversarial variant; 0 = none).
    band_wavelength_range : (min, max) Å of the bands seen in pre-training; light curves with bands
        outside it trigger a one-time warning.
    transformer : the transformer settings (only with ``encoder="transformer"``).
    preprocess : light-curve preprocessing (shared with Maven).
    """

    encoder: str = "gru"
    hidden_dim: int = 100
    n_layers: int = 2
    dense_dim: int = 100
    latent_dim: int = 100
    dropout: float = 0.1
    time_scale: float = 100.0
    wavelength_scale: float = 1.0e4
    scale_feature: bool = True
    host: bool = False
    class_names: tuple = ("Ia", "Ibc", "II", "IIn", "IIb")
    redshift_head: bool = True
    n_surveys: int = 2
    band_wavelength_range: tuple = (3000.0, 11000.0)
    transformer: TransformerConfig | None = None
    preprocess: LightCurvePreprocessConfig = field(default_factory=LightCurvePreprocessConfig)

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, where: str | None = None) -> SimFMConfig:
        where = where or cls.__name__
        if not isinstance(d, dict):
            raise ConfigError(f"{where}: expected a mapping, got {type(d).__name__}")
        d = dict(d)
        if isinstance(d.get("transformer"), dict):
            d["transformer"] = TransformerConfig.from_dict(d["transformer"], where=f"{where}.transformer")
        return super().from_dict(d, where=where)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["transformer"] = None if self.transformer is None else self.transformer.to_dict()
        return out

    def __post_init__(self):
        w = "SimFMConfig"
        check_choice(f"{w}.encoder", self.encoder, ENCODERS)
        for name in ("hidden_dim", "n_layers", "dense_dim", "latent_dim"):
            check_int(f"{w}.{name}", getattr(self, name), 1)
        check_int(f"{w}.n_surveys", self.n_surveys, 0)
        check_prob(f"{w}.dropout", self.dropout)
        check_positive(f"{w}.time_scale", self.time_scale)
        check_positive(f"{w}.wavelength_scale", self.wavelength_scale)
        for name in ("scale_feature", "host", "redshift_head"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{w}.{name}: must be true or false, got {getattr(self, name)!r}")
        object.__setattr__(self, "class_names", tuple(self.class_names))
        if len(self.class_names) < 2 or len(set(self.class_names)) != len(self.class_names) or not all(
                isinstance(c, str) and c for c in self.class_names):
            raise ConfigError(f"{w}.class_names: at least two distinct non-empty names, got {self.class_names}")
        rng = tuple(float(x) for x in self.band_wavelength_range) if isinstance(
            self.band_wavelength_range, (tuple, list)) else ()
        if len(rng) != 2 or not 0 < rng[0] < rng[1]:
            raise ConfigError(f"{w}.band_wavelength_range: (min, max) in Å with 0 < min < max, got "
                              f"{self.band_wavelength_range!r}")
        object.__setattr__(self, "band_wavelength_range", rng)
        if isinstance(self.transformer, dict):
            object.__setattr__(self, "transformer", TransformerConfig.from_dict(self.transformer,
                                                                                where=f"{w}.transformer"))
        if self.encoder == "transformer":
            if not isinstance(self.transformer, TransformerConfig):
                raise ConfigError(f"{w}.transformer: encoder='transformer' needs a transformer config "
                                  "(e.g. {\"n_heads\": 4, \"ff_dim\": 200, \"time_base\": 1000.0})")
            if self.hidden_dim % self.transformer.n_heads or self.hidden_dim % 2:
                raise ConfigError(f"{w}.hidden_dim: must be even and divisible by transformer.n_heads="
                                  f"{self.transformer.n_heads}, got {self.hidden_dim}")
        elif self.transformer is not None:
            raise ConfigError(f"{w}.transformer: must be null with encoder='gru' (it would be ignored)")
        if isinstance(self.preprocess, dict):
            object.__setattr__(self, "preprocess", LightCurvePreprocessConfig.from_dict(
                self.preprocess, where=f"{w}.preprocess"))
        if not isinstance(self.preprocess, LightCurvePreprocessConfig):
            raise ConfigError(f"{w}.preprocess: expected a LightCurvePreprocessConfig, got "
                              f"{type(self.preprocess).__name__}")

    @property
    def modalities(self) -> tuple[str, ...]:
        return ("lightcurve",)
