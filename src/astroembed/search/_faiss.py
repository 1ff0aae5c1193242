"""faiss backend of :class:`astroembed.EmbeddingIndex`: on the GPU when ``faiss.get_num_gpus() > 0``
(decided at run time, in :func:`use_gpu`), else on the CPU.

Private: users go through :class:`~astroembed.search.EmbeddingIndex`, which validates every input
before it reaches faiss (faiss checks its arguments with bare ``assert`` s, gone under ``python -O``).
faiss itself is imported by the caller at run time (:func:`astroembed._optional.import_faiss`), never
when :mod:`astroembed.search` is imported.

Internal ids are row positions ``0 .. ntotal-1`` (the order of ``add``); the mapping to user ids
lives in :class:`EmbeddingIndex`.  No ``IndexIDMap`` is used.
"""

from __future__ import annotations

import logging
import re
import threading

import numpy as np

logger = logging.getLogger(__name__)

GPU_MAX_K = 2048  # faiss GPU k-selection limit (k and nprobe)


def use_gpu(faiss, device: str) -> bool:
    """Whether to put the index on a GPU: ``device`` is ``"auto"``/``"cuda..."`` and faiss sees a GPU.

    Raises ValueError for ``device="cuda"`` when faiss has no GPU support.
    """
    n_gpu = faiss.get_num_gpus() if hasattr(faiss, "get_num_gpus") else 0
    if device.startswith("cuda") and n_gpu == 0:
        raise ValueError("device: 'cuda' requested but faiss has no GPU support here "
                         "(faiss.get_num_gpus() == 0); install faiss-gpu or use device='auto'")
    return n_gpu > 0 and device != "cpu"


def _metric_type(faiss, metric: str) -> int:
    return faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT


def _unwrap(faiss, index):
    """The innermost index behind pre-transforms / refinement wrappers (CPU indexes only)."""
    index = faiss.downcast_index(index)
    for _ in range(8):
        if isinstance(index, faiss.IndexPreTransform):
            index = faiss.downcast_index(index.index)
        elif hasattr(faiss, "IndexRefine") and isinstance(index, faiss.IndexRefine):
            index = faiss.downcast_index(index.base_index)
        else:
            break
    return index


class FaissBackend:
    """A faiss index addressed by row position.

    Parameters
    ----------
    faiss : module
        The imported faiss module.
    dim : int
        Vector dimension.
    metric : {"cosine", "ip", "l2"}
        Cosine and ip use ``METRIC_INNER_PRODUCT`` (cosine inputs are normalised by the caller).
    index_factory : str
        A ``faiss.index_factory`` string, e.g. ``"Flat"``, ``"IVF256,Flat"``, ``"HNSW32"``.
    use_gpu : bool
        Move the index to GPU 0 (falls back to the CPU, with a warning, for index types faiss
        cannot run on a GPU, e.g. HNSW).
    index : faiss.Index, optional
        An existing CPU index (from :func:`faiss.read_index`) instead of a new one.
    """

    name = "faiss"

    def __init__(self, faiss, dim: int, metric: str, index_factory: str, use_gpu: bool, index=None):
        self.faiss = faiss
        self.dim = int(dim)
        self.metric = metric
        self.index_factory = index_factory
        self._lock = threading.Lock()
        if index is None:
            if re.search(r"IDMap", index_factory, flags=re.IGNORECASE):
                raise ValueError(f"index_factory: {index_factory!r} contains IDMap; EmbeddingIndex maps ids "
                                 "itself, drop the IDMap part (e.g. 'IVF256,Flat')")
            try:
                index = faiss.index_factory(self.dim, index_factory, _metric_type(faiss, metric))
            except RuntimeError as exc:
                first = str(exc).strip().splitlines()[-1]
                raise ValueError(f"index_factory: {index_factory!r} is not a valid faiss factory string "
                                 f"({first}); try 'Flat', 'IVF256,Flat' or 'HNSW32'") from None
        self._cpu = index  # keeps the CPU index alive (and is the index when not on GPU)
        self.index = index
        self.on_gpu = False
        self._gpu_res = None
        if use_gpu:
            try:
                self._gpu_res = faiss.StandardGpuResources()
                self.index = faiss.index_cpu_to_gpu(self._gpu_res, 0, index)
                self.on_gpu = True
            except (RuntimeError, AttributeError) as exc:
                import warnings

                warnings.warn(f"faiss cannot run index_factory {index_factory!r} on the GPU ({exc}); "
                              "using the CPU index", RuntimeWarning, stacklevel=4)
                self.index = index
        self._nlist = self._find_nlist()

    # ------------------------------------------------------------------ introspection
    @property
    def device(self) -> str:
        return "cuda:0" if self.on_gpu else "cpu"

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def is_trained(self) -> bool:
        return bool(self.index.is_trained)

    def _find_nlist(self) -> int | None:
        if self.on_gpu:
            return int(self.index.nlist) if hasattr(self.index, "nlist") else None
        ivf = self._ivf()
        return int(ivf.nlist) if ivf is not None else None

    def _ivf(self):
        try:
            return self.faiss.extract_index_ivf(self._cpu_view())
        except (RuntimeError, AttributeError):
            return None

    def _hnsw(self):
        inner = _unwrap(self.faiss, self._cpu_view())
        return inner if hasattr(inner, "hnsw") else None

    def _cpu_view(self):
        return self._cpu if not self.on_gpu else self.index

    # ------------------------------------------------------------------ search-time parameters
    @property
    def nprobe(self) -> int | None:
        if self._nlist is None:
            return None
        return int(self.index.nprobe) if self.on_gpu else int(self._ivf().nprobe)

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        if self._nlist is None:
            raise AttributeError(f"nprobe only applies to IVF indexes; this index is {self.index_factory!r}")
        if self.on_gpu:
            if value > GPU_MAX_K:
                raise ValueError(f"nprobe: faiss GPU indexes support nprobe <= {GPU_MAX_K}, got {value}")
            self.index.nprobe = int(value)
        else:
            self._ivf().nprobe = int(value)

    @property
    def ef_search(self) -> int | None:
        h = None if self.on_gpu else self._hnsw()
        return int(h.hnsw.efSearch) if h is not None else None

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        h = None if self.on_gpu else self._hnsw()
        if h is None:
            raise AttributeError(f"ef_search only applies to HNSW indexes; this index is {self.index_factory!r}")
        h.hnsw.efSearch = int(value)

    @property
    def nlist(self) -> int | None:
        return self._nlist

    # ------------------------------------------------------------------ add / search
    def train_if_needed(self, x: np.ndarray, kmeans_iter: int | None = None) -> None:
        """Train on ``x`` if the index is untrained (IVF, PQ …); errors are turned into ValueError.

        ``kmeans_iter`` sets the k-means iterations of an IVF coarse quantizer (faiss default otherwise).
        """
        if self.index.is_trained:
            return
        if kmeans_iter is not None and self._nlist is not None:
            ivf = self.index if self.on_gpu else self._ivf()
            if hasattr(ivf, "cp"):
                ivf.cp.niter = int(kmeans_iter)
        n = len(x)
        if self._nlist is not None and n < self._nlist:
            raise ValueError(
                f"vectors: index_factory {self.index_factory!r} has {self._nlist} IVF lists and needs at least "
                f"{self._nlist} vectors to train (faiss recommends >= {39 * self._nlist}); got {n}. Add more "
                f"vectors in the first add(), use fewer lists (e.g. 'IVF{max(1, int(np.sqrt(n)))},Flat') or "
                "index_factory='Flat'")
        try:
            self.index.train(x)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[-1]
            raise ValueError(f"vectors: could not train index_factory {self.index_factory!r} on {n} vectors "
                             f"({first}); add more vectors in the first add() or use index_factory='Flat'") from None

    def add(self, x: np.ndarray) -> None:
        self.train_if_needed(x)
        self.index.add(x)

    def _flat_cpu(self):
        """The index itself when it is a plain CPU ``IndexFlat`` (whose storage we may fill directly)."""
        if self.on_gpu:
            return None
        index = self.faiss.downcast_index(self.index)
        flat_types = tuple(getattr(self.faiss, t) for t in ("IndexFlatIP", "IndexFlatL2", "IndexFlat")
                           if hasattr(self.faiss, t))
        ok = type(index) in flat_types and hasattr(index, "codes") and hasattr(index.codes, "resize")
        return index if ok else None

    def add_chunks(self, chunks, n: int) -> None:
        """Add ``n`` rows given as ``(start, float32 chunk)`` blocks (already trained).

        A CPU Flat index is filled in place: its storage is sized once and the chunks are written
        into it (one copy of the data, no reallocation per chunk: adding chunk by chunk through
        ``index.add`` is ~2x slower at 10^6 rows).  Other indexes get one ``add`` per chunk.
        """
        flat = self._flat_cpu()
        if flat is None:
            for _, c in chunks:
                self.index.add(c)
            return
        old, d = int(flat.ntotal), self.dim
        flat.codes.resize((old + n) * d * 4)
        view = self.faiss.rev_swig_ptr(flat.get_xb(), (old + n) * d).reshape(old + n, d)
        for s, c in chunks:
            view[old + s:old + s + len(c)] = c
        flat.ntotal = old + n

    def _search_cpu_copy(self, q: np.ndarray, k: int, exhaustive: bool):
        """Search a CPU copy of a GPU index (k or nprobe beyond the GPU limit)."""
        cpu = self.faiss.index_gpu_to_cpu(self.index)
        if exhaustive and self._nlist is not None:
            self.faiss.extract_index_ivf(cpu).nprobe = self._nlist
        return cpu.search(q, k)

    def search_raw(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """faiss's answer as it is (approximate indexes may leave ``-1`` slots)."""
        if self.on_gpu and k > GPU_MAX_K:
            return self._search_cpu_copy(q, k, exhaustive=False)
        return self.index.search(q, k)

    def search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (``k <= ntotal``) row positions, every slot filled (no ``-1``)."""
        D, nbr = self.search_raw(q, k)
        if nbr.size and nbr.min() < 0:
            missing = (nbr < 0).any(axis=1)
            # approximate indexes may return fewer than k hits (e.g. IVF lists smaller than k at low
            # nprobe); redo those queries exhaustively rather than let -1 reach users.
            rows = np.flatnonzero(missing)
            D2, nbr2 = self._search_exhaustive(np.ascontiguousarray(q[rows]), k)
            D[rows], nbr[rows] = D2, nbr2
            if (nbr < 0).any():
                raise RuntimeError(f"faiss index {self.index_factory!r} returned fewer than k={k} results even "
                                   "in an exhaustive search; please report this with the index factory used")
        return D, nbr

    def knn(self, q: np.ndarray, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-``k`` of ``q`` among the rows of ``x`` (not the index), on this index's device;
        scores with higher = closer (negated squared distances for l2)."""
        mt = _metric_type(self.faiss, self.metric)
        if self.on_gpu and hasattr(self.faiss, "knn_gpu"):
            D, idx = self.faiss.knn_gpu(self._gpu_res, q, x, k, metric=mt)
        else:
            D, idx = self.faiss.knn(q, x, k, metric=mt)
        return (-D if self.metric == "l2" else D), idx

    def _search_exhaustive(self, q: np.ndarray, k: int):
        with self._lock:
            if self._nlist is not None:
                if self.on_gpu:
                    return self._search_cpu_copy(q, k, exhaustive=True)
                old = self.nprobe
                self.nprobe = self._nlist
                try:
                    return self.index.search(q, k)
                finally:
                    self.nprobe = old
            if self.ef_search is not None:
                old = self.ef_search
                self.ef_search = max(self.ntotal, k)
                try:
                    return self.index.search(q, k)
                finally:
                    self.ef_search = old
            return self.index.search(q, k)

    # ------------------------------------------------------------------ persistence
    def cpu_index(self):
        """The index as a CPU index (a copy when on the GPU), for ``faiss.write_index``."""
        return self.faiss.index_gpu_to_cpu(self.index) if self.on_gpu else self.index

    def reconstruct_all(self) -> np.ndarray:
        """All stored vectors, (ntotal, dim) float32 (Flat indexes only)."""
        if self.ntotal == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.ascontiguousarray(self.cpu_index().reconstruct_n(0, self.ntotal), dtype=np.float32)

    def write(self, path: str) -> None:
        self.faiss.write_index(self.cpu_index(), str(path))

    @classmethod
    def read(cls, faiss, path: str, metric: str, index_factory: str, use_gpu: bool) -> FaissBackend:
        index = faiss.read_index(str(path))
        return cls(faiss, index.d, metric, index_factory, use_gpu, index=index)
