"""Cadence statistics of simulated light curves: survey cadence model vs a real pointing history.

    OMP_NUM_THREADS=1 PYTHONPATH=src python tools/compare_cadence.py --survey lsst --pointings PATH --n 1000

Both runs use the same seed and options (default: the survey's defaults, alert-like output with
``min_detections=3``; ``--forced`` keeps every visit).  Per event: visits in the event window (``n_obs``),
detections (S/N >= 5, ``n_det``), nights, the median gap between consecutive kept rows (any band / same band,
observed days) and the fraction of same-band gaps < 0.5 d (repeats within a night); cells are the 10th / 50th /
90th percentiles over events.  Over all rows: the fraction per band and the median 5σ depth per band.  No real LSST light curves exist:
this only reports how the two cadences differ.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import astroembed.simulate as sim


def cadence_stats(ds) -> dict:
    import pandas as pd

    tr, lc = ds.truth, ds.lc_table
    d = pd.DataFrame({"o": lc.object_id.to_numpy(), "t": lc.mjd.to_numpy(), "b": lc.band.to_numpy().astype(str),
                      "m5": lc.m5.to_numpy()}).sort_values(["o", "t"], kind="stable")
    d["gap"] = d.groupby("o").t.diff()
    d["gap_b"] = d.sort_values(["o", "b", "t"], kind="stable").groupby(["o", "b"]).t.diff()
    # a night: Palomar nights (UTC 01-14 h) lie within one MJD, Cerro Pachon nights (UTC 23-11 h) straddle it
    d["night"] = np.floor(d.t) if ds.config.get("survey") == "ztf" else np.floor(d.t - 0.5)
    ev = d.groupby("o").agg(gap=("gap", "median"), gap_b=("gap_b", "median"), nights=("night", "nunique"),
                            rows=("t", "size"))
    ev["lt05"] = d.assign(x=d.gap_b < 0.5).loc[d.gap_b.notna()].groupby("o").x.mean()
    q = lambda x: [round(float(v), 3) for v in np.nanpercentile(x, [10, 50, 90])] if len(x) else []  # noqa: E731
    bands = sorted(set(d.b))
    return {
        "n_events": len(tr), "draws_per_event": round(float(tr.n_tries.mean()), 1),
        "n_obs (visits in window)": q(tr.n_obs.to_numpy()), "n_det": q(tr.n_det.to_numpy()),
        "n_det mean": round(float(tr.n_det.mean()), 2),
        "nights with a kept row": q(ev.nights.to_numpy()),
        "median gap, any band (d)": q(ev.gap.to_numpy()), "median gap, same band (d)": q(ev.gap_b.to_numpy()),
        "same-band gaps < 0.5 d (fraction)": q(ev.lt05.to_numpy()),
        "rows per band (fraction)": {x: round(float(np.mean(d.b == x)), 3) for x in bands},
        "median m5 per band": {x: round(float(np.median(d.m5[d.b == x])), 2) for x in bands},
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--survey", default="lsst")
    p.add_argument("--pointings", required=True)
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--peak-mag-max", type=float, default=None)
    p.add_argument("--forced", action="store_true", help="forced photometry: every visit, not detections only")
    p.add_argument("--out", default=None, help="write the JSON here too")
    a = p.parse_args(argv)
    res = {}
    for name, pt in (("cadence model", None), ("pointings", a.pointings)):
        t = time.process_time()
        ds = sim.simulate(n=a.n, survey=a.survey, seed=a.seed, peak_mag_max=a.peak_mag_max, pointings=pt,
                          forced_photometry=a.forced)
        res[name] = {"cpu_s": round(time.process_time() - t, 1), **cadence_stats(ds)}
    print(json.dumps(res, indent=1))
    keys = [k for k in res["pointings"] if k != "cpu_s"]
    print(f"\n| {a.survey} (n={a.n}, seed={a.seed}{', forced' if a.forced else ''}) | cadence model | real pointings |")
    print("|---|---|---|")
    for k in keys:
        print(f"| {k} | {res['cadence model'][k]} | {res['pointings'][k]} |")
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
