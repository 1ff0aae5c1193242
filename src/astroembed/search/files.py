"""Read and write embedding tables as Parquet: one row per object, ``object_id`` + ``embedding``
(fixed-size list of float32) + any extra columns (redshift, label, …)."""

from __future__ import annotations

import json
import os

import numpy as np

__all__ = ["write_embeddings", "read_embeddings"]


def write_embeddings(path: str | os.PathLike, embeddings: np.ndarray, ids=None, *, columns: dict | None = None,
                     metadata: dict | None = None) -> None:
    """Write ``embeddings`` (N, D) with ``ids`` and extra ``columns`` (name -> length-N array) to Parquet.

    ``metadata`` (JSON-serialisable, e.g. the model name) is stored in the Parquet schema metadata.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    E = np.ascontiguousarray(embeddings, dtype=np.float32)
    if E.ndim != 2:
        raise ValueError(f"embeddings: expected a 2-D array (N, D), got shape {E.shape}")
    n, d = E.shape
    ids = np.arange(n) if ids is None else np.asarray(ids)
    if len(ids) != n:
        raise ValueError(f"ids: length {len(ids)} != number of embeddings {n}")
    arrays = {"object_id": pa.array(ids.tolist()),
              "embedding": pa.FixedSizeListArray.from_arrays(pa.array(E.ravel(), pa.float32()), d)}
    for name, col in (columns or {}).items():
        col = np.asarray(col)
        if len(col) != n:
            raise ValueError(f"columns[{name!r}]: length {len(col)} != {n}")
        arrays[name] = pa.array(col.tolist())
    table = pa.table(arrays)
    table = table.replace_schema_metadata({"astroembed": json.dumps(metadata or {})})
    pq.write_table(table, path)


def read_embeddings(path: str | os.PathLike):
    """Return ``(embeddings (N, D) float32, DataFrame of the other columns, metadata dict)``."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    if "embedding" not in table.column_names:
        raise ValueError(f"{path}: no 'embedding' column; is it a file written by `astroembed embed`?")
    emb = table.column("embedding").combine_chunks()
    values = np.asarray(emb.flatten().to_numpy(zero_copy_only=False), dtype=np.float32)
    E = values.reshape(len(table), -1)
    other = table.drop(["embedding"]).to_pandas()
    raw = (table.schema.metadata or {}).get(b"astroembed", b"{}")
    return E, other, json.loads(raw)
