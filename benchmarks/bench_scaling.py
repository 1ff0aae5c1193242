"""Scaling: wall time to embed and index N light curves, N = 1e3 … 1e6; checks that it is linear.

    OMP_NUM_THREADS=1 python benchmarks/bench_scaling.py [--sizes 1000 10000 100000] [--model tiny] [--path table] [--quick]

Light curves are generated once per size (not timed); the time to build the containers is reported
separately.  Linearity: the fitted exponent b of time ∝ N^b (log-log least squares) is printed; 1.0 is
linear.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import hardware, peak_rss_mb, random_model, synthetic_lightcurves  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    p.add_argument("--model", default="tiny", choices=["tiny", "default"])
    p.add_argument("--length", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--path", default="containers", choices=["containers", "table"],
                   help="containers: LightCurve objects + embed_lightcurve; table: one long DataFrame + "
                        "ae.embed_table (no per-object containers in memory)")
    p.add_argument("--quick", action="store_true")
    a = p.parse_args(argv)
    if a.quick:
        a.sizes, a.length = [200, 800], 12
    model = random_model(a.model)
    if model is None:
        return 0
    try:
        from astroembed import EmbeddingIndex
    except ImportError:
        EmbeddingIndex = None
    E0 = model.embed_lightcurve(synthetic_lightcurves(64, a.length), batch_size=a.batch_size, progress=False)  # warm-up
    if EmbeddingIndex is not None:
        EmbeddingIndex(E0, metric="cosine")
    print(f"# bench_scaling: {hardware()}")
    print(f"# model={a.model}, length={a.length}, batch={a.batch_size}, path={a.path}")
    print("| N | build input s | embed s | index s | total s | objects/s | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    ns, ts = [], []
    for n in a.sizes:
        t0 = time.perf_counter()
        if a.path == "table":
            from bench_embed import lsst_table

            import astroembed as ae

            lcs = lsst_table(n, points=a.length, seed=n)
            t1 = time.perf_counter()
            E = ae.embed_table(lcs, model, batch_size=a.batch_size, progress=False)[1]
        else:
            lcs = synthetic_lightcurves(n, a.length, seed=n)
            t1 = time.perf_counter()
            E = model.embed_lightcurve(lcs, batch_size=a.batch_size, progress=False)
        t2 = time.perf_counter()
        if EmbeddingIndex is not None:
            idx = EmbeddingIndex(E, metric="cosine")
            assert len(idx) == n
        else:
            import faiss

            idx = faiss.IndexFlatIP(E.shape[1])
            idx.add(E)
        t3 = time.perf_counter()
        ns.append(n)
        ts.append(t3 - t1)
        print(f"| {n:,} | {t1 - t0:.2f} | {t2 - t1:.2f} | {t3 - t2:.3f} | {t3 - t1:.2f} | {n / (t3 - t1):,.0f} | "
              f"{peak_rss_mb():.0f} |", flush=True)
        del lcs, E, idx
    if len(ns) >= 2:
        b = np.polyfit(np.log(ns), np.log(ts), 1)[0]
        print(f"# fitted exponent time ∝ N^{b:.2f} (1.00 = linear)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
