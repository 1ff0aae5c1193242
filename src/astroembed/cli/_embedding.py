"""The work of ``astroembed embed`` (imported by its handler only).

Two paths:

* **table path** (light curves; spectra with one row per spectrum: list columns or the wide layout):
  :func:`astroembed.table.embed_table` on chunks of about ``--chunk-rows`` rows that never cut an
  object (:func:`._tables.object_chunks`), appended to the output Parquet as they come.  A Parquet input
  whose objects are contiguous is streamed with bounded memory; other inputs are read into memory.
* **grouping path** (spectra in long format, one row per pixel, which the table path does not read):
  one :class:`~astroembed.Spectrum` per object, then ``model.embed_spectrum``.

Both name the input file, the object id and its 0-based data rows on bad input.
"""

from __future__ import annotations

import re
import sys

import numpy as np
import pandas as pd

from . import _tables as T
from ._common import CLIError

__all__ = ["embed_file", "spectrum_layout", "cli_words"]

_PREFIX = re.compile(r"^object .*?, table row (\d+): ")


def cli_words(msg: str) -> str:
    """Library keyword hints in an error message, in command-line words."""
    for a, b in (("dropna=True", "--dropna"), ("errors='coerce'", "--errors coerce"),
                 ("duplicates='mean' or 'keep'", "--duplicates mean or keep"), ("(pass id_column=...)", "(--id-column)"),
                 ("Pass survey='ztf'/'lsst'/...", "Pass --survey ztf, lsst, ...")):
        msg = msg.replace(a, b)
    return msg


def spectrum_layout(names, df, path, id_column) -> str:
    """``"rows"`` (one row per spectrum: list columns or wide layout: the table path) or ``"long"`` (one row
    per pixel: the grouping path)."""
    from ..data.aliases import SPECTRUM_COLUMNS, find_column

    w = find_column(names, "wavelength", SPECTRUM_COLUMNS)
    if w is None:
        wide = [c for c in names if re.match(r"^(?:flux_?)?\d+(?:\.\d*)?$", str(c), re.IGNORECASE)]
        return "rows" if len(wide) >= 5 else "long"
    if df is None:  # Parquet: the schema says whether the column holds lists
        import pyarrow as pa
        import pyarrow.parquet as pq

        t = pq.ParquetFile(path).schema_arrow.field(w).type
        return "rows" if (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)) else "long"
    first = df[w].dropna()
    return "rows" if len(first) and np.ndim(first.iloc[0]) == 1 else "long"


class _Run:
    """One ``astroembed embed`` run over the table path."""

    def __init__(self, args, model, keep):
        self.args, self.model, self.keep = args, model, keep
        self.kw = dict(id_column=args.id_column, batch_size=args.batch_size, progress=False, dropna=args.dropna)
        if args.kind == "lightcurve":
            self.kw.update(survey=args.survey, duplicates=args.duplicates)

    # -- embedding one chunk --------------------------------------------------------------------
    def _embed(self, tab, errors):
        from ..table import embed_table

        return embed_table(tab, self.model, self.args.kind, errors=errors, **self.kw)

    def _object_rows(self, tab, rows, ids, i):
        """Data rows of ``ids[i]`` and the sub-table holding only that object."""
        if self.args.kind == "spectrum":
            return rows[i:i + 1], (tab.iloc[i:i + 1] if hasattr(tab, "iloc") else tab.slice(i, 1))
        col = T.columns_frame(tab, [self.args.id_column])[self.args.id_column].to_numpy()
        mask = np.asarray(col == ids[i], dtype=bool)
        sub = tab[mask].reset_index(drop=True) if hasattr(tab, "iloc") else tab.filter(mask)
        return rows[mask], sub

    def explain(self, tab, rows, ids, i) -> str:
        """``object 'x' (data rows a-b, ...): reason`` for the object ``ids[i]`` that failed."""
        obj_rows, sub = self._object_rows(tab, rows, ids, i)
        reason = "its embedding is not finite"
        try:
            self._embed(sub, "raise")
        except (ValueError, TypeError) as exc:
            msg = str(exc)
            m = _PREFIX.match(msg)
            reason = (f"data row {obj_rows[int(m.group(1))]}: " + msg[m.end():]) if m else msg
        return f"object {ids[i]!r} (data rows {T.rows_text(obj_rows)}, {T.HEADER}): {cli_words(reason)}"

    def chunk(self, tab, rows):
        """``(ids, E)`` of one chunk; with ``--errors raise`` a failure names the first bad object."""
        a = self.args
        try:
            return self._embed(tab, a.errors)
        except (ValueError, TypeError) as exc:
            if a.errors == "coerce":
                raise CLIError(f"{a.input}: {cli_words(str(exc))}") from None
            try:  # find which objects fail (only on failure)
                ids, E = self._embed(tab, "coerce")
            except (ValueError, TypeError):
                raise CLIError(f"{a.input}: {cli_words(str(exc))}") from None
            bad = np.flatnonzero(~np.isfinite(E).all(axis=1))
            if not len(bad):
                raise CLIError(f"{a.input}: {cli_words(str(exc))}") from None
            more = (f"; {len(bad) - 1} more object(s) in data rows {rows.min()}-{rows.max()} cannot be embedded "
                    "either (--errors coerce writes NaN rows for them)") if len(bad) > 1 else ""
            raise CLIError(f"{a.input}: {self.explain(tab, rows, ids, bad[0])}{more}") from None

    # -- per-object columns -----------------------------------------------------------------------
    def kept(self, tab, rows, ids) -> dict:
        if not self.keep:
            return {}
        a = self.args
        if a.kind == "spectrum":
            kf = T.columns_frame(tab, self.keep)
            return {c: kf[c].to_numpy(dtype=object) for c in self.keep}
        kf = T.columns_frame(tab, [a.id_column, *self.keep])
        g = kf.groupby(a.id_column, sort=False)
        many = g[self.keep].nunique(dropna=True) > 1
        if many.to_numpy().any():
            oid = many.index[many.any(axis=1).to_numpy()][0]
            c = next(c for c in self.keep if many.loc[oid, c])
            mask = (kf[a.id_column] == oid).to_numpy()
            vals = kf.loc[mask, c].dropna().unique()
            raise CLIError(f"{a.input}: object {oid!r} (data rows {T.rows_text(rows[mask])}, {T.HEADER}): "
                           f"--keep-columns {c!r} is not constant within the object ({vals[:3].tolist()} ...); "
                           "keep only per-object columns")
        first = g[self.keep].first()
        first.index = pd.Index(first.index.to_numpy(dtype=object), dtype=object)
        return {c: first[c].reindex(pd.Index(list(ids), dtype=object)).to_numpy(dtype=object) for c in self.keep}


def embed_file(args, model, keep, df, n_rows: int) -> tuple[int, int, int, str | None]:
    """Embed ``args.input`` on the table path into ``args.out``; returns (objects, dimension, objects that
    failed, explanation of the first failure)."""
    from tqdm.auto import tqdm

    run = _Run(args, model, keep)
    if args.kind == "lightcurve":
        chunks = T.object_chunks(args.input, args.id_column, args.chunk_rows, df=df, note=T.note)
    elif df is not None:
        chunks = ((df.iloc[a:a + args.chunk_rows].reset_index(drop=True), np.arange(a, min(a + args.chunk_rows, n_rows)))
                  for a in range(0, n_rows, args.chunk_rows))
    else:
        chunks = T.row_chunks(args.input, args.chunk_rows)
    types = T.arrow_types(args.input, df, [args.id_column, *keep])
    types["object_id"] = types.pop(args.id_column) if args.id_column not in keep else types[args.id_column]
    writer = T.EmbeddingWriter(args.out, {"model": args.model, "kind": args.kind, "input": str(args.input)}, types)
    bar = tqdm(total=n_rows, unit="row", desc=f"embed {args.input}", file=sys.stderr,
               disable=True if args.no_progress else None)
    n_bad, first_bad = 0, None
    try:
        for tab, rows in chunks:
            order = _chunk_ids(tab, args) if args.kind == "lightcurve" else None
            extra = run.kept(tab, rows, order)  # before embedding: a bad --keep-columns fails fast
            ids, E = run.chunk(tab, rows)
            if order is not None and list(ids) != list(order):  # pragma: no cover - embed_table's documented order
                raise RuntimeError("embed_table returned the ids in an unexpected order")
            writer.write(ids, E, extra)
            bad = np.flatnonzero(~np.isfinite(E).all(axis=1))
            if len(bad) and first_bad is None:
                first_bad = run.explain(tab, rows, ids, bad[0])
            n_bad += len(bad)
            bar.update(len(rows))
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    finally:
        bar.close()
    return writer.n, writer.dim, n_bad, first_bad


def _chunk_ids(tab, args):
    """Distinct ids of a chunk in order of first appearance (the order of ``embed_table``'s ids)."""
    return pd.unique(T.columns_frame(tab, [args.id_column])[args.id_column].to_numpy(dtype=object))
