"""Class mix of a BTS-like simulation drawn with classes="rates" vs the real BTS (peakmag <= 18.5).

    OMP_NUM_THREADS=1 PYTHONPATH=src python tools/sim_rates_mix.py --shared ../shared/data --n 1500
"""

import argparse
import json
from pathlib import Path

import pandas as pd

import astroembed.simulate as sim

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--shared", type=Path, default=Path("../shared/data"))
p.add_argument("--n", type=int, default=1500)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--peak-mag-max", type=float, default=18.5)
a = p.parse_args()
ds = sim.simulate(n=a.n, survey="ztf", seed=a.seed, classes="rates", peak_mag_max=a.peak_mag_max)
obj = pd.read_parquet(a.shared / "ztf_bts" / "objects.parquet")
obj = obj[obj.peakmag <= a.peak_mag_max]
print(json.dumps({"simulated (rates)": ds.truth["class"].value_counts(normalize=True).round(3).to_dict(),
                  "real BTS": obj.class_maven5.value_counts(normalize=True).round(3).to_dict()}))
