"""Per-class rest-frame r-band brightness curves L(t) (relative flux, 1 at the r peak, t in rest days).

All share the rise ``0.75 (t / rise)²`` mag before peak (half flux at ``-rise``; zero before the
explosion epoch ``-2.5 rise``).  After peak (``fade`` = rest days to fall 0.75 mag in r, from the BTS
g-band ``fade_d`` times the per-class factor of ``sim_empirical.json``):

* **Ibc, IIb, IIn, SLSN-I** -- :func:`astroembed.simulate.seds.luminosity_shape`: quadratic in
  magnitude until ``fade``, bending (e-folding time ``fade``) into a linear tail (``tail`` mag / d).
  This is an empirical, Arnett-like single peak; IIn (CSM interaction) and SLSN-I (magnetar) differ
  through their fitted, much longer widths, not through a physical model.
* **Ia** -- the same primary peak plus the r-band secondary maximum / shoulder of SNe Ia: a Gaussian
  in flux of relative amplitude ``second_amp`` centred at ``1.6 fade`` (≈ +25 d for a normal SN Ia),
  width ``0.4 fade`` (so it scales with the stretch), cf. Hamuy et al. 1996, Burns et al. 2011.
* **II** -- plateau / linear decline + nickel tail: ``dm = 0.75 t / fade`` until the plateau end
  ``t_p``, then a drop of ``drop`` mag (logistic, 3 d wide) and the ⁵⁶Co tail of ``tail`` mag / d
  (0.0098 for full trapping); II-L are the fast-``fade`` end of the same family (Anderson et al. 2014).
"""

from __future__ import annotations

import numpy as np

from .seds import luminosity_shape

__all__ = ["brightness", "PLATEAU_CLASSES", "SECOND_MAX_CLASSES"]

PLATEAU_CLASSES = ("II",)
SECOND_MAX_CLASSES = ("Ia",)


def _rise_dm(t, rise):
    return 0.75 * (t / rise) ** 2


def brightness(cls: str, t, rise: float, fade: float, tail: float, second_amp: float = 0.0,
               plateau_d: float = 100.0, drop: float = 2.0) -> np.ndarray:
    """Relative rest-frame r flux of an event of class ``cls`` at rest days ``t`` from the r peak."""
    t = np.asarray(t, np.float64)
    if cls in PLATEAU_CLASSES:
        tp = float(plateau_d)  # plateau end (rest days after peak)
        tt = np.maximum(t, 0.0)
        dm_pl = 0.75 * np.minimum(tt, tp) / fade
        x = np.clip((tt - tp) / 3.0, -50, 50)
        dm_fall = np.where(t > 0, dm_pl + drop / (1.0 + np.exp(-x)) + tail * np.maximum(tt - tp, 0.0), 0.0)
        # the logistic is not exactly 0 at t = 0: remove its value there so that L(0) = 1
        dm_fall = dm_fall - np.where(t > 0, drop / (1.0 + np.exp(tp / 3.0)), 0.0)
        dm = np.where(t < 0, _rise_dm(t, rise), dm_fall)
        return np.where(t < -2.5 * rise, 0.0, 10.0 ** (-0.4 * np.minimum(dm, 40.0)))
    base = luminosity_shape(t, rise, fade, tail)
    if cls in SECOND_MAX_CLASSES and second_amp > 0:
        t2, w2 = 1.6 * fade, 0.4 * fade
        bump = second_amp * np.exp(-0.5 * ((t - t2) / w2) ** 2) * (t > 0)
        # keep L(0) = 1 and the peak at t = 0: the bump is ~0 at peak (t2 = 4 w2)
        base = base + bump
    return base
