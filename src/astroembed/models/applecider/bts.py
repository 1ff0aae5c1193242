"""BTS data for AppleCiDEr: light curves, merged ``type_applecider`` labels, alert-time metadata, and the
cross-fitting folds (the project's Maven folds where they exist, stratified folds for the rest)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .features import METADATA_FIELDS
from .labels import applecider_label

__all__ = ["BTSData", "load_bts_applecider", "crossfit_folds", "MAVEN_FOLDS"]

#: the project's cross-fitting folds (object -> fold), shipped beside the Maven weights
MAVEN_FOLDS = Path(__file__).resolve().parents[2] / "_weights" / "maven" / "folds.csv"


@dataclass
class BTSData:
    """Aligned per-object lists: ``lightcurves``, ``labels`` (model class or None), ``metadata``
    (DataFrame of the :data:`METADATA_FIELDS` columns, NaN = missing) and ``objects`` (object_id, label,
    type_applecider, lc_sources)."""

    lightcurves: list
    labels: np.ndarray
    metadata: pd.DataFrame
    objects: pd.DataFrame


def load_bts_applecider(data_dir=None, *, min_detections: int = 2) -> BTSData:
    """Every BTS object with a light curve (g/r detections >= ``min_detections``), labelled or not."""
    from ...datasets import load_ztf_bts, resolve_data_dir

    ds = load_ztf_bts(data_dir, classes=None, min_detections=min_detections)
    root = resolve_data_dir(data_dir, "ztf_bts") / "ztf_bts"
    tab = pd.read_parquet(root / "objects.parquet").set_index("ztfid")
    ids = ds.object_ids
    t = tab.loc[list(ids)]
    labels = np.array([applecider_label(x) for x in t["type_applecider"].tolist()], dtype=object)
    meta = t[list(METADATA_FIELDS)].reset_index(drop=True).astype(float)
    objects = pd.DataFrame({"object_id": ids, "label": labels, "type_applecider": t["type_applecider"].to_numpy(),
                            "lc_sources": t["lc_sources"].astype(str).to_numpy()})
    return BTSData(list(ds.lightcurves), labels, meta, objects)


def crossfit_folds(object_ids, labels, folds_csv=MAVEN_FOLDS, n_folds: int = 5, seed: int = 0,
                   dataset: str = "ztf_bts") -> np.ndarray:
    """Fold (0..n_folds-1) of every labelled object, -1 for unlabelled ones.

    Objects listed in the Maven ``folds.csv`` (rows of ``dataset``) keep that fold, so cross-fitted
    numbers are comparable with the Maven cross-fit; the others (classes Maven does not use: SN IIb,
    TDE, and BTS objects without a Maven label) get a stratified fold (``seed``).
    """
    from sklearn.model_selection import StratifiedKFold

    ids = np.asarray(object_ids, dtype=object)
    labels = np.asarray(labels, dtype=object)
    f = pd.read_csv(folds_csv)
    f = f[f["dataset"] == dataset].set_index("object_id")["crossfit_fold"].to_dict()
    folds = np.array([int(f.get(i, -1)) for i in ids], dtype=np.int64)
    folds[np.array([lab is None for lab in labels])] = -1
    # one fold per object even when an object has several rows (spectra): assign on unique objects
    uid, first, inv = np.unique(ids.astype(str), return_index=True, return_inverse=True)
    folds = folds[first][inv]
    rest_u = np.flatnonzero((folds[first] < 0) & np.array([labels[i] is not None for i in first]))
    rest = first[rest_u]
    if len(rest):
        lab = labels[rest].astype(str)
        k = min(n_folds, max(2, int(pd.Series(lab).value_counts().min())))
        # classes with fewer members than folds are spread round-robin
        skf = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed) if k >= n_folds else None
        if skf is not None:
            for j, (_, te) in enumerate(skf.split(np.zeros(len(rest)), lab)):
                folds[rest[te]] = j
        else:
            r = np.random.default_rng(seed)
            for c in np.unique(lab):
                m = rest[lab == c]
                m = m[r.permutation(len(m))]
                folds[m] = (np.arange(len(m)) + r.integers(n_folds)) % n_folds
    folds = folds[first][inv]
    folds[np.array([lab is None for lab in labels])] = -1
    return folds
