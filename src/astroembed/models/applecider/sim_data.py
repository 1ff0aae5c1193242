"""Simulated light curves (``astroembed simulate`` output) as labelled AppleCiDEr training examples.

Used for the supervised simulation pre-training of the photometry tower (``tools/pretrain_applecider_sim.py``);
the simulator's classes map onto the model's names (:data:`SIM_CLASS_MERGE`).  Only detections are kept
(the simulator's alert-like output marks them with ``detected``), as for the real BTS light curves.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...data.containers import LightCurve

__all__ = ["SIM_CLASS_MERGE", "load_sim_lightcurves"]

#: simulator ``class`` -> model class (SLSN-I has no BTS counterpart in the taxonomy: its own class in
#: pre-training only; the real-data model does not predict it)
SIM_CLASS_MERGE = {"Ia": "SN Ia", "II": "SN II", "Ibc": "SN Ib/c", "IIb": "SN IIb", "IIn": "SN IIn",
                   "SLSN-I": "SLSN-I"}


def load_sim_lightcurves(sim_dir, *, n_max: int | None = None, classes=None):
    """(light curves, labels) of a simulated set written by ``astroembed simulate`` (``truth/`` and
    ``lightcurves/`` parquet shards).  ``classes``: keep only events whose mapped class is in it;
    ``n_max``: the first ``n_max`` kept events (by shard order).  Fluxes in µJy, times MJD."""
    import pandas as pd

    root = Path(sim_dir)
    if not (root / "truth").is_dir() or not (root / "lightcurves").is_dir():
        raise FileNotFoundError(f"sim_dir {str(root)!r}: expected truth/ and lightcurves/ parquet shards "
                                "(write them with `astroembed simulate --out DIR`)")
    lcs, labels = [], []
    for shard in sorted((root / "truth").glob("*.parquet")):
        truth = pd.read_parquet(shard, columns=["object_id", "class"])
        lab = truth["class"].map(SIM_CLASS_MERGE)
        if lab.isna().any():
            bad = sorted(set(truth["class"][lab.isna()]))
            raise ValueError(f"{shard}: simulator class(es) {bad} not in SIM_CLASS_MERGE {sorted(SIM_CLASS_MERGE)}")
        want = dict(zip(truth["object_id"], lab))
        if classes is not None:
            want = {k: v for k, v in want.items() if v in set(classes)}
        ph = pd.read_parquet(root / "lightcurves" / shard.name, columns=["object_id", "mjd", "band", "flux",
                                                                        "flux_err", "detected"])
        ph = ph[ph["detected"].to_numpy(bool) & ph["object_id"].isin(list(want)).to_numpy()]
        for oid, g in ph.groupby("object_id", sort=False):
            lcs.append(LightCurve(time=g["mjd"].to_numpy(np.float64), band=g["band"].to_numpy(str),
                                  flux=g["flux"].to_numpy(np.float64), flux_err=g["flux_err"].to_numpy(np.float64),
                                  object_id=str(oid)))
            labels.append(want[oid])
            if n_max is not None and len(lcs) >= n_max:
                return lcs, labels
    return lcs, labels
