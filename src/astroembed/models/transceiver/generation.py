"""Cross-modal generation with the Transceiver: light curve → spectrum and spectrum → light curve.

Samples are posterior-predictive: z_s ~ q(z | input) (Laplace), then the decoder's Laplace likelihood
around its location.  Their spread around the mean is multiplied by the model's calibration temperature
(fitted on a validation split, see :func:`calibrate_temperature`).  Each object's random draws come from
``numpy.random.default_rng([seed, i])`` (i = its position in the input), so a result does not depend on
the batch size or on the other objects.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch

from ...data.bands import band_wavelength, resolve_band
from ...data.containers import LightCurve, Spectrum
from ..embedding import as_container_list

__all__ = ["GeneratedSpectrum", "GeneratedLightCurve", "generate_spectrum", "generate_lightcurve",
           "interval_coverage", "calibrate_temperature"]


def _quantile_interval(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(level, (int, float)) or isinstance(level, bool) or not 0.0 < level < 1.0:
        raise ValueError(f"interval: level must be a number in (0, 1), e.g. 0.68, got {level!r}")
    lo, hi = np.quantile(samples, [(1.0 - level) / 2.0, (1.0 + level) / 2.0], axis=1)
    return lo.astype(np.float32), hi.astype(np.float32)


@dataclass
class GeneratedSpectrum:
    """Generated spectra in the model's target space (rest-frame, continuum-divided, ``flux/cont − 1``).

    ``wavelength`` (W,) Å rest frame; ``mean`` (N, W) posterior-predictive mean; ``samples`` (N, S, W);
    ``phase`` (N,) days from the brightest light-curve point.
    """

    wavelength: np.ndarray
    mean: np.ndarray
    samples: np.ndarray
    phase: np.ndarray

    def interval(self, level: float = 0.68) -> tuple[np.ndarray, np.ndarray]:
        """Central credible interval (lower, upper), each (N, W), from the sample quantiles."""
        return _quantile_interval(self.samples, level)


@dataclass
class GeneratedLightCurve:
    """Generated light curves: fluxes divided by the object's peak flux at ``time`` (N, T) days from the
    brightest point, in ``band`` (N, T); ``mean`` (N, T), ``samples`` (N, S, T)."""

    time: np.ndarray
    band: np.ndarray
    mean: np.ndarray
    samples: np.ndarray

    def interval(self, level: float = 0.68) -> tuple[np.ndarray, np.ndarray]:
        """Central credible interval (lower, upper), each (N, T)."""
        return _quantile_interval(self.samples, level)


def _seed(seed) -> int:
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**63))
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: must be a non-negative int or None, got {seed!r}")
    return int(seed)


def _check_n_samples(n) -> int:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 2:
        raise ValueError(f"n_samples: must be an int >= 2, got {n!r}")
    return int(n)


def _draw(model, loc, scale, idx, seed, S, W, decode, tau):
    """Posterior-predictive samples (b, S, W) and means (b, W) for objects at input positions ``idx``."""
    D = loc.shape[1]
    ez, ex = [], []
    for i in idx:
        rng = np.random.default_rng([seed, int(i)])
        ez.append(rng.laplace(size=(S, D)))
        ex.append(rng.laplace(size=(S, W)))
    dev = loc.device
    ez = torch.tensor(np.stack(ez), dtype=torch.float32, device=dev)
    ex = torch.tensor(np.stack(ex), dtype=torch.float32, device=dev)
    b = loc.shape[0]
    z = (loc.unsqueeze(1) + scale.unsqueeze(1) * ez).reshape(b * S, D)
    mu, sc = decode(z)
    mu, sc = mu.reshape(b, S, W), sc.reshape(b, S, W)
    mean = mu.mean(1, keepdim=True)
    samples = mean + tau * (mu + sc * ex - mean)
    return samples.float().cpu().numpy(), mean.squeeze(1).float().cpu().numpy()


def _tau(model, temperature) -> float:
    t = float(model.calibration_temperature) if temperature is None else temperature
    if not isinstance(t, (int, float)) or not np.isfinite(t) or t <= 0:
        raise ValueError(f"temperature: must be a positive number, got {temperature!r}")
    return float(t)


def generate_spectrum(model, lightcurves, phase, *, n_samples: int = 64, seed: int | None = None,
                      extrapolate: bool = False, temperature: float | None = None, batch_size: int = 64
                      ) -> GeneratedSpectrum:
    """Generate the spectrum each light curve implies at ``phase``.

    Parameters
    ----------
    lightcurves : LightCurve or iterable of them
    phase : float or (N,) array
        Days (observer frame) from the light curve's brightest point.
    n_samples : int
        Posterior-predictive samples per object (>= 2).
    seed : int, optional
        Makes the draws reproducible (``None``: fresh entropy).
    extrapolate : bool
        A phase outside ``config.phase_range`` or more than ``config.max_phase_gap`` days from every
        light-curve point raises ``ValueError``; with ``extrapolate=True`` it is generated with a warning.
    temperature : float, optional
        Override the calibration temperature (spread multiplier); default: the model's fitted value.
    """
    c = model.config
    items = as_container_list(lightcurves, LightCurve)
    N, S, W = len(items), _check_n_samples(n_samples), c.spectrum_preprocess.n_bins
    ph = np.asarray(phase, dtype=np.float64)
    ph = np.full(N, float(ph)) if ph.ndim == 0 else ph
    if ph.shape != (N,) or not np.isfinite(ph).all():
        raise ValueError(f"generate_spectrum: phase must be a finite number or {N} finite numbers (days from "
                         f"the brightest light-curve point), got {phase!r}")
    processed, problems = [], []
    lo, hi = c.phase_range
    for i, lc in enumerate(items):
        try:
            p = model.preprocess_lightcurve(lc)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"light curve {i} ({lc.object_id!r}): {exc}") from exc
        processed.append(p)
        if not lo <= ph[i] <= hi:
            problems.append(f"object {i} ({lc.object_id!r}): phase {ph[i]:g} d outside the training range "
                            f"[{lo:g}, {hi:g}] d")
        gap = float(np.min(np.abs(p.time - ph[i])))
        if gap > c.max_phase_gap:
            problems.append(f"object {i} ({lc.object_id!r}): no light-curve point within {c.max_phase_gap:g} d "
                            f"of phase {ph[i]:g} d (nearest: {gap:.1f} d)")
    if problems:
        msg = "; ".join(problems[:5]) + (f"; … ({len(problems)} problems)" if len(problems) > 5 else "")
        if not extrapolate:
            raise ValueError(f"generate_spectrum: {msg}. Pass extrapolate=True to generate anyway (with a warning).")
        warnings.warn(f"generate_spectrum: extrapolating: {msg}", UserWarning, stacklevel=3)
    seed, tau = _seed(seed), _tau(model, temperature)
    samples = np.zeros((N, S, W), dtype=np.float32)
    mean = np.zeros((N, W), dtype=np.float32)
    was = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for s in range(0, N, batch_size):
                idx = np.arange(s, min(N, s + batch_size))
                lcb = model.collate_lightcurves([processed[i] for i in idx]).to(model.device)
                loc, scale = model.posterior_lightcurve(lcb)
                phase_t = torch.tensor(np.repeat(ph[idx], S), dtype=torch.float32, device=model.device)
                samples[idx], mean[idx] = _draw(model, loc, scale, idx, seed, S, W,
                                                lambda z, p=phase_t: model.decode_spectrum(z, p), tau)
    finally:
        model.train(was)
    return GeneratedSpectrum(model.wavelength.cpu().numpy().astype(np.float64), mean, samples, ph)


def generate_lightcurve(model, spectra, times, bands, *, phase=None, n_samples: int = 64, seed: int | None = None,
                        temperature: float | None = None, batch_size: int = 64) -> GeneratedLightCurve:
    """Generate the light curve each spectrum implies at ``times`` (days from the brightest point) in ``bands``.

    ``times`` and ``bands``: (T,) for every object or (N, T).  ``phase``: the spectra's phases (days from
    peak; number or (N,)); ``None`` uses the "unknown phase" token.  Fluxes are in units of the peak flux.
    Spectra that miss the model's wavelength grid raise ``ValueError`` naming the spectrum.
    """
    items = as_container_list(spectra, Spectrum)
    N, S = len(items), _check_n_samples(n_samples)
    t = np.asarray(times, dtype=np.float64)
    b = np.asarray(bands)
    if t.ndim == 1:
        t = np.broadcast_to(t, (N, len(t)))
    if b.ndim == 1:
        b = np.broadcast_to(b, (N, len(b)))
    if t.shape != b.shape or t.shape[0] != N or t.shape[1] < 1 or not np.isfinite(t).all():
        raise ValueError(f"generate_lightcurve: times and bands must be finite (T,) or ({N}, T) arrays of the same "
                         f"shape; got {t.shape} and {b.shape}")
    canon = np.array([[resolve_band(x) for x in row] for row in b.tolist()], dtype=object).reshape(b.shape)
    wl = band_wavelength(canon.astype(str))
    from .model import _phases

    ph = _phases(phase, N, "generate_lightcurve")
    processed = []
    for i, s in enumerate(items):
        try:
            processed.append((model.preprocess_spectrum(s), float(ph[i])))
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"spectrum {i} ({s.object_id!r}): {exc}") from exc
    seed, tau = _seed(seed), _tau(model, temperature)
    T = t.shape[1]
    samples = np.zeros((N, S, T), dtype=np.float32)
    mean = np.zeros((N, T), dtype=np.float32)
    was = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for s in range(0, N, batch_size):
                idx = np.arange(s, min(N, s + batch_size))
                sb = model.collate_phased([processed[i] for i in idx]).to(model.device)
                loc, scale = model.posterior_spectrum(sb.spectrum, sb.phase)
                tt = torch.tensor(np.repeat(t[idx], S, axis=0), dtype=torch.float32, device=model.device)
                ww = torch.tensor(np.repeat(wl[idx], S, axis=0), dtype=torch.float32, device=model.device)
                samples[idx], mean[idx] = _draw(model, loc, scale, idx, seed, S, T,
                                                lambda z, a=tt, w=ww: model.decode_lightcurve(z, a, w), tau)
    finally:
        model.train(was)
    return GeneratedLightCurve(np.array(t), canon.astype(str), mean, samples)


def interval_coverage(target: np.ndarray, mask: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Fraction of valid target values inside [lower, upper]."""
    m = np.asarray(mask, bool) & np.isfinite(target)
    inside = (target >= lower) & (target <= upper)
    return float(inside[m].mean()) if m.any() else float("nan")


def calibrate_temperature(gen: GeneratedSpectrum, target: np.ndarray, mask: np.ndarray, level: float = 0.68,
                          bounds: tuple[float, float] = (0.05, 20.0)) -> float:
    """The temperature τ at which the ``level`` interval of ``gen`` covers a fraction ``level`` of the valid
    ``target`` values.  ``gen`` must be generated with ``temperature=1.0``.

    The interval at τ is ``mean + τ (q − mean)``, so coverage is monotone in τ (bisection).  Fit it on a
    validation split only, then set ``model.calibration_temperature``.
    """
    lo, hi = gen.interval(level)
    m = np.asarray(mask, bool) & np.isfinite(target)
    dl, du = (lo - gen.mean)[m], (hi - gen.mean)[m]
    r = (target - gen.mean)[m]

    def cov(f):
        return float(np.mean((r >= f * dl) & (r <= f * du)))

    a, b = bounds
    for _ in range(60):
        mid = np.sqrt(a * b)
        a, b = (mid, b) if cov(mid) < level else (a, mid)
    return float(np.sqrt(a * b))
