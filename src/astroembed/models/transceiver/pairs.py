"""Paired training / evaluation data for the Transceiver: simulated pairs and real OSC pairs as
:class:`~.training.PairArrays` plus a per-pair table (object id, label, redshift, …), cached on disk."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from ...data.bands import band_wavelength_table, pinned_band_wavelengths
from .training import PairArrays, prepare_pairs

__all__ = ["load_sim_pairs", "load_osc_pair_arrays", "simulate_pairs"]


def _key(config, extra: dict) -> str:
    d = {"lc": config.lightcurve_preprocess.to_dict(), "spec": config.spectrum_preprocess.to_dict(),
         "bands": band_wavelength_table(), **extra}
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _cached(path: Path | None, build):
    if path is not None and path.with_suffix(".npz").is_file() and path.with_suffix(".parquet").is_file():
        return PairArrays.load(path.with_suffix(".npz")), pd.read_parquet(path.with_suffix(".parquet"))
    arr, table = build()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        arr.save(path.with_suffix(".npz"))
        table.to_parquet(path.with_suffix(".parquet"))
    return arr, table


def _prepare_chunk(args):
    lcs, specs, config, bands = args  # the band table in force in the parent (pinned when fine-tuning)
    with pinned_band_wavelengths(bands):
        return prepare_pairs(lcs, specs, config)[0]


def _prepare_parallel(lcs, specs, config, workers: int) -> PairArrays:
    if workers <= 1 or len(lcs) < 2000:
        return prepare_pairs(lcs, specs, config)[0]
    from concurrent.futures import ProcessPoolExecutor

    bounds = np.linspace(0, len(lcs), 4 * workers + 1).astype(int)
    bands = band_wavelength_table()
    jobs = [(lcs[a:b], specs[a:b], config, bands) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    with ProcessPoolExecutor(workers) as ex:
        parts = list(ex.map(_prepare_chunk, jobs))
    for p, a in zip(parts, bounds[:-1], strict=True):
        p.index = p.index + a
    return PairArrays(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in PairArrays.__dataclass_fields__})


def load_sim_pairs(sim_dir, config, *, cache_dir=None, workers: int = 1) -> tuple[PairArrays, pd.DataFrame]:
    """Pairs of a simulated dataset directory (``astroembed simulate --out``); table columns: object_id,
    label, redshift, peak_absmag, sim_phase (rest-frame days from the true peak), event (row in the set)."""
    from ...simulate.dataset import read_parquet

    sim_dir = Path(sim_dir)
    manifest = json.loads((sim_dir / "manifest.json").read_text())
    key = _key(config, {"sim": str(sim_dir.resolve()), "n": manifest.get("n_events"), "shards": manifest["shards"]})
    cache = None if cache_dir is None else Path(cache_dir) / f"transceiver_sim_{key}"

    def build():
        ds = read_parquet(sim_dir)
        arr = _prepare_parallel(ds.lightcurves, ds.spectra, config, workers)
        t = ds.truth.iloc[arr.index]
        table = pd.DataFrame({"object_id": t["object_id"].astype(str).to_numpy(), "label": t["class"].to_numpy(),
                              "redshift": t["redshift"].to_numpy(float), "peak_absmag": t["peak_absmag"].to_numpy(float),
                              "sim_phase": t["spec_phase"].to_numpy(float), "event": arr.index})
        return arr, table

    return _cached(cache, build)


def simulate_pairs(n: int, out_dir, *, seed: int = 0, workers: int = 1) -> Path:
    """Simulate ``n`` ZTF pairs (all BTS classes) into ``out_dir`` (for machines without a simulated set)."""
    from ...simulate import simulate
    from ...simulate.dataset import write_parquet

    out_dir = Path(out_dir)
    if (out_dir / "manifest.json").is_file():
        return out_dir
    write_parquet(simulate(n, "ztf", seed, workers=workers), out_dir, overwrite=True)
    return out_dir


def load_osc_pair_arrays(config, *, data_dir=None, classes: str = "maven5", spectrum: str = "all",
                         cache_dir=None) -> tuple[PairArrays, pd.DataFrame, list]:
    """Real OSC pairs (:func:`astroembed.datasets.load_osc_pairs`); phases from each light curve's brightest
    point.  Returns arrays, table (object_id, label, redshift, spec_phase_cat) and the (light curve,
    spectrum) containers of the kept rows (for baselines that embed containers)."""
    from ...datasets.osc import load_osc_pairs

    ds = load_osc_pairs(data_dir, classes=classes, spectrum=spectrum)
    arr, _ = prepare_pairs(ds.lightcurves, ds.spectra, config)
    o = ds.objects.iloc[arr.index]
    table = pd.DataFrame({"object_id": o["object_id"].astype(str).to_numpy(), "label": o["label"].to_numpy(),
                          "redshift": o["redshift"].to_numpy(float), "spec_phase_cat": o["spec_phase"].to_numpy(float),
                          "row": arr.index})
    containers = [(ds.lightcurves[i], ds.spectra[i]) for i in arr.index]
    return arr, table, containers
