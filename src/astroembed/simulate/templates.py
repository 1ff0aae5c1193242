"""Spectral-feature templates: continuum-divided rest-frame spectra of real SNe, interpolated in phase.

The bundled excerpt (``_package_data/sim_templates/templates.npz``, ~1.3 MB) holds, on the SNID
log-λ grid (2500–10000 Å, 1024 bins), the flattened spectra ``f / continuum - 1`` of

* SNID templates (Blondin & Tonry 2007; Liu & Modjaz 2016; BSNIP): Ia (a type-stratified random
  subset of 111 SNe), Ibc, II, IIb, IIn — at most 12 epochs per SN;
* superfit (Howell et al. 2005) Ibc / II and the astrodash SLSN-I set, continuum-divided by
  :func:`astroembed.simulate.build_package_data.continuum_divide`,

all redistributed by ``daniel-muthukrishna/astrodash`` (MIT).  ``templates_dir=`` points at the full
``spectra_templates`` folder of the shared data instead (every SNID epoch is used then).

Extrapolation policy: inside a template SN's phase coverage the features are interpolated linearly
between the two nearest epochs; outside it they are held at the nearest epoch (the continuum and the
brightness keep evolving).  Each event draws its template SN uniformly among the SNe of its class
that have an epoch within ``match_days`` of the spectrum phase (falling back to all SNe of the class),
so every SN has the same weight whatever its number of epochs: no template dominates a class.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = ["TemplateLibrary", "load_templates", "EXCLUDED_SNE"]

#: SNe that are also in our real evaluation data (Open Supernova Catalog 2010-2014): never used as
#: simulator templates, so that simulated spectra cannot leak them into a model evaluated on OSC
EXCLUDED_SNE = ("SN2012bz", "SN2013cq", "SN2013dk", "PS1-10awh", "PS1-10ky", "SN2011kf")
#: relative draw weight of individual template SNe (default 1): SN 1987A is a peculiar, blue-supergiant
#: II-pec with a slow rise, rare among observed SNe II (it would otherwise be ~1/19 of the II draws)
SN_WEIGHTS = {"sn1987a": 0.2}


class TemplateLibrary:
    """Feature templates grouped by SN.  ``wave`` is the rest-frame log-λ grid (Å)."""

    def __init__(self, wave, flux, phase, sn, sn_name, sn_class, sn_subtype, sn_source):
        self.wave = np.asarray(wave, np.float64)
        phase, sn = np.asarray(phase, np.float64), np.asarray(sn, np.int64)
        order = np.lexsort((phase, sn))
        dup = np.zeros(len(order), bool)  # drop repeated (SN, phase) epochs: keep the first
        dup[1:] = (sn[order][1:] == sn[order][:-1]) & (phase[order][1:] == phase[order][:-1])
        order = order[~dup]
        self.flux = np.asarray(flux, np.float32)[order]
        self.phase = np.asarray(phase, np.float64)[order]
        self.sn = np.asarray(sn, np.int64)[order]
        self.sn_name = np.asarray(sn_name).astype(str)
        self.sn_class = np.asarray(sn_class).astype(str)
        self.sn_subtype = np.asarray(sn_subtype).astype(str)
        self.sn_source = np.asarray(sn_source).astype(str)
        n_sn = len(self.sn_name)
        self.start = np.searchsorted(self.sn, np.arange(n_sn), side="left")
        self.stop = np.searchsorted(self.sn, np.arange(n_sn), side="right")
        self.first_phase = self.phase[self.start]
        self.last_phase = self.phase[self.stop - 1]

    # -- queries ---------------------------------------------------------------------------------
    @property
    def classes(self) -> list[str]:
        return sorted(set(self.sn_class.tolist()))

    def sne_of_class(self, cls: str) -> np.ndarray:
        idx = np.flatnonzero(self.sn_class == cls)
        if not len(idx):
            raise ValueError(f"templates: no template SN of class {cls!r}; available: {self.classes}")
        return idx

    def phase_coverage(self, cls: str) -> tuple[float, float]:
        """Earliest and latest template epoch (rest-frame days) over all SNe of ``cls``."""
        idx = self.sne_of_class(cls)
        return float(self.first_phase[idx].min()), float(self.last_phase[idx].max())

    def choose(self, rng: np.random.Generator, cls: str, phase: float, match_days: float = 7.0,
               subtypes=None, exclude_subtypes=None) -> int:
        """Draw a template SN of ``cls`` with an epoch near ``phase`` if any (uniform over SNe, times
        :data:`SN_WEIGHTS`), optionally restricted to / excluding some subtypes (e.g. ``Ia-91bg``)."""
        key = (cls, None if subtypes is None else tuple(subtypes),
               None if exclude_subtypes is None else tuple(exclude_subtypes))
        cache = self.__dict__.setdefault("_choose_cache", {})
        if key not in cache:
            idx = self.sne_of_class(cls)
            st = self.sn_subtype[idx]
            m = np.ones(len(idx), bool)
            if subtypes is not None:
                m &= np.isin(st, list(subtypes))
            if exclude_subtypes is not None:
                m &= ~np.isin(st, list(exclude_subtypes))
            if m.any():
                idx = idx[m]
            rows = np.flatnonzero(np.isin(self.sn, idx))
            w_sn = np.zeros(len(self.sn_name))
            w_sn[idx] = [SN_WEIGHTS.get(n.lower(), 1.0) for n in self.sn_name[idx]]
            cache[key] = (idx, self.phase[rows], self.sn[rows], w_sn)
        idx, ph_rows, sn_rows, w_sn = cache[key]
        near = np.zeros(len(w_sn), bool)
        near[sn_rows[np.abs(ph_rows - phase) <= match_days]] = True
        w = w_sn * near if near.any() else w_sn
        cw = w.cumsum()
        return int(min(cw.searchsorted(rng.random() * cw[-1], side="right"), len(cw) - 1))

    def _class_rows(self, cls: str) -> np.ndarray:
        cache = self.__dict__.setdefault("_rows_cache", {})
        if cls not in cache:
            cache[cls] = np.flatnonzero(np.isin(self.sn, self.sne_of_class(cls)))
        return cache[cls]

    @property
    def flux_coarse(self) -> np.ndarray:
        """Block means of 4 bins (the light-curve grid of :mod:`.seds`)."""
        if "_coarse" not in self.__dict__:
            self._coarse = self.flux.reshape(len(self.flux), -1, 4).mean(axis=2)
        return self._coarse

    def features(self, sn: int, phases, coarse: bool = False) -> np.ndarray:
        """Flattened spectra (n_phase, n_wave) of SN ``sn`` at rest-frame ``phases`` (days).

        Linear interpolation between the bracketing epochs, held constant outside the coverage.
        """
        ph = np.atleast_1d(np.asarray(phases, np.float64))
        flux = self.flux_coarse if coarse else self.flux
        s, e = self.start[sn], self.stop[sn]
        ep = self.phase[s:e]
        if len(ep) == 1:
            return np.repeat(flux[s:s + 1], len(ph), axis=0)
        x = np.minimum(np.maximum(ph, ep[0]), ep[-1])  # np.clip, without its per-call overhead
        j = np.minimum(np.maximum(np.searchsorted(ep, x, side="right") - 1, 0), len(ep) - 2)
        w = ((x - ep[j]) / np.maximum(ep[j + 1] - ep[j], 1e-9))[:, None]
        return (1.0 - w) * flux[s + j] + w * flux[s + j + 1]


def _without(wave, flux, phase, sn, sn_name, sn_class, sn_subtype, sn_source, exclude=EXCLUDED_SNE):
    """Drop the template SNe named in ``exclude`` (case-insensitive) and renumber the rest."""
    bad = {e.lower() for e in exclude}
    keep_sn = np.array([str(n).lower() not in bad for n in sn_name])
    new_id = np.cumsum(keep_sn) - 1
    rows = keep_sn[np.asarray(sn)]
    sel = lambda a: np.asarray(a)[keep_sn]  # noqa: E731
    return TemplateLibrary(wave, np.asarray(flux)[rows], np.asarray(phase)[rows], new_id[np.asarray(sn)[rows]],
                           sel(sn_name), sel(sn_class), sel(sn_subtype), sel(sn_source))


def _from_npz(path) -> TemplateLibrary:
    with np.load(path) as d:
        return _without(d["wave"], d["flux"], d["phase"], d["sn"], d["sn_name"], d["sn_class"],
                        d["sn_subtype"], d["sn_source"])


def _from_dir(templates_dir: Path) -> TemplateLibrary:
    """Full SNID set (+ bundled SLSN-I / superfit excerpts for classes SNID lacks)."""
    import pandas as pd

    templates_dir = Path(templates_dir)
    pq = templates_dir / "snid_templates.parquet"
    grid_file = templates_dir / "snid_wave_grid.npy"
    if not pq.exists() or not grid_file.exists():
        raise FileNotFoundError(f"templates_dir: expected snid_templates.parquet and snid_wave_grid.npy in "
                                f"{templates_dir} (the shared data folder spectra_templates)")
    t = pd.read_parquet(pq, columns=["sn_name", "class_broad", "snid_type", "phase_days", "flux"])
    t = t[t.class_broad.isin(["Ia", "Ibc", "II", "IIb", "IIn"])].reset_index(drop=True)
    keys = t.groupby(["class_broad", "sn_name"]).snid_type.first()
    key_index = {k: i for i, k in enumerate(keys.index)}
    sn = np.array([key_index[(c, n)] for c, n in zip(t.class_broad, t.sn_name, strict=False)])
    flux = np.stack(t.flux.to_numpy()).astype(np.float32)
    base = load_templates()
    extra = np.flatnonzero(~np.isin(base.sn_class, ["Ia", "Ibc", "II", "IIb", "IIn"])
                           | (base.sn_source != "snid"))
    names = [k[1] for k in keys.index] + base.sn_name[extra].tolist()
    classes = [k[0] for k in keys.index] + base.sn_class[extra].tolist()
    subtypes = keys.to_list() + base.sn_subtype[extra].tolist()
    sources = ["snid"] * len(keys) + base.sn_source[extra].tolist()
    fl, ph, sv = [flux], [t.phase_days.to_numpy(float)], [sn]
    for new, old in enumerate(extra, start=len(keys)):
        s, e = base.start[old], base.stop[old]
        fl.append(base.flux[s:e])
        ph.append(base.phase[s:e])
        sv.append(np.full(e - s, new))
    return _without(np.load(grid_file), np.concatenate(fl), np.concatenate(ph), np.concatenate(sv),
                    names, classes, subtypes, sources)


@lru_cache(maxsize=4)
def load_templates(templates_dir: str | None = None) -> TemplateLibrary:
    """Load the bundled excerpt, or the full shared template set from ``templates_dir``."""
    if templates_dir is None:
        path = resources.files("astroembed") / "_package_data" / "sim_templates" / "templates.npz"
        return _from_npz(str(path))
    return _from_dir(Path(templates_dir))
