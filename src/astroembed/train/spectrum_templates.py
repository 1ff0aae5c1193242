"""Template spectra for spectrum pre-training, redshifted on the fly (Maven v2).

:func:`load_template_bank` reads the shared rest-frame template libraries (``spectra_templates/``):
the SNID templates (continuum divided; ``flux + 1`` is used as a flat-continuum spectrum) and the raw
superfit / SLSN template spectra (with continuum).  Every SN named in ``exclude_names`` (normalised:
lower case, ``SN`` prefix dropped) is removed — the evaluation objects — and the bank is de-duplicated
on the normalised ``sn_name`` *before* anything is split (an SN in both libraries keeps all its spectra,
under one name, so a validation split by name never straddles it).

:class:`TemplateSampler` draws observed-frame :class:`~astroembed.data.containers.Spectrum` objects:
a template (class-balanced weights ``count ** -balance_power``), a redshift from a fixed prior over the
BTS/OSC range (mixture of log-uniform on [0.005, 0.5] and uniform on [0, 0.2]; SLSN-I uniform on
[0.05, 0.8]), a random smooth continuum for the SNID templates (a blackbody of 5 000–20 000 K times
``(λ/6000 Å)^α``, α ∈ [−1, 1]), a random observed coverage (blue edge 3 300–5 000 Å, red edge
7 000–10 000 Å) and Gaussian noise with a per-spectrum S/N of 5–60.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["TemplateRecord", "normalise_sn_name", "load_template_bank", "TemplateSampler", "SNID_TO_MAVEN5",
           "Z_PRIOR"]

#: class_broad of the template libraries → Maven 5-class label (None = not one of the 5 classes)
SNID_TO_MAVEN5 = {"Ia": "Ia", "II": "II", "Ibc": "Ibc", "IIn": "IIn", "SLSN-I": "SLSN-I"}
#: redshift prior (documented in the module docstring; fixed before any evaluation)
Z_PRIOR = {"loguniform": (0.005, 0.5), "uniform": (0.0, 0.2), "slsn": (0.05, 0.8), "p_loguniform": 0.5}


def normalise_sn_name(name) -> str:
    """``"SN 2011fe"`` / ``"sn2011fe"`` / ``"2011fe"`` → ``"2011fe"`` (lower case, no ``sn`` prefix, no spaces)."""
    s = re.sub(r"\s+", "", str(name).strip().lower())
    return s[2:] if s.startswith("sn") and len(s) > 2 and s[2].isdigit() else s


@dataclass
class TemplateRecord:
    """One rest-frame template spectrum: ``wave`` (Å), ``flux`` (arbitrary units), its Maven-5 ``label``
    (or None), ``name`` (normalised SN name), ``source`` (``snid``/``superfit``/…) and ``flat``
    (True for continuum-divided SNID templates, which get a random continuum when sampled)."""

    wave: np.ndarray
    flux: np.ndarray
    label: str | None
    name: str
    source: str
    flat: bool


def load_template_bank(data_root, exclude_names=()) -> list[TemplateRecord]:
    """All template spectra of ``data_root/spectra_templates`` except SNe in ``exclude_names``."""
    root = Path(data_root) / "spectra_templates"
    excl = {normalise_sn_name(n) for n in exclude_names}
    grid = np.load(root / "snid_wave_grid.npy").astype(np.float64)
    out: list[TemplateRecord] = []
    snid = pd.read_parquet(root / "snid_templates.parquet")
    for r in snid.itertuples(index=False):
        name = normalise_sn_name(r.sn_name)
        if name in excl:
            continue
        lo, hi = int(r.valid_lo), int(r.valid_hi)
        f = np.asarray(r.flux, dtype=np.float64)[lo:hi + 1] + 1.0
        if hi - lo < 50 or not np.isfinite(f).all():
            continue
        out.append(TemplateRecord(grid[lo:hi + 1], f, SNID_TO_MAVEN5.get(r.class_broad), name, "snid", True))
    raw = pd.read_parquet(root / "raw_template_spectra.parquet")
    for r in raw.itertuples(index=False):
        name = normalise_sn_name(r.sn_name)
        if name in excl:
            continue
        w, f = np.asarray(r.wave, dtype=np.float64), np.asarray(r.flux, dtype=np.float64)
        ok = np.isfinite(w) & np.isfinite(f)
        w, f = w[ok], f[ok]
        if len(w) < 50:
            continue
        o = np.argsort(w)
        w, f = w[o], f[o]
        w, keep = np.unique(w, return_index=True)
        f = f[keep]
        if np.median(np.abs(f)) <= 0:
            continue
        out.append(TemplateRecord(w, f / np.median(np.abs(f)), SNID_TO_MAVEN5.get(r.class_broad), name,
                                  str(r.collection), False))
    if not out:
        raise ValueError(f"{root}: no template spectra left after excluding {len(excl)} names")
    return out


def _blackbody(wave_aa: np.ndarray, temp_k: float) -> np.ndarray:
    x = 1.4387769e8 / (wave_aa * temp_k)  # hc / (λ k T), λ in Å
    b = 1.0 / (wave_aa ** 5 * np.expm1(np.clip(x, 1e-6, 700)))
    return b / np.median(b)


class TemplateSampler:
    """Random observed-frame spectra from a template bank (see the module docstring).

    ``sample(idx, rng)`` → ``(Spectrum, label, z)``; ``weights`` are the class-balanced draw probabilities.
    """

    def __init__(self, records: list[TemplateRecord], balance_power: float = 0.5, augment: bool = True):
        self.records = records
        self.augment = augment
        labels = np.array([r.label or "other" for r in records], dtype=object)
        _, inv, cnt = np.unique(labels, return_inverse=True, return_counts=True)
        w = cnt[inv].astype(np.float64) ** -float(balance_power)
        self.weights = w / w.sum()

    def __len__(self) -> int:
        return len(self.records)

    @staticmethod
    def draw_redshift(label, rng: np.random.Generator) -> float:
        if label == "SLSN-I":
            return float(rng.uniform(*Z_PRIOR["slsn"]))
        if rng.random() < Z_PRIOR["p_loguniform"]:
            lo, hi = Z_PRIOR["loguniform"]
            return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        return float(rng.uniform(*Z_PRIOR["uniform"]))

    def sample(self, idx: int, rng: np.random.Generator, z: float | None = None):
        from ..data.containers import Spectrum

        r = self.records[idx]
        z = self.draw_redshift(r.label, rng) if z is None else float(z)
        wave, flux = r.wave, r.flux.copy()
        if self.augment:
            if r.flat:
                flux = flux * _blackbody(wave, rng.uniform(5000, 20000)) * (wave / 6000.0) ** rng.uniform(-1, 1)
            obs = wave * (1 + z)
            lo, hi = rng.uniform(3300, 5000), rng.uniform(7000, 10000)
            keep = (obs >= lo) & (obs <= hi)
            if keep.sum() < 60:
                keep = np.ones_like(keep)
            obs, flux = obs[keep], flux[keep]
            snr = rng.uniform(5, 60)
            sig = np.median(np.abs(flux)) / snr
            flux = flux + rng.normal(0, sig, len(flux))
        else:
            obs = wave * (1 + z)
        return Spectrum(obs, flux, None, z, frame="observed", object_id=r.name, label=r.label), r.label, z
