"""Table input/output for the ``embed`` and ``classify`` commands (imported inside the handlers only).

* :func:`read_table` reads CSV / Parquet / FITS / ECSV into pandas;
* :func:`object_chunks` yields a long table (one row per observation) in chunks of about
  ``chunk_rows`` rows that never cut an object, with the 0-based data row of every chunk row in the
  input file (so errors name the right rows): Parquet whose objects are contiguous is streamed with
  bounded memory; anything else is read into memory and grouped (a stable reorder by first appearance);
* :class:`EmbeddingWriter` appends embedding chunks to a Parquet file written under a temporary name and
  renamed at the end (a failed run leaves no half-written ``--out``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ._common import CLIError

__all__ = ["read_table", "rows_text", "check_ids", "object_chunks", "row_chunks", "table_info", "EmbeddingWriter",
           "is_parquet"]

HEADER = "0-based, header not counted"


def is_parquet(path) -> bool:
    return Path(path).suffix.lower() in (".parquet", ".pq")


def read_table(path, columns=None) -> pd.DataFrame:
    """Read CSV / Parquet / FITS / ECSV into a pandas DataFrame."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{path}: no such file")
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt"):
        return pd.read_csv(p, usecols=columns)
    if is_parquet(p):
        return pd.read_parquet(p, columns=columns)
    if suffix in (".fits", ".fit", ".ecsv", ".hdf5", ".vot", ".xml"):
        from astropy.table import Table

        df = Table.read(p).to_pandas()
        return df if columns is None else df[columns]
    raise CLIError(f"{path}: unsupported table format {suffix!r}; use CSV, Parquet, FITS or ECSV")


def rows_text(idx) -> str:
    """``"24-31"`` for a run of rows, else the first eight rows."""
    idx = [int(i) for i in idx]
    if not idx:
        return "none"
    if idx == list(range(idx[0], idx[-1] + 1)):
        return f"{idx[0]}-{idx[-1]}" if len(idx) > 1 else str(idx[0])
    return ", ".join(map(str, idx[:8])) + (" ..." if len(idx) > 8 else "")


def table_info(path) -> tuple[list[str], int]:
    """Column names and number of rows (Parquet: from the footer, without reading the data)."""
    if is_parquet(path):
        import pyarrow.parquet as pq

        if not Path(path).exists():
            raise FileNotFoundError(f"{path}: no such file")
        pf = pq.ParquetFile(path)
        return list(pf.schema_arrow.names), pf.metadata.num_rows
    df = read_table(path)
    return [str(c) for c in df.columns], len(df)


def check_ids(ids: np.ndarray, path, id_column: str) -> np.ndarray:
    """Integer codes of the ids (first-appearance order); an empty id is an error naming its rows."""
    codes, _ = pd.factorize(pd.Series(ids, dtype=object), sort=False, use_na_sentinel=True)
    if (codes < 0).any():
        bad = np.flatnonzero(codes < 0)
        raise CLIError(f"{path}: empty {id_column!r} in data rows {rows_text(bad[:8])} ({HEADER}); every row needs "
                       "the id of its object")
    return codes


def _contiguous(codes: np.ndarray) -> bool:
    if len(codes) < 2:
        return True
    return int((codes[1:] != codes[:-1]).sum()) + 1 == int(codes.max()) + 1


def _cut_points(codes: np.ndarray, chunk_rows: int) -> list[int]:
    """Row positions where a chunk of about ``chunk_rows`` rows may end (object starts, grouped codes)."""
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    cuts, last = [0], 0
    for s in starts[1:]:
        if s - last >= chunk_rows:
            cuts.append(int(s))
            last = int(s)
    return cuts + [len(codes)]


def object_chunks(path, id_column: str, chunk_rows: int, *, df: pd.DataFrame | None = None, note=None):
    """Yield ``(table, rows)``: a pyarrow Table or pandas DataFrame holding whole objects, and the 0-based
    data row in ``path`` of each of its rows.  Objects come in order of first appearance."""
    if df is None and is_parquet(path):
        import pyarrow.parquet as pq

        ids = pq.read_table(path, columns=[id_column]).column(0).to_numpy(zero_copy_only=False)
        codes = check_ids(ids, path, id_column)
        if _contiguous(codes):
            yield from _parquet_stream(path, id_column, chunk_rows)
            return
        if note:
            note(f"{path}: the rows of an object are not contiguous; reading the whole table into memory "
                 f"(sort it by {id_column!r} to stream it in chunks)")
        df = read_table(path)
    if df is None:
        df = read_table(path)
    codes = check_ids(df[id_column].to_numpy(), path, id_column)
    rows = np.arange(len(df))
    if not _contiguous(codes):
        rows = np.argsort(codes, kind="stable")
        df, codes = df.iloc[rows], codes[rows]
    cuts = _cut_points(codes, chunk_rows)
    for a, b in zip(cuts[:-1], cuts[1:]):
        yield df.iloc[a:b].reset_index(drop=True), rows[a:b]


def _parquet_stream(path, id_column: str, chunk_rows: int):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    carry, carry_rows, start = None, np.zeros(0, np.int64), 0
    for rb in pf.iter_batches(batch_size=chunk_rows):
        tab = pa.Table.from_batches([rb])
        rows = np.arange(start, start + len(tab))
        start += len(tab)
        if carry is not None:
            tab, rows = pa.concat_tables([carry, tab]), np.r_[carry_rows, rows]
        ids = tab.column(id_column).to_numpy(zero_copy_only=False)
        same_as_last = np.asarray(ids == ids[-1], dtype=bool) if len(ids) else np.zeros(0, bool)
        cut = len(ids) - int(np.argmin(same_as_last[::-1])) if not same_as_last.all() else 0
        carry, carry_rows = tab.slice(cut), rows[cut:]
        if cut:
            yield tab.slice(0, cut), rows[:cut]
    if carry is not None and len(carry):
        yield carry, carry_rows


def row_chunks(path, chunk_rows: int):
    """Yield ``(table, rows)`` of about ``chunk_rows`` rows each (one row per object, e.g. spectra)."""
    if is_parquet(path):
        import pyarrow as pa
        import pyarrow.parquet as pq

        start = 0
        for rb in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
            yield pa.Table.from_batches([rb]), np.arange(start, start + rb.num_rows)
            start += rb.num_rows
        return
    df = read_table(path)
    for a in range(0, len(df), chunk_rows):
        yield df.iloc[a:a + chunk_rows].reset_index(drop=True), np.arange(a, min(a + chunk_rows, len(df)))


def columns_frame(table, names) -> pd.DataFrame:
    """Columns ``names`` of a pyarrow Table or DataFrame as pandas."""
    if hasattr(table, "iloc"):
        return table[list(names)].reset_index(drop=True)
    return table.select(list(names)).to_pandas()


class EmbeddingWriter:
    """Append ``(ids, embeddings, extra columns)`` chunks to ``out`` (the layout of
    :func:`astroembed.search.files.write_embeddings`); :meth:`commit` renames the temporary file."""

    def __init__(self, out, metadata: dict, types: dict | None = None):
        self.out = Path(out)
        self.tmp = self.out.with_name(f".{self.out.name}.partial-{os.getpid()}")
        self.metadata, self.types = metadata, dict(types or {})
        self.writer, self.n, self.dim = None, 0, None

    def write(self, ids, E: np.ndarray, extra: dict | None = None) -> None:
        import json

        import pyarrow as pa
        import pyarrow.parquet as pq

        E = np.ascontiguousarray(E, dtype=np.float32)
        arrays = {"object_id": pa.array(list(ids), type=self.types.get("object_id")),
                  "embedding": pa.FixedSizeListArray.from_arrays(pa.array(E.ravel(), pa.float32()), E.shape[1])}
        for c, v in (extra or {}).items():
            vals = [None if (isinstance(x, float) and np.isnan(x)) or x is pd.NA else x for x in list(v)]
            arrays[c] = pa.array(vals, type=self.types.get(c))
        tab = pa.table(arrays)
        if self.writer is None:
            self.dim = E.shape[1]
            tab = tab.replace_schema_metadata({"astroembed": json.dumps(self.metadata)})
            self.writer = pq.ParquetWriter(self.tmp, tab.schema)
        self.writer.write_table(tab.cast(self.writer.schema))
        self.n += len(tab)

    def commit(self) -> None:
        if self.writer is None:
            raise CLIError(f"--out {self.out}: nothing to write (no object was embedded)")
        self.writer.close()
        os.replace(self.tmp, self.out)

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.tmp.unlink(missing_ok=True)


def arrow_types(path, df: pd.DataFrame | None, names) -> dict:
    """Arrow type of each of ``names`` in the input (so every chunk is written with the same types)."""
    import pyarrow as pa

    if df is None and is_parquet(path):
        import pyarrow.parquet as pq

        schema = pq.ParquetFile(path).schema_arrow
    else:
        schema = pa.Schema.from_pandas(df[list(names)], preserve_index=False)
    out = {}
    for n in names:
        t = schema.field(n).type
        t = t.value_type if pa.types.is_dictionary(t) else t
        out[n] = None if pa.types.is_null(t) else t
    return out


def note(msg: str) -> None:
    print(msg, file=sys.stderr)
