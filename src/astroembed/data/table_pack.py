"""Validate and pack a long-format light-curve table (one row per observation, many objects) into
:class:`~astroembed.data.packed.PackedObservations`, over whole arrays.

The checks and conversions are those of :class:`~astroembed.LightCurve` (finite values, positive
errors, band names through :func:`~astroembed.bands.resolve_band` — once per distinct band —, AB
magnitudes to µJy, rows sorted by (time, band, flux, flux_err), the ``duplicates`` policy); a failure
names the object id and the 0-based table row.  Used by :func:`astroembed.embed_table`.
"""

from __future__ import annotations

import numpy as np

from .aliases import LIGHTCURVE_COLUMNS, find_column

__all__ = ["pack_table", "read_lightcurve_columns", "as_float_column", "sort_rows"]


def as_float_column(cols, name) -> np.ndarray:
    """Column ``name`` of ``cols`` as float64 (masked / null values → NaN); names the column on failure."""
    col = cols[name]
    if hasattr(col, "to_numpy") and not isinstance(col, np.ndarray):
        col = col.to_numpy()
    try:
        return np.asarray(np.ma.filled(np.ma.asarray(col, dtype=np.float64), np.nan), dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"table column {name!r}: expected numbers, got {np.asarray(col).dtype}") from None


def read_lightcurve_columns(cols: dict, survey: str | None = None) -> dict:
    """Find the light-curve columns through the aliases; returns MJD ``time``, raw ``band`` and either
    ``flux``/``flux_err`` in µJy or ``mag``/``mag_err`` (AB), plus the column names used and ``survey``."""
    get = lambda f: find_column(cols, f, LIGHTCURVE_COLUMNS)  # noqa: E731
    tname, bname = get("time"), get("band")
    if tname is None or bname is None:
        raise ValueError(f"table: needs a time column ({'/'.join(LIGHTCURVE_COLUMNS['time'])}) and a band column "
                         f"({'/'.join(LIGHTCURVE_COLUMNS['band'])}); got columns {list(cols)}")
    out = {"time": as_float_column(cols, tname), "band": cols[bname], "names": {"time": tname, "band": bname}}
    if tname.lower() == "jd":
        out["time"] = out["time"] - 2400000.5
    out["survey"] = "ztf" if bname.lower() == "fid" and survey is None else survey
    fname, mname = get("flux"), get("mag")
    if fname is not None:
        ename = get("flux_err")
        if ename is None:
            raise ValueError(f"table: flux column {fname!r} found but no flux error column "
                             f"({'/'.join(LIGHTCURVE_COLUMNS['flux_err'])})")
        f, fe = as_float_column(cols, fname), as_float_column(cols, ename)
        zpname = get("zp")
        if zpname is not None:
            scale = 10.0 ** (-0.4 * (as_float_column(cols, zpname) - 23.9))
            f, fe = f * scale, fe * scale
        elif fname.lower() == "fluxcal":
            scale = float(10.0 ** (-0.4 * (27.5 - 23.9)))
            f, fe = f * scale, fe * scale
        out.update(flux=f, flux_err=fe, zpsys=get("zpsys"))
        out["names"].update(flux=fname, flux_err=ename)
        if mname is not None:
            out["mag_also"] = as_float_column(cols, mname)
        return out
    if mname is not None:
        ename = get("mag_err")
        if ename is None:
            raise ValueError(f"table: magnitude column {mname!r} found but no error column "
                             f"({'/'.join(LIGHTCURVE_COLUMNS['mag_err'])})")
        out.update(mag=as_float_column(cols, mname), mag_err=as_float_column(cols, ename), zpsys=None)
        out["names"].update(mag=mname, mag_err=ename)
        return out
    raise ValueError(f"table: no brightness column; need flux+flux_err or mag+mag_err; got columns {list(cols)}")


class _Problems:
    """Per-object failures: raise at once (``errors="raise"``) or remember the object (coerce)."""

    def __init__(self, errors, uniq_ids, row_obj):
        self.errors, self.ids, self.row_obj = errors, uniq_ids, row_obj
        self.bad = np.zeros(len(uniq_ids), dtype=bool)
        self.messages: dict[int, str] = {}

    def rows(self, bad_rows: np.ndarray, what: str, rows_index: np.ndarray | None = None):
        if not bad_rows.any():
            return
        rows = np.flatnonzero(bad_rows)
        table_rows = rows if rows_index is None else rows_index[rows]
        if self.errors == "raise":
            r = int(table_rows[0])
            raise ValueError(f"object {self.ids[self.row_obj[r]]!r}, table row {r}: {what} "
                             f"({len(rows)} row(s) in all); fix the row, pass dropna=True (non-finite values) "
                             "or errors='coerce' (NaN embedding for that object)")
        objs = self.row_obj[table_rows]
        for o, r in zip(objs[::-1], table_rows[::-1]):
            self.messages[int(o)] = f"table row {int(r)}: {what}"
        self.bad[objs] = True


def pack_table(cols: dict, id_column: str, *, survey=None, dropna=False, duplicates="error", errors="raise"):
    """Validate and pack a long light-curve table.

    Returns ``(ids, packed, ok, problems)``: ``ids`` the object ids in order of first appearance,
    ``packed`` a :class:`~astroembed.data.packed.PackedObservations` of the objects ``ok`` (positions
    into ``ids``), ``problems`` {position: message} of objects that failed (coerce mode).
    """
    import pandas as pd

    from .bands import resolve_band
    from .packed import PackedObservations
    from .photometry import mag_to_flux

    if duplicates not in ("error", "keep", "mean"):
        raise ValueError(f"duplicates: must be 'error', 'keep' or 'mean', got {duplicates!r}")
    if id_column not in cols:
        raise ValueError(f"table: id_column {id_column!r} is not a column; got columns {list(cols)} "
                         "(pass id_column=...)")
    obj, ids = _factorize(cols[id_column])
    if (obj < 0).any():
        raise ValueError(f"table row {int(np.flatnonzero(obj < 0)[0])}: missing object id in {id_column!r}")
    ids = np.asarray(ids)
    lc = read_lightcurve_columns(cols, survey)
    probs = _Problems(errors, ids, obj)
    n = len(obj)
    rows = np.arange(n)
    has_mag = "mag" in lc
    b, e = (lc["mag"], lc["mag_err"]) if has_mag else (lc["flux"], lc["flux_err"])
    bname, ename = (("mag", "mag_err") if has_mag else ("flux", "flux_err"))
    if "mag_also" in lc:  # both flux and mag columns: a row with only a magnitude is mixed input
        mixed = ~np.isfinite(lc["flux"]) & np.isfinite(lc["mag_also"])
        probs.rows(mixed, f"mixed brightness columns: a magnitude but no flux in {lc['names']['flux']!r} "
                          "(convert the table to one unit first)")
    if lc.get("zpsys") is not None:
        sys_ = pd.Series(np.asarray(cols[lc["zpsys"]], dtype=object)).astype(str).str.lower().to_numpy()
        probs.rows(sys_ != "ab", f"{lc['zpsys']!r} is not 'ab' (mixed or non-AB magnitude systems are not supported)")
    keep = np.ones(n, dtype=bool)
    for name, arr in (("time", lc["time"]), (bname, b), (ename, e)):
        bad = ~np.isfinite(arr)
        if dropna:
            keep &= ~bad
        else:
            probs.rows(bad, f"non-finite {lc['names'][name]!r} (NaN/inf)")
    nonpos = keep & np.isfinite(e) & ~(e > 0)
    if dropna:
        keep &= ~nonpos
    else:
        probs.rows(nonpos, f"{lc['names'][ename]!r} <= 0 (errors must be positive)")
    band_raw = lc["band"]
    codes_raw, uniq_raw = _factorize(band_raw)
    canon = []
    for j, u in enumerate(np.asarray(uniq_raw, dtype=object).tolist()):
        try:
            canon.append(resolve_band(u, lc["survey"]))
        except (ValueError, TypeError) as exc:
            canon.append(None)
            probs.rows(codes_raw == j, str(exc))
    if (codes_raw < 0).any():
        probs.rows(codes_raw < 0, "missing band")
    canon_arr = np.array([c or "" for c in canon], dtype=object)
    names = np.array(sorted({c for c in canon if c}), dtype=str)
    code_of = {nm: i for i, nm in enumerate(names.tolist())}
    raw_to_code = np.array([code_of.get(c, -1) for c in canon_arr.tolist()] + [-1], dtype=np.int64)
    bcode = raw_to_code[codes_raw]
    keep &= ~probs.bad[obj] & (bcode >= 0)
    r = rows[keep]
    t, bc, o = lc["time"][r], bcode[r], obj[r]
    f, fe = mag_to_flux(b[r], e[r]) if has_mag else (b[r], e[r])
    order = sort_rows(o, t, bc, f, fe)
    t, bc, f, fe, o, r = t[order], bc[order], f[order], fe[order], o[order], r[order]
    if len(t) > 1 and duplicates != "keep":
        same = (t[1:] == t[:-1]) & (bc[1:] == bc[:-1]) & (o[1:] == o[:-1])
        if same.any():
            if duplicates == "error":
                dup = np.zeros(len(t), dtype=bool)
                dup[1:] = same
                probs.rows(dup, "duplicated observation (same time and band); pass duplicates='mean' or 'keep'",
                           rows_index=r)
                ok_row = ~probs.bad[o]
                t, bc, f, fe, o, r = t[ok_row], bc[ok_row], f[ok_row], fe[ok_row], o[ok_row], r[ok_row]
            else:
                t, bc, f, fe, o, r = _merge_duplicates(t, bc, f, fe, o, r, same)
    counts = np.bincount(o, minlength=len(ids))
    empty = (counts == 0) & ~probs.bad
    if empty.any():
        first_row = {int(x): int(np.flatnonzero(obj == x)[0]) for x in np.flatnonzero(empty)[:1]}
        i = next(iter(first_row))
        if errors == "raise":
            raise ValueError(f"object {ids[i]!r} (first table row {first_row[i]}): no usable observation left "
                             "(every row dropped as non-finite or non-positive error)")
        probs.bad[empty] = True
        for i in np.flatnonzero(empty):
            probs.messages[int(i)] = "no usable observation"
    ok = np.flatnonzero(~probs.bad)
    sel = ~probs.bad[o]
    off = np.zeros(len(ok) + 1, dtype=np.int64)
    np.cumsum(counts[ok], out=off[1:])
    packed = PackedObservations(time=t[sel], flux=f[sel], flux_err=fe[sel], band_code=bc[sel], band_names=names,
                                offsets=off)
    return ids, packed, ok, {int(i): probs.messages.get(int(i), "") for i in np.flatnonzero(probs.bad)}


def _factorize(col):
    """(codes, uniques) in order of first appearance; hash-based, fast on pandas/Arrow columns."""
    import pandas as pd

    if not isinstance(col, (pd.Series, pd.Index, pd.Categorical)) and hasattr(col, "to_pandas"):
        col = col.to_pandas()  # pyarrow
    if not isinstance(col, (pd.Series, pd.Index, pd.Categorical)):
        arr = np.asarray(col)
        col = arr if arr.dtype.kind in "iufb" else pd.Series(arr, dtype=object)
    codes, uniq = pd.factorize(col, sort=False, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniq, dtype=object)


def sort_rows(o, t, bc, f, fe) -> np.ndarray:
    """The permutation of ``np.lexsort((fe, f, bc, t, o))`` (object, then time, band, flux, error; stable),
    computed as two fast stable sorts plus a lexsort of only the rows that tie on (object, time)."""
    order = np.argsort(o, kind="stable")  # linear time on a table already grouped by object
    os_, ts = o[order], t[order]
    if not np.all((os_[1:] != os_[:-1]) | (ts[1:] >= ts[:-1])):  # not time-sorted within objects
        order = np.argsort(t, kind="stable")
        order = order[np.argsort(o[order], kind="stable")]
        os_, ts = o[order], t[order]
    tie = (os_[1:] == os_[:-1]) & (ts[1:] == ts[:-1])
    if tie.any():
        in_group = np.zeros(len(order), dtype=bool)
        in_group[1:] |= tie
        in_group[:-1] |= tie
        pos = np.flatnonzero(in_group)
        start = np.ones(len(pos), dtype=bool)
        start[1:] = ~tie[pos[1:] - 1]
        gid = np.cumsum(start)
        rows = order[pos]
        sub = np.lexsort((rows, fe[rows], f[rows], bc[rows], gid))
        order[pos] = rows[sub]
    return order


def _merge_duplicates(t, bc, f, fe, o, r, same):
    """``duplicates="mean"`` as :class:`LightCurve` does it (objects without duplicates untouched)."""
    has_dup = np.zeros(o.max() + 1, dtype=bool)
    has_dup[o[1:][same]] = True
    group = np.concatenate([[0], np.cumsum(~same)])
    w = 1.0 / fe**2
    ng = group[-1] + 1
    wsum = np.bincount(group, w, ng)
    flm = np.bincount(group, w * f, ng) / wsum
    flem = 1.0 / np.sqrt(wsum)
    first = np.concatenate([[True], ~same])
    merged = has_dup[o[first]]
    f_new = np.where(merged, flm, f[first])
    fe_new = np.where(merged, flem, fe[first])
    return t[first], bc[first], f_new, fe_new, o[first], r[first]
