"""Spectra for the SpectraNet tower: OSC observed-frame spectra (with type and redshift) and SNID rest-frame
templates, labelled with the AppleCiDEr classes (:data:`~.labels.OSC_MERGE`; SLSNe and 'other' dropped)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ...data.containers import Spectrum
from .labels import OSC_MERGE

__all__ = ["load_osc_spectra", "load_snid_templates", "sn_key"]

#: OSC SNe that are also simulator templates (issue 10): never used as SNID templates here either
_SIM_TEMPLATE_SNE = {"SN2012bz", "SN2013cq", "SN2013dk", "PS1-10awh", "PS1-10ky", "SN2011kf"}


def sn_key(name) -> str:
    """Normalised SN name for cross-matching OSC names with SNID template names (``sn11fe`` ~ ``SN2011fe``)."""
    s = str(name).strip().lower()
    m = re.match(r"^sn(\d{2})([a-z]+)$", s)
    if m:
        yy = int(m.group(1))
        return f"{1900 + yy if yy > 30 else 2000 + yy}{m.group(2)}"
    return re.sub(r"^sn", "", s)


def load_osc_spectra(data_dir=None) -> tuple[list, np.ndarray, np.ndarray]:
    """(spectra, labels, object names) of every OSC spectrum with a usable class, in file order."""
    from ...datasets import resolve_data_dir

    root = resolve_data_dir(data_dir, "oac_2010_2014") / "oac_2010_2014"
    df = pd.read_parquet(root / "spectra.parquet", columns=["name", "class_broad", "redshift", "wave", "flux"])
    out, labels, names = [], [], []
    for row in df.itertuples(index=False):
        lab = OSC_MERGE.get(row.class_broad)
        if lab is None or not np.isfinite(row.redshift) or row.redshift < 0:
            continue
        w = np.asarray(row.wave, np.float64)
        f = np.asarray(row.flux, np.float64)
        w, idx = np.unique(w, return_index=True)
        f = f[idx]
        try:
            out.append(Spectrum(w, f, redshift=float(row.redshift), object_id=row.name, label=lab, dropna=True))
        except ValueError:
            continue
        labels.append(lab)
        names.append(row.name)
    return out, np.asarray(labels, dtype=object), np.asarray(names, dtype=object)


def load_snid_templates(data_dir=None, exclude=()) -> tuple[list, np.ndarray, np.ndarray]:
    """(rest-frame spectra, labels, SN names) of the SNID templates, minus SNe whose :func:`sn_key` is in
    ``exclude`` (e.g. the test fold's OSC SNe) and the simulator-template SNe."""
    from ...datasets import resolve_data_dir

    root = resolve_data_dir(data_dir, "spectra_templates") / "spectra_templates"
    df = pd.read_parquet(root / "snid_templates.parquet", columns=["sn_name", "class_broad", "flux", "valid_lo",
                                                                   "valid_hi"])
    grid = np.load(root / "snid_wave_grid.npy")
    skip = {sn_key(x) for x in exclude} | {sn_key(x) for x in _SIM_TEMPLATE_SNE}
    out, labels, names = [], [], []
    for row in df.itertuples(index=False):
        lab = OSC_MERGE.get(row.class_broad)
        if lab is None or sn_key(row.sn_name) in skip:
            continue
        lo, hi = int(row.valid_lo), int(row.valid_hi) + 1
        if hi - lo < 10:
            continue
        out.append(Spectrum(grid[lo:hi], np.asarray(row.flux, np.float64)[lo:hi] + 1.0, frame="rest",
                            object_id=row.sn_name, label=lab))
        labels.append(lab)
        names.append(row.sn_name)
    return out, np.asarray(labels, dtype=object), np.asarray(names, dtype=object)
