"""A probability-averaging ensemble of AppleCiDEr models with one architecture (e.g. one model per
training recipe).  ``predict_proba`` is the mean of the members' class probabilities; the Embedder API
(``embed_lightcurve``) is the first member's, so its embeddings equal that member's.

>>> from astroembed.models.applecider.config import AppleCiderConfig
>>> from astroembed.models.applecider.ensemble import AppleCiderEnsemble, AppleCiderEnsembleConfig
>>> ens = AppleCiderEnsemble(AppleCiderEnsembleConfig(member=AppleCiderConfig(spectrum=None), n_members=2))
>>> ens.classes == ens.members[0].classes, ens.embed_dim
(True, 64)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from torch import nn

from ...config import StrictConfig, check_int
from ...errors import ConfigError
from ..persistence import PretrainedMixin, encodes_bands
from .config import AppleCiderConfig
from .model import AppleCiderModel

__all__ = ["AppleCiderEnsemble", "AppleCiderEnsembleConfig", "ENSEMBLE_MODEL_TYPE"]

ENSEMBLE_MODEL_TYPE = "applecider-ensemble"


@dataclass(frozen=True)
class AppleCiderEnsembleConfig(StrictConfig):
    """``n_members`` (>= 2) AppleCiDEr models, all built from ``member``.  The first member encodes bands
    with the ensemble's own table (``band_wavelengths`` of its ``config.json``, :meth:`pin_band_wavelengths`);
    ``member_band_tables``: one ``{band: Å}`` table for each further member (the table it was trained
    with; members may differ), or empty: they follow the ensemble's table too."""

    member: AppleCiderConfig = field(default_factory=AppleCiderConfig)
    n_members: int = 3
    member_band_tables: tuple = ()

    def __post_init__(self):
        w = "AppleCiderEnsembleConfig"
        if not isinstance(self.member, AppleCiderConfig):
            raise ConfigError(f"{w}.member: expected an AppleCiderConfig, got {type(self.member).__name__}")
        check_int(f"{w}.n_members", self.n_members, 2)
        t = self.member_band_tables
        if isinstance(t, list):
            object.__setattr__(self, "member_band_tables", t := tuple(t))
        if not isinstance(t, tuple) or (t and len(t) != self.n_members - 1) or not all(isinstance(x, dict) for x in t):
            raise ConfigError(f"{w}.member_band_tables: expected () or {self.n_members - 1} {{band: Å}} tables (one per "
                              f"member after the first), got {t!r:.80}")


class AppleCiderEnsemble(PretrainedMixin, nn.Module):
    """Mean of ``n_members`` :class:`~.model.AppleCiderModel` probabilities (see the module docstring)."""

    model_type = ENSEMBLE_MODEL_TYPE
    config_class = AppleCiderEnsembleConfig

    def __init__(self, config: AppleCiderEnsembleConfig):
        super().__init__()
        if not isinstance(config, AppleCiderEnsembleConfig):
            raise TypeError(f"AppleCiderEnsemble: expected an AppleCiderEnsembleConfig, got {type(config).__name__}")
        self.config = config
        self.members = nn.ModuleList([AppleCiderModel(config.member) for _ in range(config.n_members)])
        for m, table in zip(self.members[1:], config.member_band_tables):
            m.pin_band_wavelengths(table)
        self.eval()

    @classmethod
    def from_members(cls, models) -> AppleCiderEnsemble:
        """An ensemble holding copies of the weights of ``models`` (same config; >= 2 of them), each member
        keeping the band table its model encodes bands with."""
        models = list(models)
        if len(models) < 2 or any(m.config != models[0].config for m in models):
            raise ValueError("AppleCiderEnsemble.from_members: need >= 2 AppleCiderModels with one config")
        tables = tuple({k: float(v) for k, v in m.band_wavelengths.items()} for m in models)
        ens = cls(AppleCiderEnsembleConfig(member=models[0].config, n_members=len(models),
                                           member_band_tables=tables[1:]))
        for dst, src in zip(ens.members, models):
            dst.load_state_dict(src.state_dict())
        ens.pin_band_wavelengths(tables[0])
        return ens.eval()

    @property
    def classes(self) -> tuple[str, ...]:
        return self.members[0].classes

    @property
    def embed_dim(self) -> int:
        return self.members[0].embed_dim

    @property
    def modalities(self) -> tuple[str, ...]:
        return self.members[0].modalities

    @encodes_bands
    def predict_proba(self, lightcurves=None, metadata=None, spectra=None, *, batch_size: int = 256):
        """Mean of the members' :meth:`AppleCiderModel.predict_proba` (same arguments, errors and output:
        one row per object in input order, one column per class, rows sum to 1)."""
        out = None
        for m in self.members:
            p = m.predict_proba(lightcurves, metadata, spectra, batch_size=batch_size)
            out = p if out is None else out + p
        out = out / len(self.members)
        return out.astype(np.float32)

    @encodes_bands
    def embed_lightcurve(self, objs, **kwargs) -> np.ndarray:
        """The first member's :meth:`AppleCiderModel.embed_lightcurve` (unit-norm (N, embed_dim) float32)."""
        return self.members[0].embed_lightcurve(objs, **kwargs)

    def embed_spectrum(self, objs, **kwargs):
        return self.members[0].embed_spectrum(objs, **kwargs)
