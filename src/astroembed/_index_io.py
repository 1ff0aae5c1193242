"""Saving and loading an :class:`~astroembed.search.EmbeddingIndex` (a directory, no pickle)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _optional

if TYPE_CHECKING:
    from .search import EmbeddingIndex

FORMAT_NAME = "astroembed.EmbeddingIndex"
FORMAT_VERSION = 1


class _IndexPersistence:
    """:meth:`save` and :meth:`load` of :class:`~astroembed.search.EmbeddingIndex`."""

    def save(self, path, *, overwrite: bool = False) -> Path:
        """Write the index to a directory (no pickle anywhere).

        Files: ``manifest.json`` (format, astroembed version, dim, metric, factory, ntotal, search
        parameters), ``vectors.npy`` (Flat indexes, any backend; portable with or without faiss) or
        ``index.faiss`` (other factories, ``faiss.write_index``), ``ids.npy`` (int64 or unicode),
        and ``metadata.parquet`` when there is metadata.

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
        from . import __version__

        path = Path(path)
        if path.exists() and (not path.is_dir() or any(path.iterdir())) and not overwrite:
            raise FileExistsError(f"path: {str(path)!r} exists and is not an empty directory; "
                                  "pass overwrite=True or choose a new path")
        if self._backend is None:
            raise ValueError("index: nothing to save, the index has no dimension yet (create it with dim= "
                             "or add vectors)")
        path.mkdir(parents=True, exist_ok=True)
        for stale in ("vectors.npy", "index.faiss", "metadata.parquet", "ids.npy"):
            (path / stale).unlink(missing_ok=True)
        if self._factory == "Flat":
            storage = "vectors.npy"
            np.save(path / storage, self._backend.reconstruct_all(), allow_pickle=False)
        else:
            storage = "index.faiss"
            self._backend.write(path / storage)
        np.save(path / "ids.npy", self._ids, allow_pickle=False)
        if self._meta is not None:
            try:
                self._meta.to_parquet(path / "metadata.parquet", index=False)
            except Exception as exc:
                raise ValueError(f"metadata: cannot be written to parquet ({exc}); convert object columns "
                                 "to plain str/number columns") from None
        manifest = {
            "format": FORMAT_NAME, "format_version": FORMAT_VERSION, "astroembed_version": __version__,
            "dim": self._dim, "metric": self._metric, "index_factory": self._factory, "ntotal": self.ntotal,
            "storage": storage, "id_kind": "str" if self._ids.dtype.kind == "U" else "int",
            "has_metadata": self._meta is not None, "nprobe": self.nprobe, "ef_search": self.ef_search,
            "backend_at_save": self.backend,
        }
        (path / "manifest.json").write_text(json.dumps(manifest, indent=2))
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

        Examples
        --------
        >>> import numpy as np, astroembed as ae, tempfile, os
        >>> d = ae.EmbeddingIndex(np.eye(2)).save(os.path.join(tempfile.mkdtemp(), "i"))
        >>> len(ae.EmbeddingIndex.load(d, backend="torch"))
        2
        """
        import pandas as pd

        path = Path(path)
        mpath = path / "manifest.json"
        if not mpath.is_file():
            raise FileNotFoundError(f"path: no manifest.json in {str(path)!r}; is this a directory written by "
                                    "EmbeddingIndex.save()?")
        try:
            man: dict[str, Any] = json.loads(mpath.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"path: {str(mpath)!r} is not valid JSON ({exc})") from None
        if man.get("format") != FORMAT_NAME or man.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"path: {str(mpath)!r} is not an astroembed index manifest of format version "
                             f"{FORMAT_VERSION} (format={man.get('format')!r}, version={man.get('format_version')!r})")
        dim, n = int(man["dim"]), int(man["ntotal"])
        ids = np.load(path / "ids.npy", allow_pickle=False)
        if ids.shape != (n,):
            raise ValueError(f"path: ids.npy has shape {ids.shape}, the manifest says {n} vectors")
        meta = pd.read_parquet(path / "metadata.parquet") if man.get("has_metadata") else None
        if man["storage"] == "vectors.npy":
            vectors = np.load(path / "vectors.npy", allow_pickle=False)
            if vectors.shape != (n, dim):
                raise ValueError(f"path: vectors.npy has shape {vectors.shape}, the manifest says ({n}, {dim})")
            self = cls(metric=man["metric"], index_factory="Flat", device=device, dim=dim, backend=backend)
            if n:
                self.add(vectors, ids=ids, metadata=meta)
            return self
        if man["storage"] != "index.faiss":
            raise ValueError(f"path: unknown storage {man['storage']!r} in {str(mpath)!r}")
        if backend == "torch":
            raise ValueError(f"backend: {man['index_factory']!r} indexes need faiss; use backend='auto'")
        faiss = _optional.require("faiss", f"loading the {man['index_factory']!r} index in {str(path)!r}")
        from ._faiss_backend import FaissBackend

        self = cls(metric=man["metric"], index_factory=man["index_factory"], device=device, backend=backend)
        n_gpu = faiss.get_num_gpus() if hasattr(faiss, "get_num_gpus") else 0
        self._backend = FaissBackend.read(faiss, path / "index.faiss", man["metric"], man["index_factory"],
                                          use_gpu=n_gpu > 0 and self._device_req != "cpu")
        if self._backend.dim != dim or self._backend.ntotal != n:
            raise ValueError(f"path: index.faiss holds ({self._backend.ntotal}, {self._backend.dim}) vectors, "
                             f"the manifest says ({n}, {dim})")
        self._dim, self._ids = dim, ids
        self._meta = meta.reset_index(drop=True) if meta is not None else None
        if man.get("nprobe"):
            self.nprobe = man["nprobe"]
        if man.get("ef_search"):
            self.ef_search = man["ef_search"]
        return self
