"""Embed a whole table at once: :func:`embed_table` (in memory) and :func:`embed_parquet` (streaming).

Light curves come in *long* format, one row per observation, with an object-id column and the usual
column aliases (:mod:`astroembed.data.aliases`: ``mjd``/``time``/``jd``, ``band``/``filter``/``fid``,
``mag``/``magpsf`` + ``magerr``/``sigmapsf``, or ``flux`` + ``flux_err`` in µJy, with optional ``zp``
/ ``zpsys``).  The rows are validated, converted and sorted exactly as :class:`~astroembed.LightCurve`
does it, but over whole arrays, then embedded through the vectorised kernel of
:mod:`astroembed.data.packed` — the result equals building one ``LightCurve`` per object and calling
``model.embed_lightcurve`` (≤ 1e-4; the tests check it).

Spectra come one row per spectrum: list columns (``wavelength``/``wave``, ``flux``, optional
``flux_err``) or a *wide* layout whose flux columns are named by their wavelength in Å (``"4000.5"``
or ``"flux_4000.5"``).

Bad input raises ``ValueError`` naming the object id and the 0-based table row; ``errors="coerce"``
gives the offending object a row of NaN instead (``dropna=True`` drops non-finite rows first, as the
containers do).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from .data.aliases import SPECTRUM_COLUMNS, find_column
from .data.table_pack import as_float_column, pack_table
from .models.embedding import check_errors

__all__ = ["embed_table", "embed_parquet", "table_columns"]


def _load_model(model):
    if isinstance(model, (str, os.PathLike)):
        from .models.pretrained import load_pretrained

        return load_pretrained(model)
    return model


def table_columns(table) -> dict[str, object]:
    """Column name → array-like for a pandas DataFrame, pyarrow Table, astropy Table, dict or Parquet path."""
    if isinstance(table, (str, os.PathLike)):
        import pyarrow.parquet as pq

        table = pq.read_table(Path(table))
    if hasattr(table, "schema") and hasattr(table, "column_names"):  # pyarrow Table / RecordBatch
        return {name: table.column(name).to_numpy(zero_copy_only=False) if table.column(name).type.num_fields == 0
                else table.column(name) for name in table.column_names}
    if hasattr(table, "colnames"):
        return {n: table[n] for n in table.colnames}
    if hasattr(table, "columns") and hasattr(table, "iloc"):  # pandas: keep Series (fast factorize)
        return {str(c): table[c] for c in table.columns}
    if isinstance(table, dict):
        return dict(table)
    raise TypeError(f"embed_table: expected a pandas DataFrame, pyarrow Table, astropy Table, dict of columns or "
                    f"a Parquet path; got {type(table).__name__}")


def _embed_lightcurves(cols, model, id_column, *, errors, batch_size, progress, normalize, survey, dropna,
                       duplicates):
    from .models.embedding import run_embedding

    ids, packed, ok, problems = pack_table(cols, id_column, survey=survey, dropna=dropna, duplicates=duplicates,
                                           errors=errors)
    failures = {i: ValueError(m) for i, m in problems.items()}
    if hasattr(model, "prepare_lightcurves"):
        prep = model.prepare_lightcurves(None, packed=packed, index=ok, failures=failures)
        E = run_embedding(range(len(ids)), prepare=lambda _: prep, encode=model.encode_lightcurves,
                          dim=model.embed_dim, device=model.device, batch_size=batch_size, progress=progress,
                          normalize=normalize, desc="embed light curves", errors=errors)
        return ids, E
    from .data.containers import LightCurve  # a family without the packed kernel: one container per object

    lcs = [None] * len(ids)
    for j, i in enumerate(ok):
        s = slice(packed.offsets[j], packed.offsets[j + 1])
        lcs[i] = LightCurve(time=packed.time[s], band=packed.band_names[packed.band_code[s]], flux=packed.flux[s],
                            flux_err=packed.flux_err[s], object_id=ids[i], duplicates="keep")
    return ids, model.embed_lightcurve(lcs, batch_size=batch_size, progress=progress, normalize=normalize,
                                       errors="coerce" if errors == "coerce" else "raise")


_WIDE = re.compile(r"^(?:flux_?)?(\d+(?:\.\d*)?)$", re.IGNORECASE)


def _spectra_from_columns(cols, id_column, errors, dropna):
    from .data.containers import Spectrum

    n = len(next(iter(cols.values()))) if cols else 0
    ids = np.asarray(cols[id_column], dtype=object) if id_column in cols else np.arange(n)
    zname = next((c for c in cols if c.lower() in ("redshift", "z")), None)
    z = as_float_column(cols, zname) if zname else np.full(n, np.nan)
    wname = find_column(cols, "wavelength", SPECTRUM_COLUMNS)
    if wname is not None:
        fname, ename = find_column(cols, "flux", SPECTRUM_COLUMNS), find_column(cols, "flux_err", SPECTRUM_COLUMNS)
        if fname is None:
            raise ValueError(f"table: wavelength list column {wname!r} found but no flux column; got {list(cols)}")
        lists = {c: cols[c].to_numpy() if hasattr(cols[c], "iloc") else cols[c] for c in (wname, fname, ename) if c}
        get = lambda name, i: np.asarray(lists[name][i].as_py() if hasattr(lists[name][i], "as_py")  # noqa: E731
                                         else lists[name][i], dtype=np.float64)
        rows = ((get(wname, i), get(fname, i), None if ename is None else get(ename, i)) for i in range(n))
    else:
        wide = [(float(m.group(1)), c) for c in cols if (m := _WIDE.match(str(c)))]
        if len(wide) < 5:
            raise ValueError("table: spectra need a list column (wavelength/wave + flux) or a wide layout with "
                             f"flux columns named by wavelength in Å (e.g. '4000.5'); got columns {list(cols)}")
        wide.sort()
        wave = np.array([w for w, _ in wide])
        flux = np.column_stack([as_float_column(cols, c) for _, c in wide])
        rows = ((wave, flux[i], None) for i in range(n))
    out = []
    for i, (w, f, fe) in enumerate(rows):
        try:
            out.append(Spectrum(w, f, fe, redshift=None if not np.isfinite(z[i]) else float(z[i]),
                                object_id=ids[i], dropna=dropna))
        except (ValueError, TypeError) as exc:
            if errors == "raise":
                raise type(exc)(f"object {ids[i]!r}, table row {i}: {exc}") from exc
            out.append(None)
    return ids, out


def embed_table(table, model="maven", kind: str = "lightcurve", *, id_column: str = "object_id",
                errors: str = "raise", batch_size: int | None = None, progress: bool | None = None,
                normalize: bool = True,
                survey: str | None = None, dropna: bool = False, duplicates: str = "error"):
    """Embed every object of a table.

    Parameters
    ----------
    table : pandas.DataFrame, pyarrow.Table, astropy Table, dict of columns, or Parquet path
        ``kind="lightcurve"``: long format, one row per observation (see the module docstring for the
        columns).  ``kind="spectrum"``: one row per spectrum (list columns or wide layout).
    model : model or str
        An :class:`~astroembed.Embedder` or a name/directory for :func:`astroembed.load_pretrained`.
    id_column : str
        Object-id column (light curves: required; spectra: optional, default row numbers).
    errors : {"raise", "coerce"}
        Bad input raises naming the object id and table row, or gives that object a NaN row.
    batch_size : int, optional
        Objects per forward pass; ``None``: 64 on a CPU (the fastest in ``benchmarks/bench_embed.py
        --batch-sweep``), 4096 on a GPU.
    survey, dropna, duplicates
        As for :class:`~astroembed.LightCurve` (bare band letters; drop non-finite rows; repeated
        (time, band) rows: ``"error"``, ``"keep"`` or ``"mean"``).

    Returns
    -------
    ids : numpy.ndarray
        Light curves: the distinct object ids **in order of first appearance in the table**; spectra:
        one id per row, in table order.
    embeddings : numpy.ndarray
        float32 (len(ids), D), row ``i`` for ``ids[i]``; NaN rows for objects that failed (coerce).
    """
    check_errors(errors)
    if kind not in ("lightcurve", "spectrum"):
        raise ValueError(f"kind: must be 'lightcurve' or 'spectrum', got {kind!r}")
    cols = table_columns(table)
    model = _load_model(model)
    if kind == "lightcurve":
        return _embed_lightcurves(cols, model, id_column, errors=errors, batch_size=batch_size, progress=progress,
                                  normalize=normalize, survey=survey, dropna=dropna, duplicates=duplicates)
    ids, specs = _spectra_from_columns(cols, id_column, errors, dropna)
    return ids, model.embed_spectrum(specs, batch_size=batch_size, progress=progress, normalize=normalize,
                                     errors=errors)


def _keep_values(cols, keep_columns, id_column, ids_in_order):
    """First value of each ``keep_columns`` column per object (light curves) in the order of ``ids``."""
    import pandas as pd

    if not keep_columns:
        return {}
    missing = [c for c in keep_columns if c not in cols]
    if missing:
        raise ValueError(f"keep_columns: {missing} not in the table columns {list(cols)}")
    df = pd.DataFrame({"_id": np.asarray(cols[id_column], dtype=object),
                       **{c: np.asarray(cols[c], dtype=object) for c in keep_columns}})
    first = df.drop_duplicates("_id").set_index("_id")
    return {c: first[c].reindex(pd.Index(ids_in_order, dtype=object)).to_numpy() for c in keep_columns}


def embed_parquet(in_path, out_path, model="maven", *, kind: str = "lightcurve", id_column: str = "object_id",
                  chunk_rows: int = 200_000, keep_columns=(), errors: str = "raise", batch_size: int | None = None,
                  progress: bool | None = None, overwrite: bool = False, **kwargs) -> int:
    """Stream a Parquet table through :func:`embed_table` into a Parquet file, with bounded memory.

    Reads ``chunk_rows`` rows at a time.  Light curves: the rows of one object must be contiguous (a
    table sorted or grouped by ``id_column``); an object cut by a chunk boundary is carried over to the
    next chunk, and an id that reappears after its object was written raises (sort the table, or use
    :func:`astroembed.distributed.embed_dask`, which shuffles by id).  Output: ``object_id``,
    ``embedding`` (fixed-size list of float32, as :func:`astroembed.search.files.write_embeddings`),
    the first value per object of each of ``keep_columns``, and the model name in the schema metadata.
    Returns the number of objects written.  ``kwargs`` go to :func:`embed_table`.
    """
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    check_errors(errors)
    out_path = Path(out_path)
    if out_path.exists() and not overwrite:
        raise FileExistsError(f"{out_path} exists; pass overwrite=True (CLI: --overwrite) or another path")
    if not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ValueError(f"chunk_rows: must be a positive integer, got {chunk_rows!r}")
    model_name = model if isinstance(model, str) else getattr(model, "model_type", type(model).__name__)
    model = _load_model(model)
    pf = pq.ParquetFile(Path(in_path))
    if id_column not in pf.schema_arrow.names:
        raise ValueError(f"{in_path}: id_column {id_column!r} is not a column; got {pf.schema_arrow.names}")
    writer, seen, written, carry = None, set(), 0, None
    bar = None
    if progress or (progress is None and pf.metadata.num_rows > 100_000):
        from tqdm.auto import tqdm

        bar = tqdm(total=pf.metadata.num_rows, desc=f"embed {Path(in_path).name}", unit="row")

    def flush(tab):
        nonlocal writer, written
        cols = table_columns(tab)
        ids, E = embed_table(cols, model, kind, id_column=id_column, errors=errors, batch_size=batch_size,
                             progress=False, **kwargs)
        if kind == "lightcurve":
            again = seen.intersection(ids.tolist())
            if again:
                raise ValueError(f"{in_path}: object {sorted(again, key=str)[0]!r} appears again after its rows "
                                 f"were embedded; the rows of one object must be contiguous (sort by {id_column!r})")
            seen.update(ids.tolist())
            extra = _keep_values(cols, keep_columns, id_column, ids)
        else:
            extra = {c: np.asarray(cols[c], dtype=object) for c in keep_columns}
        arrays = {"object_id": pa.array(ids.tolist()),
                  "embedding": pa.FixedSizeListArray.from_arrays(pa.array(E.ravel(), pa.float32()), E.shape[1])}
        arrays.update({c: pa.array(v.tolist()) for c, v in extra.items()})
        out = pa.table(arrays)
        if writer is None:
            out = out.replace_schema_metadata({"astroembed": json.dumps({"model": str(model_name), "kind": kind})})
            writer = pq.ParquetWriter(out_path, out.schema)
        writer.write_table(out.cast(writer.schema))
        written += len(ids)

    try:
        for rb in pf.iter_batches(batch_size=chunk_rows):
            tab = pa.Table.from_batches([rb])
            if bar is not None:
                bar.update(len(tab))
            if carry is not None:
                tab = pa.concat_tables([carry, tab.cast(carry.schema)])
            if kind == "lightcurve" and len(tab):
                ids = tab.column(id_column).to_numpy(zero_copy_only=False)
                last = ids[-1]
                cut = len(ids)
                while cut > 0 and ids[cut - 1] == last:
                    cut -= 1
                carry = tab.slice(cut)
                tab = tab.slice(0, cut)
            if len(tab):
                flush(tab)
        if carry is not None and len(carry):
            flush(carry)
    except BaseException:
        if writer is not None:
            writer.close()
            writer = None
            out_path.unlink(missing_ok=True)
        raise
    finally:
        if writer is not None:
            writer.close()
        if bar is not None:
            bar.close()
    return written
