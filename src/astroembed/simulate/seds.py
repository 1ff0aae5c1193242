"""The spectral energy distribution F(λ, t) of one simulated event, and the pieces it is built from.

    F_λ(λ, t) = L(t) · 10^(-0.4 (M_peak - 23.9)) · s(λ, t)          (at 10 pc, rest frame)
    s(λ, t)   = B_λ(T(t)) · U(λ) · max(1 + φ(λ, t), 0) · 10^(-0.4 A_host(λ)),  normalised so that the
                rest-frame ``ztfr`` synthetic flux of s is 1 µJy at every t

* ``L(t)`` -- brightness curve (peak 1 at t = 0) in rest-frame days: quadratic in magnitude around
  peak with half-flux rise / fade times (the BTS ``rise_d`` / ``fade_d`` definitions), turning into a
  linear late-time decline (mag / day) fitted per class on the BTS r-band light curves;
* ``T(t)`` -- colour temperature, per class, from blackbody fits to the template spectra that keep
  their continuum (see :mod:`astroembed.simulate.fit_populations`), times a per-event scatter;
* ``U(λ) = 1 / (1 + (λ_uv / λ)^k)`` -- UV line-blanketing suppression (assumed class values below);
* ``φ`` -- the continuum-divided features of a real template SN (:mod:`.templates`);
* ``A_host`` -- Fitzpatrick (1999) R_V = 3.1 host dust, in the rest frame.

So ``M_peak`` is the rest-frame ``ztfr`` absolute AB magnitude at peak *including* host dust, as
the BTS ``peakabs`` (which is not corrected for host extinction).  At the observer::

    f_λ,obs(λ (1+z), t_obs) = F_λ(λ, t) 10^(-0.4 μ(z)) / (1+z) · 10^(-0.4 A_MW(λ_obs)),
    t = (t_obs - t_peak) / (1+z)

(Planck18 μ), so K-corrections and time dilation come out of the SED.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .filters import photometry_matrix

__all__ = ["REST_WAVE", "REST_WAVE_COARSE", "UV_SUPPRESSION", "luminosity_shape", "temperature_curve", "blackbody",
           "sed_shape", "distmod", "fitzpatrick99", "mw_transmission"]

# rest-frame grid: the SNID log-λ step, extended to 1000-12500 Å (covers LSST u at z=2 and y at z=0)
_SNID_LO, _SNID_HI, _SNID_N = 2501.69, 9993.24, 1024
_DLN = np.log(_SNID_HI / _SNID_LO) / (_SNID_N - 1)
COARSE = 4  # the light curves use a 4x coarser grid (block means), the spectra the full one
_N_BLUE = COARSE * int(np.ceil(np.log(_SNID_LO / 1000.0) / _DLN / COARSE))
_N_RED = COARSE * int(np.ceil(np.log(12500.0 / _SNID_HI) / _DLN / COARSE))
REST_WAVE = _SNID_LO * np.exp(_DLN * np.arange(-_N_BLUE, _SNID_N + _N_RED))
SNID_SLICE = slice(_N_BLUE, _N_BLUE + _SNID_N)
DLN_WAVE = _DLN
#: coarse grid: geometric centres of blocks of COARSE bins
REST_WAVE_COARSE = np.exp(np.log(REST_WAVE).reshape(-1, COARSE).mean(axis=1))
SNID_SLICE_COARSE = slice(_N_BLUE // COARSE, (_N_BLUE + _SNID_N) // COARSE)
_BB_FULL = ((5500.0 / REST_WAVE) ** 5, 1.4387769e8 / REST_WAVE)
_BB_COARSE = ((5500.0 / REST_WAVE_COARSE) ** 5, 1.4387769e8 / REST_WAVE_COARSE)

#: (λ_uv [Å], k) of the UV suppression per class -- assumed, not fitted (the template library has no
#: UV coverage): SNe Ia are strongly blanketed below ~3500 Å, SLSNe-I are UV-bright.
UV_SUPPRESSION = {"Ia": (3300.0, 8.0), "Ibc": (3000.0, 6.0), "IIb": (3000.0, 6.0), "II": (2600.0, 6.0),
                  "IIn": (2400.0, 6.0), "SLSN-I": (2200.0, 6.0)}


def luminosity_shape(t, rise, fade, tail_slope):
    """Relative flux (1 at t = 0) at rest-frame days ``t`` from peak.

    Half flux at ``t = -rise`` and ``t = +fade``; the decline in magnitudes is quadratic until
    ``fade`` and bends (e-folding time ``fade``) into a linear tail of ``tail_slope`` mag / day.
    Zero before the explosion epoch ``-2.5 rise`` (where the model is already 4.7 mag below peak).
    """
    t = np.asarray(t, np.float64)
    dm_rise = 0.75 * (t / rise) ** 2
    tf = np.maximum(t - fade, 0.0)
    dm_fade = np.where(t <= fade, 0.75 * (t / fade) ** 2,
                       0.75 + (1.5 / fade - tail_slope) * fade * (1.0 - np.exp(-tf / fade)) + tail_slope * tf)
    dm = np.where(t < 0, dm_rise, dm_fade)
    return np.where(t < -2.5 * rise, 0.0, 10.0 ** (-0.4 * np.minimum(dm, 40.0)))


def temperature_curve(phases, nodes_phase, nodes_T, scale=1.0):
    """Colour temperature (K) at ``phases``: log-linear interpolation of the class nodes, held flat
    outside them, times the per-event factor ``scale``."""
    return scale * np.exp(np.interp(phases, nodes_phase, np.log(nodes_T)))


def blackbody(wave, temp):
    """Planck B_λ up to a constant, shape (n_T, n_wave), normalised at 5500 Å-ish scale."""
    pow5, inv = _bb_consts(wave)
    x = inv[None, :] / np.asarray(temp, np.float64)[:, None]
    return pow5[None, :] / np.expm1(np.minimum(x, 600.0))


def _bb_consts(wave):
    """(5500 / λ)^5 and hc / (k λ) [K], cached for the two simulator grids."""
    if wave is REST_WAVE:
        return _BB_FULL
    if wave is REST_WAVE_COARSE:
        return _BB_COARSE
    return (5500.0 / wave) ** 5, 1.4387769e8 / wave


@lru_cache(maxsize=16)
def _uv_factor(cls: str, coarse: bool = False) -> np.ndarray:
    lam_uv, k = UV_SUPPRESSION[cls]
    return 1.0 / (1.0 + (lam_uv / (REST_WAVE_COARSE if coarse else REST_WAVE)) ** k)


_LN_REST = (np.log(REST_WAVE), np.log(REST_WAVE_COARSE))


def mw_transmission(z: float, a_v: float, coarse: bool = False) -> np.ndarray:
    """10^(-0.4 A_MW(λ_obs)) on the observed grid ``REST_WAVE[_COARSE] * (1 + z)`` (Fitzpatrick 1999,
    R_V = 3.1), using the tabulated unit curve with precomputed log wavelengths."""
    if a_v <= 0:
        return np.ones(len(REST_WAVE_COARSE if coarse else REST_WAVE))
    lnw, unit = _f99_unit(3.1)
    return 10.0 ** (-0.4 * a_v * np.interp(_LN_REST[int(coarse)] + np.log1p(z), lnw, unit))


@lru_cache(maxsize=2)
def _rest_f99_unit(coarse: bool = False) -> np.ndarray:
    """Fitzpatrick (1999) R_V = 3.1 extinction per unit A_V on the rest-frame grid (host dust)."""
    return fitzpatrick99(REST_WAVE_COARSE if coarse else REST_WAVE, 1.0)


@lru_cache(maxsize=2)
def _rest_r_weights(coarse: bool = False) -> np.ndarray:
    return photometry_matrix(["ztfr"], REST_WAVE_COARSE if coarse else REST_WAVE)[0]


@lru_cache(maxsize=4)
def _f99_unit(r_v: float):
    """ln λ grid and A(λ)/A_V of Fitzpatrick (1999) (linear in A_V at fixed R_V), 900-60000 Å."""
    try:
        import extinction
    except ImportError as exc:  # pragma: no cover
        raise ImportError("dust extinction needs the 'extinction' package: pip install 'astroembed[sim]'") from exc
    lnw = np.linspace(np.log(900.0), np.log(60000.0), 6000)
    return lnw, extinction.fitzpatrick99(np.exp(lnw), 1.0, float(r_v))


def fitzpatrick99(wave, a_v: float, r_v: float = 3.1) -> np.ndarray:
    """Extinction in magnitudes (Fitzpatrick 1999) at ``wave`` (Å): the ``extinction`` package's curve
    for A_V = 1, tabulated once on a fine log-λ grid (interpolation error < 1e-4 mag) and scaled."""
    if a_v <= 0:
        return np.zeros(len(wave))
    lnw, unit = _f99_unit(float(r_v))
    return float(a_v) * np.interp(np.log(np.asarray(wave, np.float64)), lnw, unit)


def sed_shape(cls: str, features: np.ndarray, temps: np.ndarray, host_av: float,
              coarse: bool = False) -> np.ndarray:
    """Normalised rest-frame SED shape s(λ, t), shape (n_phase, len(REST_WAVE)) (or on
    ``REST_WAVE_COARSE`` with ``coarse=True``, features then given as block means, 256 per row).

    ``features`` (n_phase, 1024) on the SNID grid; ``temps`` (n_phase,) in K.  Each row has a
    rest-frame ``ztfr`` synthetic flux of exactly 1 µJy (so L(t) is the rest-frame r light curve).
    """
    wave = REST_WAVE_COARSE if coarse else REST_WAVE
    s = blackbody(wave, temps)
    s *= _uv_factor(cls, coarse)[None, :]
    s[:, SNID_SLICE_COARSE if coarse else SNID_SLICE] *= np.maximum(1.0 + features, 0.0)
    if host_av > 0:
        s *= 10.0 ** (-0.4 * host_av * _rest_f99_unit(coarse))[None, :]
    s /= (s @ _rest_r_weights(coarse))[:, None]
    return s


@lru_cache(maxsize=1)
def _distmod_grid():
    from astropy.cosmology import Planck18

    z = np.concatenate([np.geomspace(1e-4, 0.01, 200)[:-1], np.linspace(0.01, 3.0, 3000)])
    return z, Planck18.distmod(z).value


def distmod(z):
    """Planck18 distance modulus (mag), interpolated on a fine grid (error < 1e-4 mag)."""
    zg, mg = _distmod_grid()
    return np.interp(z, zg, mg)
