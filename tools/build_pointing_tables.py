"""Reduce a survey pointing table (ZTF exposures / Rubin OpSim, as shipped by redback) to a pointing history.

    python tools/build_pointing_tables.py --survey ztf  --table redback/tables/ztf.tar.gz
    python tools/build_pointing_tables.py --survey lsst --table redback/tables/rubin_baseline_v3.0_10yrs.tar.gz
    # or straight from the wheel (`pip download redback==1.20.0 --no-deps`):
    python tools/build_pointing_tables.py --survey ztf --table redback-1.20.0-py3-none-any.whl

Input: gzip CSV with columns expMJD, filter (ztfg/ztfr/ztfi or lsstu..lssty), fiveSigmaDepth, _ra, _dec
(radians).  Output (default ``~/.cache/astroembed/pointings/<survey>.npz``, see
``astroembed.simulate.pointings.default_pointings_path``): visits in a time window (default ZTF MJD
58288-59822, all 4.2 years of the table; Rubin MJD 60980-62441, years 3-6 of baseline_v3.0_10yrs), times as
float32 days from a reference, positions float32 degrees, band uint8, 5σ depth uint16 centimag, and the field
of view (ZTF: 7°x7° square, half-width 3.5°; Rubin: circle of radius 1.75°).  The ZTF times are float32 in
the table (1/256-day steps); exposures sharing a step are spread evenly over it in row order (``dequantise``).

The tables are redistributed by redback (GPL-3.0-only); the reduced files are therefore NOT packaged with
astroembed (MIT): build them locally (docs/simulation.md, "Real pointings").
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from astroembed.simulate.pointings import default_pointings_path, write_pointings

SURVEYS = {
    "ztf": {"member": "redback/tables/ztf.tar.gz", "bands": ("ztfg", "ztfr", "ztfi"), "window": (58288.0, 59822.6),
            "fov": ("square", 3.5),
            "provenance": "ZTF exposure metadata (Bellm+2019; IRSA ZTF exposure table) as redistributed in redback "
                          "1.20.0 redback/tables/ztf.tar.gz (Sarin+2024; GPL-3.0-only package)"},
    "lsst": {"member": "redback/tables/rubin_baseline_v3.0_10yrs.tar.gz",
             "bands": ("lsstu", "lsstg", "lsstr", "lssti", "lsstz", "lssty"), "window": (60980.0, 62441.0),
             "fov": ("circle", 1.75),
             "provenance": "Rubin OpSim baseline_v3.0_10yrs (rubin_sim) as redistributed in redback 1.20.0 "
                           "redback/tables/rubin_baseline_v3.0_10yrs.tar.gz (Sarin+2024; GPL-3.0-only package)"},
}


def read_table(path: Path, member: str) -> pd.DataFrame:
    cols = ["expMJD", "filter", "fiveSigmaDepth", "_ra", "_dec"]
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as z:
            raw = z.read(member)
        return pd.read_csv(io.BytesIO(raw), compression="gzip", usecols=cols)
    return pd.read_csv(path, compression="gzip", usecols=cols)


def dequantise(mjd: np.ndarray) -> np.ndarray:
    """The ZTF table's times are float32 (steps of 1/256 d = 5.6 min, ~8 exposures each); spread the
    exposures sharing one value evenly over its step, in the table's (chronological) row order, so that
    repeated exposures of one field within a step stay distinct (~40 s apart, as real ZTF exposures)."""
    q, inv, cnt = np.unique(mjd, return_inverse=True, return_counts=True)
    first = np.concatenate([[0], np.cumsum(cnt)[:-1]])
    order = np.argsort(inv, kind="stable")
    rank = np.empty(len(mjd), np.int64)
    rank[order] = np.arange(len(mjd)) - np.repeat(first, cnt)
    step = 1.0 / 256.0
    return mjd + ((rank + 0.5) / cnt[inv] - 0.5) * step


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--survey", choices=sorted(SURVEYS), required=True)
    p.add_argument("--table", type=Path, required=True, help="redback table (.tar.gz gzip CSV) or the redback wheel")
    p.add_argument("--out", type=Path, default=None, help="output .npz (default: the user cache)")
    p.add_argument("--mjd-min", type=float, default=None)
    p.add_argument("--mjd-max", type=float, default=None)
    p.add_argument("--max-per-night", type=int, default=None,
                   help="keep at most this many visits per (field, band, night), the first ones (e.g. 1: an "
                        "approximation of a survey without high-cadence programmes; default: all visits)")
    a = p.parse_args(argv)
    spec = SURVEYS[a.survey]
    if not a.table.is_file():
        sys.exit(f"--table: {a.table} does not exist")
    t = time.perf_counter()
    df = read_table(a.table, spec["member"])
    lo = spec["window"][0] if a.mjd_min is None else a.mjd_min
    hi = spec["window"][1] if a.mjd_max is None else a.mjd_max
    n_all = len(df)
    df = df[df.expMJD.between(lo, hi) & df["filter"].isin(spec["bands"]) & np.isfinite(df.fiveSigmaDepth)]
    if df.empty:
        sys.exit(f"no visits in MJD {lo}-{hi} in {a.table}")
    if a.max_per_night is not None:
        if a.max_per_night < 1:
            sys.exit(f"--max-per-night: must be >= 1, got {a.max_per_night}")
        night = np.floor(df.expMJD - (0.0 if a.survey == "ztf" else 0.5))  # Palomar nights lie within one MJD
        rank = df.assign(night=night).groupby(["_ra", "_dec", "filter", "night"], sort=False).cumcount()
        df = df[rank.to_numpy() < a.max_per_night]
    bands = spec["bands"]
    mjd = df.expMJD.to_numpy()
    note = ""
    if a.survey == "ztf":
        rep = int(df.duplicated(["expMJD", "filter", "_ra", "_dec"]).sum())
        note = (f"; {len(df) / len(np.unique(mjd)):.1f} rows per distinct time, {rep} rows ({rep / len(df):.1%}) repeat "
                "a (time, band, field) before de-quantising")
        mjd = dequantise(mjd)
    code = df["filter"].map({b: i for i, b in enumerate(bands)}).to_numpy()
    out = a.out or default_pointings_path(a.survey)
    write_pointings(out, survey=a.survey, bands=bands, mjd=mjd, ra=np.degrees(df._ra.to_numpy()),
                    dec=np.degrees(df._dec.to_numpy()), band=code, m5=df.fiveSigmaDepth.to_numpy(),
                    fov_shape=spec["fov"][0], fov_deg=spec["fov"][1],
                    provenance=spec["provenance"] + f"; MJD {lo}-{hi}; max per (field, band, night): {a.max_per_night}; "
                    "built by tools/build_pointing_tables.py")
    counts = {b: int((code == i).sum()) for i, b in enumerate(bands)}
    print(f"{a.survey}: {len(df)} of {n_all} visits in MJD {df.expMJD.min():.2f}-{df.expMJD.max():.2f}, {counts}; "
          f"median 5σ depth per band {df.groupby('filter').fiveSigmaDepth.median().round(2).to_dict()}; "
          f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.1f} s{note}")


if __name__ == "__main__":
    main()
