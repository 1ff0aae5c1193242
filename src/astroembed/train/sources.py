"""Real-data training sources for ``data.source = "callable"`` (fine-tuning on observed supernovae).

* :func:`ztf_bts_pairs` — ZTF BTS light curve ↔ metadata (class + redshift) pairs
  (``"target": "astroembed.train.sources:ztf_bts_pairs"``);
* :func:`osc_triples` — Open Supernova Catalog light curve ↔ spectrum ↔ metadata triples
  (``"target": "astroembed.train.sources:osc_triples"``).

Both keep only the 5 Maven classes (Ia, II, Ibc, IIn, SLSN-I — the metadata encoder's ``class_names``)
and objects with a redshift; by default they **drop the demo objects** (:func:`astroembed.datasets.sample.demo_object_ids`,
the demo's unseen objects) and, with ``folds_file`` + ``exclude_folds``, every object of the held-out
cross-validation folds (``folds_file`` = the ``folds.csv`` written by
:mod:`astroembed.evaluate.crossfit`; an object missing from it is an error, so nothing can leak in
unassigned).  They return a mapping with ``lightcurves`` (/ ``spectra``), ``truth`` (DataFrame with
``object_id``, ``class`` = ``label``, ``redshift``) and ``dataset`` (the filtered
:class:`~astroembed.datasets.SupernovaDataset`).  The loaded catalogues are cached in the process.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..labels import MAVEN5

__all__ = ["MAVEN5", "ztf_bts_pairs", "osc_triples", "load_real", "read_fold_table", "make_fold_table", "fold_table"]

_CACHE: dict[str, object] = {}


def load_real(dataset: str, data_dir=None, **kwargs):
    """The full (unfiltered) :class:`SupernovaDataset` of ``"ztf_bts"`` or ``"osc"`` (maven5 classes,
    with a redshift); ``kwargs`` go to the loader.  Cached per arguments."""
    from ..datasets import load_osc_pairs, load_ztf_bts

    key = json.dumps([dataset, None if data_dir is None else str(data_dir), kwargs], sort_keys=True, default=str)
    if key not in _CACHE:
        if dataset == "ztf_bts":
            ds = load_ztf_bts(data_dir, classes="maven5", require_redshift=True, **kwargs)
        elif dataset == "osc":
            ds = load_osc_pairs(data_dir, classes="maven5", require_redshift=True, **kwargs)
        else:
            raise ValueError(f"unknown real data set {dataset!r}; 'ztf_bts' or 'osc'")
        if len(_CACHE) >= 4:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = ds
    return _CACHE[key]


def read_fold_table(path) -> pd.DataFrame:
    """A crossfit ``folds.csv`` (``dataset, object_id, label, redshift, fold, demo``)."""
    t = pd.read_csv(path, dtype={"dataset": str, "object_id": str, "label": str})
    missing = {"dataset", "object_id", "fold"} - set(t.columns)
    if missing:
        raise ValueError(f"{path}: not a crossfit folds file (missing columns {sorted(missing)})")
    return t


def make_fold_table(datasets: dict, n_folds: int = 5, seed: int = 0) -> pd.DataFrame:
    """Stratified (by class) ``n_folds`` folds over the objects of each data set, with the same function
    the training loop uses (:func:`~astroembed.train.folds.stratified_group_folds`).  Demo objects get
    a fold too (they may be probed and tested, never fine-tuned on) and are flagged in ``demo``."""
    from ..datasets.sample import demo_object_ids
    from .folds import stratified_group_folds

    demo = demo_object_ids()
    parts = []
    for name, ds in datasets.items():
        ids = ds.object_ids.astype(str)
        folds = stratified_group_folds(ds.labels, ids, n_folds, seed)
        parts.append(pd.DataFrame({"dataset": name, "object_id": ids, "label": ds.labels,
                                   "redshift": ds.redshifts, "fold": folds,
                                   "demo": np.isin(ids, list(demo.get(name, [])))}))
    t = pd.concat(parts, ignore_index=True).drop_duplicates(["dataset", "object_id"])
    return t


def fold_table(datasets: dict, path, *, n_folds: int = 5, seed: int = 0, folds_file=None):
    """The folds of a crossfit run, written to ``path`` (``folds.csv``): made by :func:`make_fold_table`, or
    read from ``folds_file`` (e.g. another model's run; it must give every object a fold < ``n_folds``).
    An existing ``path`` with other folds is an error (resuming with other data or folds).
    Returns ``(table, sha256 of the sorted (dataset, object_id, fold) triples)``."""
    import hashlib

    made = make_fold_table(datasets, n_folds, seed)
    table = read_fold_table(folds_file) if folds_file else made
    if folds_file:
        have = set(zip(table["dataset"], table["object_id"].astype(str)))
        lost = [o for o in zip(made["dataset"], made["object_id"]) if o not in have]
        if lost:
            raise ValueError(f"{folds_file}: {len(lost)} objects have no fold (e.g. {lost[:3]})")
        if int(table["fold"].max()) >= n_folds:
            raise ValueError(f"{folds_file}: fold ids >= n_folds={n_folds}")
    cols = ["dataset", "object_id", "fold"]
    path = Path(path)
    if path.exists():
        old = read_fold_table(path)
        if not old[cols].astype(str).equals(table[cols].reset_index(drop=True).astype(str)):
            raise ValueError(f"{path} exists with other folds; use another output directory or the same folds")
    else:
        table.to_csv(path, index=False)
    table = read_fold_table(path)
    key = "\n".join(f"{d},{o},{int(f)}" for d, o, f in sorted(zip(table["dataset"], table["object_id"], table["fold"])))
    return table, hashlib.sha256(key.encode()).hexdigest()


def _select(ds, dataset: str, class_names, exclude_demo_ids: bool, folds_file, exclude_folds):
    from ..datasets.sample import demo_object_ids

    ids = ds.object_ids.astype(str)
    keep = np.isin(ds.labels.astype(str), list(class_names))
    info = {"n_loaded": len(ds), "n_other_class": int((~keep).sum())}
    if exclude_demo_ids:
        demo = np.isin(ids, list(demo_object_ids().get(dataset, [])))
        info["n_demo_excluded"] = int((keep & demo).sum())
        keep &= ~demo
    if exclude_folds is not None and folds_file is None:
        raise ValueError("exclude_folds needs folds_file (the crossfit folds.csv)")
    if folds_file is not None:
        t = read_fold_table(folds_file)
        t = t[t["dataset"] == dataset]
        fold_of = dict(zip(t["object_id"], t["fold"].astype(int)))
        unknown = [i for i, k in zip(ids, keep) if k and i not in fold_of]
        if unknown:
            raise ValueError(f"{folds_file}: {len(unknown)} {dataset} objects have no fold (e.g. {unknown[:3]}); "
                             "the folds file was made from other data")
        excl = {int(f) for f in np.atleast_1d(exclude_folds if exclude_folds is not None else [])}
        held = np.array([fold_of.get(i, -1) in excl for i in ids])
        info["n_fold_excluded"] = int((keep & held).sum())
        keep &= ~held
    sub = ds.subset(np.flatnonzero(keep))
    sub.info = {**sub.info, "selection": info}
    return sub


def _out(sub, with_spectra: bool) -> dict:
    truth = pd.DataFrame({"object_id": sub.object_ids.astype(str), "class": sub.labels, "label": sub.labels,
                          "redshift": sub.redshifts})
    out = {"lightcurves": sub.lightcurves, "truth": truth, "dataset": sub}
    if with_spectra:
        out["spectra"] = sub.spectra
    return out


def ztf_bts_pairs(data_dir=None, *, class_names=MAVEN5, min_detections: int = 5, exclude_demo_ids: bool = True,
                  folds_file: str | Path | None = None, exclude_folds=None) -> dict:
    """ZTF BTS light curves with class + redshift (light curve ↔ metadata pairs), see the module notes.

    ``exclude_folds``: fold id(s) of ``folds_file`` to leave out (the held-out test fold)."""
    ds = load_real("ztf_bts", data_dir, min_detections=min_detections)
    return _out(_select(ds, "ztf_bts", class_names, exclude_demo_ids, folds_file, exclude_folds), False)


def osc_triples(data_dir=None, *, class_names=MAVEN5, min_detections: int = 10, spectrum: str = "peak",
                magerr_policy: str = "fill", exclude_demo_ids: bool = True, folds_file: str | Path | None = None,
                exclude_folds=None) -> dict:
    """OSC light curve ↔ spectrum ↔ metadata triples (one spectrum per SN by default), see the module notes."""
    ds = load_real("osc", data_dir, min_detections=min_detections, spectrum=spectrum, magerr_policy=magerr_policy)
    return _out(_select(ds, "osc", class_names, exclude_demo_ids, folds_file, exclude_folds), True)
