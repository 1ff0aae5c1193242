"""Paired supernova light curves + spectra from one physically consistent SED per event.

>>> import astroembed as ae                                     # doctest: +SKIP
>>> ds = ae.simulate.simulate(n=100, survey="ztf", seed=0)       # doctest: +SKIP
>>> ds.lightcurves[0], ds.spectra[0], ds.truth.loc[0, "class"]  # doctest: +SKIP

See docs/simulation.md for the model, its calibration against the ZTF BTS and its known gaps.
"""

from __future__ import annotations

import numpy as np

from .dataset import ShardWriter, SimulatedDataset, read_parquet, write_parquet
from .population import CLASSES, OPTIONAL_CLASSES
from .simulator import SimConfig, make_config, model_flux, simulate_event, simulate_events
from .surveys import SURVEYS

__all__ = ["simulate", "SimulatedDataset", "write_parquet", "read_parquet", "CLASSES", "OPTIONAL_CLASSES",
           "SURVEYS", "make_config", "simulate_event", "simulate_events", "SimConfig", "ShardWriter",
           "iter_simulate", "config_dict", "model_flux"]


def config_dict(cfg: SimConfig, n: int) -> dict:
    """A JSON-able summary of a run configuration."""
    return {"n": int(n), "seed": cfg.seed, "survey": cfg.survey.name, "bands": list(cfg.survey.bands),
            "classes": dict(zip(cfg.classes, cfg.class_probs, strict=False)),
            "redshift_range": {c: list(v[1:]) for c, v in cfg.zranges.items()},
            "spectrum_phase": list(cfg.spectrum_phase), "n_spectra": cfg.n_spectra, "instrument": cfg.instrument,
            "forced_photometry": cfg.forced_photometry, "min_detections": cfg.min_detections,
            "peak_mag_max": cfg.peak_mag_max, "host_fraction": list(cfg.host_fraction),
            "templates_dir": cfg.templates_dir, "mix_mode": cfg.mix_mode, "cadence_file": cfg.cadence_file,
            "pointings": cfg.pointings, "simulator_version": 2}


_WORKER_CFG = None


def _init_worker(cfg):
    global _WORKER_CFG
    _WORKER_CFG = cfg


def _run_chunk(bounds):
    a, b = bounds
    events = simulate_events(_WORKER_CFG, range(a, b))
    for ev in events:  # the per-event SED (for paired.py, in-process only) is not sent back to the parent
        ev["model"].pop("sed", None)
    return events


def chunk_bounds(start: int, stop: int, chunk: int) -> list[tuple[int, int]]:
    """Contiguous [a, b) index ranges covering [start, stop)."""
    return [(a, min(a + chunk, stop)) for a in range(start, stop, chunk)]


def iter_simulate(cfg: SimConfig, start: int, stop: int, workers: int = 1, chunk: int = 200, progress=None):
    """Yield lists of event dicts for indices [start, stop) in order, using ``workers`` processes.

    Every event depends only on (seed, index), so the result is identical for any ``workers``/``chunk``.
    """
    bounds = chunk_bounds(start, stop, chunk)
    if workers <= 1:
        for ab in bounds:
            evs = simulate_events(cfg, range(*ab))
            if progress is not None:
                progress.update(len(evs))
            yield evs
        return
    import multiprocessing as mp

    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(cfg,)) as pool:
        for evs in pool.imap(_run_chunk, bounds):
            if progress is not None:
                progress.update(len(evs))
            yield evs


def simulate(n: int = 1000, survey: str = "ztf", seed: int = 0, *, classes=None, redshift_range=None,
             spectrum_phase=(-10.0, 30.0), n_spectra: int = 1, instrument: str | None = None, bands=None,
             forced_photometry: bool = False, min_detections: int = 3, peak_mag_max: float | None = None,
             host_fraction=0.0, templates_dir=None, workers: int = 1, progress: bool = False,
             max_tries: int = 20000, cadence_file=None, pointings=None) -> SimulatedDataset:
    """Simulate ``n`` supernovae, each with a light curve and a spectrum from one SED.

    Parameters
    ----------
    n : int
        Number of events kept (>= 0).  Events failing the selection are re-drawn; the number of draws
        is in ``truth["n_tries"]`` and :meth:`SimulatedDataset.report`.
    survey : {"ztf", "lsst"}
        Survey model (cadence, depths, noise; :mod:`astroembed.simulate.surveys`).
    seed : int
        Event ``i`` uses ``SeedSequence(seed).spawn`` child ``i``: same seed -> identical output,
        whatever ``workers``.
    classes : None, "bts", "bts+iib", "balanced", "rates", "rates+iib", list or dict
        Class mix (default: the ZTF BTS mix of Ia, Ibc, II, IIn, SLSN-I, imposed per event).
        ``"rates"``: volumetric rates x volume; the class is re-drawn with every candidate, so the kept
        mix follows from the selection.
    redshift_range : (zmin, zmax), optional
        Overrides the per-class default (0.002 up to where the class can still be detected);
        must lie in (0.001, 2].
    spectrum_phase : (lo, hi)
        Rest-frame days from peak of the spectrum epoch (uniform); must lie within the template
        coverage of every class (up to 10 days before the first template epoch).
    n_spectra : int
        Spectra per event (``ds.all_spectra``; ``ds.spectra`` holds the first).
    instrument : {"sedm", "generic"}, optional
        Spectrograph (default: ``sedm`` for ZTF, ``generic`` for LSST).
    bands : list of str, optional
        Subset of the survey's bands (e.g. ``["ztfg", "ztfr", "ztfi"]`` to add ZTF i).
    forced_photometry : bool
        Keep every epoch (incl. non-detections, negative fluxes) instead of detections (S/N >= 5) only.
    min_detections : int
        Events with fewer detections are re-drawn (default 3).
    peak_mag_max : float, optional
        Keep only events whose brightest band peaks brighter than this (e.g. 19 for a BTS-like sample).
    host_fraction : float or (lo, hi)
        Host-galaxy light in the spectrum as a fraction of the SN r-band flux (uniform in the range).
    templates_dir : path, optional
        Folder with the full SNID template set (``spectra_templates`` of the shared data).
    workers : int
        Processes (``multiprocessing``); does not change the output.
    progress : bool
        Show a tqdm progress bar.

    max_tries : int
        Candidate draws allowed per kept event; beyond it a ``ValueError`` names the class and the
        acceptance.
    cadence_file : path, optional
        ZTF cadence pool (``.npz`` from :mod:`astroembed.simulate.fit_empirical`; default: packaged).
    pointings : path, optional
        Real pointing history of the survey (``.npz`` from ``tools/build_pointing_tables.py``, see
        :mod:`astroembed.simulate.pointings`): each event takes the visits whose field of view covered its
        sky position in its time window, with their bands and 5σ depths (noise per visit); peak times are
        drawn within the history's span.  Default ``None``: the survey's cadence model (unchanged).

    Returns
    -------
    SimulatedDataset
        ``.lightcurves``, ``.spectra`` (aligned by event), ``.truth`` (DataFrame).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n: expected an integer number of events, got {type(n).__name__} {n!r}")
    if n < 0:
        raise ValueError(f"n: number of events must be >= 0, got {n}")
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(f"workers: must be a positive integer, got {workers!r}")
    cfg = make_config(seed=seed, survey=survey, classes=classes, redshift_range=redshift_range,
                      spectrum_phase=spectrum_phase, n_spectra=n_spectra, instrument=instrument, bands=bands,
                      forced_photometry=forced_photometry, min_detections=min_detections,
                      peak_mag_max=peak_mag_max, host_fraction=host_fraction, max_tries=max_tries,
                      templates_dir=templates_dir, cadence_file=cadence_file, pointings=pointings)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=int(n), unit="ev", desc=f"simulate {cfg.survey.name}")
    events: list[dict] = []
    try:
        chunk = max(1, min(200, -(-int(n) // max(1, 4 * workers))))
        for evs in iter_simulate(cfg, 0, int(n), workers=int(workers), chunk=chunk, progress=bar):
            events.extend(evs)
    finally:
        if bar is not None:
            bar.close()
    return SimulatedDataset.from_events(events, config_dict(cfg, n))
