"""Spectrograph models: resolution, wavelength range, S/N and noise of a simulated spectrum.

``sedm``    -- SEDM-like classification spectra (ZTF): 3800–9200 Å, R = 100, S/N per pixel ~ 15 at
               r = 18.5 mag, scaling as flux^(1/2), lognormal scatter 0.35.
``generic`` -- a long-slit spectrograph on a 4-m class telescope: 3500–9500 Å, R drawn in 500–1000,
               S/N ~ 20 at r = 20 mag.

Pixels are sampled twice per resolution element on a log-λ grid.  The noise per pixel is
σ = (F̃ / S/N) · sqrt(0.7 + 0.3 F / F̃) (F̃ the median flux: mostly sky-limited).  Optional host
contamination adds a smooth galaxy continuum (5000 K blackbody with a 4000 Å break) holding a
fraction ``host_fraction`` of the SN's r-band flux at that epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .seds import DLN_WAVE, REST_WAVE, blackbody

__all__ = ["Instrument", "INSTRUMENTS", "get_instrument", "observe_spectrum"]


@dataclass(frozen=True)
class Instrument:
    name: str
    wave_range: tuple[float, float]
    resolution: tuple[float, float]
    snr_ref: float
    mag_ref: float
    snr_scatter: float = 0.35
    snr_range: tuple[float, float] = (3.0, 150.0)


INSTRUMENTS = {
    "sedm": Instrument("sedm", (3800.0, 9200.0), (100.0, 100.0), snr_ref=15.0, mag_ref=18.5),
    "generic": Instrument("generic", (3500.0, 9500.0), (500.0, 1000.0), snr_ref=20.0, mag_ref=20.0),
}


def get_instrument(instrument) -> Instrument:
    if isinstance(instrument, Instrument):
        return instrument
    key = str(instrument).lower()
    if key not in INSTRUMENTS:
        raise ValueError(f"instrument: unknown spectrograph {instrument!r}; valid instruments: "
                         f"{', '.join(sorted(INSTRUMENTS))}")
    return INSTRUMENTS[key]


_LN_REST = np.log(REST_WAVE)


@lru_cache(maxsize=64)
def _out_grid(wave_range, res):
    """Output log-λ grid (2 pixels per resolution element) and its wavelengths (Å), read-only."""
    lnw = np.arange(np.log(wave_range[0]), np.log(wave_range[1]), 1.0 / (2.0 * res))
    wave = np.exp(lnw)
    lnw.flags.writeable = wave.flags.writeable = False
    return lnw, wave


@lru_cache(maxsize=1)
def _host_shape() -> np.ndarray:
    """Rest-frame host-galaxy continuum on ``REST_WAVE`` (5000 K blackbody, Balmer break), read-only."""
    h = blackbody(REST_WAVE, [5000.0])[0] * np.where(REST_WAVE < 4000.0, 0.55, 1.0)
    h.flags.writeable = False
    return h


def observe_spectrum(rng: np.random.Generator, inst: Instrument, z: float, flam_obs: np.ndarray,
                     ref_weights: np.ndarray, host_fraction: float = 0.0):
    """Noisy observed-frame spectrum from the SED ``flam_obs`` (erg s⁻¹ cm⁻² Å⁻¹ sampled at
    ``REST_WAVE * (1 + z)``).  ``ref_weights`` turn an f_λ on that grid into the reference (r) band
    flux in µJy (S/N scaling and host fraction).  Returns (wave, flux, flux_err, info)."""
    res = float(rng.uniform(*inst.resolution))
    f = flam_obs
    sn_ref = float(ref_weights @ f)
    if host_fraction > 0:
        h = _host_shape()
        f = f + h * (host_fraction * sn_ref / float(ref_weights @ h))
    sig_pix = 1.0 / (2.3548 * res) / DLN_WAVE
    if sig_pix > 0.5:
        half = int(np.ceil(4 * sig_pix))
        k = np.exp(-0.5 * (np.arange(-half, half + 1) / sig_pix) ** 2)
        f = np.convolve(f, k / k.sum(), mode="same")
    lnw, wave = _out_grid(inst.wave_range, res)
    flux = np.interp(lnw, _LN_REST + np.log1p(z), f)
    mag_ref = 23.9 - 2.5 * np.log10(max(float(ref_weights @ f), 1e-30))
    snr = inst.snr_ref * 10.0 ** (-0.2 * (mag_ref - inst.mag_ref)) * np.exp(inst.snr_scatter * rng.standard_normal())
    snr = min(max(float(snr), inst.snr_range[0]), inst.snr_range[1])
    med = float(np.median(np.abs(flux)))
    med = med if med > 0 else 1e-30
    err = med / snr * np.sqrt(0.7 + 0.3 * np.maximum(flux, 0.0) / med)
    noisy = flux + err * rng.standard_normal(len(flux))
    return wave.copy(), noisy, err, {"snr": snr, "resolution": res, "true_flux": flux}
