"""Sky positions and Milky-Way extinction tied to them (fitted on the BTS, :mod:`.fit_empirical`).

Positions are uniform on the survey's sky (its declination range), kept with the probability
``b_keep(|b|)`` (relative density of BTS objects over a uniform sky in Galactic-latitude bins: ZTF's
field coverage and Galactic-plane avoidance).  The MW extinction then follows the cosecant law with
log-normal scatter, ``A_V = a / sin|b| · exp(σ ε)``, a and σ fitted on the BTS ``gal_b_deg`` /
``mw_av`` (Schlafly & Finkbeiner 2011 maps, as given in the BTS table).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import numpy as np

from .fit_empirical import galactic_latitude

__all__ = ["load_empirical", "draw_sky", "galactic_latitude"]


@lru_cache(maxsize=1)
def load_empirical() -> dict:
    path = resources.files("astroembed") / "_package_data" / "sim_empirical.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(
            f"sim_empirical: package data file {path} is missing; rebuild it with "
            "`python -m astroembed.simulate.fit_empirical --shared ../shared/data`") from None


def draw_sky(rng: np.random.Generator, k: int, dec_range, use_b_keep: bool = True):
    """``k`` candidate positions: (ra, dec, b, mw_av, keep) arrays; ``keep`` False where the
    Galactic-latitude acceptance rejects the position (the candidate is then re-drawn)."""
    sky = _sky_arrays()
    sd = np.sin(np.radians(dec_range))
    u = rng.random((4, k))
    ra = 360.0 * u[0]
    dec = np.degrees(np.arcsin(sd[0] + (sd[1] - sd[0]) * u[1]))
    b = galactic_latitude(ra, dec)
    absb = np.abs(b)
    edges, keep_tab, ln_a, sig = sky
    keep_p = keep_tab[np.minimum(np.maximum(np.searchsorted(edges, absb, side="right") - 1, 0), len(keep_tab) - 1)]
    keep = u[2] < keep_p if use_b_keep else np.ones(k, bool)
    sinb = np.maximum(np.sin(np.radians(absb)), np.sin(np.radians(2.0)))
    mw_av = np.minimum(np.maximum(np.exp(ln_a + sig * rng.standard_normal(k)) / sinb, 0.0), 5.0)
    return ra, dec, b, mw_av, keep


@lru_cache(maxsize=1)
def _sky_arrays():
    sky = load_empirical()["sky"]
    return np.asarray(sky["b_edges"]), np.asarray(sky["b_keep"]), float(sky["av_ln_a"]), float(sky["av_ln_sigma"])
