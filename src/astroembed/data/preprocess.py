"""Serialisable preprocessing steps for light curves and spectra.

The configs below are stored inside every model's ``config.json``, so training and inference apply
exactly the same steps.  Each ``preprocess_*`` function returns plain numpy arrays, finite
everywhere, ready for :mod:`astroembed.data.collate`.

Light curves (:class:`LightCurvePreprocessConfig`)
    1. optional merge of same-band points closer than ``night_window`` days (inverse-variance mean);
    2. **maximum length policy**: if more than ``max_length`` points remain, keep the ``max_length``
       points of highest S/N (``truncate="snr"``) or an evenly spaced subsample in time order
       (``truncate="even"``); the result is back in time order;
    3. time in days relative to the first detection (S/N >= ``detection_snr``; the first point if
       none) or to the brightest point (``time_reference="peak"``);
    4. flux and error divided by the object's scale ``s = max(flux)`` (or the largest error when every
       flux is <= 0); ``log10(s / µJy)`` is kept as a per-object feature.

Spectra (:class:`SpectrumPreprocessConfig`)
    1. optional de-redshift (``frame="rest"``; needs the spectrum's redshift);
    2. optional Milky-Way dereddening (Fitzpatrick 99, R_V = 3.1; needs ``meta["mwebv"]``);
    3. optional running median filter of ``median_filter`` pixels;
    4. flux-conserving resampling onto a log-λ grid with a validity mask (no extrapolation);
    5. optional continuum division by a polynomial in log λ of degree ``continuum_degree``
       (DASH/Maven recipe); then subtraction of 1 so the continuum-divided spectrum has mean ≈ 0;
    6. normalisation by the median |flux| of valid bins (or the max); ``log10`` of that scale is kept
       as a per-object feature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import StrictConfig, check_choice, check_positive
from .containers import LightCurve, Spectrum
from .resample import log_wavelength_grid, resample_flux_conserving

__all__ = [
    "LightCurvePreprocessConfig", "SpectrumPreprocessConfig", "ProcessedLightCurve", "ProcessedSpectrum",
    "preprocess_lightcurve", "preprocess_spectrum",
]

_EPS = 1e-12  # relative, for standardising log-wavelengths only


def _positive(scale: float) -> float:
    """A normalisation scale: the value itself when > 0 (any unit: cgs spectra have ~1e-17), else 1."""
    return scale if scale > 0 and np.isfinite(scale) else 1.0


@dataclass(frozen=True)
class LightCurvePreprocessConfig(StrictConfig):
    """Light-curve preprocessing (see module docstring).  Times in days, fluxes in µJy."""

    max_length: int = 256
    truncate: str = "snr"
    merge_same_night: bool = False
    night_window: float = 0.5
    time_reference: str = "first"
    detection_snr: float = 3.0

    def __post_init__(self):
        if not isinstance(self.max_length, int) or self.max_length < 1:
            raise ValueError(f"LightCurvePreprocessConfig.max_length: must be an int >= 1, got {self.max_length!r}")
        check_choice("LightCurvePreprocessConfig.truncate", self.truncate, ("snr", "even"))
        check_choice("LightCurvePreprocessConfig.time_reference", self.time_reference, ("first", "peak"))
        check_positive("LightCurvePreprocessConfig.night_window", self.night_window)
        check_positive("LightCurvePreprocessConfig.detection_snr", self.detection_snr, allow_zero=True)


@dataclass(frozen=True)
class SpectrumPreprocessConfig(StrictConfig):
    """Spectrum preprocessing (see module docstring).  Wavelengths in Å."""

    wave_min: float = 3800.0
    wave_max: float = 9200.0
    n_bins: int = 256
    frame: str = "observed"
    deredden_mw: bool = False
    median_filter: int = 0
    continuum: str = "none"
    continuum_degree: int = 3
    normalize: str = "median"
    min_valid_bins: int = 8

    def __post_init__(self):
        w = "SpectrumPreprocessConfig"
        check_positive(f"{w}.wave_min", self.wave_min)
        if not self.wave_max > self.wave_min:
            raise ValueError(f"{w}.wave_max: must exceed wave_min ({self.wave_min}), got {self.wave_max}")
        if not isinstance(self.n_bins, int) or self.n_bins < 8:
            raise ValueError(f"{w}.n_bins: must be an int >= 8, got {self.n_bins!r}")
        check_choice(f"{w}.frame", self.frame, ("observed", "rest"))
        check_choice(f"{w}.continuum", self.continuum, ("none", "poly"))
        check_choice(f"{w}.normalize", self.normalize, ("median", "max"))
        if not isinstance(self.median_filter, int) or self.median_filter < 0 or (
                self.median_filter and self.median_filter % 2 == 0):
            raise ValueError(f"{w}.median_filter: must be 0 (off) or an odd int, got {self.median_filter!r}")
        if not isinstance(self.continuum_degree, int) or not 0 <= self.continuum_degree <= 10:
            raise ValueError(f"{w}.continuum_degree: must be an int in 0..10, got {self.continuum_degree!r}")
        if not isinstance(self.min_valid_bins, int) or not 1 <= self.min_valid_bins <= self.n_bins:
            raise ValueError(f"{w}.min_valid_bins: must be an int in 1..n_bins, got {self.min_valid_bins!r}")

    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        """(edges, centers) of the log-λ grid in Å."""
        return log_wavelength_grid(self.wave_min, self.wave_max, self.n_bins)


@dataclass
class ProcessedLightCurve:
    """Model-ready light curve: ``time`` (d, relative), ``flux``/``flux_err`` (scaled), ``wavelength`` (Å),
    ``band`` names, and ``log_scale`` = log10(scale / µJy)."""

    time: np.ndarray
    flux: np.ndarray
    flux_err: np.ndarray
    wavelength: np.ndarray
    band: np.ndarray
    log_scale: float

    def __len__(self) -> int:
        return len(self.time)


@dataclass
class ProcessedSpectrum:
    """Model-ready spectrum on the config's grid: ``flux``, ``flux_err`` (0 where unknown), ``mask``,
    ``wavelength`` (bin centres, Å) and ``log_scale``."""

    flux: np.ndarray
    flux_err: np.ndarray
    mask: np.ndarray
    wavelength: np.ndarray
    log_scale: float


def _merge_same_night(t, band, f, fe, window):
    order = np.lexsort((t, band))
    t, band, f, fe = t[order], band[order], f[order], fe[order]
    new = np.ones(len(t), dtype=bool)
    new[1:] = (band[1:] != band[:-1]) | (np.diff(t) > window)
    g = np.cumsum(new) - 1
    n = g[-1] + 1
    w = 1.0 / fe**2
    wsum = np.bincount(g, w, n)
    tm = np.bincount(g, w * t, n) / wsum
    fm = np.bincount(g, w * f, n) / wsum
    bm = band[new]
    o = np.lexsort((bm, tm))
    return tm[o], bm[o], fm[o], (1.0 / np.sqrt(wsum))[o]


def preprocess_lightcurve(lc: LightCurve, cfg: LightCurvePreprocessConfig) -> ProcessedLightCurve:
    """Apply ``cfg`` to one :class:`LightCurve`; see the module docstring for the steps."""
    if not isinstance(lc, LightCurve):
        raise TypeError(f"expected an astroembed.LightCurve, got {type(lc).__name__}")
    t, band, f, fe = lc.time, lc.band, lc.flux, lc.flux_err
    if cfg.merge_same_night and len(t) > 1:
        t, band, f, fe = _merge_same_night(t, band, f, fe, cfg.night_window)
    if len(t) > cfg.max_length:
        if cfg.truncate == "snr":
            keep = np.sort(np.argsort(-(f / fe), kind="stable")[: cfg.max_length])
        else:
            keep = np.unique(np.round(np.linspace(0, len(t) - 1, cfg.max_length)).astype(int))
        t, band, f, fe = t[keep], band[keep], f[keep], fe[keep]
    if cfg.time_reference == "peak":
        t0 = t[int(np.argmax(f))]
    else:
        det = np.flatnonzero(f / fe >= cfg.detection_snr)
        t0 = t[det[0]] if len(det) else t[0]
    scale = _positive(float(np.max(f)) if np.max(f) > 0 else float(np.max(fe)))
    from .bands import band_wavelength

    return ProcessedLightCurve(
        time=(t - t0).astype(np.float64), flux=f / scale, flux_err=fe / scale,
        wavelength=band_wavelength(band), band=np.asarray(band), log_scale=float(np.log10(scale)),
    )


def _running_median(x: np.ndarray, width: int) -> np.ndarray:
    from scipy.ndimage import median_filter

    return median_filter(x, size=width, mode="nearest")


def _deredden(wave_obs: np.ndarray, flux: np.ndarray, ebv: float) -> np.ndarray:
    try:
        import extinction
    except ImportError:  # pragma: no cover - depends on environment
        raise ImportError("Milky-Way dereddening needs the 'extinction' package: pip install 'astroembed[sim]'"
                          ) from None
    a_lambda = extinction.fitzpatrick99(np.ascontiguousarray(wave_obs, dtype=np.float64), 3.1 * ebv, 3.1)
    return flux * 10.0 ** (0.4 * a_lambda)


def preprocess_spectrum(spec: Spectrum, cfg: SpectrumPreprocessConfig) -> ProcessedSpectrum:
    """Apply ``cfg`` to one :class:`Spectrum`; see the module docstring for the steps.

    Raises ``ValueError`` when fewer than ``cfg.min_valid_bins`` grid bins are covered.
    """
    if not isinstance(spec, Spectrum):
        raise TypeError(f"expected an astroembed.Spectrum, got {type(spec).__name__}")
    wave, flux, err = spec.wavelength, spec.flux, spec.flux_err
    if cfg.deredden_mw:
        ebv = spec.meta.get("mwebv")
        if ebv is None:
            raise ValueError("Spectrum.meta['mwebv']: needed for deredden_mw=True; set it or disable dereddening")
        obs_wave = wave if spec.frame == "observed" else wave * (1 + (spec.redshift or 0.0))
        flux = _deredden(obs_wave, flux, float(ebv))
    if cfg.frame == "rest" and spec.frame == "observed":
        if spec.redshift is None:
            raise ValueError("Spectrum.redshift: this model works in the rest frame; set redshift=... on the "
                             "Spectrum")
        zp1 = 1.0 + spec.redshift
        wave, flux = wave / zp1, flux * zp1
        err = None if err is None else err * zp1
    elif cfg.frame == "observed" and spec.frame == "rest":
        raise ValueError("Spectrum.frame: this model expects observed-frame spectra; pass frame='observed' data")
    if cfg.median_filter > 1:
        flux = _running_median(flux, cfg.median_filter)
    edges, centers = cfg.grid()
    out, err_out, mask = resample_flux_conserving(wave, flux, edges, err)
    n_valid = int(mask.sum())
    if n_valid < cfg.min_valid_bins:
        raise ValueError(
            f"Spectrum {spec.object_id!r}: covers {n_valid} of {cfg.n_bins} bins of the model grid "
            f"{cfg.wave_min:.0f}-{cfg.wave_max:.0f} Å ({cfg.frame} frame); at least {cfg.min_valid_bins} "
            f"are needed (spectrum spans {wave[0]:.0f}-{wave[-1]:.0f} Å)")
    if err_out is None:
        err_out = np.zeros_like(out)
    if cfg.continuum == "poly":
        x = np.log(centers[mask])
        x = (x - x.mean()) / max(x.std(), _EPS)
        deg = min(cfg.continuum_degree, n_valid - 1)
        coef = np.polynomial.polynomial.polyfit(x, out[mask], deg)
        cont = np.polynomial.polynomial.polyval(x, coef)
        floor = _positive(np.median(np.abs(cont)) * 1e-3)
        cont = np.where(np.abs(cont) < floor, floor, cont)
        scale = float(np.median(np.abs(cont)))
        out[mask] = out[mask] / cont - 1.0
        err_out[mask] = err_out[mask] / np.abs(cont)
    else:
        ref = np.abs(out[mask])
        scale = _positive(float(np.median(ref) if cfg.normalize == "median" else np.max(ref)))
        out = out / scale
        err_out = err_out / scale
    out = np.where(mask, out, 0.0)
    err_out = np.where(mask, err_out, 0.0)
    return ProcessedSpectrum(flux=out, flux_err=err_out, mask=mask, wavelength=centers,
                             log_scale=float(np.log10(_positive(scale))))
