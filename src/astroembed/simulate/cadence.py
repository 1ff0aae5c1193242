"""Empirical ZTF cadence: real BTS observation sequences tiled over each event's time span.

The pool (``_package_data/ztf_cadence.npz``, :mod:`.fit_empirical`) holds the times and bands (g/r)
of the real detections of 612 bright BTS SNe from −8 to +25 observed days around their peak (ANTARES ``hse``
points, ZTF public + partnership survey, 2018-2021; via ``HSE-LAMBDA/light_curve_approx``, MIT).  Each
event draws one real SN and repeats its 33-day sequence (same-night repeats, g/r pattern and that
field's cadence) over the event's window, with a random shift; the observable season (RA) then
removes nights.  With ``ztfi`` requested, an i exposure is added on 30 % of the nights
with a g/r exposure (ZTF partnership i-band cadence, roughly every 4 nights).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np

__all__ = ["load_cadence", "empirical_schedule"]


@lru_cache(maxsize=2)
def load_cadence(path: str | None = None):
    if path is None:
        path = str(resources.files("astroembed") / "_package_data" / "ztf_cadence.npz")
    try:
        with np.load(path) as d:
            return (d["offset_d"].astype(np.float64), d["is_r"].astype(np.int64), d["starts"].astype(np.int64),
                    float(d["span_d"]))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"cadence_file: {path} not found; rebuild the ZTF cadence pool with "
            "`python -m astroembed.simulate.fit_empirical --shared ../shared/data` or pass survey='ztf' "
            "with the packaged file") from None


def empirical_schedule(rng: np.random.Generator, sv, t0: float, t1: float, ra: float, cadence_file=None):
    """Observation times (MJD) and band indices (into ``sv.bands``) in [t0, t1] from the real pool."""
    from .surveys import season_mask

    off, is_r, starts, span = load_cadence(cadence_file)
    n_seq = len(starts) - 1
    n_blk = int(np.ceil((t1 - t0) / span)) + 1
    s = int(rng.integers(n_seq))  # one real field's pattern per event: keeps the per-field cadence spread
    a, b = starts[s], starts[s + 1]
    shift = t0 - rng.uniform(0.0, span)
    t = (shift + span * np.arange(n_blk + 1)[:, None] + off[a:b][None, :]).ravel()
    bd = np.tile(is_r[a:b], n_blk + 1)
    m = (t >= t0) & (t <= t1) & season_mask(np.floor(t), ra, sv.season_days)
    t, bd = t[m], bd[m]
    names = list(sv.bands)
    gi = names.index("ztfg") if "ztfg" in names else -1
    ri = names.index("ztfr") if "ztfr" in names else -1
    col = np.where(bd == 1, ri, gi)
    keep = col >= 0
    t, col = t[keep], col[keep]
    if "ztfi" in names:
        nights = np.unique(np.floor(t))
        ni = nights[rng.random(len(nights)) < sv.band_prob.get("ztfi", 0.3)]
        ti = ni + rng.uniform(0.15, 0.45, len(ni))
        t = np.concatenate([t, ti])
        col = np.concatenate([col, np.full(len(ti), names.index("ztfi"))])
    order = np.argsort(t, kind="stable")
    return t[order], col[order]
