"""Photometric noise and depth of simulated vs real ZTF BTS detections (same sample cut as the realism report).

    OMP_NUM_THREADS=1 PYTHONPATH=src python tools/sim_noise_check.py --shared ../shared/data --n 1500 --seed 3

Prints, per band, the median ``magerr`` of detections in 0.5-mag bins (real: ANTARES ``hse`` alert
points of all BTS objects; simulated: 1.0857 flux_err / flux of the detections of a BTS-like run), the
99th percentile of the detected magnitudes, and the median faintest r detection per object (objects
of the realism sample, peak <= 18.5).
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import astroembed.simulate as sim
from astroembed.simulate.validate import real_sample, sim_sample

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--shared", type=Path, default=Path("../shared/data"))
p.add_argument("--n", type=int, default=1500)
p.add_argument("--seed", type=int, default=3)
a = p.parse_args()
ds = sim.simulate(n=a.n, survey="ztf", peak_mag_max=18.5, seed=a.seed)
lc = ds.lc_table
lc = lc[lc.detected & (lc.flux > 0)]
smag = 23.9 - 2.5 * np.log10(lc.flux.to_numpy())
serr = 1.0857 * lc.flux_err.to_numpy() / lc.flux.to_numpy()
real = pd.read_parquet(a.shared / "ztf_bts" / "lightcurves.parquet")
real = real[real.source == "hse"]
print("| band | mag bin | median magerr real | median magerr sim |")
print("|---|---|---|---|")
for b in ("ztfg", "ztfr"):
    for lo in np.arange(17.0, 20.6, 0.5):
        r = real[(real.band == b) & (real.mag >= lo) & (real.mag < lo + 0.5)].magerr
        s = serr[(lc.band.to_numpy() == b) & (smag >= lo) & (smag < lo + 0.5)]
        print(f"| {b} | {lo:.1f}–{lo + 0.5:.1f} | {r.median():.3f} | {np.median(s):.3f} |")
rl, rm = real_sample(a.shared)
sl, sm = sim_sample(ds)
for name, d in (("real", rl), ("sim", sl)):
    pk = d.groupby("object_id").mag.min()
    d = d[d.object_id.isin(pk.index[pk <= 18.5])]
    q = {b: d[d.band == b].mag.quantile(0.99) for b in ("ztfg", "ztfr")}
    faint = d[d.band == "ztfr"].groupby("object_id").mag.max()
    print(f"{name}: 99th percentile of detected mag g {q['ztfg']:.2f} r {q['ztfr']:.2f}; "
          f"median faintest r detection per object {faint.median():.2f} ({len(faint)} objects)")
