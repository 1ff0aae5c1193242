"""Per-object inputs of ``astroembed classify``: light curves (containers), metadata (one dict per object)
and spectra (one :class:`~astroembed.Spectrum` per object), each aligned with the light-curve objects.

Every failure is one line naming the file, the column and the object id (and 0-based data rows).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from . import _tables as T
from ._common import CLIError
from ._embedding import cli_words, spectrum_layout

__all__ = ["read_lightcurves", "read_metadata", "read_spectra"]


def _load(path, id_column: str, what: str) -> pd.DataFrame:
    df = T.read_table(path)
    if id_column not in df.columns:
        raise CLIError(f"{path}: no id column {id_column!r} in the {what} table (columns: "
                       f"{[str(c) for c in df.columns]}); pass --id-column")
    if len(df) == 0:
        raise CLIError(f"{path}: the {what} table is empty (no data rows)")
    T.check_ids(df[id_column].to_numpy(), path, id_column)
    return df.reset_index(drop=True)


def read_lightcurves(args):
    """``(ids, light curves)``: one :class:`~astroembed.LightCurve` per object, first-appearance order,
    validated over whole arrays (:func:`astroembed.data.table_pack.pack_table`)."""
    from ..data.containers import LightCurve
    from ..data.table_pack import pack_table

    path, idc = args.lightcurves, args.id_column
    df = _load(path, idc, "light-curve")
    cols = {str(c): df[c].to_numpy() for c in df.columns}
    try:
        ids, packed, ok, _ = pack_table(cols, idc, survey=args.survey, dropna=args.dropna,
                                        duplicates=args.duplicates, errors="raise")
    except (ValueError, TypeError) as exc:
        msg = cli_words(str(exc)).replace("table row", "data row")
        raise CLIError(f"{path}: {msg.replace(' or --errors coerce (NaN embedding for that object)', '')}") from None
    lcs = []
    for j, i in enumerate(ok):
        s = slice(packed.offsets[j], packed.offsets[j + 1])
        lc = LightCurve(time=packed.time[s], band=packed.band_names[packed.band_code[s]], flux=packed.flux[s],
                        flux_err=packed.flux_err[s], object_id=ids[i], duplicates="keep")
        if args.horizon_days is not None:
            det = np.flatnonzero(lc.flux > 0)
            if not len(det):
                rows = np.flatnonzero((df[idc] == ids[i]).to_numpy())
                raise CLIError(f"{path}: object {ids[i]!r} (data rows {T.rows_text(rows)}, {T.HEADER}): no detection "
                               "(flux > 0), so --horizon-days has no first detection to count from")
            lc = lc.select(lc.time <= lc.time[det[0]] + float(args.horizon_days))
        lcs.append(lc)
    return list(ids), lcs


def _one_row_per_object(df, path, idc, ids, args, what: str):
    """Rows of ``df`` indexed by object id: duplicated ids are an error, and so are ids without a light curve
    (unless ``--allow-extra-rows``)."""
    key = df[idc].to_numpy(dtype=object)
    known = pd.Index(pd.Series(ids, dtype=object))
    extra = ~pd.Index(pd.Series(key, dtype=object)).isin(known)
    if extra.any():
        if not args.allow_extra_rows:
            r = int(np.flatnonzero(extra)[0])
            raise CLIError(f"{path}: object {key[r]!r} (data row {r}, column {idc!r}) has no light curve in "
                           f"{args.lightcurves} ({int(extra.sum())} such row(s) in all); check --id-column, or pass "
                           f"--allow-extra-rows to ignore {what} rows of other objects")
        df, key = df[~extra], key[~extra]  # the index keeps the data rows of the file
    return df, key


def read_metadata(args, ids) -> list:
    """One dict of the metadata columns per light-curve object (``None`` for objects without a row)."""
    path, idc = args.metadata, args.id_column
    df = _load(path, idc, "metadata")
    if args.metadata_columns is not None:
        cols = [c.strip() for c in args.metadata_columns.split(",") if c.strip()]
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise CLIError(f"{path}: --metadata-columns {missing} not in the metadata table (columns: "
                           f"{[str(c) for c in df.columns]})")
    else:
        from .classify import DEFAULT_METADATA_COLUMNS

        cols = [c for c in DEFAULT_METADATA_COLUMNS if c in df.columns]
        if not cols:
            raise CLIError(f"{path}: none of the default metadata columns {list(DEFAULT_METADATA_COLUMNS)} is in the "
                           f"table (columns: {[str(c) for c in df.columns]}); name yours with --metadata-columns")
    dup = df[idc].duplicated(keep=False).to_numpy()
    if dup.any():
        oid = df[idc].to_numpy(dtype=object)[np.flatnonzero(dup)[0]]
        rows = np.flatnonzero((df[idc] == oid).to_numpy())
        raise CLIError(f"{path}: object {oid!r} has {len(rows)} metadata rows (data rows {T.rows_text(rows)}, "
                       f"column {idc!r}); give one row per object")
    df, key = _one_row_per_object(df, path, idc, ids, args, "metadata")
    recs = df[cols].astype(object).where(df[cols].notna(), None).to_dict(orient="records")
    by_id = dict(zip(key.tolist(), recs))
    return [by_id.get(i) for i in ids]


def _long_spectra(df, path, idc, zname, args):
    from ..data.io import spectrum_from_table

    out = {}
    for oid, sub in df.groupby(idc, sort=False):
        oid = oid.item() if hasattr(oid, "item") else oid
        z = sub[zname].dropna().unique() if zname else []
        if len(z) > 1:
            raise CLIError(f"{path}: object {oid!r} (data rows {T.rows_text(sub.index)}, {T.HEADER}): column "
                           f"{zname!r} is not constant within the spectrum ({z[:3].tolist()} ...)")
        try:
            out[oid] = spectrum_from_table(sub.drop(columns=[idc] + ([zname] if zname else [])), object_id=oid,
                                           redshift=float(z[0]) if len(z) else None, dropna=args.dropna)
        except (ValueError, TypeError) as exc:
            raise CLIError(f"{path}: object {oid!r} (data rows {T.rows_text(sub.index)}, {T.HEADER}): {exc}") from None
    return out


def read_spectra(args, ids) -> list:
    """One :class:`~astroembed.Spectrum` per light-curve object (``None`` for objects without one)."""
    path, idc = args.spectra, args.id_column
    df = _load(path, idc, "spectra")
    names = [str(c) for c in df.columns]
    zname = next((c for c in names if c.lower() in ("redshift", "z")), None)
    if spectrum_layout(names, df, path, idc) == "rows":
        dup = df[idc].duplicated(keep=False).to_numpy()
        if dup.any():
            oid = df[idc].to_numpy(dtype=object)[np.flatnonzero(dup)[0]]
            rows = np.flatnonzero((df[idc] == oid).to_numpy())
            raise CLIError(f"{path}: object {oid!r} has {len(rows)} spectra (data rows {T.rows_text(rows)}, column "
                           f"{idc!r}); give one spectrum per object (e.g. the latest one before classification)")
        df, _ = _one_row_per_object(df, path, idc, ids, args, "spectra")
        from ..table import _spectra_from_columns  # one Spectrum per row (list columns or wide layout)

        try:
            sids, specs = _spectra_from_columns({c: df[c].to_numpy() for c in df.columns}, idc, "raise", args.dropna)
        except (ValueError, TypeError) as exc:  # rows counted in the kept rows: name the file's data row
            msg = re.sub(r"table row (\d+)", lambda m: f"data row {df.index[int(m.group(1))]}", str(exc))
            raise CLIError(f"{path}: {msg}") from None
        by_id = dict(zip(list(sids), specs))
    else:
        df, _ = _one_row_per_object(df, path, idc, ids, args, "spectra")
        by_id = _long_spectra(df, path, idc, zname, args)
    return [by_id.get(i) for i in ids]
