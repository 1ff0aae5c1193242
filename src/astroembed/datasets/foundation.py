"""Loader for Foundation DR1: Pan-STARRS1 griz light curves of 225 SNe Ia with redshifts.

Credit: Foley+2018, Jones+2019 (``djones1040/Foundation_DR1`` @ 3ad68999).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.containers import LightCurve
from ._common import SupernovaDataset, drop_record, resolve_data_dir

__all__ = ["load_foundation"]


def load_foundation(data_dir=None, *, min_detections: int = 5, cosmo_sample_only: bool = False,
                    redshift: str = "z_helio") -> SupernovaDataset:
    """Load Foundation DR1 (PS1 griz, SNANA FLUXCAL with zero point 27.5) as light curves.

    Parameters
    ----------
    data_dir : path, optional
        Directory holding ``foundation_dr1/``; default ``$ASTROEMBED_DATA`` or ``../shared/data``.
    min_detections : int
        Minimum number of points (fluxes, so non-detections count).
    cosmo_sample_only : bool
        Keep only the cosmology sample.
    redshift : {"z_helio", "z_cmb", "z_final"}
        Which redshift becomes ``LightCurve.redshift`` (heliocentric by default: the observed one).

    Returns
    -------
    SupernovaDataset
        Label ``"Ia"`` for all; fluxes in µJy (negative values kept); ``mwebv`` set, photometry not
        corrected for it.  Counts on the current files: 225 SNe (7,174 points), all with ≥ 5 points.
    """
    if redshift not in ("z_helio", "z_cmb", "z_final"):
        raise ValueError(f"load_foundation.redshift: must be z_helio, z_cmb or z_final, got {redshift!r}")
    root = resolve_data_dir(data_dir, "foundation_dr1") / "foundation_dr1"
    objects = pd.read_parquet(root / "objects.parquet")
    lcs = pd.read_parquet(root / "lightcurves.parquet")
    dropped: list[dict] = []
    bad = ~(np.isfinite(lcs["fluxcal"]) & np.isfinite(lcs["fluxcalerr"]) & (lcs["fluxcalerr"] > 0))
    if bad.any():
        dropped.append({"reason": "non-finite flux or error <= 0", "count": int(bad.sum()), "level": "point"})
        lcs = lcs[~bad]
    if cosmo_sample_only:
        ok = objects["cosmo_sample"].astype(bool)
        dropped.append({"reason": "not in cosmo_sample", "count": int((~ok).sum()), "level": "object"})
        objects = objects[ok]
    groups = dict(tuple(lcs.groupby("snid", sort=False)))
    out, rows, n_short = [], [], 0
    for rec in objects.itertuples(index=False):
        g = groups.get(rec.snid)
        if g is None or len(g) < min_detections:
            n_short += 1
            continue
        z = getattr(rec, redshift)
        z = float(z) if np.isfinite(z) and z >= 0 else None
        lc = LightCurve(time=g["mjd"].to_numpy(), band=g["band"].astype(str).to_numpy(),
                        flux=g["fluxcal"].to_numpy(np.float64), flux_err=g["fluxcalerr"].to_numpy(np.float64),
                        zeropoint=27.5, object_id=rec.snid, redshift=z, ra=rec.ra_deg, dec=rec.dec_deg,
                        mwebv=rec.mwebv if np.isfinite(rec.mwebv) else None, label="Ia", duplicates="mean",
                        survey="ps1", meta={"peak_mjd": rec.search_peakmjd, "survey": "foundation"})
        out.append(lc)
        rows.append({"object_id": rec.snid, "label": "Ia", "redshift": np.nan if z is None else z,
                     "z_helio": rec.z_helio, "z_cmb": rec.z_cmb, "n_obs": len(lc), "peak_mjd": rec.search_peakmjd,
                     "host_logmass": rec.host_logmass, "mwebv": rec.mwebv, "cosmo_sample": rec.cosmo_sample})
    dropped.append({"reason": f"fewer than {min_detections} points", "count": n_short, "level": "object"})
    table = pd.DataFrame(rows, columns=["object_id", "label", "redshift", "z_helio", "z_cmb", "n_obs", "peak_mjd",
                                        "host_logmass", "mwebv", "cosmo_sample"])
    return SupernovaDataset(name="foundation", lightcurves=out, objects=table, dropped=drop_record(dropped),
                            info={"redshift": redshift, "min_detections": min_detections,
                                  "cosmo_sample_only": cosmo_sample_only, "data_dir": str(root.parent),
                                  "counts": {"Ia": len(out)}})
