"""Late-time behaviour of one simulated class vs the real BTS: detections by phase, last detection, late slope.

    OMP_NUM_THREADS=1 PYTHONPATH=src python tools/sim_tail_check.py --shared ../shared/data --cls Ibc --n 400
    # counterfactuals: the BTS-fitted tail median / no width calibration
    ... --tail-median 0.019        ... --width-calibration 1.0

Same samples and statistics as the realism report (:mod:`astroembed.simulate.validate`), one class
simulated alone.  Extra per-object statistics (both sides, rest days from the brightest r detection):
``last`` last detection; ``n_30_60`` / ``n_60_100`` detections in those phase ranges (objects with a
valid ``n_det``); ``late_slope`` least-squares r slope (mag / d) of the points after +40 d (>= 4 points
spanning >= 15 d), i.e. only the objects still detected late.  ``--tail-median`` / ``--width-calibration``
override ``population.TAIL_SLOPE_MEDIAN`` / ``WIDTH_CALIBRATION`` for this class (what-if runs).
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

import astroembed.simulate as sim
from astroembed.simulate import population
from astroembed.simulate.validate import real_sample, sim_sample, statistics_table


def late_stats(lc, meta, keep):
    rows = []
    for o, g in lc[lc.object_id.isin(keep)].groupby("object_id"):
        r = g[g.band == "ztfr"]
        if not len(r):
            continue
        zp1 = 1.0 + meta.redshift[o]
        tp = r.mjd.to_numpy()[np.argmin(r.mag.to_numpy())]
        ph = (g.mjd.to_numpy() - tp) / zp1
        phr, mr = (r.mjd.to_numpy() - tp) / zp1, r.mag.to_numpy()
        k = phr > 40
        slope = np.polyfit(phr[k], mr[k], 1)[0] if k.sum() >= 4 and np.ptp(phr[k]) >= 15 else np.nan
        rows.append({"object_id": o, "last": ph.max(), "n_30_60": int(((ph >= 30) & (ph < 60)).sum()),
                     "n_60_100": int(((ph >= 60) & (ph < 100)).sum()), "late_slope": slope})
    return pd.DataFrame(rows).set_index("object_id")


p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--shared", type=Path, default=Path("../shared/data"))
p.add_argument("--cls", default="Ibc")
p.add_argument("--n", type=int, default=400)
p.add_argument("--seed", type=int, default=11)
p.add_argument("--tail-median", type=float, default=None)
p.add_argument("--width-calibration", type=float, default=None)
a = p.parse_args()
if a.tail_median is not None:
    population.TAIL_SLOPE_MEDIAN[a.cls] = a.tail_median
if a.width_calibration is not None:
    population.WIDTH_CALIBRATION[a.cls] = a.width_calibration
rl, rm = real_sample(a.shared)
rm = rm[rm["class"] == a.cls]
rl = rl[rl.object_id.isin(rm.index)]
ds = sim.simulate(n=a.n, classes=[a.cls], peak_mag_max=18.5, seed=a.seed)
sl, sm = sim_sample(ds)
R, S = statistics_table(rl, rm), statistics_table(sl, sm)
R, S = R[R.peak_mag <= 18.5], S[S.peak_mag <= 18.5]
LR = late_stats(rl, rm, R.index[R.n_det.notna()])
LS = late_stats(sl, sm, S.index[S.n_det.notna()])
print(f"{a.cls}: tail median {population.TAIL_SLOPE_MEDIAN.get(a.cls, 'fitted')}, width calibration "
      f"{population.WIDTH_CALIBRATION.get(a.cls, 1.0)}; n real {len(R)}, sim {len(S)}")
print("| statistic | KS | median real | median sim | n real / sim |")
print("|---|---|---|---|---|")
for m in ("n_det", "decline_r", "decline_g", "drop50_r", "gr_peak", "gr_20"):
    x, y = R[m].dropna(), S[m].dropna()
    print(f"| {m} | {ks_2samp(x, y).statistic:.2f} | {x.median():.3g} | {y.median():.3g} | {len(x)} / {len(y)} |")
for m in ("last", "n_30_60", "n_60_100", "late_slope"):
    x, y = LR[m].dropna(), LS[m].dropna()
    print(f"| {m} | {ks_2samp(x, y).statistic:.2f} | {x.median():.3g} | {y.median():.3g} | {len(x)} / {len(y)} |")
