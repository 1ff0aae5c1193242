"""Vector search over embeddings: :class:`EmbeddingIndex` and :class:`SearchResult`.

Backends, chosen at run time:

* **faiss GPU** — faiss is installed with GPU support (``faiss.get_num_gpus() > 0``) and ``device``
  allows it;
* **faiss CPU** — faiss is installed (``pip install 'astroembed[faiss]'``);
* **torch** — exact top-k with a matrix product (CUDA when available), used when faiss is missing
  (with a one-time hint) or when ``backend="torch"``.  Exact, so it gives the same results as faiss
  ``"Flat"``.

Scores: ``metric="cosine"`` and ``"ip"`` return inner products (higher is closer; for cosine the
stored vectors and the queries are normalised to unit length, so scores are cosine similarities in
[-1, 1]); ``metric="l2"`` returns *squared* Euclidean distances (lower is closer), as faiss does.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

from . import _optional
from ._index_io import FORMAT_NAME, FORMAT_VERSION, _IndexPersistence  # noqa: F401 (FORMAT_*: re-exported)
from ._search_inputs import RESERVED_COLUMNS, _as_ids, _as_metadata, _normalise, as_vectors, check_k  # noqa: F401 (re-exports)
from .search_result import SearchResult

__all__ = ["EmbeddingIndex", "SearchResult"]

logger = logging.getLogger(__name__)

METRICS = ("cosine", "ip", "l2")
BACKENDS = ("auto", "faiss", "torch")
_TORCH_CHUNK = 1 << 24  # scores computed per chunk of queries: at most this many floats at once

_hint_shown = False


def _hint_faiss_missing(reason: str = "") -> None:
    global _hint_shown
    if _hint_shown:
        return
    _hint_shown = True
    msg = ("faiss is not installed; EmbeddingIndex uses exact torch top-k search (same results, slower "
           "on large catalogues). " + _optional.missing_extra_message("faiss", "fast and approximate search"))
    if reason:
        msg += f" {reason}"
    warnings.warn(msg, UserWarning, stacklevel=4)


# ---------------------------------------------------------------------------------------- torch backend
class _TorchBackend:
    """Exact top-k search with torch matrix products (brute force, chunked over queries)."""

    name = "torch"
    nprobe = ef_search = nlist = None
    is_trained = True

    def __init__(self, dim: int, metric: str, device: str):
        import torch

        self.torch = torch
        self.dim, self.metric = dim, metric
        self._device = torch.device("cuda" if device == "auto" and torch.cuda.is_available()
                                    else "cpu" if device == "auto" else device)
        self._x = torch.zeros((0, dim), dtype=torch.float32, device=self._device)

    @property
    def device(self) -> str:
        return str(self._device)

    @property
    def ntotal(self) -> int:
        return int(self._x.shape[0])

    def add(self, x: np.ndarray) -> None:
        self._x = self.torch.cat([self._x, self.torch.from_numpy(x).to(self._device)], dim=0)

    def reconstruct_all(self) -> np.ndarray:
        return np.ascontiguousarray(self._x.cpu().numpy(), dtype=np.float32)

    def search(self, q: np.ndarray, k: int):
        torch = self.torch
        n = self.ntotal
        step = max(1, _TORCH_CHUNK // max(n, 1))
        D = np.empty((len(q), k), dtype=np.float32)
        nbr = np.empty((len(q), k), dtype=np.int64)
        with torch.inference_mode():
            sq = (self._x * self._x).sum(1) if self.metric == "l2" else None
            for s in range(0, len(q), step):
                qt = torch.from_numpy(q[s:s + step]).to(self._device)
                sim = qt @ self._x.T
                if self.metric == "l2":
                    dist = ((qt * qt).sum(1, keepdim=True) - 2 * sim + sq[None, :]).clamp_min_(0)
                    vals, idx = torch.topk(dist, k, dim=1, largest=False, sorted=True)
                else:
                    vals, idx = torch.topk(sim, k, dim=1, largest=True, sorted=True)
                D[s:s + step] = vals.cpu().numpy()
                nbr[s:s + step] = idx.cpu().numpy()
        return D, nbr


# ---------------------------------------------------------------------------------------- the index
class EmbeddingIndex(_IndexPersistence):
    """A searchable collection of embeddings with user ids and per-row metadata.

    Parameters
    ----------
    vectors : array_like, (N, D), optional
        Embeddings to add right away (float; torch tensors accepted).  Leave out to start empty.
    ids : array_like, (N,), optional
        One unique id per vector: integers (stored as int64) or strings.  Default: row positions
        ``0 .. N-1`` (continuing on later ``add`` calls).  Duplicate ids are an error.
    metadata : pandas.DataFrame, astropy.table.Table or dict of columns, optional
        One row per vector (e.g. redshift, class, survey).  Returned with search hits in
        :attr:`SearchResult.metadata`.  Rows are matched to vectors by position (a DataFrame's
        index is dropped).  Column names ``query``, ``rank``, ``id``, ``score`` are reserved.
    metric : {"cosine", "ip", "l2"}
        ``"cosine"`` (default) normalises stored vectors and queries to unit length and ranks by
        inner product; ``"ip"`` ranks by raw inner product; ``"l2"`` by squared Euclidean distance.
    index_factory : str
        A ``faiss.index_factory`` string: ``"Flat"`` (exact, default), ``"IVF{nlist},Flat"``,
        ``"HNSW32"`` … (approximate; see docs/search.md for the recall trade-off).  IVF indexes are
        trained on the vectors of the first non-empty ``add``, which must hold at least ``nlist``
        vectors.  Only ``"Flat"`` is available with the torch backend.
    device : {"auto", "cpu", "cuda"}
        ``"auto"``: faiss GPU if ``faiss.get_num_gpus() > 0`` (torch backend: CUDA if available),
        else CPU.  ``"cuda"`` requires a GPU.
    dim : int, optional
        Vector dimension of an index created empty (otherwise taken from the first vectors).
    backend : {"auto", "faiss", "torch"}
        ``"auto"``: faiss when importable, else exact torch search with a one-time hint to install
        ``astroembed[faiss]``.  ``"faiss"`` raises ImportError when faiss is missing.

    Notes
    -----
    ``len(index)`` / :attr:`ntotal` is the number of vectors, :attr:`dim` their dimension.  An index
    is not safe to ``add`` to from several threads at once; concurrent ``search`` calls are fine.

    Examples
    --------
    >>> import numpy as np, astroembed as ae
    >>> rng = np.random.default_rng(0)
    >>> catalogue = rng.normal(size=(100, 16)).astype("float32")
    >>> index = ae.EmbeddingIndex(catalogue, ids=[f"SN{i:03d}" for i in range(100)])
    >>> scores, ids = index.search(catalogue[:2], k=3)
    >>> ids[:, 0].tolist(), scores.shape
    (['SN000', 'SN001'], (2, 3))
    """

    def __init__(self, vectors=None, ids=None, metadata=None, *, metric: str = "cosine",
                 index_factory: str = "Flat", device: str = "auto", dim: int | None = None,
                 backend: str = "auto"):
        if not isinstance(metric, str) or metric.lower() not in METRICS:
            raise ValueError(f"metric: must be one of {METRICS}, got {metric!r}")
        if not isinstance(index_factory, str) or not index_factory.strip():
            raise TypeError(f"index_factory: expected a faiss factory string such as 'Flat', got {index_factory!r}")
        if not isinstance(backend, str) or backend.lower() not in BACKENDS:
            raise ValueError(f"backend: must be one of {BACKENDS}, got {backend!r}")
        self._metric = metric.lower()
        self._factory = index_factory.strip()
        self._device_req = self._check_device(device)
        self._backend_req = backend.lower()
        self._dim = None if dim is None else check_k(dim, "dim")
        self._backend = None
        self._ids = np.zeros(0, dtype=np.int64)
        self._meta = None  # pandas DataFrame or None
        self._pending = {}  # search-time parameters set before the backend exists
        if self._backend_req == "faiss":
            _optional.require("faiss", "EmbeddingIndex(backend='faiss')")
        if self._backend_req == "torch" and self._factory != "Flat":
            raise ValueError(f"index_factory: the torch backend only does exact search ('Flat'), got "
                             f"{self._factory!r}; install faiss for approximate indexes")
        if self._dim is not None:
            self._make_backend(self._dim)
        if vectors is not None:
            self.add(vectors, ids=ids, metadata=metadata)
        elif ids is not None or metadata is not None:
            raise ValueError("ids/metadata: given without vectors; pass vectors too, or use add() later")

    # ------------------------------------------------------------------ construction helpers
    @staticmethod
    def _check_device(device) -> str:
        if hasattr(device, "type"):  # torch.device
            device = str(device)
        if not isinstance(device, str):
            raise TypeError(f"device: expected 'auto', 'cpu' or 'cuda', got {device!r}")
        d = device.lower()
        if d == "gpu":
            d = "cuda"
        if d not in ("auto", "cpu") and not d.startswith("cuda"):
            raise ValueError(f"device: expected 'auto', 'cpu' or 'cuda', got {device!r}")
        return d

    def _make_backend(self, dim: int) -> None:
        faiss = None if self._backend_req == "torch" else _optional.import_faiss()
        if self._backend_req == "faiss" and faiss is None:
            _optional.require("faiss", "EmbeddingIndex(backend='faiss')")
        if faiss is not None:
            from ._faiss_backend import FaissBackend

            n_gpu = faiss.get_num_gpus() if hasattr(faiss, "get_num_gpus") else 0
            want_gpu = self._device_req.startswith("cuda")
            if want_gpu and n_gpu == 0:
                raise ValueError("device: 'cuda' requested but faiss has no GPU support here "
                                 "(faiss.get_num_gpus() == 0); install faiss-gpu or use device='auto'")
            use_gpu = n_gpu > 0 and self._device_req != "cpu"
            self._backend = FaissBackend(faiss, dim, self._metric, self._factory, use_gpu)
        else:
            if self._backend_req == "auto":
                reason = (f"index_factory {self._factory!r} needs faiss; exact search is used instead."
                          if self._factory != "Flat" else "")
                _hint_faiss_missing(reason)
            elif self._factory != "Flat":
                raise ValueError(f"index_factory: the torch backend only does exact search, got {self._factory!r}")
            if self._device_req.startswith("cuda"):
                import torch

                if not torch.cuda.is_available():
                    raise ValueError("device: 'cuda' requested but torch sees no CUDA device; use device='auto'")
            self._backend = _TorchBackend(dim, self._metric, self._device_req)
        self._dim = dim
        for key, value in self._pending.items():
            setattr(self, key, value)
        self._pending = {}

    # ------------------------------------------------------------------ properties
    @property
    def dim(self) -> int | None:
        """Vector dimension D (``None`` for an empty index created without ``dim``)."""
        return self._dim

    @property
    def ntotal(self) -> int:
        """Number of stored vectors."""
        return 0 if self._backend is None else self._backend.ntotal

    def __len__(self) -> int:
        return self.ntotal

    @property
    def metric(self) -> str:
        """``"cosine"``, ``"ip"`` or ``"l2"``."""
        return self._metric

    @property
    def index_factory(self) -> str:
        """The faiss factory string (``"Flat"`` for the torch backend)."""
        return self._factory

    @property
    def backend(self) -> str | None:
        """``"faiss-gpu"``, ``"faiss-cpu"`` or ``"torch"`` (``None`` until the dimension is known)."""
        if self._backend is None:
            return None
        if self._backend.name == "faiss":
            return "faiss-gpu" if self._backend.on_gpu else "faiss-cpu"
        return "torch"

    @property
    def device(self) -> str | None:
        """Where the vectors live (``"cpu"``, ``"cuda:0"`` …)."""
        return None if self._backend is None else self._backend.device

    @property
    def ids(self) -> np.ndarray:
        """Copy of the user ids in row order (int64, or object array of str)."""
        return self._ids.astype(object) if self._ids.dtype.kind == "U" else self._ids.copy()

    @property
    def metadata(self):
        """Copy of the metadata (pandas DataFrame, one row per vector) or ``None``."""
        return None if self._meta is None else self._meta.copy()

    @property
    def nprobe(self) -> int | None:
        """IVF lists visited per query (IVF indexes only; more → higher recall, slower)."""
        return None if self._backend is None else self._backend.nprobe

    @nprobe.setter
    def nprobe(self, value) -> None:
        value = check_k(value, "nprobe")
        if self._backend is None:
            self._pending["nprobe"] = value
            return
        nlist = self._backend.nlist
        if nlist is None:
            raise ValueError(f"nprobe: only applies to IVF indexes, this index is {self._factory!r}")
        self._backend.nprobe = min(value, nlist)

    @property
    def ef_search(self) -> int | None:
        """HNSW candidate-list size ``efSearch`` (HNSW indexes only; more → higher recall, slower)."""
        return None if self._backend is None else self._backend.ef_search

    @ef_search.setter
    def ef_search(self, value) -> None:
        value = check_k(value, "ef_search")
        if self._backend is None:
            self._pending["ef_search"] = value
            return
        if self._backend.ef_search is None:
            raise ValueError(f"ef_search: only applies to HNSW indexes, this index is {self._factory!r}")
        self._backend.ef_search = value

    def __repr__(self) -> str:
        return (f"EmbeddingIndex(ntotal={self.ntotal}, dim={self.dim}, metric={self._metric!r}, "
                f"index_factory={self._factory!r}, backend={self.backend!r})")

    # ------------------------------------------------------------------ add / search
    def add(self, vectors, ids=None, metadata=None) -> EmbeddingIndex:
        """Add vectors (with their ids and metadata) to the index.

        Parameters
        ----------
        vectors : array_like, (n, D)
            Finite float embeddings of the index dimension D.
        ids : array_like, (n,), optional
            Unique ids (int or str, same kind as those already stored).  Default: continue the row
            positions (only for integer ids).
        metadata : pandas.DataFrame, astropy.table.Table or dict of columns, optional
            n rows.  Columns missing on either side are filled with NaN.

        Returns
        -------
        EmbeddingIndex
            ``self``, for chaining.

        Examples
        --------
        >>> import numpy as np, astroembed as ae
        >>> index = ae.EmbeddingIndex(dim=4)
        >>> len(index.add(np.eye(4)[:2]).add(np.eye(4)[2:], ids=[7, 8]))
        4
        >>> index.ids.tolist()
        [0, 1, 7, 8]
        """
        x = as_vectors("vectors", vectors, self._dim)
        n = len(x)
        if self._metric == "cosine" and n:
            x = _normalise("vectors", x)
        if ids is None:
            if self._ids.dtype.kind == "U" and n:
                raise ValueError("ids: this index has string ids, so ids are required when adding vectors")
            new_ids = np.arange(self.ntotal, self.ntotal + n, dtype=np.int64)
        else:
            new_ids = _as_ids(ids, n)
        if self.ntotal and n and (new_ids.dtype.kind == "U") != (self._ids.dtype.kind == "U"):
            have = "string" if self._ids.dtype.kind == "U" else "integer"
            raise TypeError(f"ids: cannot mix string and integer ids; this index has {have} ids")
        if n:
            if len(np.unique(new_ids)) != n:
                vals, counts = np.unique(new_ids, return_counts=True)
                raise ValueError(f"ids: duplicate ids are not allowed, e.g. {vals[counts > 1][:5].tolist()}")
            if self.ntotal:
                dup = np.isin(new_ids, self._ids)
                if dup.any():
                    raise ValueError(f"ids: already in the index: {new_ids[dup][:5].tolist()}")
        meta = None if metadata is None else _as_metadata(metadata, n)
        if n == 0:
            return self
        if self._backend is None:
            self._make_backend(x.shape[1])
        self._backend.add(x)  # may raise (e.g. too few vectors to train): nothing changed yet
        self._ids = new_ids if not len(self._ids) else np.concatenate([self._ids, new_ids])
        self._append_metadata(meta, n)
        return self

    def _append_metadata(self, meta, n: int) -> None:
        import pandas as pd

        if meta is None and self._meta is None:
            return
        old = self._meta if self._meta is not None else pd.DataFrame(index=range(self.ntotal - n))
        new = meta if meta is not None else pd.DataFrame(index=range(n))
        self._meta = pd.concat([old, new], axis=0, ignore_index=True)

    def search(self, q, k: int = 10) -> SearchResult:
        """Find the ``k`` nearest stored vectors of each query.

        Parameters
        ----------
        q : array_like, (n_queries, D) or (D,)
            Query embeddings (a single vector is treated as one query; results stay 2-D).
        k : int
            Neighbours per query (>= 1).  Results have ``min(k, len(index))`` columns.

        Returns
        -------
        SearchResult
            Unpacks as ``(scores, ids)``, both (n_queries, min(k, ntotal)), best first; also has
            ``.indices`` (row positions) and ``.metadata`` (a pandas DataFrame).

        Raises
        ------
        ValueError
            Empty index, wrong query dimension, non-finite queries, ``k <= 0``.

        Examples
        --------
        >>> import numpy as np, astroembed as ae
        >>> index = ae.EmbeddingIndex(np.eye(3), ids=[10, 11, 12])
        >>> scores, ids = index.search([0.1, 0.0, 1.0], k=5)   # k > ntotal: 3 columns
        >>> ids.tolist(), np.round(scores.astype(float), 3).tolist()
        ([[12, 10, 11]], [[0.995, 0.1, 0.0]])
        """
        k = check_k(k)
        if self.ntotal == 0:
            raise ValueError("index: the index is empty; add vectors before searching")
        qx = as_vectors("q", q, self._dim, allow_1d=True)
        if self._metric == "cosine" and len(qx):
            qx = _normalise("q", qx)
        kk = min(k, self.ntotal)
        if len(qx) == 0:
            D = np.zeros((0, kk), dtype=np.float32)
            nbr = np.zeros((0, kk), dtype=np.int64)
        else:
            D, nbr = self._backend.search(qx, kk)
        ids = self._ids[nbr]
        if ids.dtype.kind == "U":
            ids = ids.astype(object)
        return SearchResult(np.ascontiguousarray(D, dtype=np.float32), ids, nbr.astype(np.int64), self._meta)
