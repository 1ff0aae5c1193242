"""The same simulated events observed by two surveys: ZTF events and their LSST counterparts.

Each ZTF event of :func:`astroembed.simulate.simulate` (unchanged: same seed → the same ZTF events) keeps
its SED (``event["model"]["sed"]``); the LSST counterpart observes that SED through the LSST bands with the
LSST cadence and noise model (:mod:`.surveys`) around the same peak, from an independent random stream
(``SeedSequence(seed, spawn_key=(index, 1))``).  Same class, redshift, parameters, dust, peak time; only
the survey differs.  A counterpart needs ``min_detections`` LSST detections (S/N ≥ 5); the cadence is
re-drawn up to ``tries`` times, after which the pair is dropped (e.g. the field is out of the LSST
season).  The LSST event reuses the ZTF event's spectrum (it is not a realistic LSST follow-up spectrum).

Fluxes are µJy in both (AB zero point 23.9), from the one SED: a units mismatch between the surveys
would show as g/r peak magnitudes that differ between the two members (``tests/test_simulate_paired.py``).
"""

from __future__ import annotations

import numpy as np

from .dataset import SimulatedDataset
from .filters import photometry_matrix
from .simulator import _brightness, _interp_bands, _peak_mags, make_config, simulate_events
from .surveys import get_survey, observe, schedule

__all__ = ["observe_counterpart", "simulate_paired"]


def observe_counterpart(event: dict, rng: np.random.Generator, survey="lsst", *, min_detections: int = 3,
                        tries: int = 10) -> dict | None:
    """The event dict of ``event`` (from ``simulate_event``) observed by ``survey``; ``None`` if it never
    reaches ``min_detections`` detections in ``tries`` cadence draws."""
    sv = get_survey(survey)
    m, sed = event["model"], event["model"]["sed"]
    bands = list(sv.bands)
    W = photometry_matrix(bands, sed["obs_wave"]) * sed["mw"][None, :]
    colour = sed["amp"] * (sed["shape"] @ W.T)  # (n_node, n_band) µJy per unit brightness
    z, peak, cls = m["redshift"], m["peak_mjd"], m["class"]
    t0, t1 = peak + (sed["t_start"] - 5.0) * (1.0 + z), peak + sed["t_end"] * (1.0 + z)
    for _ in range(tries):
        times, bidx = schedule(rng, sv, t0, t1, sed["ra"])
        ph = (times - peak) / (1.0 + z)
        true = _brightness(cls, ph, m["params"]) * _interp_bands(ph, bidx, m["nodes"], colour)
        flux, err, m5 = observe(rng, sv, true, bidx)
        det = flux / err >= 5.0
        if int(det.sum()) >= min_detections:
            break
    else:
        return None
    peak_mags = _peak_mags(cls, m["nodes"], m["params"], colour)
    truth = {k: v for k, v in event["truth"].items() if not k.startswith("peak_mag_")}
    truth.update(object_id=f"{sv.name}-{truth['object_id']}", survey=sv.name, n_obs=int(len(times)),
                 n_det=int(det.sum()), pair_id=truth["object_id"])
    for b, mag in zip(bands, peak_mags, strict=True):
        truth[f"peak_mag_{b}"] = float(mag)
    lc = {"mjd": times[det], "band_index": bidx[det].astype(np.int8), "flux": flux[det], "flux_err": err[det],
          "m5": m5[det], "detected": det[det], "true_flux": true[det]}
    model = {k: v for k, v in m.items() if k != "sed"} | {"colour": colour, "bands": bands}
    return {"truth": truth, "lc": lc, "spectra": event["spectra"], "bands": bands, "model": model}


def simulate_paired(n: int, seed: int = 0, *, classes=None, peak_mag_max=None, min_detections: int = 3,
                    other="lsst", tries: int = 10) -> tuple[SimulatedDataset, SimulatedDataset]:
    """``n`` ZTF events (as ``simulate(n, "ztf", seed, classes=..., peak_mag_max=...)``) and their ``other``-survey
    counterparts; pairs without a counterpart are dropped from both.  Row ``k`` of the two datasets is one
    physical event (``truth["pair_id"]`` = the ZTF ``object_id``)."""
    cfg = make_config(seed=seed, survey="ztf", classes=classes, peak_mag_max=peak_mag_max,
                      min_detections=min_detections)
    a, b = [], []
    for ev in simulate_events(cfg, range(int(n))):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(ev["truth"]["index"]), 1)))
        cp = observe_counterpart(ev, rng, other, min_detections=min_detections, tries=tries)
        ev["model"].pop("sed")  # ~0.1 MB per event: not kept
        if cp is not None:
            ev["truth"]["pair_id"] = ev["truth"]["object_id"]
            a.append(ev)
            b.append(cp)
    conf = {"n": int(n), "seed": int(seed), "paired": True, "kept_pairs": len(a), "peak_mag_max": peak_mag_max,
            "min_detections": int(min_detections), "classes": str(classes)}
    return (SimulatedDataset.from_events(a, conf | {"survey": "ztf"}),
            SimulatedDataset.from_events(b, conf | {"survey": other}))
