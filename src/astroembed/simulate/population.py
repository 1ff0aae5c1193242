"""Class mix and per-event physical parameters, drawn from populations fitted to the real ZTF BTS.

The fitted numbers live in ``_package_data/sim_populations.json`` (made by
:mod:`astroembed.simulate.fit_populations`); nothing here is a hand-set brightness constant.
Redshifts are volumetric: p(z) ∝ (1 + z)^(alpha - 1) dV_c/dz (Planck18), the survey's detection
limits then make the observed redshift distribution.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import numpy as np

__all__ = ["CLASSES", "OPTIONAL_CLASSES", "load_populations", "resolve_mix", "redshift_sampler",
           "draw_physical", "Z_LIMITS"]

CLASSES = ("Ia", "Ibc", "II", "IIn", "SLSN-I")
OPTIONAL_CLASSES = ("IIb",)
#: allowed redshifts: above 2 the rest-frame grid (1000-12500 Å) no longer covers the LSST u band
Z_LIMITS = (1e-3, 2.0)
_ALIASES = {"ia": "Ia", "ibc": "Ibc", "ib/c": "Ibc", "ii": "II", "iin": "IIn", "slsn-i": "SLSN-I",
            "slsn": "SLSN-I", "slsni": "SLSN-I", "iib": "IIb"}


@lru_cache(maxsize=1)
def load_populations() -> dict:
    path = resources.files("astroembed") / "_package_data" / "sim_populations.json"
    return json.loads(path.read_text())


def _canon_class(name) -> str:
    key = str(name).strip().lower()
    if key not in _ALIASES:
        raise ValueError(f"classes: unknown class {name!r}; valid classes: "
                         f"{', '.join(CLASSES + OPTIONAL_CLASSES)}")
    return _ALIASES[key]


def resolve_mix(classes=None) -> tuple[tuple[str, ...], np.ndarray]:
    """Class names and probabilities.

    ``None`` / ``"bts"``: the ZTF BTS mix of the five Maven classes; ``"bts+iib"``: the same with
    IIb; ``"balanced"``: equal weights over the five; a list of names: equal weights over them; a
    dict name -> weight: normalised weights.
    """
    pops = load_populations()
    if classes is None or (isinstance(classes, str) and classes.lower() in ("bts", "bts+iib")):
        names = CLASSES + (OPTIONAL_CLASSES if isinstance(classes, str) and classes.lower() == "bts+iib" else ())
        w = np.array([pops["bts_mix"][c] for c in names], float)
    elif isinstance(classes, str) and classes.lower() == "balanced":
        names, w = CLASSES, np.ones(len(CLASSES))
    elif isinstance(classes, str):
        names, w = (_canon_class(classes),), np.ones(1)
    elif isinstance(classes, dict):
        if not classes:
            raise ValueError("classes: empty dict; give at least one class with a positive weight")
        names = tuple(_canon_class(k) for k in classes)
        try:
            w = np.array([float(v) for v in classes.values()])
        except (TypeError, ValueError):
            raise TypeError(f"classes: weights must be numbers, got {list(classes.values())}") from None
        if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
            raise ValueError(f"classes: weights must be finite, >= 0 and not all zero, got {dict(classes)}")
    else:
        try:
            names = tuple(_canon_class(k) for k in classes)
        except TypeError:
            raise TypeError(f"classes: expected None, 'bts', 'balanced', a list or a dict, got {classes!r}") from None
        if not names:
            raise ValueError("classes: empty list; give at least one class")
        w = np.ones(len(names))
    if len(set(names)) != len(names):
        raise ValueError(f"classes: duplicated class in {list(names)}")
    return tuple(names), w / w.sum()


@lru_cache(maxsize=64)
def redshift_sampler(alpha: float, zmin: float, zmax: float):
    """Grid (z, cdf) for inverse-CDF sampling of p(z) ∝ (1+z)^(alpha-1) dV_c/dz on [zmin, zmax]."""
    from astropy.cosmology import Planck18

    z = np.linspace(zmin, zmax, 512)
    pdf = (1 + z) ** (alpha - 1.0) * Planck18.differential_comoving_volume(z).value
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]) * np.diff(z))])
    return z, cdf / cdf[-1]


@lru_cache(maxsize=16)
def _class_arrays(cls: str):
    pops = load_populations()
    e = pops["classes"][cls]
    mean, cov = np.asarray(e["mean"]), np.asarray(e["cov"])
    lo = np.array([e["peakabs_range"][0], np.log(e["rise_range"][0]), np.log(e["fade_range"][0])])
    hi = np.array([e["peakabs_range"][1], np.log(e["rise_range"][1]), np.log(e["fade_range"][1])])
    q25, q75 = e["tail_slope"]["iqr"]
    return (mean, np.linalg.cholesky(cov), lo, hi, e["tail_slope"]["median"], np.log(q75 / q25) / 1.349,
            pops["assumed"]["host_av_scale"][cls], np.asarray(pops["mw_av_quantiles"]), np.linspace(0, 1, 101))


def draw_physical(rng: np.random.Generator, cls: str, zgrid, k: int = 64) -> dict:
    """``k`` candidate draws of the physical parameters of an event of class ``cls``.

    Returns a dict of arrays plus ``ok`` (False where the brightness-curve draw fell outside the range
    seen in the real data: those candidates are discarded, i.e. the Gaussian is truncated).
    """
    mean, chol, lo, hi, tail_med, tail_sig, av_scale, mwq, qgrid = _class_arrays(cls)
    z = np.interp(rng.random(k), zgrid[1], zgrid[0])
    x = mean[None, :] + rng.standard_normal((k, 3)) @ chol.T
    ok = (x >= lo).all(axis=1) & (x <= hi).all(axis=1)
    tail = np.clip(tail_med * np.exp(tail_sig * rng.standard_normal(k)), 0.003, 0.15)
    host_av = rng.exponential(av_scale, size=k)
    mw_av = np.interp(rng.random(k), qgrid, mwq)
    return {"redshift": z, "peak_absmag": x[:, 0], "rise_rest_d": np.exp(x[:, 1]), "fade_rest_d": np.exp(x[:, 2]),
            "tail_slope": tail, "temp_scale": np.exp(0.08 * rng.standard_normal(k)), "host_av": host_av,
            "mw_av": mw_av, "ok": ok}


def default_zmax(cls: str, mag_limit: float) -> float:
    """Redshift beyond which even a bright (mean - 2.5σ) event of ``cls`` peaks fainter than
    ``mag_limit`` (no K-correction; at most ``Z_LIMITS[1]``)."""
    from .seds import distmod

    e = load_populations()["classes"][cls]
    m_bright = max(e["mean"][0] - 2.5 * np.sqrt(e["cov"][0][0]), e["peakabs_range"][0])
    z = np.linspace(0.002, Z_LIMITS[1], 4000)
    ok = m_bright + distmod(z) - 2.5 * np.log10(1 + z) <= mag_limit
    return float(z[ok][-1]) if ok.any() else 0.01
