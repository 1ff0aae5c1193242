"""Similarity search: Flat vs IVF vs HNSW — build time, query time and recall@10 against exact search,
for 1e4 … 1e6 random unit vectors (CPU).

    OMP_NUM_THREADS=1 python benchmarks/bench_search.py [--sizes 10000 100000 1000000] [--dim 128] [--quick]

Uses ``astroembed.EmbeddingIndex`` (faiss backend) when it exists, else faiss directly.  Random unit
vectors are the hardest case for approximate indexes (no cluster structure): recall here is a floor.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import hardware, peak_rss_mb  # noqa: E402

NPROBE = 16  # IVF cells visited per query (faiss default is 1)


def unit_vectors(n, d, seed):
    x = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def build(factory, xb):
    try:
        from astroembed import EmbeddingIndex

        def make():
            return EmbeddingIndex(xb, metric="cosine", index_factory=factory, device="cpu", backend="faiss")

        def search(index, xq, k):
            if factory.startswith("IVF"):
                index.nprobe = NPROBE
            return np.asarray(index.search(xq, k=k)[1])
        how = "astroembed.EmbeddingIndex"
    except ImportError:
        import faiss

        def make():
            idx = faiss.index_factory(xb.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
            if not idx.is_trained:
                idx.train(xb)
            idx.add(xb)
            return idx

        def search(index, xq, k):
            if factory.startswith("IVF"):
                faiss.extract_index_ivf(index).nprobe = NPROBE
            return index.search(xq, k)[1]
        how = "faiss"
    t0 = time.perf_counter()
    index = make()
    return index, search, time.perf_counter() - t0, how


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--quick", action="store_true")
    a = p.parse_args(argv)
    if a.quick:
        a.sizes, a.queries, a.dim = [5_000], 200, 32
    print(f"# bench_search: {hardware()}")
    print(f"# dim={a.dim}, {a.queries} queries, k=10, recall@10 vs exact (Flat); IVF nlist=sqrt(N), nprobe={NPROBE};"
          " HNSW32 default efSearch")
    print("| N | index | build s | query ms/query | recall@10 | peak RSS MB | via |")
    print("|---|---|---|---|---|---|---|")
    for n in a.sizes:
        xb = unit_vectors(n, a.dim, 0)
        xq = unit_vectors(a.queries, a.dim, 1)
        nlist = int(max(16, min(4096, np.sqrt(n))))
        truth = None
        for factory in ("Flat", f"IVF{nlist},Flat", "HNSW32"):
            index, search, t_build, how = build(factory, xb)
            t0 = time.perf_counter()
            ids = search(index, xq, 10)
            t_q = (time.perf_counter() - t0) / len(xq)
            if truth is None:
                truth = ids
            recall = np.mean([len(set(a_.tolist()) & set(b_.tolist())) / 10 for a_, b_ in zip(ids, truth)])
            print(f"| {n:,} | {factory} | {t_build:.2f} | {1e3 * t_q:.3f} | {recall:.3f} | {peak_rss_mb():.0f} | {how} |",
                  flush=True)
            del index
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
