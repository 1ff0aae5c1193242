"""The simulator: one SED per event -> light curve + spectrum, deterministic per event index.

Event ``i`` of a run with ``seed`` draws everything from
``np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i,)))`` (the i-th child of
``SeedSequence(seed).spawn``), so the output never depends on how events are split between workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .cadence import empirical_schedule
from .candidates import _BATCH, _ROUGH_MARGIN, _ROUGH_MARGIN_CLASS, _draw_block, _mag_cut, _rough_mags  # noqa: F401
from .filters import photometry_matrix
from .instruments import get_instrument, observe_spectrum
from .lightcurve_models import PLATEAU_CLASSES, brightness
from .population import (
    RATES,
    Z_LIMITS,
    default_zmax,
    load_populations,
    resolve_mix,
    temperature_nodes,
    volume_weight,
)
from .seds import (
    REST_WAVE,
    REST_WAVE_COARSE,
    distmod,
    luminosity_shape,
    mw_transmission,
    sed_shape,
    temperature_curve,
)
from .surveys import Survey, get_survey, observe, observe_at_depth, schedule
from .templates import load_templates

__all__ = ["SimConfig", "make_config", "simulate_event", "simulate_events", "model_flux"]

_NODES = np.array([-150, -100, -70, -50, -35, -25, -18, -12, -8, -4, 0, 4, 8, 12, 18, 25, 35, 50, 70, 100,
                   140, 200, 280, 380, 500], float)
_FAINT_MARGIN = 0.5  # mag: redshift ranges reach this far past the cut


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
    mix_mode: str = "fixed"  # "fixed": class drawn once per event; "rates": re-drawn with every candidate
    cadence_file: str | None = None
    pointings: str | None = None  # real pointing history (.npz, :mod:`.pointings`): cadence + per-visit depths


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
                peak_mag_max=None, host_fraction=0.0, max_tries=20000, templates_dir=None,
                cadence_file=None, pointings=None) -> SimConfig:
    """Validate the user's options into a :class:`SimConfig`; errors name the offending key."""
    seed = _check_int("seed", seed, 0)
    sv = get_survey(survey)
    if bands is not None:
        sv = sv.with_bands(bands)
    if pointings is not None:
        from .pointings import check_pointings

        pointings, sv = check_pointings(pointings, sv)
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
    if peak_mag_max is not None:
        for c in names:
            # brightest allowed event at the lowest redshift: if even that is fainter, nothing can pass
            m_best = pops["classes"][c]["peakabs_range"][0] + float(distmod(zranges[c][1])) - 1.0
            if m_best > peak_mag_max:
                raise ValueError(
                    f"peak_mag_max: no {c} event can pass peak_mag_max={peak_mag_max} at redshift_range="
                    f"{zranges[c][1:]} (the brightest one peaks at ~{m_best + 1.0:.1f} mag); raise peak_mag_max or "
                    "lower the redshift range")
    mix_mode = "fixed"
    if isinstance(classes, str) and classes.lower().startswith("rates"):
        # events per year in each class's volume: rate x ∫ (1+z)^(alpha-1) dV; selection does the rest
        mix_mode = "rates"
        w = np.array([RATES[c] * volume_weight(*zranges[c]) for c in names])
        probs = w / w.sum()
    if cadence_file is not None:
        cadence_file = str(cadence_file)
        if not Path(cadence_file).is_file():
            raise FileNotFoundError(f"cadence_file: {cadence_file} does not exist (an .npz made by "
                                    "astroembed.simulate.fit_empirical)")
    if sv.cadence == "ztf_empirical":
        from .cadence import load_cadence

        load_cadence(cadence_file)  # fails early, naming cadence_file, if the pool is missing
    return SimConfig(seed, sv, names, tuple(float(p) for p in probs), zranges, phase, n_spectra, inst,
                     bool(forced_photometry), min_det, peak_mag_max, hf, max_tries,
                     None if templates_dir is None else str(templates_dir), f"{sv.name}-{seed}-", mix_mode,
                     cadence_file, pointings)


def _rng(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(index),)))



def _halpha(wave, ew, fwhm_kms):
    """Continuum-relative Gaussian H-alpha emission of equivalent width ``ew`` (Å) on ``wave``."""
    if ew <= 0:
        return 0.0
    sig = 6562.8 * fwhm_kms / 299792.458 / 2.3548
    return ew / (sig * np.sqrt(2 * np.pi)) * np.exp(-0.5 * ((wave - 6562.8) / sig) ** 2)


def _features(lib, sn, phases, p, coarse=False):
    from .seds import SNID_SLICE, SNID_SLICE_COARSE

    f = lib.features(sn, phases, coarse)
    if p["halpha_ew"] > 0:
        wave = (REST_WAVE_COARSE if coarse else REST_WAVE)[SNID_SLICE_COARSE if coarse else SNID_SLICE]
        f = f + _halpha(wave, p["halpha_ew"], p["halpha_fwhm_kms"])[None, :]
    return f


def _t_end(cls, p):
    fade, tail = p["fade_rest_d"], p["tail_slope"]
    if cls in PLATEAU_CLASSES:
        tp = p["plateau_rest_d"]
        level = 0.75 * min(tp, 500.0) / fade + p["plateau_drop_mag"]
        return float(min(tp + 20.0 + max(8.0 - level, 0.0) / tail, 500.0))
    return float(min(fade + 8.0 / tail, 500.0))


def _brightness(cls, t, p):
    return brightness(cls, t, p["rise_rest_d"], p["fade_rest_d"], p["tail_slope"], p["second_max_amp"],
                      p["plateau_rest_d"], p["plateau_drop_mag"])


def simulate_event(cfg: SimConfig, index: int) -> dict:
    """Simulate event ``index`` of the run ``cfg`` (independent of every other event)."""
    rng = _rng(cfg.seed, index)
    sv = cfg.survey
    lib = load_templates(cfg.templates_dir)
    cls_fixed = None
    if cfg.mix_mode != "rates":
        k = int(np.searchsorted(np.cumsum(cfg.class_probs), rng.random(), side="right"))
        cls_fixed = cfg.classes[min(k, len(cfg.classes) - 1)]
    mag_cut = _mag_cut(sv, cfg.peak_mag_max)
    bands = list(sv.bands)
    tries, accepted = 0, False
    n_pre = n_peak = 0  # candidates passing the vectorised pre-check / the exact peak cut (for the error)
    while tries < cfg.max_tries and not accepted:
        cand = _draw_block(rng, cfg, cls_fixed)
        passing = np.flatnonzero(cand["ok"])
        n_pre += int(np.count_nonzero(passing < cfg.max_tries - tries))
        last = _BATCH - 1
        for c in passing:
            if tries + int(c) + 1 > cfg.max_tries:
                break
            p = {k: v[c] for k, v in cand.items()}
            cls = cfg.classes[int(p["cls"])]
            z, mu = float(p["redshift"]), float(p["mu"])
            spec_phases = p["spec_phases"]
            sub91 = bool(p["subtype_91bg"])
            sn = lib.choose(rng, cls, float(spec_phases[0]), subtypes=("Ia-91bg",) if sub91 else None,
                            exclude_subtypes=("Ia-91bg",) if cls == "Ia" and not sub91 else None)
            t_start = -2.5 * p["rise_rest_d"]
            t_end = _t_end(cls, p)
            obs_wave = REST_WAVE_COARSE * (1.0 + z)
            mw = mw_transmission(z, p["mw_av"], coarse=True)
            amp = 10.0 ** (-0.4 * (p["peak_absmag"] - 23.9 + mu)) / (1.0 + z)
            W = photometry_matrix(bands, obs_wave) * mw[None, :]
            tph, tT = temperature_nodes(cls)
            extra = [p["plateau_rest_d"] + d for d in (-6.0, 0.0, 6.0)] if cls in PLATEAU_CLASSES else []
            nodes = np.unique(np.concatenate([[t_start, 0.0, t_end], _NODES[(_NODES > t_start) & (_NODES < t_end)],
                                              spec_phases, [e for e in extra if t_start < e < t_end]]))
            temps = temperature_curve(nodes, tph, tT, p["temp_scale"])
            shape = sed_shape(cls, _features(lib, sn, nodes, p, True), temps, p["host_av"], True)
            colour = amp * (shape @ W.T)  # (n_node, n_band): µJy per unit L
            peak_mags = _peak_mags(cls, nodes, p, colour)
            if peak_mags.min() > mag_cut:
                continue
            n_peak += 1
            peak_mjd = float(p["peak_mjd"])
            t0 = peak_mjd + (t_start - 5.0) * (1.0 + z)
            t1 = peak_mjd + t_end * (1.0 + z)
            m5_visit = None
            if cfg.pointings is not None:
                times, bidx, m5_visit = _pointing_schedule(cfg.pointings, sv, t0, t1, float(p["ra"]), float(p["dec"]))
            elif sv.cadence == "ztf_empirical":
                times, bidx = empirical_schedule(rng, sv, t0, t1, float(p["ra"]), cfg.cadence_file)
            else:
                times, bidx = schedule(rng, sv, t0, t1, float(p["ra"]))
            ph = (times - peak_mjd) / (1.0 + z)
            if np.count_nonzero((ph > t_start) & (ph < t_end)) < cfg.min_detections:
                continue  # exact: cannot have enough detections whatever the SED
            true = _brightness(cls, ph, p) * _interp_bands(ph, bidx, nodes, colour)
            if m5_visit is None:
                flux, err, m5 = observe(rng, sv, true, bidx)
            else:
                flux, err, m5 = observe_at_depth(rng, sv, true, m5_visit)
            det = flux / err >= 5.0
            n_det = int(det.sum())
            if n_det < cfg.min_detections:
                continue
            accepted, last = True, int(c)
            break
        tries += last + 1
    if not accepted:
        what = "/".join(cfg.classes) if cls_fixed is None else cls_fixed
        raise ValueError(
            f"inconsistent config: no {what} event passed the selection in max_tries={cfg.max_tries} draws "
            f"(acceptance < {1.0 / cfg.max_tries:.1e}: {n_pre} draws passed the magnitude pre-check, {n_peak} the "
            f"peak cut, 0 min_detections={cfg.min_detections}; peak_mag_max={cfg.peak_mag_max}, redshift_range="
            f"{[tuple(round(v, 4) for v in cfg.zranges[c][1:]) for c in cfg.classes]}); loosen the cuts, lower the "
            "redshift range or raise max_tries")
    keep = np.ones(len(times), bool) if cfg.forced_photometry else det
    ref = "ztfr" if "ztfr" in bands else ("lsstr" if "lsstr" in bands else bands[len(bands) // 2])
    full_wave = REST_WAVE * (1.0 + z)
    mw_full = mw_transmission(z, p["mw_av"])
    ref_w = photometry_matrix([ref], full_wave)[0] * mw_full
    inst = get_instrument(cfg.instrument)
    spec_shape = sed_shape(cls, _features(lib, sn, spec_phases, p), temperature_curve(
        spec_phases, tph, tT, p["temp_scale"]), p["host_av"])
    spec_lum = _brightness(cls, np.asarray(spec_phases, float), p)
    spectra = []
    for k, sp in enumerate(spec_phases):
        flam = amp * spec_shape[k] * mw_full * float(spec_lum[k])
        w, f, e, info = observe_spectrum(rng, inst, z, flam, ref_w, float(p["host_frac"]))
        spectra.append({"wave": w, "flux": f, "flux_err": e, "mjd": peak_mjd + sp * (1.0 + z), "phase": float(sp),
                        "snr": info["snr"], "resolution": info["resolution"]})
    shape0 = shape[np.flatnonzero(nodes == 0.0)[:1]]
    truth = {
        "object_id": f"{cfg.id_prefix}{index:07d}", "index": int(index), "class": cls, "redshift": z,
        "peak_mjd": peak_mjd, "peak_absmag": float(p["peak_absmag"]),
        "peak_absmag_intrinsic": float(p["peak_absmag"]) - _host_r_extinction(shape0[0], p["host_av"]),
        "rise_rest_d": float(p["rise_rest_d"]), "fade_rest_d": float(p["fade_rest_d"]),
        "tail_slope": float(p["tail_slope"]), "temp_scale": float(p["temp_scale"]),
        "host_av": float(p["host_av"]), "mw_av": float(p["mw_av"]), "mwebv": float(p["mw_av"]) / 3.1, "distmod": mu,
        "ra": float(p["ra"]), "dec": float(p["dec"]), "gal_b": float(p["gal_b"]),
        "second_max_amp": float(p["second_max_amp"]), "plateau_rest_d": float(p["plateau_rest_d"]),
        "plateau_drop_mag": float(p["plateau_drop_mag"]), "halpha_ew": float(p["halpha_ew"]),
        "template_id": int(sn), "template_sn": str(lib.sn_name[sn]),
        "template_subtype": str(lib.sn_subtype[sn]), "template_source": str(lib.sn_source[sn]),
        "spec_phase": float(spec_phases[0]), "spec_mjd": spectra[0]["mjd"], "spec_snr": spectra[0]["snr"],
        "spec_resolution": spectra[0]["resolution"], "spec_instrument": inst.name,
        "host_fraction": float(p["host_frac"]),
        "n_obs": int(len(times)), "n_det": n_det, "n_tries": tries, "survey": sv.name,
    }
    for b, m in zip(bands, peak_mags, strict=False):
        truth[f"peak_mag_{b}"] = float(m)
    lc = {"mjd": times[keep], "band_index": bidx[keep].astype(np.int8), "flux": flux[keep], "flux_err": err[keep],
          "m5": m5[keep], "detected": det[keep], "true_flux": true[keep]}
    model = {"nodes": nodes, "colour": colour, "rise": p["rise_rest_d"], "fade": p["fade_rest_d"],
             "tail": p["tail_slope"], "peak_mjd": peak_mjd, "redshift": z, "bands": bands, "class": cls,
             # the SED itself (coarse grid), so the same event can be observed through other bands (paired.py)
             "sed": {"shape": shape, "amp": float(amp), "obs_wave": obs_wave, "mw": mw, "t_start": float(t_start),
                     "t_end": float(t_end), "ra": float(p["ra"])},
             "params": {k: p[k] for k in ("rise_rest_d", "fade_rest_d", "tail_slope", "second_max_amp",
                                          "plateau_rest_d", "plateau_drop_mag")}}
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
    if "class" in m:
        lum = _brightness(m["class"], ph, m["params"])
    else:
        lum = luminosity_shape(ph, m["rise"], m["fade"], m["tail"])
    return lum * np.interp(ph, m["nodes"], m["colour"][:, b])


def _pointing_schedule(path, sv, t0, t1, ra, dec):
    from .pointings import load_pointings, pointing_schedule

    return pointing_schedule(load_pointings(path), sv, t0, t1, ra, dec)


def _peak_mags(cls, nodes, params, colour) -> np.ndarray:
    """Peak AB magnitude per band of the model light curve (max over the SED nodes; inf if never bright)."""
    with np.errstate(divide="ignore"):
        return 23.9 - 2.5 * np.log10((colour * _brightness(cls, nodes, params)[:, None]).max(axis=0))


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
    from .seds import _rest_f99_unit, _rest_r_weights

    unred = shape0 * 10.0 ** (0.4 * host_av * _rest_f99_unit(True))
    w = _rest_r_weights(True)
    return float(2.5 * np.log10((unred @ w) / (shape0 @ w)))


def simulate_events(cfg: SimConfig, indices) -> list[dict]:
    """Simulate the events ``indices`` (any order, any chunking: each depends only on its index)."""
    return [simulate_event(cfg, int(i)) for i in indices]

