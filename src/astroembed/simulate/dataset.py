"""The simulated dataset (in memory) and its sharded Parquet form on disk.

On disk (``write_parquet(ds, out_dir, shard_size=...)``)::

    out_dir/manifest.json                    config, version, number of events, shard list, report
    out_dir/truth/part-00000.parquet         one row per event (the truth table)
    out_dir/lightcurves/part-00000.parquet   long format: object_id, mjd, band, flux, flux_err (µJy),
                                             m5, detected, true_flux
    out_dir/spectra/part-00000.parquet       one row per spectrum: object_id, spec_index, mjd, phase,
                                             wave, flux, flux_err (list columns; Å, erg/s/cm²/Å)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.containers import LightCurve, Spectrum

__all__ = ["SimulatedDataset", "write_parquet", "read_parquet", "ShardWriter"]

_FLUX_UNIT = "erg / (Angstrom s cm2)"


class SimulatedDataset:
    """Paired light curves + spectra of simulated events, aligned by event.

    Attributes
    ----------
    truth : pandas.DataFrame
        One row per event (``object_id``, ``class``, ``redshift``, ``peak_mjd``, ``peak_absmag``, dust,
        template ids, spectrum epoch, selection counters, …).
    lc_table, spec_table : pandas.DataFrame
        The long-format light-curve rows and one row per spectrum (what is written to Parquet).
    config : dict
        The run configuration.
    lightcurves, spectra : list
        :class:`~astroembed.LightCurve` / :class:`~astroembed.Spectrum` per event (built on first
        access); ``all_spectra`` holds every spectrum of an event when ``n_spectra > 1``.
    """

    def __init__(self, truth: pd.DataFrame, lc_table: pd.DataFrame, spec_table: pd.DataFrame, config: dict):
        self.truth = truth.reset_index(drop=True)
        self.lc_table = lc_table.reset_index(drop=True)
        self.spec_table = spec_table.reset_index(drop=True)
        self.config = dict(config)
        self._lcs = None
        self._specs = None

    @classmethod
    def from_events(cls, events: list[dict], config: dict) -> SimulatedDataset:
        truth = pd.DataFrame([e["truth"] for e in events])
        lc_cols = ["object_id", "mjd", "band", "flux", "flux_err", "m5", "detected", "true_flux"]
        if events:
            lens = np.array([len(e["lc"]["mjd"]) for e in events])
            band_names = np.concatenate([np.asarray(e["bands"], dtype=object)[e["lc"]["band_index"]] for e in events])
            cat = lambda key: np.concatenate([e["lc"][key] for e in events])  # noqa: E731
            lc_table = pd.DataFrame({
                "object_id": np.repeat(np.array([e["truth"]["object_id"] for e in events], dtype=object), lens),
                "mjd": cat("mjd"), "band": band_names, "flux": cat("flux"), "flux_err": cat("flux_err"),
                "m5": cat("m5"), "detected": cat("detected"), "true_flux": cat("true_flux")})
        else:
            lc_table = pd.DataFrame(columns=lc_cols)
        sp_cols = ["object_id", "spec_index", "mjd", "phase", "snr", "resolution", "wave", "flux", "flux_err"]
        sp = {c: [] for c in sp_cols}
        for e in events:
            oid = e["truth"]["object_id"]
            for k, s in enumerate(e["spectra"]):
                sp["object_id"].append(oid)
                sp["spec_index"].append(k)
                for c in sp_cols[2:]:
                    sp[c].append(s[c])
        spec_table = pd.DataFrame(sp, columns=sp_cols)
        return cls(truth, lc_table, spec_table, config)

    def __len__(self) -> int:
        return len(self.truth)

    def __repr__(self) -> str:
        mix = self.truth["class"].value_counts().to_dict() if len(self) else {}
        return f"SimulatedDataset(n={len(self)}, survey={self.config.get('survey')!r}, classes={mix})"

    # -- containers --------------------------------------------------------------------------
    def _row_slices(self, table):
        ids = table["object_id"].to_numpy()
        if not len(ids):
            return {}
        change = np.flatnonzero(ids[1:] != ids[:-1]) + 1
        starts = np.concatenate([[0], change])
        stops = np.concatenate([change, [len(ids)]])
        return {ids[a]: (a, b) for a, b in zip(starts, stops, strict=False)}

    @property
    def lightcurves(self) -> list[LightCurve]:
        if self._lcs is None:
            sl = self._row_slices(self.lc_table)
            t = self.lc_table
            mjd, band, fl, fe = (t[c].to_numpy() for c in ("mjd", "band", "flux", "flux_err"))
            out = []
            tr = self.truth
            cols = [tr[c].tolist() for c in ("object_id", "class", "redshift", "ra", "dec", "mwebv", "survey")]
            for oid, label, z, ra, dec, mwebv, survey in zip(*cols, strict=False):
                a, b = sl[oid]
                out.append(LightCurve(mjd[a:b], band[a:b], flux=fl[a:b], flux_err=fe[a:b], object_id=oid,
                                      redshift=z, ra=ra, dec=dec, mwebv=mwebv, label=label,
                                      meta={"survey": survey, "simulated": True}))
            self._lcs = out
        return self._lcs

    @property
    def all_spectra(self) -> list[list[Spectrum]]:
        if self._specs is None:
            by_id: dict = {}
            labels = dict(zip(self.truth["object_id"], self.truth["class"], strict=False))
            z = dict(zip(self.truth["object_id"], self.truth["redshift"], strict=False))
            for r in self.spec_table.itertuples(index=False):
                by_id.setdefault(r.object_id, []).append(Spectrum(
                    np.asarray(r.wave), np.asarray(r.flux), np.asarray(r.flux_err), z[r.object_id], mjd=r.mjd,
                    frame="observed", object_id=r.object_id, label=labels[r.object_id],
                    meta={"flux_unit": _FLUX_UNIT, "phase": r.phase, "snr": r.snr, "resolution": r.resolution,
                          "simulated": True}))
            self._specs = [by_id.get(oid, []) for oid in self.truth["object_id"]]
        return self._specs

    @property
    def spectra(self) -> list[Spectrum]:
        """The first spectrum of each event, aligned with :attr:`lightcurves` and :attr:`truth`."""
        return [s[0] for s in self.all_spectra]

    def report(self) -> dict:
        """Selection summary: events kept, draws needed per class (the rest failed the cuts)."""
        g = self.truth.groupby("class")
        return {"n_events": len(self), "selection": {k: self.config.get(k) for k in
                                                     ("min_detections", "peak_mag_max", "forced_photometry")},
                "per_class": {c: {"n": int(len(d)), "draws": int(d["n_tries"].sum()),
                                  "acceptance": float(len(d) / d["n_tries"].sum())} for c, d in g}}


class ShardWriter:
    """Write a dataset shard by shard (the CLI streams big runs through it)."""

    def __init__(self, out_dir, config: dict, overwrite: bool = False):
        self.out = Path(out_dir)
        if (self.out / "manifest.json").exists() and not overwrite:
            raise FileExistsError(f"out: {self.out} already holds a simulated dataset; pass overwrite=True "
                                  "(CLI: --overwrite) or choose another directory")
        for sub in ("truth", "lightcurves", "spectra"):
            (self.out / sub).mkdir(parents=True, exist_ok=True)
            for old in (self.out / sub).glob("part-*.parquet"):
                old.unlink()
        self.config = dict(config)
        self.shards: list[str] = []
        self.n = 0
        self.report: dict = {}

    def write(self, ds: SimulatedDataset) -> None:
        name = f"part-{len(self.shards):05d}.parquet"
        ds.truth.to_parquet(self.out / "truth" / name, index=False)
        ds.lc_table.to_parquet(self.out / "lightcurves" / name, index=False)
        spec = ds.spec_table.copy()
        for c in ("wave", "flux", "flux_err"):
            spec[c] = [np.asarray(v, np.float32) for v in spec[c]]
        spec.to_parquet(self.out / "spectra" / name, index=False)
        self.shards.append(name)
        self.n += len(ds)
        for c, d in ds.truth.groupby("class"):
            r = self.report.setdefault(c, {"n": 0, "draws": 0})
            r["n"] += int(len(d))
            r["draws"] += int(d["n_tries"].sum())

    def close(self) -> None:
        from .. import __version__

        manifest = {"format": "astroembed-sim/1", "astroembed_version": __version__, "n_events": self.n,
                    "shards": self.shards, "config": self.config, "selection_report": self.report,
                    "flux_units": {"lightcurves": "uJy", "spectra": _FLUX_UNIT}}
        (self.out / "manifest.json").write_text(json.dumps(manifest, indent=1, default=str) + "\n")


def write_parquet(dataset: SimulatedDataset, out_dir, shard_size: int = 10_000, overwrite: bool = False) -> Path:
    """Write ``dataset`` as sharded Parquet under ``out_dir`` (see the module docstring); returns it."""
    if isinstance(shard_size, bool) or not isinstance(shard_size, (int, np.integer)) or shard_size < 1:
        raise ValueError(f"shard_size: must be a positive integer, got {shard_size!r}")
    w = ShardWriter(out_dir, dataset.config, overwrite=overwrite)
    ids = dataset.truth["object_id"].to_numpy()
    for a in range(0, max(len(dataset), 1), shard_size):
        sel = set(ids[a:a + shard_size].tolist())
        w.write(SimulatedDataset(dataset.truth.iloc[a:a + shard_size],
                                 dataset.lc_table[dataset.lc_table.object_id.isin(sel)],
                                 dataset.spec_table[dataset.spec_table.object_id.isin(sel)], dataset.config))
    w.close()
    return Path(out_dir)


def read_parquet(path) -> SimulatedDataset:
    """Read a dataset written by :func:`write_parquet` or ``astroembed simulate --out``."""
    path = Path(path)
    mf = path / "manifest.json"
    if not mf.exists():
        raise FileNotFoundError(f"read_parquet: no manifest.json in {path}; not a simulated dataset directory")
    manifest = json.loads(mf.read_text())
    parts = manifest["shards"]
    truth = pd.concat([pd.read_parquet(path / "truth" / p) for p in parts], ignore_index=True)
    lcs = pd.concat([pd.read_parquet(path / "lightcurves" / p) for p in parts], ignore_index=True)
    spec = pd.concat([pd.read_parquet(path / "spectra" / p) for p in parts], ignore_index=True)
    for c in ("wave", "flux", "flux_err"):
        spec[c] = [np.asarray(v, np.float64) for v in spec[c]]
    return SimulatedDataset(truth, lcs, spec, manifest["config"])
