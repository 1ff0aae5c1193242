"""Validated container for one spectrum of one object (:class:`Spectrum`).

Validates on construction and fails with a message that names the field and the fix. Nothing is dropped
silently: non-finite rows raise unless ``dropna=True`` is passed explicitly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validate import as_float_array, as_optional_float, check_lengths, finite_rows

__all__ = ["Spectrum"]


class Spectrum:
    """One spectrum of one object.

    Parameters
    ----------
    wavelength : array_like
        Wavelengths in Å (astropy length Quantity accepted), positive, finite, strictly increasing
        after sorting (duplicated wavelengths are an error).
    flux : array_like
        Flux density per pixel (any consistent unit; a Quantity's unit is kept in ``meta["flux_unit"]``).
        Negative pixels are legal (noise).
    flux_err : array_like, optional
        1σ errors (> 0).
    redshift : float, optional
        Redshift of the object (>= 0).
    mjd : float, optional
        Epoch of the observation (MJD).
    frame : {"observed", "rest"}
        Frame of ``wavelength``.
    object_id, label, meta
        Optional metadata.
    dropna : bool
        Drop non-finite pixels instead of raising.
    min_pixels : int
        Minimum number of pixels (default 5).

    Examples
    --------
    >>> import numpy as np, astroembed as ae
    >>> w = np.linspace(4000, 9000, 500)
    >>> s = ae.Spectrum(wavelength=w, flux=np.ones(500), flux_err=None, redshift=0.05)
    >>> len(s), s.redshift
    (500, 0.05)
    """

    def __init__(self, wavelength, flux, flux_err=None, redshift=None, *, mjd=None, frame: str = "observed",
                 object_id: Any = None, label: Any = None, meta: dict | None = None, dropna: bool = False,
                 min_pixels: int = 5):
        meta = dict(meta) if meta else {}
        if hasattr(wavelength, "unit"):
            from astropy import units as u

            wl = as_float_array("wavelength", wavelength, unit=u.AA, equivalencies=u.spectral())
        else:
            wl = as_float_array("wavelength", wavelength)
        if hasattr(flux, "unit") and hasattr(flux, "value"):
            meta.setdefault("flux_unit", str(flux.unit))
        fl = as_float_array("flux", flux)
        fe = None if flux_err is None else as_float_array("flux_err", flux_err)
        check_lengths(wavelength=wl, flux=fl, flux_err=fe)
        arrays = {"wavelength": wl, "flux": fl}
        if fe is not None:
            arrays["flux_err"] = fe
        ok = finite_rows(arrays, dropna, "Spectrum")
        if fe is not None:
            nonpos = ok & ~(fe > 0)
            if nonpos.any():
                if not dropna:
                    raise ValueError(
                        f"Spectrum.flux_err: {int(nonpos.sum())} error(s) <= 0 at pixels "
                        f"{np.flatnonzero(nonpos)[:5].tolist()}; errors must be positive (or pass "
                        "flux_err=None, or dropna=True to drop those pixels)")
                ok &= ~nonpos
        wl, fl = wl[ok], fl[ok]
        fe = None if fe is None else fe[ok]
        if (wl <= 0).any():
            raise ValueError(f"Spectrum.wavelength: must be positive (Å); got minimum {wl.min()}")
        if frame not in ("observed", "rest"):
            raise ValueError(f"Spectrum.frame: must be 'observed' or 'rest', got {frame!r}")
        if not isinstance(min_pixels, (int, np.integer)) or min_pixels < 2:
            raise ValueError(f"Spectrum.min_pixels: must be an integer >= 2, got {min_pixels!r}")
        if len(wl) < min_pixels:
            raise ValueError(f"Spectrum: {len(wl)} valid pixel(s); at least min_pixels={min_pixels} are needed")
        order = np.argsort(wl, kind="stable")
        wl, fl = wl[order], fl[order]
        fe = None if fe is None else fe[order]
        dup = np.diff(wl) == 0
        if dup.any():
            raise ValueError(
                f"Spectrum.wavelength: {int(dup.sum())} duplicated wavelength(s) (first at {wl[1:][dup][0]} Å); "
                "wavelengths must be strictly increasing: merge or drop the duplicated pixels")
        self.wavelength: np.ndarray = wl
        self.flux: np.ndarray = fl
        self.flux_err: np.ndarray | None = fe
        self.redshift = as_optional_float("redshift", redshift, lo=0.0)
        self.mjd = as_optional_float("mjd", mjd)
        self.frame = frame
        self.object_id = object_id
        self.label = label
        self.meta = meta
        for arr in (self.wavelength, self.flux) + (() if fe is None else (fe,)):
            arr.setflags(write=False)

    def __len__(self) -> int:
        return len(self.wavelength)

    def __repr__(self) -> str:
        return (f"Spectrum(object_id={self.object_id!r}, n_pix={len(self)}, "
                f"wavelength={self.wavelength[0]:.0f}-{self.wavelength[-1]:.0f} Å ({self.frame}), "
                f"redshift={self.redshift}, label={self.label!r})")

    def equals(self, other: Spectrum) -> bool:
        """Exact equality of arrays and metadata."""
        if not isinstance(other, Spectrum) or len(self) != len(other):
            return False
        errs_equal = (self.flux_err is None and other.flux_err is None) or (
            self.flux_err is not None and other.flux_err is not None
            and np.array_equal(self.flux_err, other.flux_err))
        return (np.array_equal(self.wavelength, other.wavelength) and np.array_equal(self.flux, other.flux)
                and errs_equal and (self.redshift, self.mjd, self.frame, self.object_id, self.label)
                == (other.redshift, other.mjd, other.frame, other.object_id, other.label))

    def to_rest_frame(self) -> Spectrum:
        """De-redshift: wavelength / (1 + z), flux density per Å scaled by (1 + z).  Needs ``redshift``."""
        if self.frame == "rest":
            return self
        if self.redshift is None:
            raise ValueError("Spectrum.redshift: needed to move to the rest frame; set redshift=...")
        zp1 = 1.0 + self.redshift
        return Spectrum(self.wavelength / zp1, self.flux * zp1,
                        None if self.flux_err is None else self.flux_err * zp1, self.redshift,
                        mjd=self.mjd, frame="rest", object_id=self.object_id, label=self.label, meta=self.meta)

    @classmethod
    def from_table(cls, table, **kwargs) -> Spectrum:
        """Build from an astropy Table or DataFrame with wavelength/flux(/flux_err) columns."""
        from .io import spectrum_from_table

        return spectrum_from_table(table, **kwargs)

    @classmethod
    def read_csv(cls, path, **kwargs) -> Spectrum:
        """Read a 2–3 column text/CSV spectrum (wavelength, flux[, flux_err]), with or without header."""
        from .io import read_spectrum_csv

        return read_spectrum_csv(path, **kwargs)

    @classmethod
    def from_specutils(cls, spec1d, **kwargs) -> Spectrum:
        """Build from a ``specutils.Spectrum1D`` (needs specutils installed)."""
        from .io import spectrum_from_specutils

        return spectrum_from_specutils(spec1d, **kwargs)

    def to_table(self):
        """Astropy Table with ``wavelength`` (Å), ``flux`` (and ``flux_err``); metadata in ``.meta``."""
        from .io import spectrum_to_table

        return spectrum_to_table(self)
