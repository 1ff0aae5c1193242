"""Converters between containers and tables / files (astropy Table, pandas, CSV, ZTF alerts)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .aliases import LIGHTCURVE_COLUMNS, SPECTRUM_COLUMNS, find_column
from .containers import LightCurve, Spectrum

__all__ = [
    "lightcurve_from_table", "lightcurve_to_table", "lightcurves_from_table", "read_lightcurve_csv",
    "lightcurve_from_ztf_alert", "spectrum_from_table", "spectrum_to_table", "read_spectrum_csv",
    "spectrum_from_specutils",
]

_LC_META = ("object_id", "redshift", "ra", "dec", "mwebv", "label")


def _columns(table) -> dict[str, np.ndarray]:
    """Column name -> array for an astropy Table/TimeSeries, pandas DataFrame or dict of arrays."""
    if hasattr(table, "colnames"):  # astropy Table / TimeSeries / QTable
        out = {}
        for name in table.colnames:
            col = table[name]
            if type(col).__name__ == "Time":
                col = col.mjd
            out[name] = col
        return out
    if hasattr(table, "columns") and hasattr(table, "to_numpy"):  # pandas
        return {str(c): table[c].to_numpy() for c in table.columns}
    if isinstance(table, dict):
        return dict(table)
    raise TypeError(f"expected an astropy Table, a pandas DataFrame or a dict of columns, got {type(table).__name__}")


def _table_meta(table) -> dict:
    meta = getattr(table, "meta", None)
    if meta is None and hasattr(table, "attrs"):
        meta = table.attrs
    return dict(meta or {})


def lightcurve_from_table(table, *, survey: str | None = None, **kwargs) -> LightCurve:
    """Build a :class:`LightCurve` from a table of one object's photometry.

    Columns are found through the aliases of :mod:`astroembed.data.aliases` (``time/mjd/jd``,
    ``band/filter/fid``, ``flux/fluxerr`` or ``mag/magerr/magpsf/sigmapsf``, optional ``zp``/``zpsys``).
    A ``jd`` column is converted to MJD.  Fluxes with a ``zp`` column are put on µJy; only the AB
    system is supported (``zpsys`` other than ``ab`` raises).  Table metadata keys ``object_id``,
    ``redshift``, ``ra``, ``dec``, ``mwebv``, ``label`` are used unless given as keyword arguments.
    """
    cols = _columns(table)
    get = lambda f: find_column(cols, f, LIGHTCURVE_COLUMNS)  # noqa: E731
    tname, bname = get("time"), get("band")
    if tname is None or bname is None:
        raise ValueError(f"table: needs a time column ({'/'.join(LIGHTCURVE_COLUMNS['time'])}) and a band column "
                         f"({'/'.join(LIGHTCURVE_COLUMNS['band'])}); got columns {list(cols)}")
    time = cols[tname]
    if tname.lower() == "jd":
        time = np.asarray(time, dtype=np.float64) - 2400000.5
    if bname.lower() == "fid" and survey is None:
        survey = "ztf"
    meta = _table_meta(table)
    for key in _LC_META:
        if key not in kwargs and key in meta:
            kwargs[key] = meta[key]
    fname, mname = get("flux"), get("mag")
    if fname is not None:
        ename = get("flux_err")
        if ename is None:
            raise ValueError(f"table: flux column {fname!r} found but no flux error column "
                             f"({'/'.join(LIGHTCURVE_COLUMNS['flux_err'])})")
        flux, flux_err = np.asarray(cols[fname], dtype=np.float64), np.asarray(cols[ename], dtype=np.float64)
        zpname, sysname = get("zp"), get("zpsys")
        if sysname is not None:
            systems = {str(s).lower() for s in np.asarray(cols[sysname])}
            if systems - {"ab"}:
                raise ValueError(f"table.{sysname}: only the AB system is supported, got {sorted(systems)}")
        if zpname is not None:
            zp = np.asarray(cols[zpname], dtype=np.float64)
            scale = 10.0 ** (-0.4 * (zp - 23.9))
            flux, flux_err = flux * scale, flux_err * scale
        elif fname.lower() == "fluxcal":
            kwargs.setdefault("zeropoint", 27.5)
        return LightCurve(time=time, band=cols[bname], flux=flux, flux_err=flux_err, survey=survey, **kwargs)
    if mname is not None:
        ename = get("mag_err")
        if ename is None:
            raise ValueError(f"table: magnitude column {mname!r} found but no error column "
                             f"({'/'.join(LIGHTCURVE_COLUMNS['mag_err'])})")
        return LightCurve(time=time, band=cols[bname], mag=cols[mname], mag_err=cols[ename], survey=survey, **kwargs)
    raise ValueError(f"table: no brightness column; need flux+flux_err or mag+mag_err; got columns {list(cols)}")


def lightcurves_from_table(table, id_column: str, *, survey: str | None = None, progress: bool = False,
                           **kwargs) -> Iterator[LightCurve]:
    """Yield one :class:`LightCurve` per object of a long-format multi-object table (grouped by ``id_column``)."""
    cols = _columns(table)
    if id_column not in cols:
        raise ValueError(f"id_column {id_column!r} not in the table columns {list(cols)}")
    ids = np.asarray(cols[id_column])
    order = np.argsort(ids, kind="stable")
    uniq, start = np.unique(ids[order], return_index=True)
    bounds = list(start) + [len(ids)]
    it = range(len(uniq))
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc="light curves", unit="obj")
    for i in it:
        rows = order[bounds[i]:bounds[i + 1]]
        sub = {k: np.asarray(v)[rows] for k, v in cols.items() if k != id_column}
        yield lightcurve_from_table(sub, survey=survey, object_id=uniq[i].item() if hasattr(uniq[i], "item")
                                    else uniq[i], **kwargs)


def lightcurve_to_table(lc: LightCurve, *, kind: str = "flux"):
    """Astropy Table (``time`` MJD, ``band``, ``flux``/``flux_err`` µJy or ``mag``/``mag_err`` AB)."""
    from astropy.table import Table

    if kind not in ("flux", "mag"):
        raise ValueError(f"kind: must be 'flux' or 'mag', got {kind!r}")
    t = Table()
    t["time"] = lc.time
    t["band"] = lc.band
    if kind == "flux":
        t["flux"], t["flux_err"] = lc.flux, lc.flux_err
        t["flux"].unit = t["flux_err"].unit = "uJy"
    else:
        if np.any(lc.flux <= 0):
            raise ValueError("lightcurve_to_table: kind='mag' is impossible with flux <= 0 (non-detections); "
                             "use kind='flux'")
        t["mag"], t["mag_err"] = lc.mag, lc.mag_err
    t.meta.update({k: getattr(lc, k) for k in _LC_META if getattr(lc, k) is not None})
    return t


def read_lightcurve_csv(path, **kwargs) -> LightCurve:
    """Read one object's light curve from a CSV file with a header (e.g. ANTARES ``time,mag,magerr,band``)."""
    import pandas as pd

    return lightcurve_from_table(pd.read_csv(path), **kwargs)


def lightcurve_from_ztf_alert(photometry, **kwargs) -> LightCurve:
    """Build from ZTF alert photometry: rows with ``jd``, ``fid`` (1=g, 2=r, 3=i), ``magpsf``, ``sigmapsf``.

    Accepts

    * a whole ZTF alert packet (a dict with ``objectId``, ``candidate`` and ``prv_candidates`` as in the
      ZTF Avro schema): the current ``candidate`` and the previous detections are merged, upper limits
      (``magpsf`` null) are dropped, and ``objectId`` becomes ``object_id`` unless given;
    * a list of ``candidate`` dicts (``prv_candidates`` style);
    * a table/DataFrame with those columns.

    A detection listed twice (same ``candid``, or the same ``jd`` and ``fid``) is kept once.
    """
    if isinstance(photometry, dict) and "candidate" in photometry:
        packet = photometry
        cand = packet.get("candidate")
        if not isinstance(cand, dict):
            raise ValueError(f"ZTF alert packet: 'candidate' must be a dict (got {type(cand).__name__})")
        prv = packet.get("prv_candidates") or []
        if not isinstance(prv, (list, tuple)):
            raise ValueError(f"ZTF alert packet: 'prv_candidates' must be a list or null (got {type(prv).__name__})")
        kwargs.setdefault("object_id", packet.get("objectId"))
        photometry = list(prv) + [cand]
    if isinstance(photometry, (list, tuple)):
        rows, seen = [], set()
        for i, r in enumerate(photometry):
            if not isinstance(r, dict):
                raise ValueError(f"ZTF alert photometry: row {i} is a {type(r).__name__}, expected a dict")
            if r.get("magpsf") is None:
                continue  # upper limit / non-detection
            missing = [c for c in ("jd", "fid", "sigmapsf") if r.get(c) is None]
            if missing:
                raise ValueError(f"ZTF alert photometry: detection row {i} (candid {r.get('candid')!r}) lacks "
                                 f"{missing}")
            key = r.get("candid") or (float(r["jd"]), int(r["fid"]))
            if key in seen:
                continue
            seen.add(key)
            rows.append(r)
        if not rows:
            raise ValueError("ZTF alert photometry: no detection (every row lacks magpsf)")
        photometry = {k: np.array([r[k] for r in rows], dtype=np.int64 if k == "fid" else np.float64)
                      for k in ("jd", "fid", "magpsf", "sigmapsf")}
    cols = _columns(photometry)
    missing = [c for c in ("jd", "fid", "magpsf", "sigmapsf") if c not in cols]
    if missing:
        raise ValueError(f"ZTF alert photometry: missing column(s) {missing}")
    sub = {"jd": cols["jd"], "fid": cols["fid"], "magpsf": cols["magpsf"], "sigmapsf": cols["sigmapsf"]}
    return lightcurve_from_table(sub, survey="ztf", **kwargs)


def spectrum_from_table(table, **kwargs) -> Spectrum:
    """Build a :class:`Spectrum` from a table with wavelength (Å), flux and optional error columns."""
    cols = _columns(table)
    names = list(cols)
    wname = find_column(cols, "wavelength", SPECTRUM_COLUMNS) or (names[0] if len(names) in (2, 3) else None)
    fname = find_column(cols, "flux", SPECTRUM_COLUMNS) or (names[1] if len(names) in (2, 3) else None)
    ename = find_column(cols, "flux_err", SPECTRUM_COLUMNS) or (names[2] if len(names) == 3 else None)
    if wname is None or fname is None:
        raise ValueError(f"table: needs wavelength and flux columns ({'/'.join(SPECTRUM_COLUMNS['wavelength'])}; "
                         f"{'/'.join(SPECTRUM_COLUMNS['flux'])}), got {names}")
    meta = _table_meta(table)
    for key in ("object_id", "redshift", "mjd", "frame", "label"):
        if key not in kwargs and key in meta:
            kwargs[key] = meta[key]
    return Spectrum(wavelength=cols[wname], flux=cols[fname], flux_err=None if ename is None else cols[ename],
                    **kwargs)


def spectrum_to_table(spec: Spectrum):
    """Astropy Table with ``wavelength`` (Å), ``flux`` and ``flux_err`` (if any); metadata in ``.meta``."""
    from astropy.table import Table

    t = Table()
    t["wavelength"] = spec.wavelength
    t["wavelength"].unit = "Angstrom"
    t["flux"] = spec.flux
    if spec.flux_err is not None:
        t["flux_err"] = spec.flux_err
    t.meta.update({k: v for k in ("object_id", "redshift", "mjd", "frame", "label")
                   if (v := getattr(spec, k)) is not None})
    return t


def read_spectrum_csv(path, **kwargs) -> Spectrum:
    """Read a 2–3 column spectrum (wavelength Å, flux[, flux_err]) from CSV or whitespace text.

    A header row is detected automatically; lines starting with ``#`` are comments.
    """
    import pandas as pd

    with open(path) as fh:
        first = next((ln for ln in fh if ln.strip() and not ln.lstrip().startswith("#")), "")
    sep = "," if "," in first else r"\s+"
    try:
        [float(x) for x in first.replace(",", " ").split()]
        header = None
    except ValueError:
        header = 0
    df = pd.read_csv(path, sep=sep, header=header, comment="#", engine="python")
    if df.shape[1] not in (2, 3):
        raise ValueError(f"{path}: expected 2 or 3 columns (wavelength, flux[, flux_err]), got {df.shape[1]}")
    if header is None:
        df.columns = ["wavelength", "flux", "flux_err"][: df.shape[1]]
    return spectrum_from_table(df, **kwargs)


def spectrum_from_specutils(spec1d, **kwargs) -> Spectrum:
    """Convert a ``specutils.Spectrum1D`` (1-D) to a :class:`Spectrum` (wavelength in Å)."""
    try:
        import specutils  # noqa: F401
    except ImportError:
        raise ImportError("from_specutils needs specutils: pip install specutils") from None
    from astropy import units as u

    err = None
    if spec1d.uncertainty is not None:
        err = spec1d.uncertainty.represent_as(
            __import__("astropy.nddata", fromlist=["StdDevUncertainty"]).StdDevUncertainty).array
    if "redshift" not in kwargs and getattr(spec1d, "redshift", None) is not None:
        z = float(np.asarray(spec1d.redshift))
        if z > 0:
            kwargs["redshift"] = z
    return Spectrum(wavelength=spec1d.spectral_axis.to(u.AA, equivalencies=u.spectral()), flux=spec1d.flux,
                    flux_err=err, **kwargs)
