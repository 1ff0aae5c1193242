"""``embed_dask`` throughput on simulated light curves: N objects (LSST-like, 100 points, 6 bands) written
as Parquet shards, read back as a Dask DataFrame, shuffled by id, embedded on a LocalCluster.

    OMP_NUM_THREADS=1 python benchmarks/bench_distributed.py [--n 1000000] [--workers 2] [--quick]
    python benchmarks/bench_distributed.py --scheduler tcp://scheduler:8786 --n 1000000   # a real cluster

The light curves are analytic Gaussian bumps + noise (``bench_embed.lsst_table``), not the physics
simulator: this measures the embedding pipeline.  Reports the wall time, light curves/s, and the time
per worker (wall × workers / N); the in-process ``embed_table`` rate on one shard is printed alongside.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import hardware  # noqa: E402
from bench_embed import lsst_table  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1_000_000, help="light curves")
    p.add_argument("--shard", type=int, default=20_000, help="objects per Parquet shard")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads-per-worker", type=int, default=1)
    p.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler")
    p.add_argument("--quick", action="store_true")
    a = p.parse_args(argv)
    if a.quick:
        a.n, a.shard = 2000, 500
    import dask.dataframe as dd
    import distributed

    import astroembed as ae
    from astroembed.distributed import embed_dask

    print(f"# bench_distributed: {hardware()}")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        for i, start in enumerate(range(0, a.n, a.shard)):
            m = min(a.shard, a.n - start)
            tab = lsst_table(m, seed=i)
            tab["object_id"] += start
            tab.to_parquet(Path(tmp) / f"part-{i:05d}.parquet")
        print(f"# wrote {a.n:,} light curves x 100 points in {time.perf_counter() - t0:.1f} s (not timed below)")
        t0 = time.perf_counter()
        ae.embed_table(lsst_table(min(a.shard, 2000), seed=99), "maven", progress=False)
        one = min(a.shard, 2000) / (time.perf_counter() - t0)
        print(f"# in-process embed_table, 1 process: {one:,.0f} light curves/s")
        if a.scheduler:
            client = distributed.Client(a.scheduler)
            n_workers = len(client.scheduler_info()["workers"])
        else:
            cluster = distributed.LocalCluster(n_workers=a.workers, threads_per_worker=a.threads_per_worker,
                                               processes=True, dashboard_address=None)
            client = distributed.Client(cluster)
            n_workers = a.workers
        with client:
            ddf = dd.read_parquet(tmp)
            t0 = time.perf_counter()
            out = embed_dask(ddf, "maven", threads_per_task=a.threads_per_worker)
            out.to_parquet(Path(tmp) / "embeddings")  # the realistic sink; also forces the computation
            wall = time.perf_counter() - t0
            n_done = len(dd.read_parquet(Path(tmp) / "embeddings"))
        assert n_done == a.n, (n_done, a.n)
        print("| N | workers x threads | wall s | light curves/s | worker-seconds per 1e6 light curves |")
        print("|---|---|---|---|---|")
        print(f"| {a.n:,} | {n_workers} x {a.threads_per_worker} | {wall:.1f} | {a.n / wall:,.0f} | "
              f"{wall * n_workers / a.n * 1e6:,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
