"""Survey models: when a field is observed, how deep, and with which noise.

Two built-in surveys (all numbers are documented assumptions, see docs/simulation.md):

``ztf``  -- ZTF public survey as in the BTS alert light curves: bands g, r (i optional); a field is
    revisited every 2 or 3 nights (drawn per event), each band on a visit with probability 0.9;
    nights lost to weather with probability 0.3; observable season of 240 d per year centred on the
    field's opposition (from its RA); 5σ limiting magnitude per epoch ~ N(20.25 g / 20.45 r / 20.0 i,
    0.4) clipped to [19, 21.4]; source term e = 0.6 µJy (an effective value: 5.5x the photon noise of
    a 30 s exposure, ZP ≈ 26.3, because difference-image alert photometry also carries reference-image,
    host and PSF-fit noise); 2 % flux floor.  m5 (g, r) and e are fitted to the real BTS alert
    ``magerr`` vs magnitude by :func:`astroembed.simulate.fit_empirical.fit_noise` (``sim_empirical.json``
    "noise"; v2 had assumed 20.6 / 20.5 and 0.11, 1.5x too small errors at 17-19 mag);
    peak times uniform in MJD 58200–59300 (2018-03 … 2021-03, the ANTARES dump of the BTS data).
``lsst`` -- Rubin WFD: visit nights every 3 days on average (geometric gaps), 2 visits per night in
    bands drawn with the WFD filter fractions (u .07, g .09, r .22, i .22, z .20, y .20); 5σ depths
    u 23.8, g 24.5, r 24.0, i 23.4, z 22.8, y 22.0 with 0.3 mag scatter; weather loss 0.2; 180 d
    seasons; 1 e⁻ = 0.016 µJy (ZP ≈ 28.4); 0.5 % floor; peak times in MJD 60980–64630.

Noise per observation (µJy): σ² = (F5 / 5)² + F · e + (floor · F)², with F5 the flux at the epoch's
5σ limit (sky), e the µJy per (effective) photo-electron (source Poisson) and a calibration floor.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..data.photometry import AB_ZEROPOINT_UJY

__all__ = ["Survey", "SURVEYS", "get_survey", "observe"]

_EQUINOX_MJD = 58197.68  # 2018 March equinox: sun at RA 0


@dataclass(frozen=True)
class Survey:
    """Parameters of a survey model (see the module docstring for the built-in values)."""

    name: str
    bands: tuple[str, ...]
    m5: dict[str, float]
    m5_sigma: float
    m5_range: tuple[float, float]
    mjd_range: tuple[float, float]
    season_days: float
    weather_loss: float
    ujy_per_electron: float
    floor: float
    dec_range: tuple[float, float]
    cadence: str = "ztf"  # "ztf_empirical" (real BTS sequences, :mod:`.cadence`), "ztf" (fixed revisit +
    # both bands, simulator v1) or "lsst" (random gaps, 2 bands / night)
    revisit_days: tuple[int, ...] = (2, 3)
    band_prob: dict[str, float] = field(default_factory=dict)
    visits_per_night: int = 2
    night_frac: tuple[float, float] = (0.15, 0.45)
    default_instrument: str = "sedm"

    def with_bands(self, bands) -> Survey:
        bands = tuple(str(b).lower() for b in bands)
        bad = [b for b in bands if b not in self.m5]
        if bad or not bands:
            raise ValueError(f"bands: {bad or bands} not available for survey {self.name!r}; "
                             f"choose from {sorted(self.m5)}")
        return replace(self, bands=bands)


SURVEYS: dict[str, Survey] = {
    "ztf": Survey(
        name="ztf", bands=("ztfg", "ztfr"), m5={"ztfg": 20.25, "ztfr": 20.45, "ztfi": 20.0}, m5_sigma=0.4,
        m5_range=(19.0, 21.4), mjd_range=(58200.0, 59300.0), season_days=240.0, weather_loss=0.3,
        ujy_per_electron=0.6, floor=0.02, dec_range=(-30.0, 90.0), cadence="ztf_empirical", revisit_days=(2, 3),
        band_prob={"ztfg": 0.9, "ztfr": 0.9, "ztfi": 0.3}, default_instrument="sedm"),
    "lsst": Survey(
        name="lsst", bands=("lsstu", "lsstg", "lsstr", "lssti", "lsstz", "lssty"),
        m5={"lsstu": 23.8, "lsstg": 24.5, "lsstr": 24.0, "lssti": 23.4, "lsstz": 22.8, "lssty": 22.0},
        m5_sigma=0.3, m5_range=(20.5, 25.5), mjd_range=(60980.0, 64630.0), season_days=180.0,
        weather_loss=0.2, ujy_per_electron=0.016, floor=0.005, dec_range=(-70.0, 5.0), cadence="lsst",
        band_prob={"lsstu": 0.07, "lsstg": 0.09, "lsstr": 0.22, "lssti": 0.22, "lsstz": 0.20, "lssty": 0.20},
        visits_per_night=2, night_frac=(0.0, 0.4), default_instrument="generic"),
}


def get_survey(survey) -> Survey:
    """A :class:`Survey` by name (``"ztf"``, ``"lsst"``) or the object itself."""
    if isinstance(survey, Survey):
        return survey
    key = str(survey).lower()
    if key not in SURVEYS:
        raise ValueError(f"survey: unknown survey {survey!r}; valid surveys: {', '.join(sorted(SURVEYS))}")
    return SURVEYS[key]


def season_mask(nights: np.ndarray, ra: float, season_days: float) -> np.ndarray:
    """True for nights inside the observing season of a field at right ascension ``ra`` (deg)."""
    centre = _EQUINOX_MJD + ((ra + 180.0) % 360.0) / 360.0 * 365.25
    d = (nights - centre + 182.625) % 365.25 - 182.625
    return np.abs(d) <= season_days / 2.0


def schedule(rng: np.random.Generator, sv: Survey, t0: float, t1: float, ra: float):
    """Observation times (MJD) and band indices (into ``sv.bands``) of one field in [t0, t1]."""
    nights = np.arange(np.floor(t0), np.ceil(t1) + 1.0)
    keep = season_mask(nights, ra, sv.season_days) & (rng.random(len(nights)) >= sv.weather_loss)
    nb = len(sv.bands)
    if sv.cadence == "ztf":
        step = int(sv.revisit_days[rng.integers(len(sv.revisit_days))])
        keep &= (nights.astype(np.int64) + int(rng.integers(step))) % step == 0
        n = nights[keep]
        p = np.array([sv.band_prob.get(b, 0.9) for b in sv.bands])
        take = rng.random((len(n), nb)) < p[None, :]
        times = n[:, None] + rng.uniform(*sv.night_frac, size=(len(n), 1)) + 0.03 * np.arange(nb)[None, :]
        rows, cols = np.nonzero(take)
        return times[rows, cols], cols
    # lsst-like: geometric gaps (mean 3 nights) between visit nights, visits_per_night bands each
    gaps = rng.geometric(1.0 / 3.0, size=len(nights))
    idx = np.cumsum(gaps) - gaps[0] + int(rng.integers(3))
    idx = idx[idx < len(nights)]
    n = nights[idx][keep[idx]]
    p = np.array([sv.band_prob[b] for b in sv.bands])
    p = p / p.sum()
    k = sv.visits_per_night
    cols = rng.choice(nb, size=(len(n), k), p=p)
    times = n[:, None] + rng.uniform(*sv.night_frac, size=(len(n), 1)) + 0.021 * np.arange(k)[None, :]
    return times.ravel(), cols.ravel()


def observe(rng: np.random.Generator, sv: Survey, true_flux: np.ndarray, band_idx: np.ndarray):
    """Noisy fluxes, errors (µJy) and the 5σ limiting magnitude of each observation."""
    m5 = np.array([sv.m5[b] for b in sv.bands])[band_idx] + sv.m5_sigma * rng.standard_normal(len(band_idx))
    m5 = np.minimum(np.maximum(m5, sv.m5_range[0]), sv.m5_range[1])
    return observe_at_depth(rng, sv, true_flux, m5)


def observe_at_depth(rng: np.random.Generator, sv: Survey, true_flux: np.ndarray, m5: np.ndarray):
    """Noisy fluxes, errors (µJy) and ``m5`` at given per-observation 5σ depths (the module's noise model:
    sky from the depth, source Poisson, calibration floor); :func:`observe` draws the depths first."""
    f5 = 10.0 ** (-0.4 * (m5 - AB_ZEROPOINT_UJY))
    pos = np.maximum(true_flux, 0.0)
    err = np.sqrt((f5 / 5.0) ** 2 + pos * sv.ujy_per_electron + (sv.floor * pos) ** 2)
    flux = true_flux + err * rng.standard_normal(len(true_flux))
    return flux, err, m5
