"""Typed, strict configs of the AppleCiDEr early classifier.

Every field is used by :class:`~astroembed.models.applecider.model.AppleCiderModel` (or, for
:class:`AppleCiderTrainConfig`, by :func:`~astroembed.models.applecider.training.train_applecider`);
``from_dict`` rejects unknown and missing keys.  A tower is present when its config is not ``None``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ...config import StrictConfig, check_int, check_number, check_positive, check_prob, sub_config
from ...errors import ConfigError

__all__ = ["PhotometryConfig", "MetadataConfig", "SpectrumTowerConfig", "FusionConfig", "AppleCiderConfig",
           "AppleCiderTrainConfig", "DEFAULT_CLASSES"]

#: the BTS ``type_applecider`` taxonomy after the merges documented in docs/models/applecider.md
DEFAULT_CLASSES = ("SN Ia", "SN II", "SN Ib/c", "SN IIb", "SN IIn", "TDE")


def _tuple(obj, name):
    v = getattr(obj, name)
    if isinstance(v, list):
        object.__setattr__(obj, name, tuple(v))
    return getattr(obj, name)


@dataclass(frozen=True)
class PhotometryConfig(StrictConfig):
    """[CLS]-transformer over photometry tokens.

    Token features (per merged detection): ``log1p(Δt / day)`` since the first detection,
    ``log1p(Δt_prev / day)`` since the previous point (any band), ``log10(flux / µJy) - 2``,
    ``σ(log10 f) = flux_err / (flux · ln 10)`` in units of 0.1 dex, the band's effective wavelength
    ``(λ_eff - 6000 Å) / 1000 Å`` (λ_eff from :mod:`astroembed.data.bands`), and
    ``log10 f - max(log10 f)`` over the visible light curve (brightness relative to the peak so far; it
    only uses points up to the horizon, so it is known at that time).  A learned Time2Vec of ``Δt / horizon_days`` (``time2vec_dim``
    features: one linear, the rest periodic) is added to the token.  Same-band points closer than
    ``merge_hours`` are merged (inverse-variance mean); points later than first detection +
    ``horizon_days`` are dropped; at most ``max_length`` tokens (the earliest are kept).  Only
    detections (flux > 0) enter; a light curve needs ``min_points`` of them after merging.
    """

    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    ff_dim: int = 128
    dropout: float = 0.1
    time2vec_dim: int = 16
    merge_hours: float = 12.0
    horizon_days: float = 100.0
    max_length: int = 128
    min_points: int = 2

    def __post_init__(self):
        w = "PhotometryConfig"
        for k in ("d_model", "n_layers", "n_heads", "ff_dim", "max_length"):
            check_int(f"{w}.{k}", getattr(self, k), 1)
        check_int(f"{w}.time2vec_dim", self.time2vec_dim, 2)
        check_int(f"{w}.min_points", self.min_points, 1)
        check_prob(f"{w}.dropout", self.dropout)
        if self.d_model % self.n_heads:
            raise ConfigError(f"{w}.n_heads: d_model={self.d_model} must be divisible by n_heads={self.n_heads}")
        check_positive(f"{w}.merge_hours", self.merge_hours, allow_zero=True)
        check_positive(f"{w}.horizon_days", self.horizon_days)


@dataclass(frozen=True)
class MetadataConfig(StrictConfig):
    """MLP over alert-time host/sky features (names from :data:`~.features.METADATA_FIELDS`).

    Each feature enters as its standardised value (0 when missing) plus an explicit missing indicator;
    nothing is imputed silently.
    """

    fields: tuple = ("host_absmag", "host_color", "gal_b_deg", "mw_av")
    hidden_dim: int = 32
    n_layers: int = 2
    dropout: float = 0.1

    def __post_init__(self):
        from .features import METADATA_FIELDS

        w = "MetadataConfig"
        f = _tuple(self, "fields")
        if not f or len(set(f)) != len(f):
            raise ConfigError(f"{w}.fields: must be distinct, non-empty, got {f!r}")
        bad = [x for x in f if x not in METADATA_FIELDS]
        if bad:
            raise ConfigError(f"{w}.fields: unknown field(s) {bad}; known: {sorted(METADATA_FIELDS)}")
        check_int(f"{w}.hidden_dim", self.hidden_dim, 1)
        check_int(f"{w}.n_layers", self.n_layers, 1)
        check_prob(f"{w}.dropout", self.dropout)


@dataclass(frozen=True)
class SpectrumTowerConfig(StrictConfig):
    """SpectraNet: parallel 1-D convolutions with several kernel sizes over a spectrum interpolated to a
    fixed rest-frame log-λ grid (``wave_min``–``wave_max`` Å, ``n_bins``), continuum-subtracted
    (running mean over ``continuum_bins`` bins) and z-scored over covered bins; a second input channel is
    the coverage mask.  A spectrum covering less than ``min_coverage`` of the grid is refused."""

    wave_min: float = 3500.0
    wave_max: float = 8500.0
    n_bins: int = 256
    continuum_bins: int = 31
    min_coverage: float = 0.5
    kernel_sizes: tuple = (5, 11, 21)
    channels: int = 16
    hidden_dim: int = 64
    dropout: float = 0.1

    def __post_init__(self):
        w = "SpectrumTowerConfig"
        check_positive(f"{w}.wave_min", self.wave_min)
        if not isinstance(self.wave_max, (int, float)) or self.wave_max <= self.wave_min:
            raise ConfigError(f"{w}.wave_max: must exceed wave_min={self.wave_min}, got {self.wave_max!r}")
        check_int(f"{w}.n_bins", self.n_bins, 16)
        check_int(f"{w}.continuum_bins", self.continuum_bins, 1)
        if not isinstance(self.min_coverage, (int, float)) or not 0.0 < self.min_coverage <= 1.0:
            raise ConfigError(f"{w}.min_coverage: must be in (0, 1], got {self.min_coverage!r}")
        ks = _tuple(self, "kernel_sizes")
        if not ks or any(not isinstance(k, int) or k < 1 or k % 2 == 0 for k in ks):
            raise ConfigError(f"{w}.kernel_sizes: must be odd positive ints, got {ks!r}")
        check_int(f"{w}.channels", self.channels, 1)
        check_int(f"{w}.hidden_dim", self.hidden_dim, 1)
        check_prob(f"{w}.dropout", self.dropout)


@dataclass(frozen=True)
class FusionConfig(StrictConfig):
    """Mixture of ``n_experts`` MLPs (hidden ``hidden_dim``) over the concatenated tower outputs and
    modality-presence flags; a softmax gate over the same input weighs their class logits.
    ``modality_dropout``: during training each present modality is hidden with this probability
    (never all of them)."""

    n_experts: int = 4
    hidden_dim: int = 64
    dropout: float = 0.1
    modality_dropout: float = 0.3

    def __post_init__(self):
        w = "FusionConfig"
        check_int(f"{w}.n_experts", self.n_experts, 1)
        check_int(f"{w}.hidden_dim", self.hidden_dim, 1)
        check_prob(f"{w}.dropout", self.dropout)
        check_prob(f"{w}.modality_dropout", self.modality_dropout)


_TOWERS = (("photometry", PhotometryConfig), ("metadata", MetadataConfig), ("spectrum", SpectrumTowerConfig))


@dataclass(frozen=True)
class AppleCiderConfig(StrictConfig):
    """The whole classifier: ``classes`` (output columns), towers (``None`` = absent), fusion, and
    ``embed_dim`` (the photometry [CLS] vector is projected to it for ``embed_lightcurve``).

    Images are a modality of the AppleCiDEr paper with no data here; a tower for them would be one more
    optional entry of this config and one more input of the fusion.
    """

    classes: tuple = DEFAULT_CLASSES
    embed_dim: int = 64
    photometry: PhotometryConfig | None = field(default_factory=PhotometryConfig)
    metadata: MetadataConfig | None = field(default_factory=MetadataConfig)
    spectrum: SpectrumTowerConfig | None = field(default_factory=SpectrumTowerConfig)
    fusion: FusionConfig = field(default_factory=FusionConfig)

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, where: str | None = None) -> AppleCiderConfig:
        where = where or cls.__name__
        if not isinstance(d, dict):
            raise ConfigError(f"{where}: expected a mapping, got {type(d).__name__}")
        d = dict(d)
        for name, sub in _TOWERS:
            if name in d:
                d[name] = sub_config(sub, d[name], f"{where}.{name}")
        return super().from_dict(d, where=where)

    def __post_init__(self):
        w = "AppleCiderConfig"
        c = _tuple(self, "classes")
        if len(c) < 2 or len(set(c)) != len(c) or not all(isinstance(x, str) and x for x in c):
            raise ConfigError(f"{w}.classes: need >= 2 distinct non-empty names, got {c!r}")
        check_int(f"{w}.embed_dim", self.embed_dim, 1)
        for name, cls in _TOWERS + (("fusion", FusionConfig),):
            v = getattr(self, name)
            if isinstance(v, dict):
                object.__setattr__(self, name, v := cls.from_dict(v, where=f"{w}.{name}"))
            if v is None and name == "fusion":
                raise ConfigError(f"{w}.fusion: required")
            if v is not None and not isinstance(v, cls):
                raise ConfigError(f"{w}.{name}: expected {cls.__name__} or None, got {type(v).__name__}")
        if self.photometry is None:
            raise ConfigError(f"{w}.photometry: required (the photometry tower also gives the embeddings)")

    @property
    def modalities(self) -> tuple[str, ...]:
        return tuple(n for n, _ in _TOWERS if getattr(self, n) is not None)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


@dataclass(frozen=True)
class AppleCiderTrainConfig(StrictConfig):
    """Two-stage training (see :mod:`.training`).

    ``pretrain_epochs`` of the masked light-curve objective (``mask_frac`` of tokens hidden) on every
    light curve given (labelled or not), then ``epochs`` of supervised fine-tuning with focal loss
    (``focal_gamma``) and class-balanced weights (effective number, ``cb_beta``), AdamW (``lr``,
    ``weight_decay``), ``batch_size``, an EMA of the weights (``ema_decay``) which is what is kept.
    Random-horizon augmentation: each epoch every light curve is cut at first detection + h, h drawn
    log-uniformly in [``horizon_min``, ``horizon_max``] days with probability ``p_truncate``
    (``horizon_max`` ``None`` = the photometry ``horizon_days``; a smaller value weights the training
    toward early horizons: e.g. 50 puts 26 % of the draws at h <= 5 d with ``p_truncate`` 0.9, against
    16 % for [2, 100] d with 0.7).
    ``spectrum_epochs``: extra epochs over spectrum-only examples interleaved when spectra are given.
    ``max_minutes``: wall-clock limit of the whole run (it stops itself).
    ``init_from``: ``None``, or the directory of a saved :class:`~.model.AppleCiderModel` (e.g. the
    simulation pre-trained one of ``tools/pretrain_applecider_sim.py``) whose photometry tower and
    embedding head initialise this model before stage 1 (its photometry config and ``embed_dim`` must
    equal this model's; the metadata/spectrum towers and the fusion head start fresh, so its classes may
    differ).  A relative path is taken from the working directory.
    ``init_lr_scale`` (in (0, 1]; must be 1 without ``init_from``): the initialised photometry tower and
    embedding head are trained at ``lr * init_lr_scale`` in both stages (the fresh parts at ``lr``).
    """

    model: AppleCiderConfig = field(default_factory=AppleCiderConfig)
    pretrain_epochs: int = 10
    mask_frac: float = 0.15
    epochs: int = 40
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    focal_gamma: float = 2.0
    cb_beta: float = 0.999
    ema_decay: float = 0.99
    horizon_min: float = 2.0
    horizon_max: float | None = None
    p_truncate: float = 0.8
    max_minutes: float = 8.0
    seed: int = 0
    init_from: str | None = None
    init_lr_scale: float = 1.0

    def __post_init__(self):
        w = "AppleCiderTrainConfig"
        if isinstance(self.model, dict):
            object.__setattr__(self, "model", AppleCiderConfig.from_dict(self.model, where=f"{w}.model"))
        check_int(f"{w}.pretrain_epochs", self.pretrain_epochs, 0)
        check_int(f"{w}.epochs", self.epochs, 1)
        check_int(f"{w}.batch_size", self.batch_size, 1)
        check_int(f"{w}.seed", self.seed, 0)
        for k in ("mask_frac", "ema_decay", "p_truncate", "weight_decay"):
            check_prob(f"{w}.{k}", getattr(self, k))
        if not 0.0 < self.cb_beta < 1.0:
            raise ConfigError(f"{w}.cb_beta: must be in (0, 1), got {self.cb_beta!r}")
        for k in ("lr", "max_minutes", "horizon_min"):
            check_positive(f"{w}.{k}", getattr(self, k))
        check_positive(f"{w}.focal_gamma", self.focal_gamma, allow_zero=True)
        if self.horizon_max is not None:  # in (horizon_min, photometry horizon_days] days
            check_number(f"{w}.horizon_max", self.horizon_max, self.horizon_min, self.model.photometry.horizon_days,
                         lo_open=True)
        if self.init_from is not None and (not isinstance(self.init_from, str) or not self.init_from):
            raise ConfigError(f"{w}.init_from: must be null or a non-empty directory path, got {self.init_from!r}")
        check_number(f"{w}.init_lr_scale", self.init_lr_scale, 0.0, 1.0, lo_open=True)
        if self.init_from is None and self.init_lr_scale != 1.0:
            raise ConfigError(f"{w}.init_lr_scale: {self.init_lr_scale!r} has no effect without init_from; set it to 1.0")

    @classmethod
    def from_file(cls, path, **overrides) -> AppleCiderTrainConfig:
        """Read a training config JSON (``configs/applecider_*.json``); ``overrides`` replace fields
        (e.g. ``max_minutes=12``); ``None`` values are ignored."""
        from pathlib import Path

        cfg = cls.from_dict(json.loads(Path(path).read_text()), where=str(path))
        over = {k: v for k, v in overrides.items() if v is not None}
        return cfg.replace(**over) if over else cfg
