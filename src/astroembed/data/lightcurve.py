"""Validated container for one object's light curve (:class:`LightCurve`).

Validates on construction and fails with a message that names the field and the fix. Nothing is dropped
silently: non-finite rows raise unless ``dropna=True`` is passed explicitly.
"""

from __future__ import annotations

import copy as _copy
from typing import Any

import numpy as np

from ._validate import as_float_array, as_optional_float, check_lengths, finite_rows
from .bands import band_wavelength, resolve_bands
from .photometry import flux_to_mag, mag_to_flux, rescale_to_ujy

__all__ = ["LightCurve"]

_DUPLICATE_POLICIES = ("error", "keep", "mean")


def _time_to_mjd(time):
    """Accept MJD floats, an astropy ``Time`` or a day Quantity."""
    if type(time).__name__ == "Time" and hasattr(time, "mjd"):
        return np.atleast_1d(np.asarray(time.mjd, dtype=np.float64))
    if not hasattr(time, "unit"):  # plain numbers: MJD days (astropy is only imported for Quantities)
        return as_float_array("time", time)
    from astropy import units as u

    return as_float_array("time", time, unit=u.day)


def _flux_to_ujy(flux, field):
    if hasattr(flux, "unit") and hasattr(flux, "to_value"):
        from astropy import units as u

        if flux.unit.physical_type in ("spectral flux density",):
            return as_float_array(field, flux, unit=u.uJy)
        if flux.unit != u.dimensionless_unscaled:
            raise ValueError(f"{field}: unit {flux.unit} is not a flux density per Hz (e.g. u.uJy, u.mJy)")
    return as_float_array(field, flux)


class LightCurve:
    """Multi-band photometry of one object.

    Give either ``mag``/``mag_err`` (AB magnitudes) or ``flux``/``flux_err`` (µJy, or on the AB
    magnitude ``zeropoint`` given, e.g. 27.5 for SNANA FLUXCAL).  Fluxes are stored internally in µJy
    (negative fluxes of forced photometry are legal); magnitudes are derived (NaN where flux <= 0).

    Parameters
    ----------
    time : array_like
        Observation times, MJD (days).  astropy ``Time`` or day Quantities accepted.
    band : array_like of str
        Band names; aliases resolve through :func:`astroembed.bands.resolve_band` (``survey=`` hint).
    mag, mag_err : array_like, optional
        AB magnitudes and their 1σ errors (> 0).
    flux, flux_err : array_like, optional
        Flux densities and 1σ errors (> 0): µJy, an astropy flux-density Quantity, or on ``zeropoint``.
    zeropoint : float, optional
        AB zero point of ``flux``; ``None`` means µJy.
    object_id, redshift, ra, dec, mwebv, label, meta
        Optional metadata (``ra``/``dec`` in degrees, ``mwebv`` = E(B−V) in mag).
    survey : str, optional
        Hint for resolving bare band letters (``"ztf"``, ``"lsst"`` …).
    dropna : bool
        Drop rows with non-finite values instead of raising.
    duplicates : {"error", "keep", "mean"}
        Policy for repeated (time, band) rows: raise (default), keep all, or merge them with
        inverse-variance weights.

    Rows are sorted by (time, band, flux, flux_err), so the same rows in any order give an identical
    container.

    Examples
    --------
    >>> import astroembed as ae
    >>> lc = ae.LightCurve(time=[59000.0, 59001.5], band=["ztfg", "ztfr"], mag=[18.2, 18.0],
    ...                    mag_err=[0.05, 0.04])
    >>> len(lc), lc.band.tolist()
    (2, ['ztfg', 'ztfr'])
    """

    def __init__(self, time, band, mag=None, mag_err=None, flux=None, flux_err=None, *,
                 zeropoint: float | None = None, object_id: Any = None, redshift=None, ra=None, dec=None,
                 mwebv=None, label: Any = None, meta: dict | None = None, survey: str | None = None,
                 dropna: bool = False, duplicates: str = "error"):
        has_mag = mag is not None or mag_err is not None
        has_flux = flux is not None or flux_err is not None
        if has_mag and has_flux:
            raise ValueError("LightCurve: give either mag/mag_err or flux/flux_err, not both")
        if not has_mag and not has_flux:
            raise ValueError("LightCurve: brightness missing; give mag=..., mag_err=... or flux=..., flux_err=...")
        if duplicates not in _DUPLICATE_POLICIES:
            raise ValueError(f"LightCurve.duplicates: must be one of {_DUPLICATE_POLICIES}, got {duplicates!r}")
        t = _time_to_mjd(time)
        if isinstance(band, (str, bytes)):
            raise TypeError("LightCurve.band: expected one band name per observation (an array), got a "
                            "single string; use band=[...]*len(time)")
        band_arr = np.asarray(band)
        if band_arr.ndim != 1:
            raise ValueError(f"LightCurve.band: expected a 1-D array, got shape {band_arr.shape}")
        if has_mag:
            if mag is None or mag_err is None:
                raise ValueError("LightCurve: mag and mag_err must be given together")
            m = as_float_array("mag", mag)
            me = as_float_array("mag_err", mag_err)
            if zeropoint is not None:
                raise ValueError("LightCurve.zeropoint: only applies to flux input; magnitudes are AB")
            check_lengths(time=t, band=band_arr, mag=m, mag_err=me)
            ok = finite_rows({"time": t, "mag": m, "mag_err": me}, dropna, "LightCurve")
        else:
            if flux is None or flux_err is None:
                raise ValueError("LightCurve: flux and flux_err must be given together")
            f = _flux_to_ujy(flux, "flux")
            fe = _flux_to_ujy(flux_err, "flux_err")
            check_lengths(time=t, band=band_arr, flux=f, flux_err=fe)
            ok = finite_rows({"time": t, "flux": f, "flux_err": fe}, dropna, "LightCurve")
        err = me if has_mag else fe
        errname = "mag_err" if has_mag else "flux_err"
        nonpos = ok & ~(err > 0)
        if nonpos.any():
            if not dropna:
                raise ValueError(
                    f"LightCurve.{errname}: {int(nonpos.sum())} error(s) <= 0 at rows "
                    f"{np.flatnonzero(nonpos)[:5].tolist()}; errors must be positive "
                    "(set a floor, or pass dropna=True to drop those rows)"
                )
            ok &= ~nonpos
        if not ok.any():
            raise ValueError("LightCurve: no observations (need at least one finite row with time, "
                             "brightness and a positive error)")
        t, band_arr = t[ok], band_arr[ok]
        bands = resolve_bands(band_arr, survey=survey)
        if has_mag:
            fl, fle = mag_to_flux(m[ok], me[ok])
        else:
            scale = 1.0 if zeropoint is None else rescale_to_ujy(as_optional_float("zeropoint", zeropoint))
            fl, fle = f[ok] * scale, fe[ok] * scale
        order = np.lexsort((fle, fl, bands, t))
        t, bands, fl, fle = t[order], bands[order], fl[order], fle[order]
        t, bands, fl, fle = _apply_duplicate_policy(t, bands, fl, fle, duplicates)
        self.time: np.ndarray = t
        self.band: np.ndarray = bands.astype(str)
        self.flux: np.ndarray = fl
        self.flux_err: np.ndarray = fle
        self.object_id = object_id
        self.redshift = as_optional_float("redshift", redshift, lo=0.0)
        self.ra = as_optional_float("ra", ra, lo=0.0, hi=360.0)
        self.dec = as_optional_float("dec", dec, lo=-90.0, hi=90.0)
        self.mwebv = as_optional_float("mwebv", mwebv, lo=0.0)
        self.label = label
        self.meta = dict(meta) if meta else {}
        for arr in (self.time, self.flux, self.flux_err):
            arr.setflags(write=False)

    # -- derived quantities -------------------------------------------------------------------
    @property
    def mag(self) -> np.ndarray:
        """AB magnitudes (NaN where flux <= 0)."""
        return flux_to_mag(self.flux)

    @property
    def mag_err(self) -> np.ndarray:
        """1σ magnitude errors (NaN where flux <= 0)."""
        return flux_to_mag(self.flux, self.flux_err)[1]

    @property
    def wavelength(self) -> np.ndarray:
        """Effective wavelength (Å) of each observation's band."""
        return band_wavelength(self.band)

    @property
    def bands(self) -> list[str]:
        """Sorted distinct band names."""
        return sorted(set(self.band.tolist()))

    def __len__(self) -> int:
        return len(self.time)

    def __repr__(self) -> str:
        span = self.time[-1] - self.time[0]
        return (f"LightCurve(object_id={self.object_id!r}, n_obs={len(self)}, bands={self.bands}, "
                f"span={span:.1f} d, redshift={self.redshift}, label={self.label!r})")

    def equals(self, other: LightCurve) -> bool:
        """Exact equality of all arrays and metadata."""
        return (isinstance(other, LightCurve) and len(self) == len(other)
                and np.array_equal(self.time, other.time) and np.array_equal(self.band, other.band)
                and np.array_equal(self.flux, other.flux) and np.array_equal(self.flux_err, other.flux_err)
                and self._meta_tuple() == other._meta_tuple())

    def _meta_tuple(self):
        return (self.object_id, self.redshift, self.ra, self.dec, self.mwebv, self.label)

    def select(self, mask) -> LightCurve:
        """A new LightCurve with only the rows where ``mask`` is true (or the given indices)."""
        idx = np.asarray(mask)
        out = _copy.copy(self)
        out.time, out.band = self.time[idx], self.band[idx]
        out.flux, out.flux_err = self.flux[idx], self.flux_err[idx]
        if len(out.time) == 0:
            raise ValueError("LightCurve.select: the selection is empty")
        out.meta = dict(self.meta)
        return out

    # -- converters (implemented in astroembed.data.io) ---------------------------------------
    @classmethod
    def from_table(cls, table, **kwargs) -> LightCurve:
        """Build from an astropy Table/TimeSeries or DataFrame (sncosmo column aliases)."""
        from .io import lightcurve_from_table

        return lightcurve_from_table(table, **kwargs)

    @classmethod
    def from_pandas(cls, df, **kwargs) -> LightCurve:
        """Build from a pandas DataFrame (same column aliases as :meth:`from_table`)."""
        from .io import lightcurve_from_table

        return lightcurve_from_table(df, **kwargs)

    @classmethod
    def read_csv(cls, path, **kwargs) -> LightCurve:
        """Read a CSV file such as ANTARES ``time,mag,magerr,band`` exports."""
        from .io import read_lightcurve_csv

        return read_lightcurve_csv(path, **kwargs)

    @classmethod
    def from_ztf_alert(cls, photometry, **kwargs) -> LightCurve:
        """Build from a ZTF alert packet (``objectId``, ``candidate``, ``prv_candidates``) or its photometry
        rows (``jd``, ``fid``, ``magpsf``, ``sigmapsf``); see :func:`astroembed.data.io.lightcurve_from_ztf_alert`."""
        from .io import lightcurve_from_ztf_alert

        return lightcurve_from_ztf_alert(photometry, **kwargs)

    def to_table(self, *, kind: str = "flux"):
        """Astropy Table with ``time, band, flux, flux_err`` (µJy) or ``time, band, mag, mag_err``."""
        from .io import lightcurve_to_table

        return lightcurve_to_table(self, kind=kind)


def _apply_duplicate_policy(t, bands, fl, fle, policy):
    if len(t) < 2:
        return t, bands, fl, fle
    same = (t[1:] == t[:-1]) & (bands[1:] == bands[:-1])
    if not same.any() or policy == "keep":
        return t, bands, fl, fle
    if policy == "error":
        i = int(np.flatnonzero(same)[0])
        raise ValueError(
            f"LightCurve.time: duplicated observation at time {t[i]!r} in band {bands[i]!r} "
            f"({int(same.sum())} duplicate row(s)); pass duplicates='mean' to merge them with "
            "inverse-variance weights or duplicates='keep' to keep them"
        )
    group = np.concatenate([[0], np.cumsum(~same)])
    w = 1.0 / fle**2
    n = group[-1] + 1
    wsum = np.bincount(group, w, n)
    flm = np.bincount(group, w * fl, n) / wsum
    first = np.concatenate([[True], ~same])
    return t[first], bands[first], flm, 1.0 / np.sqrt(wsum)
