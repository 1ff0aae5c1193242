"""Training-time augmentations of preprocessed objects (see :class:`~astroembed.train.config.AugmentConfig`).

All randomness comes from the ``numpy.random.Generator`` passed in, so a run is reproducible.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..data.preprocess import ProcessedLightCurve, ProcessedSpectrum
from .config import AugmentConfig

__all__ = ["augment_lightcurve", "augment_spectrum"]


def augment_lightcurve(p: ProcessedLightCurve, rng: np.random.Generator, cfg: AugmentConfig) -> ProcessedLightCurve:
    """Observation dropout (keeping >= ``min_obs``), Gaussian noise of σ = ``noise_sigma`` × error, and a
    uniform time shift; the brightness scale (``log_scale``) is left unchanged."""
    n = len(p)
    keep = np.ones(n, dtype=bool)
    if cfg.obs_dropout > 0 and n > cfg.min_obs:
        keep = rng.random(n) >= cfg.obs_dropout
        if keep.sum() < cfg.min_obs:
            keep[:] = False
            keep[rng.choice(n, cfg.min_obs, replace=False)] = True
    flux = p.flux[keep]
    err = p.flux_err[keep]
    if cfg.noise_sigma > 0:
        flux = flux + cfg.noise_sigma * err * rng.standard_normal(len(flux))
    time = p.time[keep]
    if cfg.time_shift_days > 0:
        time = time + rng.uniform(-cfg.time_shift_days, cfg.time_shift_days)
    return replace(p, time=time, flux=flux, flux_err=err, wavelength=p.wavelength[keep], band=p.band[keep])


def augment_spectrum(p: ProcessedSpectrum, rng: np.random.Generator, cfg: AugmentConfig) -> ProcessedSpectrum:
    """Pixel dropout (valid bins → invalid with probability ``pixel_dropout``; at least one stays) and
    Gaussian noise of σ = ``noise_sigma`` × error on the valid bins."""
    mask = p.mask
    if cfg.pixel_dropout > 0:
        drop = rng.random(len(mask)) < cfg.pixel_dropout
        new = mask & ~drop
        mask = new if new.any() else mask
    flux = p.flux
    if cfg.noise_sigma > 0:
        flux = flux + cfg.noise_sigma * p.flux_err * rng.standard_normal(len(flux))
    flux = np.where(mask, flux, 0.0)
    err = np.where(mask, p.flux_err, 0.0)
    return replace(p, flux=flux, flux_err=err, mask=mask)
