"""Shared pieces of the real-data loaders: locating the data directory and the dataset container."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..labels import clean_labels

__all__ = ["DATA_ENV_VAR", "resolve_data_dir", "SupernovaDataset"]

#: Environment variable naming the directory that holds ``ztf_bts/``, ``oac_2010_2014/``, ``foundation_dr1/``.
DATA_ENV_VAR = "ASTROEMBED_DATA"


def _repo_root() -> Path | None:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file():
            return parent
    return None


def resolve_data_dir(data_dir=None, subdir: str | None = None) -> Path:
    """Find the real-data directory.

    Order: the ``data_dir`` argument; the ``ASTROEMBED_DATA`` environment variable; ``../shared/data``
    relative to the repository root (source checkouts); ``../shared/data`` relative to the current
    working directory.  ``subdir`` (e.g. ``"ztf_bts"``) must exist inside it.

    Raises
    ------
    FileNotFoundError
        Naming every place that was tried and the ``ASTROEMBED_DATA`` variable.
    """
    tried: list[str] = []
    candidates: list[Path] = []
    if data_dir is not None:
        candidates.append(Path(data_dir).expanduser())
    else:
        env = os.environ.get(DATA_ENV_VAR)
        if env:
            candidates.append(Path(env).expanduser())
        root = _repo_root()
        if root is not None:
            candidates.append(root.parent / "shared" / "data")
        candidates.append(Path.cwd().parent / "shared" / "data")
    for cand in candidates:
        target = cand / subdir if subdir else cand
        tried.append(str(target))
        if target.is_dir():
            return cand
    raise FileNotFoundError(
        f"astroembed real data not found (looked for {subdir or 'the data directory'} in: "
        f"{', '.join(dict.fromkeys(tried))}). Pass data_dir=..., or set the environment variable "
        f"{DATA_ENV_VAR}=/path/to/data (the directory containing ztf_bts/, oac_2010_2014/, foundation_dr1/)."
    )


@dataclass
class SupernovaDataset:
    """Aligned per-object data of one real (or simulated) data set.

    Attributes
    ----------
    name : str
        Data-set name (``"ztf_bts"``, ``"osc"``, ``"foundation"``, ``"sim"`` …).
    lightcurves : list of LightCurve
        One per row, with ``object_id``, ``label`` and ``redshift`` set.
    spectra : list of Spectrum or None
        Aligned with ``lightcurves`` for paired sets (row *i* of both is the same object).
    objects : pandas.DataFrame
        One row per item, same order: ``object_id``, ``label``, ``redshift`` and loader-specific columns.
    dropped : pandas.DataFrame
        What the loader dropped and why (one row per reason and, where useful, per band/object).
    info : dict
        Counts and the options used.
    """

    name: str
    lightcurves: list
    objects: pd.DataFrame
    spectra: list | None = None
    dropped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["reason", "count"]))
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        n = len(self.lightcurves)
        if len(self.objects) != n:
            raise ValueError(f"SupernovaDataset: {len(self.objects)} object rows for {n} light curves")
        if self.spectra is not None and len(self.spectra) != n:
            raise ValueError(f"SupernovaDataset: {len(self.spectra)} spectra for {n} light curves")
        self.objects = self.objects.reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.lightcurves)

    def __repr__(self) -> str:
        lab = self.objects["label"].value_counts(dropna=False).to_dict() if "label" in self.objects else {}
        return (f"SupernovaDataset(name={self.name!r}, n={len(self)}, paired={self.spectra is not None}, "
                f"labels={lab})")

    @property
    def labels(self) -> np.ndarray:
        """Class labels (object array; ``None`` where unknown)."""
        return clean_labels(self.objects["label"].to_numpy(dtype=object))

    @property
    def redshifts(self) -> np.ndarray:
        """Redshifts (float64, NaN where unknown)."""
        return self.objects["redshift"].to_numpy(dtype=np.float64)

    @property
    def object_ids(self) -> np.ndarray:
        """Object identifiers; items of one object share it (used as CV groups)."""
        return self.objects["object_id"].to_numpy(dtype=object)

    @property
    def paired(self) -> bool:
        return self.spectra is not None

    def subset(self, index) -> SupernovaDataset:
        """A new data set with the rows ``index`` (integer positions or a boolean mask)."""
        idx = np.asarray(index)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        return SupernovaDataset(
            name=self.name, lightcurves=[self.lightcurves[i] for i in idx],
            objects=self.objects.iloc[idx].reset_index(drop=True),
            spectra=None if self.spectra is None else [self.spectra[i] for i in idx],
            dropped=self.dropped, info={**self.info, "subset_of": len(self)})


def drop_record(rows: list[dict]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame(columns=["reason", "count"])
    return pd.DataFrame(rows)
