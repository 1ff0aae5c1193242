"""Vector search over embeddings: :class:`EmbeddingIndex`.

Backends, chosen at run time:

* **faiss GPU** — faiss is installed with GPU support (``faiss.get_num_gpus() > 0``) and ``device``
  allows it;
* **faiss CPU** — faiss is installed (``pip install 'astroembed[faiss]'``);
* **torch** — exact top-k with a matrix product (CUDA when available), used when faiss is missing
  (with a one-time hint) or when ``backend="torch"``.  Exact, so it gives the same results as faiss
  ``"Flat"``.

Neither faiss nor torch is imported until an index gets its first vectors.

Scores: ``metric="cosine"`` and ``"ip"`` return inner products (higher is closer; for cosine the
stored vectors and the queries are normalised to unit length, so scores are cosine similarities in
[-1, 1]); ``metric="l2"`` returns *squared* Euclidean distances (lower is closer), as faiss does.
"""

from __future__ import annotations

import numpy as np

from .. import _optional
from . import _store
from ._build import build, fill, make_backend
from ._inputs import (
    append_metadata,
    as_metadata,
    check_k,
    check_vectors,
    new_row_ids,
    normalise,
    validate_rows,
)
from .result import SearchResult

__all__ = ["EmbeddingIndex", "METRICS", "BACKENDS"]

METRICS = ("cosine", "ip", "l2")
BACKENDS = ("auto", "faiss", "torch")


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


class EmbeddingIndex:
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
        ``"Flat"`` (exact, default); ``"auto"``: exact below
        :data:`~astroembed.search.AUTO_EXACT_MAX_VECTORS` vectors in the first ``add``, above it an
        IVF index whose ``nprobe`` is tuned on a sample of the data to reach recall@10 ≥ 0.95
        (kept only when ≥ 3× faster than exact; see :attr:`estimated_recall`, :attr:`tuning`);
        or any ``faiss.index_factory`` string: ``"IVF{nlist},Flat"``, ``"HNSW32"`` … (approximate;
        see docs/search.md).  IVF indexes are trained on the vectors of the first non-empty
        ``add``, which must hold at least ``nlist`` vectors.  Only ``"Flat"`` (and ``"auto"``, which
        then is exact) work with the torch backend.
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
    >>> ae.EmbeddingIndex(catalogue, index_factory="auto").estimated_recall   # small: exact
    1.0
    """

    def __init__(self, vectors=None, ids=None, metadata=None, *, metric: str = "cosine",
                 index_factory: str = "Flat", device: str = "auto", dim: int | None = None,
                 backend: str = "auto"):
        if not isinstance(metric, str) or metric.lower() not in METRICS:
            raise ValueError(f"metric: must be one of {METRICS}, got {metric!r}")
        if not isinstance(index_factory, str) or not index_factory.strip():
            raise TypeError(f"index_factory: expected 'auto' or a faiss factory string such as 'Flat', "
                            f"got {index_factory!r}")
        if not isinstance(backend, str) or backend.lower() not in BACKENDS:
            raise ValueError(f"backend: must be one of {BACKENDS}, got {backend!r}")
        self._metric = metric.lower()
        self._factory = index_factory.strip()
        self._auto = self._factory.lower() == "auto"
        self._device_req = _check_device(device)
        self._backend_req = backend.lower()
        self._dim = None if dim is None else check_k(dim, "dim")
        self._backend = None
        self._ids = np.zeros(0, dtype=np.int64)
        self._meta = None  # pandas DataFrame or None
        self._pending = {}  # search-time parameters set before the backend exists
        self._recall = None
        self._tuning = None
        if self._backend_req == "faiss":
            _optional.require("faiss", "EmbeddingIndex(backend='faiss')")
        if self._backend_req == "torch" and self._factory not in ("Flat", "auto"):
            raise ValueError(f"index_factory: the torch backend only does exact search ('Flat'), got "
                             f"{self._factory!r}; install faiss for approximate indexes")
        if self._dim is not None and not self._auto:
            self._make_backend(self._dim, self._factory)
        if vectors is not None:
            self.add(vectors, ids=ids, metadata=metadata)
        elif ids is not None or metadata is not None:
            raise ValueError("ids/metadata: given without vectors; pass vectors too, or use add() later")

    # ------------------------------------------------------------------ backends
    def _set_backend(self, backend, factory: str, recall, tuning=None) -> None:
        self._backend, self._dim, self._factory = backend, backend.dim, factory
        self._recall, self._tuning = recall, tuning
        for key, value in self._pending.items():
            setattr(self, key, value)
        self._pending = {}

    def _make_backend(self, dim: int, factory: str) -> None:
        backend = make_backend(dim, factory, metric=self._metric, device=self._device_req,
                               backend_req=self._backend_req)
        self._set_backend(backend, backend.index_factory, 1.0 if backend.index_factory == "Flat" else None)

    def _build(self, arr: np.ndarray, norms) -> None:
        built = build(arr, norms, factory=self._factory, auto=self._auto, metric=self._metric,
                      device=self._device_req, backend_req=self._backend_req, backend=self._backend)
        self._set_backend(built.backend, built.factory, built.recall, built.tuning)

    # ------------------------------------------------------------------ properties
    @property
    def dim(self) -> int | None:
        """Vector dimension D (``None`` for an empty index created without ``dim``)."""
        return self._dim

    @property
    def ntotal(self) -> int:
        """Number of stored vectors."""
        return len(self._ids)  # kept in step with the backend by add(); no call into faiss

    def __len__(self) -> int:
        return self.ntotal

    @property
    def metric(self) -> str:
        """``"cosine"``, ``"ip"`` or ``"l2"``."""
        return self._metric

    @property
    def index_factory(self) -> str:
        """The faiss factory string in use (``"Flat"`` for the torch backend; for ``"auto"`` the
        factory it chose, e.g. ``"IVF1000,Flat"``, or ``"auto"`` before the first vectors)."""
        return self._factory

    @property
    def estimated_recall(self) -> float | None:
        """Expected recall@10 against exact search: 1.0 for exact indexes; for ``index_factory="auto"``
        the recall measured at build time on held-out rows of the data; ``None`` when unknown (a
        hand-chosen approximate factory, or ``nprobe`` / ``ef_search`` changed by hand)."""
        return self._recall

    @property
    def tuning(self) -> dict | None:
        """What ``index_factory="auto"`` chose and why (``chosen``, ``reason``, ``nlist``, ``nprobe``,
        ``recall``, ``speedup`` over exact, the ``curve`` of ``[nprobe, recall, seconds]`` tried, …);
        ``None`` for other factories."""
        return None if self._tuning is None else dict(self._tuning)

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
            if self._auto:
                raise ValueError("nprobe: index_factory='auto' chooses and tunes the index on the first add; "
                                 "set nprobe afterwards (IVF indexes only)")
            self._pending["nprobe"] = value
            return
        nlist = self._backend.nlist
        if nlist is None:
            raise ValueError(f"nprobe: only applies to IVF indexes, this index is {self._factory!r}")
        self._backend.nprobe = min(value, nlist)
        self._recall = None

    @property
    def ef_search(self) -> int | None:
        """HNSW candidate-list size ``efSearch`` (HNSW indexes only; more → higher recall, slower)."""
        return None if self._backend is None else self._backend.ef_search

    @ef_search.setter
    def ef_search(self, value) -> None:
        value = check_k(value, "ef_search")
        if self._backend is None:
            if self._auto:
                raise ValueError("ef_search: index_factory='auto' never builds HNSW indexes")
            self._pending["ef_search"] = value
            return
        if self._backend.ef_search is None:
            raise ValueError(f"ef_search: only applies to HNSW indexes, this index is {self._factory!r}")
        self._backend.ef_search = value
        self._recall = None

    def __repr__(self) -> str:
        return (f"EmbeddingIndex(ntotal={self.ntotal}, dim={self.dim}, metric={self._metric!r}, "
                f"index_factory={self._factory!r}, backend={self.backend!r})")

    # ------------------------------------------------------------------ add / search
    def add(self, vectors, ids=None, metadata=None) -> EmbeddingIndex:
        """Add vectors (with their ids and metadata) to the index.

        Vectors are checked, converted to float32 and (cosine) normalised in chunks of
        :data:`~astroembed.search.CHUNK_ROWS` rows, so memory beyond the index itself stays small.

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
        arr = check_vectors("vectors", vectors, self._dim)
        n = len(arr)
        norms = validate_rows("vectors", arr, need_norms=self._metric == "cosine") if n else None
        new_ids = new_row_ids(ids, n, self._ids)
        meta = None if metadata is None else as_metadata(metadata, n)
        if n == 0:
            return self
        if self._backend is None or self.ntotal == 0:
            self._build(arr, norms)  # may raise (e.g. too few vectors to train): nothing changed yet
        else:
            fill(self._backend, arr, norms)
        self._ids = new_ids if not len(self._ids) else np.concatenate([self._ids, new_ids])
        self._meta = append_metadata(self._meta, meta, len(self._ids) - n, n)
        return self

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
        qx = check_vectors("q", q, self._dim, allow_1d=True)
        with np.errstate(over="ignore"):  # beyond float32 range: inf, reported below
            qx = np.ascontiguousarray(qx, dtype=np.float32)
        if len(qx) and not np.isfinite(qx.sum()) and not np.isfinite(qx).all():
            validate_rows("q", qx, need_norms=False)  # raises, naming the rows
        if self._metric == "cosine" and len(qx):
            qx = normalise("q", qx)
        kk = min(k, self.ntotal)
        if len(qx) == 0:
            D = np.zeros((0, kk), dtype=np.float32)
            nbr = np.zeros((0, kk), dtype=np.int64)
        else:
            D, nbr = self._backend.search(qx, kk)
        ids = self._ids[nbr]
        if ids.dtype.kind == "U":
            ids = ids.astype(object)
        return SearchResult(np.ascontiguousarray(D, dtype=np.float32), ids, nbr.astype(np.int64, copy=False),
                            self._meta)

    # ------------------------------------------------------------------ persistence
    def save(self, path, *, overwrite: bool = False):
        """Write the index to a directory (no pickle anywhere).

        Files: ``manifest.json`` (format, astroembed version, dim, metric, factory, ntotal, search
        parameters, ``estimated_recall`` and the ``"auto"`` ``tuning`` record), ``vectors.npy`` (Flat
        indexes, any backend; portable with or without faiss) or ``index.faiss`` (other factories,
        ``faiss.write_index``), ``ids.npy`` (int64 or unicode), and ``metadata.parquet`` when there
        is metadata.

        Parameters
        ----------
        path : str or os.PathLike
            Directory to create.
        overwrite : bool
            Allow writing into an existing non-empty directory.

        Returns
        -------
        pathlib.Path
            The directory.

        Examples
        --------
        >>> import numpy as np, astroembed as ae, tempfile, os
        >>> d = os.path.join(tempfile.mkdtemp(), "idx")
        >>> _ = ae.EmbeddingIndex(np.eye(3), ids=["a", "b", "c"]).save(d)
        >>> ae.EmbeddingIndex.load(d).search(np.eye(3)[1], k=1)[1].tolist()
        [['b']]
        """
        from .. import __version__

        if self._backend is None:
            raise ValueError("index: nothing to save, the index has no dimension yet (create it with dim= "
                             "or add vectors)")
        path = _store.prepare_dir(path, overwrite)
        if self._factory == "Flat":
            storage = "vectors.npy"
            np.save(path / storage, self._backend.reconstruct_all(), allow_pickle=False)
        else:
            storage = "index.faiss"
            self._backend.write(path / storage)
        _store.write_common(path, self._ids, self._meta, {
            "astroembed_version": __version__, "dim": self._dim, "metric": self._metric,
            "index_factory": self._factory, "ntotal": self.ntotal, "storage": storage,
            "id_kind": "str" if self._ids.dtype.kind == "U" else "int", "nprobe": self.nprobe,
            "ef_search": self.ef_search, "backend_at_save": self.backend,
            "estimated_recall": self._recall, "tuning": self._tuning})
        return path

    @classmethod
    def load(cls, path, *, device: str = "auto", backend: str = "auto") -> EmbeddingIndex:
        """Read an index written by :meth:`save`.

        Parameters
        ----------
        path : str or os.PathLike
            The directory written by :meth:`save`.
        device, backend : str
            As in the constructor.  A Flat index loads with either backend; other factories need faiss.

        Returns
        -------
        EmbeddingIndex
            With the saved search parameters, :attr:`estimated_recall` and :attr:`tuning`.

        Examples
        --------
        >>> import numpy as np, astroembed as ae, tempfile, os
        >>> d = ae.EmbeddingIndex(np.eye(2)).save(os.path.join(tempfile.mkdtemp(), "i"))
        >>> len(ae.EmbeddingIndex.load(d, backend="torch"))
        2
        """
        path, man, ids, meta = _store.read_common(path)
        dim, n, factory = int(man["dim"]), int(man["ntotal"]), man["index_factory"]
        if man["storage"] == "vectors.npy":
            vectors = _store.read_vectors(path, n, dim)
            self = cls(metric=man["metric"], index_factory="Flat", device=device, dim=dim, backend=backend)
            if n:
                self.add(vectors, ids=ids, metadata=meta)
        else:
            if backend == "torch":
                raise ValueError(f"backend: {factory!r} indexes need faiss; use backend='auto'")
            faiss = _optional.require("faiss", f"loading the {factory!r} index in {str(path)!r}")
            from ._faiss import FaissBackend, use_gpu

            self = cls(metric=man["metric"], index_factory=factory, device=device, backend=backend)
            self._backend = FaissBackend.read(faiss, path / "index.faiss", man["metric"], factory,
                                              use_gpu=use_gpu(faiss, self._device_req))
            if self._backend.dim != dim or self._backend.ntotal != n:
                raise ValueError(f"path: index.faiss holds ({self._backend.ntotal}, {self._backend.dim}) vectors, "
                                 f"the manifest says ({n}, {dim})")
            self._dim, self._ids, self._meta = dim, ids, meta
            if man.get("nprobe"):
                self.nprobe = man["nprobe"]
            if man.get("ef_search"):
                self.ef_search = man["ef_search"]
        self._recall = man.get("estimated_recall", 1.0 if factory == "Flat" else None)
        self._tuning = man.get("tuning")
        self._auto = False  # the choice is made; later adds go into the loaded index
        return self
