"""The on-disk format of a saved :class:`~astroembed.search.EmbeddingIndex` (a directory, no pickle).

Plain functions on explicit arguments; :meth:`EmbeddingIndex.save` / :meth:`EmbeddingIndex.load`
decide what goes in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_NAME = "astroembed.EmbeddingIndex"
#: 2 adds ``estimated_recall`` and ``tuning``; version 1 directories still load
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
STORAGE_FILES = ("vectors.npy", "index.faiss", "metadata.parquet", "ids.npy")


def prepare_dir(path, overwrite: bool) -> Path:
    """Create ``path`` (refusing a non-empty one unless ``overwrite``) and remove stale index files."""
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())) and not overwrite:
        raise FileExistsError(f"path: {str(path)!r} exists and is not an empty directory; "
                              "pass overwrite=True or choose a new path")
    path.mkdir(parents=True, exist_ok=True)
    for stale in STORAGE_FILES:
        (path / stale).unlink(missing_ok=True)
    return path


def write_common(path: Path, ids: np.ndarray, meta, manifest: dict[str, Any]) -> None:
    """Write ``ids.npy``, ``metadata.parquet`` (when ``meta`` is not None) and ``manifest.json``."""
    np.save(path / "ids.npy", ids, allow_pickle=False)
    if meta is not None:
        try:
            meta.to_parquet(path / "metadata.parquet", index=False)
        except Exception as exc:
            raise ValueError(f"metadata: cannot be written to parquet ({exc}); convert object columns "
                             "to plain str/number columns") from None
    manifest = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **manifest,
                "has_metadata": meta is not None}
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2))


def read_common(path) -> tuple[Path, dict[str, Any], np.ndarray, Any]:
    """``(path, manifest, ids, metadata DataFrame or None)`` of a saved index, checked."""
    path = Path(path)
    mpath = path / "manifest.json"
    if not mpath.is_file():
        raise FileNotFoundError(f"path: no manifest.json in {str(path)!r}; is this a directory written by "
                                "EmbeddingIndex.save()?")
    try:
        man: dict[str, Any] = json.loads(mpath.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"path: {str(mpath)!r} is not valid JSON ({exc})") from None
    if man.get("format") != FORMAT_NAME or man.get("format_version") not in READABLE_VERSIONS:
        raise ValueError(f"path: {str(mpath)!r} is not an astroembed index manifest of format version "
                         f"{READABLE_VERSIONS} (format={man.get('format')!r}, version={man.get('format_version')!r})")
    if man.get("storage") not in ("vectors.npy", "index.faiss"):
        raise ValueError(f"path: unknown storage {man.get('storage')!r} in {str(mpath)!r}")
    n = int(man["ntotal"])
    ids = np.load(path / "ids.npy", allow_pickle=False)
    if ids.shape != (n,):
        raise ValueError(f"path: ids.npy has shape {ids.shape}, the manifest says {n} vectors")
    meta = None
    if man.get("has_metadata"):
        import pandas as pd

        meta = pd.read_parquet(path / "metadata.parquet").reset_index(drop=True)
    return path, man, ids, meta


def read_vectors(path: Path, n: int, dim: int) -> np.ndarray:
    """``vectors.npy`` of a Flat index, checked against the manifest's shape."""
    vectors = np.load(path / "vectors.npy", allow_pickle=False)
    if vectors.shape != (n, dim):
        raise ValueError(f"path: vectors.npy has shape {vectors.shape}, the manifest says ({n}, {dim})")
    return vectors
