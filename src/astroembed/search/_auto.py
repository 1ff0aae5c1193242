"""``index_factory="auto"``: pick exact or IVF search by size, and tune IVF's ``nprobe`` on the data.

The rule (constants below, measured on a 2-core x86-64 CPU, see docs/search.md and
``benchmarks/bench_search.py``):

1. fewer than :data:`AUTO_EXACT_MAX_VECTORS` vectors in the first ``add``: exact (``"Flat"``);
2. otherwise an ``IVF{nlist},Flat`` index with ``nlist ≈ sqrt(N)``, k-means trained on a sample of
   ``AUTO_TRAIN_PER_LIST * nlist`` vectors;
3. ``nprobe`` is raised step by step until recall@10 on :data:`AUTO_TUNE_QUERIES` held-out rows of the
   data itself (each query's own row excluded), measured against exact search over all the data,
   reaches :data:`AUTO_TARGET_RECALL` with margin (mean minus two standard errors);
4. if, at that ``nprobe``, the IVF index is not at least :data:`AUTO_MIN_SPEEDUP` times faster than
   exact search on the same queries (data with no cluster structure, e.g. isotropic random vectors),
   the index is rebuilt exact, and the reason is recorded.

The recall reached is stored as ``EmbeddingIndex.estimated_recall`` (1.0 for exact indexes).
"""

from __future__ import annotations

import time

import numpy as np

#: below this many vectors (first add) "auto" builds an exact index
AUTO_EXACT_MAX_VECTORS = 20_000
#: recall@10 the tuned approximate index must reach on the held-out sample
AUTO_TARGET_RECALL = 0.95
#: the approximate index must be at least this many times faster than exact search, else exact is kept
AUTO_MIN_SPEEDUP = 3.0
#: held-out sample rows used as tuning queries
AUTO_TUNE_QUERIES = 1000
#: k-means training vectors per IVF list (faiss warns below 39)
AUTO_TRAIN_PER_LIST = 40
#: k-means iterations for the IVF coarse quantizer
AUTO_KMEANS_ITER = 10
#: neighbours used for the recall estimate
AUTO_RECALL_K = 10
#: rows per block of the exact reference search
EXACT_CHUNK_ROWS = 1 << 16


def choose_nlist(n: int) -> int:
    """IVF lists for ``n`` vectors: about sqrt(n), between 16 and 4096."""
    return int(min(4096, max(16, round(np.sqrt(n)))))


def nprobe_candidates(nlist: int) -> list[int]:
    """1, 2, 3, 4, 6, 8, 12, 16, ... (steps of ~1.5x) up to and including ``nlist``."""
    out, v = [], 1
    while v < nlist:
        out.append(v)
        v = max(v + 1, int(round(v * 1.5)))
    return out + [nlist]


def sample_rows(n: int, m: int, seed: int) -> np.ndarray:
    """``m`` distinct sorted row positions of ``range(n)`` (all of them when ``m >= n``)."""
    if m >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=m, replace=False))


def exact_topk(q: np.ndarray, chunks, k: int, metric: str, knn=None) -> np.ndarray:
    """Row positions of the exact top-``k`` of each query over the data given as ``(start, chunk)``
    float32 blocks (already normalised for cosine), best first.  Memory: one (n_q, chunk) block.
    ``knn(q, block, k) -> (scores, positions)`` (e.g. :meth:`FaissBackend.knn`: the same kernels as a
    Flat index, so the time is a fair "exact search" reference; higher scores better); else numpy."""
    nq = len(q)
    best_s = np.full((nq, 0), -np.inf, dtype=np.float32)
    best_i = np.zeros((nq, 0), dtype=np.int64)
    qq = (q * q).sum(1)[:, None] if metric == "l2" else None
    for s, c in chunks:
        kc = min(k, len(c))
        if knn is not None:
            sims, idx = knn(q, c, kc)
        else:
            sims = q @ c.T
            if metric == "l2":  # higher is better: negative squared distance
                sims = 2 * sims - qq - (c * c).sum(1)[None, :]
            idx = np.argpartition(-sims, kc - 1, axis=1)[:, :kc]
            sims = np.take_along_axis(sims, idx, axis=1)
        cand_s = np.concatenate([best_s, sims], axis=1)
        cand_i = np.concatenate([best_i, idx + s], axis=1)
        kk = min(k, cand_s.shape[1])
        part = np.argpartition(-cand_s, kk - 1, axis=1)[:, :kk]
        best_s = np.take_along_axis(cand_s, part, axis=1)
        best_i = np.take_along_axis(cand_i, part, axis=1)
    order = np.argsort(-best_s, axis=1, kind="stable")
    return np.take_along_axis(best_i, order, axis=1)


def drop_self(nbr: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """Each row of ``nbr`` (k+1 neighbours) without the query's own row, cut to ``k`` columns."""
    out = np.empty((len(nbr), k), dtype=np.int64)
    for i, (row, self_row) in enumerate(zip(nbr, rows, strict=True)):
        keep = row[row != self_row]
        out[i] = keep[:k] if len(keep) >= k else np.pad(keep, (0, k - len(keep)), constant_values=-1)
    return out


def recall_per_query(got: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Fraction of each row of ``truth`` found in the same row of ``got`` (ids ``-1`` ignored)."""
    k = truth.shape[1]
    return np.array([len(set(a[a >= 0].tolist()) & set(b[b >= 0].tolist())) / k
                     for a, b in zip(got, truth, strict=True)])


def recall_at_k(got: np.ndarray, truth: np.ndarray) -> float:
    """Mean recall@k of ``got`` against ``truth`` (both (n_queries, k) row positions)."""
    return float(recall_per_query(got, truth).mean())


def tune_nprobe(backend, queries: np.ndarray, rows: np.ndarray, truth: np.ndarray, t_exact: float,
                target: float | None = None, min_speedup: float | None = None) -> dict:
    """Smallest ``nprobe`` whose recall@k (own row excluded) on ``queries`` reaches ``target`` with
    margin: the mean minus two standard errors over the queries must be ``>= target``.

    Parameters
    ----------
    backend : FaissBackend
        A trained and filled IVF index.
    queries, rows : numpy.ndarray
        The held-out sample (float32, normalised as stored) and its row positions in the index.
    truth : numpy.ndarray, int64, (m, k)
        Exact neighbours of each query without the query itself.
    t_exact : float
        Seconds exact search took for the same queries.
    target, min_speedup : float, optional
        Default: :data:`AUTO_TARGET_RECALL`, :data:`AUTO_MIN_SPEEDUP` (read when called).

    Returns
    -------
    dict
        ``nprobe`` (chosen, or ``None``), ``recall`` (at the chosen nprobe), ``speedup`` (exact time /
        approximate time), ``curve`` (list of ``[nprobe, recall, seconds]`` tried) and ``reason``
        (``None`` when an nprobe met both targets).
    """
    target = AUTO_TARGET_RECALL if target is None else target  # read at call time (settable module constants)
    min_speedup = AUTO_MIN_SPEEDUP if min_speedup is None else min_speedup
    k = truth.shape[1]
    curve = []
    for nprobe in nprobe_candidates(backend.nlist):
        backend.nprobe = nprobe
        t0 = time.perf_counter()
        _, nbr = backend.search_raw(queries, k + 1)
        dt = time.perf_counter() - t0
        per_query = recall_per_query(drop_self(nbr, rows, k), truth)
        rec = float(per_query.mean())
        lower = rec - 2 * float(per_query.std()) / np.sqrt(len(per_query))  # ~97.5 % lower bound
        curve.append([nprobe, round(rec, 4), round(dt, 5)])
        speedup = t_exact / max(dt, 1e-9)
        if lower >= target:
            if speedup < min_speedup:
                return {"nprobe": None, "recall": round(rec, 4), "speedup": round(speedup, 2), "curve": curve,
                        "reason": f"recall {rec:.3f} needs nprobe={nprobe}, only {speedup:.1f}x faster than exact "
                                  f"(< {min_speedup}x): exact search kept"}
            return {"nprobe": nprobe, "recall": round(rec, 4), "speedup": round(speedup, 2), "curve": curve, "reason": None}
        if speedup < min_speedup:
            return {"nprobe": None, "recall": round(rec, 4), "speedup": round(speedup, 2), "curve": curve,
                    "reason": f"at nprobe={nprobe} recall is {rec:.3f} (< {target}) and the IVF search is already "
                              f"only {speedup:.1f}x faster than exact (< {min_speedup}x): exact search kept"}
    return {"nprobe": None, "recall": curve[-1][1], "speedup": 0.0, "curve": curve,
            "reason": "no nprobe reached the target recall: exact search kept"}


def exact_reference(arr: np.ndarray, norms, rows: np.ndarray, metric: str, k: int, chunk_iter, knn=None):
    """Held-out queries (float32, as stored), their exact top-``k`` without themselves, and the
    seconds the exact search took.  ``chunk_iter(arr, norms)`` yields the stored form of the data."""
    q = np.ascontiguousarray(arr[rows], dtype=np.float32)
    if norms is not None:
        q = (q / norms[rows, None]).astype(np.float32)
    t0 = time.perf_counter()
    nbr = exact_topk(q, chunk_iter(arr, norms, EXACT_CHUNK_ROWS), k + 1, metric, knn)
    t_exact = time.perf_counter() - t0
    return q, drop_self(nbr, rows, k), t_exact
