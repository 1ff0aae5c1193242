"""Filter transmission curves and synthetic AB photometry for the simulator.

* ZTF ``ztfg``, ``ztfr``, ``ztfi``: P48 total bandpasses (telescope + camera, no atmosphere), mean of
  the 16 CCDs of ``ztf_filters_tcbp_v6`` from the PyPI package ``lemaitre-bandpasses`` 0.4.3 (MIT),
  derived once into ``astroembed/_package_data/filters/*.ecsv`` by
  :mod:`astroembed.simulate.build_package_data`.
* LSST ``lsstu`` … ``lssty``: the 2023 baseline total throughputs shipped by ``speclite`` (BSD-3),
  read at run time (``pip install astroembed[sim]``).

Synthetic photometry of a flux density per Å ``f_lambda`` (erg s⁻¹ cm⁻² Å⁻¹) sampled at ``wave`` (Å)::

    f_nu = ∫ f_lambda T λ dλ / ∫ T (c / λ) dλ        (photon-counting AB definition)

returned in µJy.  :func:`photometry_matrix` pre-computes the weights so that a whole stack of spectra
is integrated with one matrix product.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

__all__ = ["Bandpass", "get_bandpass", "photometry_matrix", "synthetic_flux", "SIM_BANDS", "C_AA_S"]

C_AA_S = 2.99792458e18  # speed of light, Å / s
_CGS_TO_UJY = 1e29  # erg s^-1 cm^-2 Hz^-1 -> µJy
SIM_BANDS = ("ztfg", "ztfr", "ztfi", "lsstu", "lsstg", "lsstr", "lssti", "lsstz", "lssty")


@dataclass(frozen=True)
class Bandpass:
    """A transmission curve: ``wave`` (Å, increasing) and dimensionless ``trans``."""

    name: str
    wave: np.ndarray
    trans: np.ndarray

    @property
    def effective_wavelength(self) -> float:
        """Photon-weighted mean wavelength (Å)."""
        w, t = self.wave, self.trans
        return float(np.trapezoid(t * w * w, w) / np.trapezoid(t * w, w))


@cache
def get_bandpass(name: str) -> Bandpass:
    """Return the transmission curve of a simulator band (``ztfg`` … ``lssty``).

    Raises ``ValueError`` listing the supported names for anything else.
    """
    key = str(name).lower()
    if key not in SIM_BANDS:
        raise ValueError(f"band: the simulator has no transmission curve for {name!r}; "
                         f"supported bands: {', '.join(SIM_BANDS)}")
    if key.startswith("ztf"):
        path = resources.files("astroembed") / "_package_data" / "filters" / f"{key}.ecsv"
        data = np.loadtxt(str(path), comments="#", skiprows=13)
        return Bandpass(key, data[:, 0].copy(), data[:, 1].copy())
    try:
        import speclite.filters as sf
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("LSST filter curves need speclite: pip install 'astroembed[sim]'") from exc
    f = sf.load_filter(f"lsst2023-{key[4:]}")
    return Bandpass(key, np.asarray(f.wavelength, float), np.asarray(f.response, float))


def photometry_matrix(bands, wave) -> np.ndarray:
    """Weights ``W`` (n_band, n_wave) such that ``W @ f_lambda`` is the AB flux density in µJy.

    Parameters
    ----------
    bands : sequence of str
        Simulator band names.
    wave : array_like
        Increasing wavelength samples (Å) at which ``f_lambda`` (erg s⁻¹ cm⁻² Å⁻¹) is given.
        The bandpass must lie inside ``wave``; missing coverage counts as zero flux.
    """
    wave = np.asarray(wave, dtype=np.float64)
    dw = np.empty_like(wave)  # np.gradient (central differences, one-sided at the ends), inlined for speed
    if len(wave) > 1:
        dw[1:-1] = 0.5 * (wave[2:] - wave[:-2])
        dw[0], dw[-1] = wave[1] - wave[0], wave[-1] - wave[-2]
    else:
        dw[:] = 0.0
    out = np.empty((len(bands), len(wave)))
    for k, b in enumerate(bands):
        bw, bt, norm = _band_table(b)
        out[k] = np.interp(wave, bw, bt, left=0.0, right=0.0) * wave * dw * (_CGS_TO_UJY / norm)
    return out


@cache
def _band_table(name: str):
    """(wave, trans, ∫ T c/λ dλ) of a band, cached (full curve: no renormalisation)."""
    bp = get_bandpass(name)
    return bp.wave, bp.trans, float(np.trapezoid(bp.trans * C_AA_S / bp.wave, bp.wave))


def synthetic_flux(wave, flam, band: str) -> float:
    """AB flux density (µJy) of one spectrum ``flam`` (erg s⁻¹ cm⁻² Å⁻¹ at ``wave`` Å) in ``band``.

    >>> import numpy as np
    >>> w = np.linspace(3000, 11000, 4000)
    >>> flam = 1e-29 * C_AA_S / w**2  # a flat f_nu of 1 µJy as f_lambda
    >>> round(synthetic_flux(w, flam, "ztfr"), 3)
    1.0
    """
    return float(photometry_matrix([band], wave)[0] @ np.asarray(flam, dtype=np.float64))
