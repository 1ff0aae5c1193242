"""Flux-conserving resampling of a spectrum onto a fixed log-wavelength grid (no extrapolation)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["log_wavelength_grid", "resample_flux_conserving"]


@lru_cache(maxsize=64)
def log_wavelength_grid(wave_min: float, wave_max: float, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Bin ``edges`` (n_bins + 1) and geometric ``centers`` (n_bins) of a log-uniform grid in Å.

    Cached (a model embeds every spectrum on the same grid); the arrays are read-only.
    """
    edges = np.geomspace(wave_min, wave_max, n_bins + 1)
    centers = np.sqrt(edges[:-1] * edges[1:])
    edges.setflags(write=False)
    centers.setflags(write=False)
    return edges, centers


def _pixel_edges(wave: np.ndarray) -> np.ndarray:
    mid = 0.5 * (wave[1:] + wave[:-1])
    return np.concatenate([[wave[0] - (mid[0] - wave[0])], mid, [wave[-1] + (wave[-1] - mid[-1])]])


def resample_flux_conserving(wave, flux, edges, flux_err=None):
    """Average flux density of each output bin, conserving the integrated flux.

    Each input pixel covers the interval between the midpoints to its neighbours; the flux density is
    treated as constant over it.  An output bin is valid only when it lies fully inside the input
    coverage (no extrapolation); invalid bins are 0 with ``mask=False``.

    Returns ``(flux_out, err_out, mask)``; ``err_out`` is None when ``flux_err`` is None.  Errors are
    propagated assuming independent pixels.
    """
    wave = np.asarray(wave, dtype=np.float64)
    flux = np.asarray(flux, dtype=np.float64)
    pe = _pixel_edges(wave)
    width = np.diff(pe)
    cum = np.concatenate([[0.0], np.cumsum(flux * width)])
    lo, hi = edges[:-1], edges[1:]
    mask = (lo >= pe[0]) & (hi <= pe[-1])
    cum_at = np.interp(edges, pe, cum)  # piecewise-linear cumulative = piecewise-constant density
    out = np.where(mask, np.diff(cum_at) / (hi - lo), 0.0)
    err_out = None
    if flux_err is not None:
        var = np.asarray(flux_err, dtype=np.float64) ** 2
        cumv = np.concatenate([[0.0], np.cumsum(var * width**2 / np.maximum(width, 1e-300))])
        # variance of the bin mean: sum over pixels of (overlap/binwidth)^2 var_i ~ (sum var_i w_i) w_i / W^2
        cumv_at = np.interp(edges, pe, cumv)
        pix_w = np.interp(0.5 * (lo + hi), wave, width)
        err_out = np.where(mask, np.sqrt(np.maximum(np.diff(cumv_at), 0.0) * pix_w) / (hi - lo), 0.0)
    return out, err_out, mask
