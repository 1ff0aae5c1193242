"""Median light-curve statistics of a larger single-class BTS-like simulation (small real classes such as
SLSN-I give noisy medians in the mixed realism run).

    OMP_NUM_THREADS=1 PYTHONPATH=src python tools/sim_class_check.py --cls SLSN-I --n 150 --seed 7
"""

import argparse
import json

import astroembed.simulate as sim
from astroembed.simulate.validate import METRICS, sim_sample, statistics_table

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--cls", default="SLSN-I")
p.add_argument("--n", type=int, default=150)
p.add_argument("--seed", type=int, default=7)
p.add_argument("--peak-mag-max", type=float, default=18.5)
a = p.parse_args()
ds = sim.simulate(n=a.n, classes=[a.cls], peak_mag_max=a.peak_mag_max, seed=a.seed)
lc, meta = sim_sample(ds)
st = statistics_table(lc, meta)
st = st[st.peak_mag <= a.peak_mag_max]
print(json.dumps({"class": a.cls, "n": int(len(st)),
                  "median": {m: round(float(st[m].median()), 3) for m in METRICS}}))
