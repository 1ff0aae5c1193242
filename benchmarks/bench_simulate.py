"""Throughput of astroembed.simulate (events / s), one process and with workers.

    OMP_NUM_THREADS=1 python benchmarks/bench_simulate.py --n 2000 --survey ztf --workers 1 2
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import astroembed.simulate as sim


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--survey", default="ztf")
    p.add_argument("--workers", type=int, nargs="+", default=[1])
    a = p.parse_args(argv)
    sim.simulate(n=5, survey=a.survey)  # warm caches (templates, filters, cosmology grid)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cpu(s), survey={a.survey}, n={a.n}")
    for w in a.workers:
        t0 = time.perf_counter()
        ds = sim.simulate(n=a.n, survey=a.survey, seed=0, workers=w)
        t1 = time.perf_counter()
        _ = ds.lightcurves, ds.spectra
        t2 = time.perf_counter()
        draws = int(ds.truth.n_tries.sum())
        print(f"workers={w}: simulate {a.n / (t1 - t0):7.1f} ev/s, + containers {a.n / (t2 - t0):7.1f} ev/s "
              f"({draws / a.n:.1f} draws per kept event)")


if __name__ == "__main__":
    main()
