"""The simulator: one SED per event -> light curve + spectrum, deterministic per event index.

Event ``i`` of a run with ``seed`` draws everything from
``np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i,)))`` (the i-th child of
``SeedSequence(seed).spawn``), so the output never depends on how events are split between workers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .filters import photometry_matrix
from .instruments import get_instrument, observe_spectrum
from .population import Z_LIMITS, default_zmax, draw_physical, load_populations, redshift_sampler, resolve_mix
from .seds import (
    REST_WAVE,
    REST_WAVE_COARSE,
    distmod,
    fitzpatrick99,
    luminosity_shape,
    sed_shape,
    temperature_curve,
)
from .surveys import Survey, get_survey, observe, schedule
from .templates import load_templates

__all__ = ["SimConfig", "make_config", "simulate_event", "simulate_events", "model_flux"]

_NODES = np.array([-150, -100, -70, -50, -35, -25, -18, -12, -8, -4, 0, 4, 8, 12, 18, 25, 35, 50, 70, 100,
                   140, 200, 280, 380, 500], float)
_BATCH = 32
_FAINT_MARGIN = 0.5  # mag: the cheap pre-selection keeps events whose rough peak is this much past the cut


@dataclass(frozen=True)
class SimConfig:
    """Validated configuration of a run (see :func:`astroembed.simulate.simulate`)."""

    seed: int
    survey: Survey
    classes: tuple[str, ...]
    class_probs: tuple[float, ...]
    zranges: dict
    spectrum_phase: tuple[float, float]
    n_spectra: int
    instrument: str
    forced_photometry: bool
    min_detections: int
    peak_mag_max: float | None
    host_fraction: tuple[float, float]
    max_tries: int
    templates_dir: str | None
    id_prefix: str


def _check_int(name, value, lo):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__} {value!r}")
    if value < lo:
        raise ValueError(f"{name}: must be >= {lo}, got {value}")
    return int(value)


def _check_range(name, value, lo=-np.inf, hi=np.inf, strict=True):
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a (low, high) pair of numbers, got {value!r}") from None
    if not (np.isfinite(a) and np.isfinite(b)) or (a >= b if strict else a > b):
        raise ValueError(f"{name}: need finite low {'<' if strict else '<='} high, got {value!r}")
    if a < lo or b > hi:
        raise ValueError(f"{name}: must lie within [{lo}, {hi}], got {value!r}")
    return a, b


def make_config(*, seed=0, survey="ztf", classes=None, redshift_range=None, spectrum_phase=(-10.0, 30.0),
                n_spectra=1, instrument=None, bands=None, forced_photometry=False, min_detections=3,
                peak_mag_max=None, host_fraction=0.0, max_tries=20000, templates_dir=None) -> SimConfig:
    """Validate the user's options into a :class:`SimConfig`; errors name the offending key."""
    seed = _check_int("seed", seed, 0)
    sv = get_survey(survey)
    if bands is not None:
        sv = sv.with_bands(bands)
    names, probs = resolve_mix(classes)
    lib = load_templates(None if templates_dir is None else str(templates_dir))
    phase = _check_range("spectrum_phase", spectrum_phase, strict=False)
    for c in names:
        lo, hi = lib.phase_coverage(c)
        if phase[0] < lo - 10.0 or phase[1] > hi:
            raise ValueError(
                f"spectrum_phase: {phase} is outside the template coverage of class {c!r} "
                f"({lo:.0f} to {hi:.0f} rest-frame days; up to 10 days before the first epoch are allowed, "
                "the features then being held at the nearest epoch)")
    n_spectra = _check_int("n_spectra", n_spectra, 1)
    inst = get_instrument(instrument if instrument is not None else sv.default_instrument).name
    min_det = _check_int("min_detections", min_detections, 0)
    if peak_mag_max is not None:
        peak_mag_max = float(peak_mag_max)
        if not np.isfinite(peak_mag_max):
            raise ValueError(f"peak_mag_max: must be finite or None, got {peak_mag_max}")
    if min_det > 0 and peak_mag_max is not None and peak_mag_max < 10:
        raise ValueError(f"peak_mag_max: {peak_mag_max} is brighter than any simulated SN; use e.g. 19.0")
    if np.isscalar(host_fraction):
        hf = (float(host_fraction), float(host_fraction))
    else:
        hf = _check_range("host_fraction", host_fraction, 0.0, 10.0, strict=False)
    if not (0.0 <= hf[0] <= 10.0):
        raise ValueError(f"host_fraction: must be in [0, 10], got {host_fraction!r}")
    max_tries = _check_int("max_tries", max_tries, 1)
    mag_cut = _mag_cut(sv, peak_mag_max) + _FAINT_MARGIN
    pops = load_populations()
    zranges = {}
    for c in names:
        if redshift_range is None:
            zr = (0.002, default_zmax(c, mag_cut))
        else:
            zr = _check_range("redshift_range", redshift_range, *Z_LIMITS)
        zranges[c] = (pops["assumed"]["rate_alpha"][c], zr[0], zr[1])
    return SimConfig(seed, sv, names, tuple(float(p) for p in probs), zranges, phase, n_spectra, inst,
                     bool(forced_photometry), min_det, peak_mag_max, hf, max_tries,
                     None if templates_dir is None else str(templates_dir), f"{sv.name}-{seed}-")


def _mag_cut(sv: Survey, peak_mag_max) -> float:
    """Peak magnitude beyond which an event is (nearly) never detected 3 times: the deepest band's
    median 5σ depth + 1 σ of its scatter, or ``peak_mag_max``."""
    lim = max(sv.m5[b] for b in sv.bands) + sv.m5_sigma
    return min(lim, peak_mag_max) if peak_mag_max is not None else lim


def _rng(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(index),)))


def simulate_event(cfg: SimConfig, index: int) -> dict:
    """Simulate event ``index`` of the run ``cfg`` (independent of every other event)."""
    rng = _rng(cfg.seed, index)
    sv = cfg.survey
    lib = load_templates(cfg.templates_dir)
    pops = load_populations()
    cls = cfg.classes[int(rng.choice(len(cfg.classes), p=cfg.class_probs))]
    cp = pops["classes"][cls]
    alpha, zmin, zmax = cfg.zranges[cls]
    zgrid = redshift_sampler(alpha, zmin, zmax)
    mag_cut = _mag_cut(sv, cfg.peak_mag_max)
    bands = list(sv.bands)
    sd = np.sin(np.radians(sv.dec_range))
    cand, tries, accepted, j = None, 0, False, 0
    while tries < cfg.max_tries:
        if cand is None or j >= _BATCH:
            # a block of candidates, vectorised; the cheap (SED-free) pre-selection removes most
            cand = draw_physical(rng, cls, zgrid, _BATCH)
            mu_all = distmod(cand["redshift"])
            cand["ra"] = rng.uniform(0.0, 360.0, _BATCH)
            cand["dec"] = np.degrees(np.arcsin(rng.uniform(sd[0], sd[1], _BATCH)))
            cand["peak_mjd"] = rng.uniform(*sv.mjd_range, _BATCH)
            cand["spec_phases"] = rng.uniform(*cfg.spectrum_phase, size=(_BATCH, cfg.n_spectra))
            cand["host_frac"] = rng.uniform(*cfg.host_fraction, _BATCH)
            rough = cand["peak_absmag"] + mu_all - 2.5 * np.log10(1 + cand["redshift"]) + 0.8 * cand["mw_av"]
            passing = np.flatnonzero(cand["ok"] & (rough <= mag_cut + _FAINT_MARGIN))
            j = 0
        # candidates are consumed in order; those failing the cheap cut count as tries too
        nxt = passing[passing >= j]
        if not len(nxt):
            tries += _BATCH - j
            j = _BATCH
            continue
        tries += int(nxt[0]) - j + 1
        j = int(nxt[0]) + 1
        c = j - 1
        p = {k: (v[c] if np.ndim(v) else v) for k, v in cand.items()}
        z = float(p["redshift"])
        mu = float(mu_all[c])
        ra, dec, peak_mjd = float(p["ra"]), float(p["dec"]), float(p["peak_mjd"])
        spec_phases, host_frac = p["spec_phases"], float(p["host_frac"])
        rise, fade, tail = p["rise_rest_d"], p["fade_rest_d"], p["tail_slope"]
        sn = lib.choose(rng, cls, float(spec_phases[0]))
        obs_wave = REST_WAVE_COARSE * (1.0 + z)
        mw = 10.0 ** (-0.4 * fitzpatrick99(obs_wave, p["mw_av"]))
        amp = 10.0 ** (-0.4 * (p["peak_absmag"] - 23.9 + mu)) / (1.0 + z)
        W = photometry_matrix(bands, obs_wave) * mw[None, :]
        tp = cp["temperature"]
        # selection on the magnitudes at the (rest-frame r) peak epoch, before the full SED
        shape0 = sed_shape(cls, lib.features(sn, [0.0], True),
                           temperature_curve([0.0], tp["phase"], tp["T"], p["temp_scale"]), p["host_av"], True)
        with np.errstate(divide="ignore"):
            mags0 = 23.9 - 2.5 * np.log10(np.maximum(amp * (shape0 @ W.T)[0], 1e-30))
        if np.min(mags0) > mag_cut:
            continue
        t_start = -2.5 * rise
        t_end = min(fade + 8.0 / tail, 500.0)
        nodes = np.unique(np.concatenate([[t_start, 0.0, t_end], _NODES[(_NODES > t_start) & (_NODES < t_end)],
                                          spec_phases]))
        temps = temperature_curve(nodes, tp["phase"], tp["T"], p["temp_scale"])
        shape = sed_shape(cls, lib.features(sn, nodes, True), temps, p["host_av"], True)
        colour = amp * (shape @ W.T)  # (n_node, n_band): µJy per unit L
        lum_nodes = luminosity_shape(nodes, rise, fade, tail)
        with np.errstate(divide="ignore"):
            peak_mags = 23.9 - 2.5 * np.log10(np.max(colour * lum_nodes[:, None], axis=0))
        if cfg.peak_mag_max is not None and np.min(peak_mags) > cfg.peak_mag_max:
            continue
        t0 = peak_mjd + (t_start - 5.0) * (1.0 + z)
        t1 = peak_mjd + t_end * (1.0 + z)
        times, bidx = schedule(rng, sv, t0, t1, ra)
        ph = (times - peak_mjd) / (1.0 + z)
        true = luminosity_shape(ph, rise, fade, tail) * _interp_bands(ph, bidx, nodes, colour)
        flux, err, m5 = observe(rng, sv, true, bidx)
        det = flux / err >= 5.0
        n_det = int(det.sum())
        if n_det < cfg.min_detections:
            continue
        accepted = True
        break
    if not accepted:
        raise ValueError(
            f"inconsistent config: no {cls} event passed the selection (min_detections={cfg.min_detections}, "
            f"peak_mag_max={cfg.peak_mag_max}, redshift_range={cfg.zranges[cls][1:]}) in max_tries="
            f"{cfg.max_tries} draws; loosen the cuts or lower the redshift range")
    keep = np.ones(len(times), bool) if cfg.forced_photometry else det
    ref = "ztfr" if "ztfr" in bands else ("lsstr" if "lsstr" in bands else bands[len(bands) // 2])
    full_wave = REST_WAVE * (1.0 + z)
    mw_full = 10.0 ** (-0.4 * fitzpatrick99(full_wave, p["mw_av"]))
    ref_w = photometry_matrix([ref], full_wave)[0] * mw_full
    inst = get_instrument(cfg.instrument)
    spec_shape = sed_shape(cls, lib.features(sn, spec_phases), temperature_curve(
        spec_phases, tp["phase"], tp["T"], p["temp_scale"]), p["host_av"])
    spectra = []
    for k, sp in enumerate(spec_phases):
        flam = amp * spec_shape[k] * mw_full * float(luminosity_shape(sp, rise, fade, tail))
        w, f, e, info = observe_spectrum(rng, inst, z, flam, ref_w, host_frac)
        spectra.append({"wave": w, "flux": f, "flux_err": e, "mjd": peak_mjd + sp * (1.0 + z), "phase": float(sp),
                        "snr": info["snr"], "resolution": info["resolution"]})
    truth = {
        "object_id": f"{cfg.id_prefix}{index:07d}", "index": int(index), "class": cls, "redshift": z,
        "peak_mjd": peak_mjd, "peak_absmag": p["peak_absmag"],
        "peak_absmag_intrinsic": p["peak_absmag"] - _host_r_extinction(shape0[0], p["host_av"]),
        "rise_rest_d": rise, "fade_rest_d": fade, "tail_slope": tail, "temp_scale": p["temp_scale"],
        "host_av": p["host_av"], "mw_av": p["mw_av"], "mwebv": p["mw_av"] / 3.1, "distmod": mu,
        "ra": ra, "dec": dec, "template_id": int(sn), "template_sn": str(lib.sn_name[sn]),
        "template_subtype": str(lib.sn_subtype[sn]), "template_source": str(lib.sn_source[sn]),
        "spec_phase": float(spec_phases[0]), "spec_mjd": spectra[0]["mjd"], "spec_snr": spectra[0]["snr"],
        "spec_resolution": spectra[0]["resolution"], "spec_instrument": inst.name, "host_fraction": host_frac,
        "n_obs": int(len(times)), "n_det": n_det, "n_tries": tries, "survey": sv.name,
    }
    for b, m in zip(bands, peak_mags, strict=False):
        truth[f"peak_mag_{b}"] = float(m)
    lc = {"mjd": times[keep], "band_index": bidx[keep].astype(np.int8), "flux": flux[keep], "flux_err": err[keep],
          "m5": m5[keep], "detected": det[keep], "true_flux": true[keep]}
    model = {"nodes": nodes, "colour": colour, "rise": rise, "fade": fade, "tail": tail, "peak_mjd": peak_mjd,
             "redshift": z, "bands": bands}
    return {"truth": truth, "lc": lc, "spectra": spectra, "bands": bands, "model": model}


def model_flux(event: dict, mjd, band: str) -> np.ndarray:
    """Noiseless flux (µJy) of a simulated ``event`` (from :func:`simulate_event`) in ``band`` at ``mjd``.

    Uses the event's own SED (band fluxes on the phase nodes × brightness curve), the same numbers the
    light curve was drawn from.
    """
    m = event["model"]
    if band not in m["bands"]:
        raise ValueError(f"band: {band!r} not simulated for this event; bands: {m['bands']}")
    ph = (np.asarray(mjd, float) - m["peak_mjd"]) / (1.0 + m["redshift"])
    b = m["bands"].index(band)
    return luminosity_shape(ph, m["rise"], m["fade"], m["tail"]) * np.interp(ph, m["nodes"], m["colour"][:, b])


def _interp_bands(ph, bidx, nodes, colour):
    out = np.empty(len(ph))
    for b in range(colour.shape[1]):
        m = bidx == b
        out[m] = np.interp(ph[m], nodes, colour[:, b])
    return out


def _host_r_extinction(shape0, host_av):
    """Host extinction (mag) in rest-frame r at peak (coarse grid), for the intrinsic peak magnitude."""
    if host_av <= 0:
        return 0.0
    from .seds import _rest_r_weights

    unred = shape0 / 10.0 ** (-0.4 * fitzpatrick99(REST_WAVE_COARSE, host_av))
    w = _rest_r_weights(True)
    return float(2.5 * np.log10((unred @ w) / (shape0 @ w)))


def simulate_events(cfg: SimConfig, indices) -> list[dict]:
    """Simulate the events ``indices`` (any order, any chunking: each depends only on its index)."""
    return [simulate_event(cfg, int(i)) for i in indices]

