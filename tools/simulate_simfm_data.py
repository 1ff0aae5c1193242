"""Simulate the SimFM pre-training and zero-shot sets (ZTF + LSST) with the current simulator.

Writes under ``--out`` (default ``/work/data_sim/simfm``; never inside the repository):

* ``ztf_train``, ``lsst_train``: pre-training sets, equal weights over every class the simulator has
  (Ia, Ibc, II, IIn, IIb, SLSN-I).  ZTF events are cut at a BTS-like peak magnitude (``--ztf-peak-max``).
* ``ztf_zs``: ZTF reference set for the zero-shot redshift task (BTS class mix, another seed).
* ``lsst_zs``: LSST query set for the zero-shot task, redshifts restricted to the ZTF range
  (``0.002 .. max z of ztf_zs``).

Usage::

    OMP_NUM_THREADS=1 nice -n 10 python tools/simulate_simfm_data.py --n-train 6000 --n-zs 1500
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from astroembed.simulate import simulate
from astroembed.simulate.dataset import read_parquet, write_parquet
from astroembed.simulate.population import CLASSES, OPTIONAL_CLASSES


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="/work/data_sim/simfm")
    p.add_argument("--n-train", type=int, default=6000, help="events per survey for pre-training")
    p.add_argument("--n-zs", type=int, default=1500, help="events per survey for the zero-shot sets")
    p.add_argument("--ztf-peak-max", type=float, default=19.0, help="ZTF peak-magnitude cut (BTS-like)")
    p.add_argument("--workers", type=int, default=1)
    a = p.parse_args(argv)
    out = Path(a.out)
    every = {c: 1.0 for c in CLASSES + OPTIONAL_CLASSES}
    jobs = [("ztf_train", dict(survey="ztf", seed=0, classes=every, peak_mag_max=a.ztf_peak_max, n=a.n_train)),
            ("lsst_train", dict(survey="lsst", seed=0, classes=every, n=a.n_train)),
            ("ztf_zs", dict(survey="ztf", seed=1, classes="bts", peak_mag_max=a.ztf_peak_max, n=a.n_zs))]
    for name, kw in jobs:
        if (out / name / "manifest.json").exists():
            print(name, "exists, skipped", flush=True)
            continue
        t = time.time()
        ds = simulate(workers=a.workers, **kw)
        write_parquet(ds, out / name)
        print(f"{name}: {len(ds)} events in {time.time() - t:.0f} s; classes "
              f"{ds.truth['class'].value_counts().to_dict()}", flush=True)
    zmax = float(read_parquet(out / "ztf_zs").truth["redshift"].max())
    if not (out / "lsst_zs" / "manifest.json").exists():
        t = time.time()
        ds = simulate(survey="lsst", seed=1, classes="bts", redshift_range=(0.002, zmax), n=a.n_zs,
                      workers=a.workers)
        write_parquet(ds, out / "lsst_zs")
        print(f"lsst_zs: {len(ds)} events (z <= {zmax:.3f}) in {time.time() - t:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
