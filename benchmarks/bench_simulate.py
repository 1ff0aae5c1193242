"""Throughput of astroembed.simulate: events per CPU-second (process time) and per wall second.

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/bench_simulate.py --n 2000 --survey ztf --peak-mag-max 18.5

The BTS-like setting of issue 12 is ``--survey ztf --peak-mag-max 18.5``; ``--pointings PATH`` uses a real
pointing history (``tools/build_pointing_tables.py``) instead of the survey's cadence model.  CPU seconds
(``time.process_time``, this process only) are the number to quote on a shared machine; the wall
time is printed too.  ``--workers > 1`` reports wall time only (the children's CPU is not counted).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import astroembed.simulate as sim


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--survey", default="ztf")
    p.add_argument("--peak-mag-max", type=float, default=None)
    p.add_argument("--workers", type=int, nargs="+", default=[1])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--classes", default=None, help="e.g. balanced (default: the BTS mix)")
    p.add_argument("--min-detections", type=int, default=3)
    p.add_argument("--templates-dir", default=None)
    p.add_argument("--pointings", default=None, help="real pointing history .npz (tools/build_pointing_tables.py)")
    a = p.parse_args(argv)
    kw = {"classes": a.classes, "min_detections": a.min_detections}
    if a.pointings:
        kw["pointings"] = a.pointings
    if a.templates_dir:
        kw["templates_dir"] = a.templates_dir
    sim.simulate(n=20, survey=a.survey, peak_mag_max=a.peak_mag_max, **kw)  # warm caches (templates, grids)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cpu(s), python {sys.version.split()[0]}, "
          f"survey={a.survey}, n={a.n}, peak_mag_max={a.peak_mag_max}, {kw}, torch imported: {'torch' in sys.modules}")
    for w in a.workers:
        c0, t0 = time.process_time(), time.perf_counter()
        ds = sim.simulate(n=a.n, survey=a.survey, seed=a.seed, workers=w, peak_mag_max=a.peak_mag_max, **kw)
        c1, t1 = time.process_time(), time.perf_counter()
        _ = ds.lightcurves, ds.spectra
        c2 = time.process_time()
        draws = int(ds.truth.n_tries.sum())
        cpu = f"{a.n / (c1 - c0):7.1f} ev/CPU-s, + containers {a.n / (c2 - c0):7.1f} ev/CPU-s; " if w == 1 else ""
        print(f"workers={w}: simulate {cpu}wall {a.n / (t1 - t0):7.1f} ev/s ({draws / a.n:.1f} draws per kept event)")


if __name__ == "__main__":
    main()
