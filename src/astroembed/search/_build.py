"""Creating and filling the backend of an :class:`~astroembed.search.EmbeddingIndex`: a given
factory, or ``index_factory="auto"`` (exact when small, else a tuned IVF index; see ``_auto.py``).

Plain functions on explicit arguments; the index keeps the returned backend and tuning record.
faiss and torch are imported here, at run time, never when the package is imported.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass

import numpy as np

from .. import _optional
from . import _auto
from ._inputs import iter_checked_chunks

logger = logging.getLogger(__name__)


def hint_faiss_missing(reason: str = "") -> None:
    """Warn once per process that faiss is missing and exact torch search is used."""
    from .. import search as package  # the flag lives on the package: tests and users can silence it

    if package._hint_shown:
        return
    package._hint_shown = True
    msg = ("faiss is not installed; EmbeddingIndex uses exact torch top-k search (same results, slower "
           "on large catalogues). " + _optional.missing_extra_message("faiss", "fast and approximate search"))
    if reason:
        msg += f" {reason}"
    warnings.warn(msg, UserWarning, stacklevel=6)


def make_backend(dim: int, factory: str, *, metric: str, device: str, backend_req: str, auto: bool = False):
    """A new empty backend: faiss (GPU when ``faiss.get_num_gpus() > 0`` and ``device`` allows) when
    importable and not ``backend_req == "torch"``, else exact torch search (``.index_factory`` is then
    ``"Flat"``)."""
    faiss = None if backend_req == "torch" else _optional.import_faiss()
    if backend_req == "faiss" and faiss is None:
        _optional.require("faiss", "EmbeddingIndex(backend='faiss')")
    if faiss is not None:
        from ._faiss import FaissBackend, use_gpu

        return FaissBackend(faiss, dim, metric, factory, use_gpu(faiss, device))
    if backend_req == "auto":
        reason = ("index_factory 'auto' gives exact search without it (estimated_recall = 1.0)." if auto
                  else f"index_factory {factory!r} needs faiss; exact search is used instead." if factory != "Flat"
                  else "")
        hint_faiss_missing(reason)
    elif factory != "Flat":
        raise ValueError(f"index_factory: the torch backend only does exact search, got {factory!r}")
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ValueError("device: 'cuda' requested but torch sees no CUDA device; use device='auto'")
    from ._torch import TorchBackend

    return TorchBackend(dim, metric, device)


def fill(backend, arr: np.ndarray, norms) -> None:
    """Add the (validated) rows of ``arr`` in stored form (cosine: divided by ``norms``), chunk by chunk."""
    if backend.name == "torch":  # one owned float32 copy, taken over by torch
        out = np.empty(arr.shape, dtype=np.float32)
        for s, c in iter_checked_chunks(arr, norms):
            out[s:s + len(c)] = c
        backend.add(out)
        return
    backend.add_chunks(iter_checked_chunks(arr, norms), len(arr))


def train(backend, arr: np.ndarray, norms, n_train: int, kmeans_iter: int | None = None) -> None:
    """Train an untrained faiss backend on ``n_train`` rows of ``arr`` drawn at random (seed 0)."""
    rows = _auto.sample_rows(len(arr), n_train, seed=0)
    sample = np.ascontiguousarray(arr[rows], dtype=np.float32)
    if norms is not None:
        sample = (sample / norms[rows, None]).astype(np.float32)
    backend.train_if_needed(sample, kmeans_iter)


@dataclass
class Built:
    """What :func:`build` made: the filled backend, its factory, the recall estimate and, for
    ``"auto"``, the tuning record (see :attr:`EmbeddingIndex.tuning`)."""

    backend: object
    factory: str
    recall: float | None
    tuning: dict | None = None


def build(arr: np.ndarray, norms, *, factory: str, auto: bool, metric: str, device: str, backend_req: str,
          backend=None) -> Built:
    """The first non-empty add: create (``"auto"``: choose and tune) a backend and fill it with ``arr``.

    ``backend``: an existing empty backend of a fixed factory (made when the index was created with
    ``dim=``), reused as it is.
    """
    n, dim = arr.shape
    kw = dict(metric=metric, device=device, backend_req=backend_req)
    if not auto:
        backend = backend or make_backend(dim, factory, **kw)
        if not backend.is_trained:  # faiss itself would subsample to 256 vectors per list
            train(backend, arr, norms, min(n, 256 * (backend.nlist or 256)))
        fill(backend, arr, norms)
        return Built(backend, backend.index_factory, 1.0 if backend.index_factory == "Flat" else None)
    t0 = time.perf_counter()
    faiss_ok = backend_req != "torch" and _optional.import_faiss() is not None
    if n < _auto.AUTO_EXACT_MAX_VECTORS or not faiss_ok:
        backend = make_backend(dim, "Flat", auto=True, **kw)
        fill(backend, arr, norms)
        why = (f"{n} < AUTO_EXACT_MAX_VECTORS = {_auto.AUTO_EXACT_MAX_VECTORS} vectors" if faiss_ok
               else "faiss not available: exact torch search")
        return Built(backend, "Flat", 1.0, {"requested": "auto", "chosen": "Flat", "reason": why})
    nlist = _auto.choose_nlist(n)
    backend = make_backend(dim, f"IVF{nlist},Flat", **kw)
    train(backend, arr, norms, min(n, _auto.AUTO_TRAIN_PER_LIST * nlist), _auto.AUTO_KMEANS_ITER)
    fill(backend, arr, norms)
    rows = _auto.sample_rows(n, min(_auto.AUTO_TUNE_QUERIES, n), seed=1)
    q, truth, t_exact = _auto.exact_reference(arr, norms, rows, metric, _auto.AUTO_RECALL_K,
                                              iter_checked_chunks, backend.knn)
    res = _auto.tune_nprobe(backend, q, rows, truth, t_exact)
    info = {"requested": "auto", "nlist": nlist, "n_tune_queries": len(rows), "k": _auto.AUTO_RECALL_K,
            "target_recall": _auto.AUTO_TARGET_RECALL, "exact_seconds": round(t_exact, 5), **res}
    if res["nprobe"] is None:
        del backend
        backend = make_backend(dim, "Flat", **kw)
        fill(backend, arr, norms)
        recall = 1.0
        logger.info("EmbeddingIndex(index_factory='auto'): %s", res["reason"])
    else:
        backend.nprobe = res["nprobe"]
        recall = float(res["recall"])
    info.update(chosen=backend.index_factory, build_seconds=round(time.perf_counter() - t0, 3))
    return Built(backend, backend.index_factory, recall, info)
