"""Numpy preprocessing of the three AppleCiDEr inputs (no torch): photometry tokens, metadata vectors,
spectra on the fixed rest-frame grid.  Bad input raises ``ValueError`` naming the field."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ...data.bands import band_wavelength
from ...data.containers import LightCurve, Spectrum

__all__ = ["METADATA_FIELDS", "N_TOKEN_FEATURES", "truncate_lightcurve", "photometry_tokens",
           "metadata_matrix", "spectrum_on_grid", "spectrum_grid"]

#: token features: log1p Δt, log1p Δt_prev, log10 flux - 2, σ(log10 f) / 0.1 dex, (λ_eff - 6000 Å) / 1000 Å,
#: log10 flux - max(log10 flux) of the visible light curve (brightness relative to the peak so far)
N_TOKEN_FEATURES = 6
#: reference flux (log10 µJy) subtracted from log10 flux (≈ 19.9 AB mag)
_LOG_FLUX_REF = 2.0

#: alert-time metadata: name -> (unit, valid range, centre, scale, transform).  ``transform`` is applied
#: before standardising: ``"abs"`` uses |value| (Galactic latitude: the sign carries no class signal).
#: Known NOT to be at alert time (and therefore absent): redshift (in BTS it comes from the classifying
#: spectrum), peak magnitude / absolute magnitude, rise, fade, duration (need the whole light curve),
#: discovery date (BTS 2021-2023 objects here are SNe Ia only: the date would leak the class).
METADATA_FIELDS: dict[str, tuple[str, tuple[float, float], float, float, str]] = {
    "host_absmag": ("host absolute magnitude, AB mag", (-30.0, -5.0), -20.0, 2.0, "none"),
    "host_color": ("host colour, mag", (-6.0, 6.0), 0.8, 0.4, "none"),
    "gal_b_deg": ("Galactic latitude, degrees", (-90.0, 90.0), 35.0, 20.0, "abs"),
    "mw_av": ("Milky Way A_V, mag", (0.0, 10.0), 0.15, 0.15, "none"),
}


def truncate_lightcurve(lc: LightCurve, days: float) -> LightCurve:
    """The part of ``lc`` up to first detection (first point with flux > 0) + ``days``."""
    det = np.flatnonzero(lc.flux > 0)
    if not len(det):
        raise ValueError(f"lightcurve {lc.object_id!r}: no detection (flux > 0)")
    keep = lc.time <= lc.time[det[0]] + float(days)
    return lc.select(keep)


def _merge(t, band, f, fe, window):
    order = np.lexsort((t, band))
    t, band, f, fe = t[order], band[order], f[order], fe[order]
    new = np.ones(len(t), dtype=bool)
    new[1:] = (band[1:] != band[:-1]) | (np.diff(t) > window)
    g = np.cumsum(new) - 1
    n = int(g[-1]) + 1
    w = 1.0 / fe**2
    wsum = np.bincount(g, w, n)
    tm = np.bincount(g, w * t, n) / wsum
    fm = np.bincount(g, w * f, n) / wsum
    bm = band[new]
    o = np.lexsort((bm, tm))
    return tm[o], bm[o], fm[o], (1.0 / np.sqrt(wsum))[o]


def photometry_tokens(lc: LightCurve, cfg) -> tuple[np.ndarray, np.ndarray]:
    """Tokens (L, 6) float32 and Δt since first detection (L,) float32 (days) of one light curve.

    Detections only (flux > 0); same-band points within ``cfg.merge_hours`` merged; the horizon
    ``cfg.horizon_days`` applied; the earliest ``cfg.max_length`` tokens kept.
    """
    if not isinstance(lc, LightCurve):
        raise TypeError(f"lightcurve: expected an astroembed.LightCurve, got {type(lc).__name__}")
    det = lc.flux > 0
    t, band, f, fe = lc.time[det], lc.band[det], lc.flux[det], lc.flux_err[det]
    if len(t):
        keep = t <= t.min() + cfg.horizon_days
        t, band, f, fe = t[keep], band[keep], f[keep], fe[keep]
    if len(t) > 1 and cfg.merge_hours > 0:
        t, band, f, fe = _merge(t, band, f, fe, cfg.merge_hours / 24.0)
    if len(t) < cfg.min_points:
        raise ValueError(
            f"lightcurve {lc.object_id!r}: {len(t)} detection(s) (flux > 0) after merging points within "
            f"{cfg.merge_hours:g} h; the model needs at least {cfg.min_points} (wait for another epoch, or "
            "classify from metadata/spectrum alone with lightcurve=None)")
    t, band, f, fe = t[:cfg.max_length], band[:cfg.max_length], f[:cfg.max_length], fe[:cfg.max_length]
    dt = t - t[0]
    dprev = np.diff(t, prepend=t[0])
    sig = np.clip(fe / (f * math.log(10.0)), 0.0, 5.0)
    lf = np.log10(f)
    tok = np.stack([np.log1p(dt), np.log1p(dprev), lf - _LOG_FLUX_REF, sig / 0.1,
                    (band_wavelength(band) - 6000.0) / 1000.0, lf - lf.max()], axis=1)
    return tok.astype(np.float32), dt.astype(np.float32)


def _is_missing(v) -> bool:
    if v is None:
        return True
    try:
        return bool(np.isnan(v))
    except TypeError:
        return False


def metadata_matrix(metadata, fields: tuple, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Standardised values (n, F) float32 (0 where missing) and missing indicators (n, F) float32.

    ``metadata``: ``None`` (all missing), a list of dicts / ``None`` (one per object) or a DataFrame with
    those column names.  Unknown keys and values outside :data:`METADATA_FIELDS` ranges raise
    ``ValueError`` naming the field, its unit and range.
    """
    vals = np.zeros((n, len(fields)), dtype=np.float32)
    miss = np.ones((n, len(fields)), dtype=np.float32)
    if metadata is None:
        return vals, miss
    if hasattr(metadata, "columns") and hasattr(metadata, "to_dict"):
        rows = metadata.to_dict(orient="records")
    elif isinstance(metadata, Mapping):
        raise TypeError("metadata: expected one dict per object (a list) or a DataFrame, got a single dict")
    else:
        rows = list(metadata)
    if len(rows) != n:
        raise ValueError(f"metadata: {len(rows)} rows for {n} objects; give one row (or None) per object")
    allowed = set(fields)
    for i, row in enumerate(rows):
        if row is None:
            continue
        if not isinstance(row, Mapping):
            raise TypeError(f"metadata[{i}]: expected a dict or None, got {type(row).__name__}")
        unknown = sorted(set(row) - allowed)
        if unknown:
            raise ValueError(f"metadata[{i}]: unknown key(s) {unknown}; this model reads {list(fields)} "
                             f"({'; '.join(f'{k}: {METADATA_FIELDS[k][0]}' for k in fields)})")
        for j, k in enumerate(fields):
            v = row.get(k)
            if _is_missing(v):
                continue
            try:
                x = float(v)
            except (TypeError, ValueError):
                raise ValueError(f"metadata[{i}].{k}: expected a number ({METADATA_FIELDS[k][0]}), got {v!r}") from None
            unit, (lo, hi), centre, scale, tr = METADATA_FIELDS[k]
            if not (lo <= x <= hi) or not math.isfinite(x):
                raise ValueError(f"metadata[{i}].{k}: {x!r} is outside [{lo:g}, {hi:g}] ({unit}); check the unit")
            if tr == "abs":
                x = abs(x)
            vals[i, j] = float(np.clip((x - centre) / scale, -10.0, 10.0))
            miss[i, j] = 0.0
    return vals, miss


def spectrum_grid(cfg) -> np.ndarray:
    """The rest-frame log-λ grid (Å) of a :class:`~.config.SpectrumTowerConfig`."""
    return np.geomspace(cfg.wave_min, cfg.wave_max, cfg.n_bins)


def spectrum_on_grid(spec: Spectrum, cfg) -> tuple[np.ndarray, np.ndarray]:
    """(n_bins,) z-scored, continuum-subtracted flux (0 outside coverage) and coverage mask, float32."""
    if not isinstance(spec, Spectrum):
        raise TypeError(f"spectrum: expected an astroembed.Spectrum, got {type(spec).__name__}")
    if spec.frame == "observed":
        if spec.redshift is None:
            raise ValueError(f"spectrum {spec.object_id!r}.redshift: needed to move the observed-frame spectrum "
                             "to the rest frame (or pass frame='rest')")
        spec = spec.to_rest_frame()
    grid = spectrum_grid(cfg)
    w, f = spec.wavelength, spec.flux
    mask = (grid >= w[0]) & (grid <= w[-1])
    cov = float(mask.mean())
    if cov < cfg.min_coverage:
        raise ValueError(
            f"spectrum {spec.object_id!r}.wavelength: rest frame {w[0]:.0f}-{w[-1]:.0f} Å covers {cov:.0%} of the "
            f"model grid {cfg.wave_min:.0f}-{cfg.wave_max:.0f} Å; at least {cfg.min_coverage:.0%} is needed")
    x = np.zeros(cfg.n_bins, dtype=np.float64)
    x[mask] = np.interp(grid[mask], w, f)
    norm = np.median(np.abs(x[mask]))
    x = x / (norm if norm > 0 and np.isfinite(norm) else 1.0)
    k = np.ones(cfg.continuum_bins)
    m = mask.astype(np.float64)
    cont = np.convolve(x * m, k, mode="same") / np.maximum(np.convolve(m, k, mode="same"), 1e-9)
    x = (x - cont) * m
    sd = x[mask].std()
    x = np.where(mask, (x - x[mask].mean()) / (sd if sd > 0 else 1.0), 0.0)
    return np.clip(x, -10, 10).astype(np.float32), mask.astype(np.float32)
