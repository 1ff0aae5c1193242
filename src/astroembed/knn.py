"""Validated k-nearest-neighbour queries over an embedding index, with self-match handling.

The machinery behind :func:`astroembed.zero_shot_redshift` and :func:`astroembed.knn_classify`: an
exact cosine index over a plain array, neighbour lists with ``k`` clipped to what is available, the
detection (warning) and object-level exclusion of self-matches, and distance weights.
"""

from __future__ import annotations

import warnings

import numpy as np

from .search import EmbeddingIndex, as_vectors, check_k

__all__ = ["WEIGHTS", "IDENTICAL_COSINE", "as_index", "neighbours", "neighbour_weights", "check_weights"]

#: neighbour weightings of the kNN tasks
WEIGHTS = ("distance", "uniform")


def as_index(reference, name: str = "reference") -> EmbeddingIndex:
    """A prebuilt index as is, or an exact cosine index over an (N, D) array."""
    if isinstance(reference, EmbeddingIndex):
        if reference.ntotal == 0:
            raise ValueError(f"{name}: the index is empty; add reference vectors first")
        return reference
    x = as_vectors(name, reference)
    if len(x) == 0:
        raise ValueError(f"{name}: empty, need at least one reference embedding (got shape {x.shape})")
    return EmbeddingIndex(x, metric="cosine")


#: cosine similarity at or above which a reference row counts as the query itself (identical embedding)
IDENTICAL_COSINE = 1.0 - 1e-6


def _as_ids(name: str, ids, n: int) -> np.ndarray | None:
    if ids is None:
        return None
    if isinstance(ids, (str, bytes)):
        raise TypeError(f"{name}: expected one object id per row (a 1-D array), got a string")
    arr = np.asarray(ids.to_numpy() if hasattr(ids, "to_numpy") else ids)
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(f"{name}: expected {n} object ids (one per row), got shape {arr.shape}")
    return arr.astype(object)


def _self_hits(S: np.ndarray, nbr: np.ndarray, metric: str, q_ids, ref_ids) -> np.ndarray:
    """(n, kk) bool: neighbour j of query i is the query itself — an identical embedding (cosine ≥
    :data:`IDENTICAL_COSINE`, or L2 distance 0) or, where ids are given, a row of the same object."""
    same = np.zeros(nbr.shape, dtype=bool)
    if metric == "cosine":
        same |= S >= IDENTICAL_COSINE
    elif metric == "l2":
        same |= S <= 1e-12
    if q_ids is not None and ref_ids is not None:
        valid = nbr >= 0
        same |= valid & (ref_ids[np.where(valid, nbr, 0)] == q_ids[:, None])
    return same


def neighbours(query, reference, k: int, exclude_self: bool, fn: str, query_ids=None, reference_ids=None):
    """Validated kNN: returns (scores, indices, index) with k clipped to what is available.

    ``exclude_self=True`` drops, per query, every reference row that is the query itself: identical
    embeddings, and — where ``query_ids`` / ``reference_ids`` are given — every row of the same object
    (object-level leave-one-out, e.g. several spectra of one supernova).  With ``exclude_self=False``
    such self-matches are detected among the neighbours and reported with a warning, because the
    query's own label then leaks into the estimate.
    """
    k = check_k(k)
    index = as_index(reference)
    q = as_vectors("query", query, index.dim, allow_1d=True)
    n_ref = index.ntotal
    q_ids = _as_ids("query_ids", query_ids, len(q))
    ref_ids = _as_ids("reference_ids", reference_ids, n_ref)
    if (q_ids is None) != (ref_ids is None):
        raise ValueError("query_ids and reference_ids: give both (object ids of queries and of references) or "
                         "neither")
    if exclude_self and n_ref < 2:
        raise ValueError("exclude_self: needs at least 2 reference embeddings")
    if k > n_ref:
        warnings.warn(f"{fn}: k={k} is larger than the {n_ref} available reference embeddings; using all {n_ref}",
                      UserWarning, stacklevel=3)
        k = n_ref
    if not exclude_self or len(q) == 0:
        res = index.search(q, k)
        hits = _self_hits(res.scores, res.indices, index.metric, q_ids, ref_ids).any(axis=1)
        if hits.any():
            what = "an identical embedding or the same object id" if q_ids is not None else "an identical embedding"
            warnings.warn(f"{fn}: {int(hits.sum())} of {len(q)} queries have {what} in the reference set "
                          f"(e.g. query rows {np.flatnonzero(hits)[:5].tolist()}): their own label leaks into "
                          "the estimate. Pass exclude_self=True (with query_ids/reference_ids for object-level "
                          "exclusion) or use disjoint query and reference sets.", UserWarning, stacklevel=3)
        return res.scores, res.indices, index
    extra = 1
    if ref_ids is not None:
        _, counts = np.unique(ref_ids.astype(str), return_counts=True)
        extra = int(counts.max())
    while True:
        kk = min(n_ref, k + extra)
        res = index.search(q, kk)
        keep = ~_self_hits(res.scores, res.indices, index.metric, q_ids, ref_ids) & (res.indices >= 0)
        n_keep = keep.sum(axis=1)
        if n_keep.min() >= k or kk == n_ref:
            break
        extra *= 2
    n_out = int(min(k, n_keep.min()))
    if n_out == 0:
        raise ValueError(f"{fn}: after excluding self-matches, query row {int(np.argmin(n_keep))} has no "
                         "reference neighbour left")
    if n_keep.min() < k:
        warnings.warn(f"{fn}: after excluding self-matches only {n_out} neighbours are available for some "
                      f"queries; using k={n_out}", UserWarning, stacklevel=3)
    order = np.argsort(~keep, axis=1, kind="stable")[:, :n_out]  # kept neighbours first, rank order kept
    rows = np.arange(len(q))[:, None]
    return res.scores[rows, order], res.indices[rows, order], index


def neighbour_weights(scores: np.ndarray, metric: str, weights: str, eps: float) -> np.ndarray:
    if weights == "uniform":
        return np.ones(scores.shape, dtype=np.float64)
    s = scores.astype(np.float64)
    if metric == "cosine":
        d = np.clip(1.0 - s, 0.0, 2.0)
    elif metric == "l2":
        d = np.sqrt(np.clip(s, 0.0, None))
    else:
        raise ValueError("weights: 'distance' needs a cosine or l2 index, the reference index uses metric='ip' "
                         "(no distance); use weights='uniform' or build the index with metric='cosine'")
    return 1.0 / (d + eps)


def check_weights(weights, eps) -> float:
    if weights not in WEIGHTS:
        raise ValueError(f"weights: must be one of {WEIGHTS}, got {weights!r}")
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)) or not np.isfinite(eps) or eps <= 0:
        raise ValueError(f"eps: must be a positive finite number, got {eps!r}")
    return float(eps)
