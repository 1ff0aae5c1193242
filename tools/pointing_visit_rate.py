"""Visits per 33-day window at random sky positions: a ZTF pointing history vs the packaged BTS cadence pool.

    OMP_NUM_THREADS=1 PYTHONPATH=src python tools/pointing_visit_rate.py ~/.cache/astroembed/pointings/ztf.npz

History: 600 random (position, start) pairs (uniform on the sky at Dec > -30°, start in MJD 58300-59200) with
at least 5 g+r visits in the 33 days; pool: its 612 real 33-day sequences (detections of bright BTS SNe).
Prints 10th / 50th / 90th percentiles of g+r visits and of distinct nights, and how many fields cover a position.
"""

import sys

import numpy as np

from astroembed.simulate.cadence import load_cadence
from astroembed.simulate.pointings import load_pointings


def main(argv=None):
    ph = load_pointings((argv or sys.argv[1:])[0])
    gr = [i for i, b in enumerate(ph.bands) if b in ("ztfg", "ztfr")]
    rng = np.random.default_rng(0)
    v, nights, fields = [], [], []
    while len(v) < 600:
        ra, dec = rng.uniform(0, 360), np.degrees(np.arcsin(rng.uniform(-0.5, 1)))
        t0 = rng.uniform(58300, 59200)
        idx = ph.visits(ra, dec, t0, t0 + 33)
        idx = idx[np.isin(ph.band[idx], gr)]
        if len(idx) < 5:
            continue
        v.append(len(idx))
        nights.append(len(np.unique(np.floor(ph.mjd[idx]))))  # Palomar nights lie within one MJD
        fields.append(len(np.unique(np.round(ph.ra[idx], 3) * 1e4 + np.round(ph.dec[idx], 3))))
    off, _, starts, _ = load_cadence()
    pool = np.diff(starts)
    pn = [len(np.unique(np.floor(off[a:b]))) for a, b in zip(starts[:-1], starts[1:], strict=True)]
    pc = lambda x: np.percentile(x, [10, 50, 90]).round(1).tolist()  # noqa: E731
    print(f"history: g+r visits per 33 d {pc(v)}, nights {pc(nights)}, fields covering the position "
          f"(count of windows with 1/2/3/4 fields) {np.bincount(fields, minlength=5)[1:].tolist()}")
    print(f"pool:    g+r points per 33 d {pc(pool)}, nights {pc(pn)}")


if __name__ == "__main__":
    main()
