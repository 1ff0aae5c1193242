"""Training data: aligned lists of containers (simulator output or real data) → preprocessed arrays,
computed once (optionally cached to an ``.npz`` file, no pickle) and batched per step.

:class:`PairedData` holds, for N rows, the preprocessed light curves and/or spectra, the labels,
redshifts and object ids (several rows may share an object id, e.g. several spectra of one SN; the
cross-validation folds keep them together).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.bands import band_wavelength_table
from ..data.containers import LightCurve, Spectrum
from ..data.preprocess import (
    ProcessedLightCurve,
    ProcessedSpectrum,
    preprocess_lightcurve,
    preprocess_spectrum,
)
from ..labels import clean_labels
from ..models.maven.config import MavenConfig
from .config import DataConfig

__all__ = ["PairedData", "prepare_data", "load_source", "dataset_arrays", "fingerprint_rows"]


@dataclass
class PairedData:
    """Preprocessed, aligned training rows (see module docstring)."""

    object_ids: np.ndarray
    labels: np.ndarray
    redshifts: np.ndarray
    lightcurves: list[ProcessedLightCurve] | None = None
    spectra: list[ProcessedSpectrum] | None = None

    def __len__(self) -> int:
        return len(self.object_ids)

    @property
    def modalities(self) -> tuple[str, ...]:
        out = []
        if self.lightcurves is not None:
            out.append("lightcurve")
        if self.spectra is not None:
            out.append("spectrum")
        if np.any(np.array([lab is not None for lab in self.labels])) or np.isfinite(self.redshifts).any():
            out.append("metadata")
        return tuple(out)

    def subset(self, idx) -> PairedData:
        idx = np.asarray(idx, dtype=np.int64)
        return PairedData(self.object_ids[idx], self.labels[idx], self.redshifts[idx],
                          None if self.lightcurves is None else [self.lightcurves[i] for i in idx],
                          None if self.spectra is None else [self.spectra[i] for i in idx])

    def lengths(self) -> np.ndarray:
        if self.lightcurves is not None:
            return np.array([len(p) for p in self.lightcurves])
        if self.spectra is not None:
            return np.array([int(p.mask.sum()) for p in self.spectra])
        return np.ones(len(self), dtype=int)

    # -- npz cache (no pickle) ----------------------------------------------------------------
    def save_npz(self, path: str | Path, key: str) -> None:
        arr: dict[str, np.ndarray] = {
            "key": np.array(key), "object_ids": self.object_ids.astype(str),
            "labels": np.array(["" if v is None else str(v) for v in self.labels]),
            "has_label": np.array([v is not None for v in self.labels]), "redshifts": self.redshifts,
        }
        if self.lightcurves is not None:
            lc = self.lightcurves
            arr["lc_offsets"] = np.concatenate([[0], np.cumsum([len(p) for p in lc])])
            for k in ("time", "flux", "flux_err", "wavelength"):
                arr[f"lc_{k}"] = np.concatenate([getattr(p, k) for p in lc]) if lc else np.zeros(0)
            arr["lc_band"] = np.concatenate([p.band.astype(str) for p in lc]) if lc else np.zeros(0, str)
            arr["lc_log_scale"] = np.array([p.log_scale for p in lc])
        if self.spectra is not None:
            for k in ("flux", "flux_err", "mask", "wavelength"):
                arr[f"sp_{k}"] = np.stack([getattr(p, k) for p in self.spectra])
            arr["sp_log_scale"] = np.array([p.log_scale for p in self.spectra])
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, **arr)
        tmp.replace(path)

    @classmethod
    def load_npz(cls, path: str | Path, key: str) -> PairedData | None:
        """The cached data, or ``None`` when the file is missing or was made from other data/configs."""
        path = Path(path)
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != key:
                return None
            labels = np.array([lab if h else None for lab, h in zip(z["labels"].tolist(), z["has_label"])],
                              dtype=object)
            lcs = sps = None
            if "lc_offsets" in z:
                o = z["lc_offsets"]
                cols = {k: z[f"lc_{k}"] for k in ("time", "flux", "flux_err", "wavelength", "band")}
                ls = z["lc_log_scale"]
                lcs = [ProcessedLightCurve(time=cols["time"][a:b], flux=cols["flux"][a:b],
                                           flux_err=cols["flux_err"][a:b], wavelength=cols["wavelength"][a:b],
                                           band=cols["band"][a:b], log_scale=float(ls[i]))
                       for i, (a, b) in enumerate(zip(o[:-1], o[1:]))]
            if "sp_flux" in z:
                f, fe, m, w, ls = (z[k] for k in ("sp_flux", "sp_flux_err", "sp_mask", "sp_wavelength",
                                                  "sp_log_scale"))
                sps = [ProcessedSpectrum(flux=f[i], flux_err=fe[i], mask=m[i], wavelength=w[i],
                                         log_scale=float(ls[i])) for i in range(len(ls))]
            return cls(z["object_ids"].astype(object), labels, z["redshifts"].astype(np.float64), lcs, sps)


def _get(ds, name):
    if isinstance(ds, Mapping):
        return ds.get(name)
    return getattr(ds, name, None)


def dataset_arrays(ds, label_column: str = "class", redshift_column: str = "redshift") -> dict:
    """Normalise a dataset (simulator output, a mapping, or any object with ``lightcurves``/``spectra``
    and optionally ``truth`` / ``labels`` / ``redshifts`` / ``object_ids``) into a dict of lists."""
    lcs, sps = _get(ds, "lightcurves"), _get(ds, "spectra")
    lcs = None if lcs is None else list(lcs)
    sps = None if sps is None else list(sps)
    if lcs is None and sps is None:
        raise ValueError("training data: neither 'lightcurves' nor 'spectra' given")
    n = len(lcs) if lcs is not None else len(sps)
    if lcs is not None and sps is not None and len(lcs) != len(sps):
        raise ValueError(f"training data: {len(lcs)} light curves but {len(sps)} spectra; they must be aligned "
                         "pairs (one light curve and one spectrum per row)")
    first = lcs if lcs is not None else sps
    truth = _get(ds, "truth")
    labels, redshifts, ids = _get(ds, "labels"), _get(ds, "redshifts"), _get(ds, "object_ids")
    if truth is not None:
        if len(truth) != n:
            raise ValueError(f"training data: truth has {len(truth)} rows for {n} objects")
        if labels is None and label_column in truth:
            labels = list(truth[label_column])
        if redshifts is None and redshift_column in truth:
            redshifts = list(truth[redshift_column])
        if ids is None and "object_id" in truth:
            ids = list(truth["object_id"])
    if labels is None:
        labels = [o.label for o in first]
    if redshifts is None:
        redshifts = [o.redshift for o in first]
    if ids is None:
        ids = [o.object_id for o in first]
        if any(i is None for i in ids):
            ids = list(range(n))
    for name, v in (("labels", labels), ("redshifts", redshifts), ("object_ids", ids)):
        if len(v) != n:
            raise ValueError(f"training data: {len(v)} {name} for {n} objects")
    return {"lightcurves": lcs, "spectra": sps, "labels": list(labels), "redshifts": list(redshifts),
            "object_ids": list(ids)}


def _clean_z(v) -> float:
    try:
        z = float(v)
    except (TypeError, ValueError):
        return float("nan")
    return z if np.isfinite(z) else float("nan")


def prepare_data(model_config: MavenConfig, data, *, modalities: Sequence[str] | None = None,
                 label_column: str = "class", redshift_column: str = "redshift", drop_invalid: bool = False,
                 cache: str | Path | None = None, cache_key: str | None = None) -> PairedData:
    """Preprocess ``data`` once with the model's preprocessing configs.

    ``data``: a :class:`PairedData` (returned as is), or a dataset accepted by :func:`dataset_arrays`.
    ``modalities``: the modalities needed (default: light curve / spectrum when present).
    """
    if isinstance(data, PairedData):
        return data
    arrs = dataset_arrays(data, label_column, redshift_column)
    key = None
    if cache is not None:  # the key covers the rows themselves, not only the config that named them
        key = hashlib.sha256(json.dumps({"data": cache_key, "lc": _cfgd(model_config.lightcurve_preprocess),
                                         "sp": _cfgd(model_config.spectrum_preprocess),
                                         "mod": list(modalities or []), "drop_invalid": bool(drop_invalid),
                                         "bands": band_wavelength_table() if "lightcurve" in (modalities or [])
                                         else None,
                                         "rows": fingerprint_rows(arrs)}, sort_keys=True).encode()).hexdigest()
        cached = PairedData.load_npz(cache, key)
        if cached is not None:
            return cached
    if modalities is not None:
        want = set(modalities)
    else:
        want = {m for m, k in (("lightcurve", "lightcurves"), ("spectrum", "spectra")) if arrs[k] is not None}
    lcs_in = arrs["lightcurves"] if "lightcurve" in want else None
    sps_in = arrs["spectra"] if "spectrum" in want else None
    if "lightcurve" in want and lcs_in is None:
        raise ValueError("training data: light curves are needed (data.modalities) but none were given")
    if "spectrum" in want and sps_in is None:
        raise ValueError("training data: spectra are needed (data.modalities) but none were given")
    n = len(arrs["object_ids"])
    if n == 0:
        raise ValueError("training data: the training set is empty (0 objects)")
    ok = np.ones(n, dtype=bool)
    lcs, sps = [None] * n, [None] * n
    errors: list[str] = []
    for i in range(n):
        try:
            if lcs_in is not None:
                if not isinstance(lcs_in[i], LightCurve):
                    raise TypeError(f"expected a LightCurve, got {type(lcs_in[i]).__name__}")
                lcs[i] = preprocess_lightcurve(lcs_in[i], model_config.lightcurve_preprocess)
            if sps_in is not None:
                if not isinstance(sps_in[i], Spectrum):
                    raise TypeError(f"expected a Spectrum, got {type(sps_in[i]).__name__}")
                sps[i] = preprocess_spectrum(sps_in[i], model_config.spectrum_preprocess)
        except (ValueError, TypeError) as exc:
            if not drop_invalid or isinstance(exc, TypeError):
                raise type(exc)(f"training data row {i} (object {arrs['object_ids'][i]!r}): {exc}") from exc
            ok[i] = False
            errors.append(str(exc))
    if not ok.all():
        warnings.warn(f"training data: dropped {int((~ok).sum())} of {n} objects whose preprocessing failed "
                      f"(first reason: {errors[0]})", stacklevel=2)
    keep = np.flatnonzero(ok)
    if len(keep) == 0:
        raise ValueError("training data: the training set is empty after dropping invalid objects")
    out = PairedData(
        object_ids=np.array([arrs["object_ids"][i] for i in keep], dtype=object),
        labels=clean_labels([arrs["labels"][i] for i in keep]),
        redshifts=np.array([_clean_z(arrs["redshifts"][i]) for i in keep], dtype=np.float64),
        lightcurves=None if lcs_in is None else [lcs[i] for i in keep],
        spectra=None if sps_in is None else [sps[i] for i in keep])
    if cache is not None:
        out.save_npz(cache, key)
    return out


_FINGERPRINT_FIELDS = ("time", "band", "flux", "flux_err", "wavelength", "redshift", "mjd", "mwebv")


def fingerprint_rows(arrs: dict) -> str:
    """sha256 over the rows of :func:`dataset_arrays` output: object ids, labels, redshifts and every
    light curve's / spectrum's arrays (time, band, flux, errors, wavelength …), in order."""
    h = hashlib.sha256()
    for name in ("object_ids", "labels", "redshifts"):
        h.update(json.dumps([str(v) for v in arrs[name]]).encode())
    for kind in ("lightcurves", "spectra"):
        objs = arrs.get(kind)
        h.update(f"|{kind}:{-1 if objs is None else len(objs)}|".encode())
        for o in objs or ():
            for f in _FINGERPRINT_FIELDS:
                v = getattr(o, f, None)
                if v is None:
                    continue
                a = np.asarray(v)
                h.update(f.encode())
                h.update(a.astype(str).tobytes() if a.dtype.kind in "OUS" else np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _cfgd(c):
    return None if c is None else c.to_dict()


def load_source(cfg: DataConfig):
    """Load the raw dataset described by ``cfg`` (see :class:`~astroembed.train.config.DataConfig`)."""
    kwargs = dict(cfg.kwargs or {})
    if cfg.source == "simulate":
        try:
            from ..simulate import simulate
        except ImportError as exc:
            raise ImportError(f"data.source='simulate' needs astroembed.simulate ({exc}); install "
                              "'astroembed[sim]'") from exc
        return simulate(**kwargs)
    mod_name, _, fn_name = cfg.target.partition(":")
    path = kwargs.get("path")
    if fn_name == "read_parquet" and mod_name.startswith("astroembed.simulate") and path is not None \
            and not Path(path).exists():
        raise FileNotFoundError(
            f"data.kwargs.path {path!r}: no simulated data set there. Write it first, e.g. "
            f"'astroembed simulate --survey ztf --n 150000 --out {path} --seed 0 --workers 2' (the options "
            "of the shipped model are in docs/models/maven.md), or train on configs/maven_smoke_sim.json, "
            "which simulates a small data set in memory")
    try:
        fn = getattr(importlib.import_module(mod_name), fn_name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"data.target: cannot import {cfg.target!r} ({exc})") from exc
    return fn(**kwargs)
