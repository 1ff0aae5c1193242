"""Simulate paired ZTF/LSST events (the same physical event in both surveys) for SimFM's pair-contrastive
pre-training; writes ``<out>/ztf`` and ``<out>/lsst`` (row k of both = one event; never inside the repository).

ZTF events at ZTF's own detection limit (no peak-magnitude cut, >= 3 detections), equal weights over the
five pre-training classes (SLSN-I is held out as the anomaly class), seed 40 by default (the zero-shot
sets use seeds 1 and 21).

Usage::

    OMP_NUM_THREADS=1 nice -n 10 python tools/simulate_simfm_pairs.py --n 15000 --out /work/data_sim/simfm3_pairs
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from astroembed.simulate.dataset import write_parquet
from astroembed.simulate.paired import simulate_paired


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=15000)
    p.add_argument("--seed", type=int, default=40)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    out = Path(a.out)
    t = time.time()
    classes = {c: 1.0 for c in ("Ia", "Ibc", "II", "IIn", "IIb")}
    ztf, lsst = simulate_paired(a.n, a.seed, classes=classes)
    write_parquet(ztf, out / "ztf")
    write_parquet(lsst, out / "lsst")
    print(f"{len(ztf)} pairs of {a.n} ZTF events in {time.time() - t:.0f} s; classes "
          f"{ztf.truth['class'].value_counts().to_dict()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
