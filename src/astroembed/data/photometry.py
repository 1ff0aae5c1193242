"""AB magnitude <-> flux density conversions (with errors).

Fluxes are in µJy unless a ``zeropoint`` is given: for a flux ``f`` on an AB magnitude zero point
``ZP`` (e.g. SNANA ``FLUXCAL`` with ZP = 27.5), ``mag = ZP - 2.5 log10(f)``.  In µJy, ZP = 23.9.
"""

from __future__ import annotations

import numpy as np

__all__ = ["AB_ZEROPOINT_UJY", "mag_to_flux", "flux_to_mag", "rescale_to_ujy"]

AB_ZEROPOINT_UJY = 23.9  # m_AB = 23.9 - 2.5 log10(f / µJy)
_K = np.log(10.0) / 2.5  # d ln f / d m


def mag_to_flux(mag, mag_err=None, zeropoint: float = AB_ZEROPOINT_UJY):
    """AB magnitude (and error) -> flux (and error) on ``zeropoint`` (µJy by default).

    >>> f, e = mag_to_flux(23.9, 0.1)
    >>> round(float(f), 6), round(float(e), 4)
    (1.0, 0.0921)
    """
    mag = np.asarray(mag, dtype=np.float64)
    flux = 10.0 ** (-0.4 * (mag - zeropoint))
    if mag_err is None:
        return flux
    return flux, flux * _K * np.asarray(mag_err, dtype=np.float64)


def flux_to_mag(flux, flux_err=None, zeropoint: float = AB_ZEROPOINT_UJY):
    """Flux (and error) on ``zeropoint`` -> AB magnitude (and error); NaN where flux <= 0."""
    flux = np.asarray(flux, dtype=np.float64)
    pos = flux > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.where(pos, zeropoint - 2.5 * np.log10(np.where(pos, flux, 1.0)), np.nan)
        if flux_err is None:
            return mag
        err = np.where(pos, np.asarray(flux_err, dtype=np.float64) / (_K * np.where(pos, flux, 1.0)), np.nan)
    return mag, err


def rescale_to_ujy(zeropoint: float) -> float:
    """Factor that converts a flux on AB ``zeropoint`` to µJy."""
    return float(10.0 ** (-0.4 * (zeropoint - AB_ZEROPOINT_UJY)))
