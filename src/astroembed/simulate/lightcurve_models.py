"""Per-class rest-frame r-band brightness curves L(t) (relative flux, 1 at the r peak, t in rest days).

All share the rise ``0.75 (t / rise)²`` mag before peak (half flux at ``-rise``; zero before the
explosion epoch ``-2.5 rise``).  After peak (``fade`` = rest days to fall 0.75 mag in r, from the BTS
g-band ``fade_d`` times the per-class factor of ``sim_empirical.json``):

* **Ibc, IIb, IIn, SLSN-I** -- :func:`decline_dm`: round peak, half flux at ``fade``, then the
  linear tail (``tail`` mag / d, fitted on BTS r-band light curves; Ibc and IIn median 0.025, the
  selection-corrected value, see ``population.TAIL_SLOPE_MEDIAN``).  An empirical, Arnett-like single
  peak; IIn (CSM interaction) and SLSN-I (magnetar) differ through their fitted, much longer widths
  and their colours, not through a physical model.
* **Ia** -- the same primary peak plus the r-band secondary maximum / shoulder of SNe Ia: a Gaussian
  in flux of relative amplitude ``second_amp`` centred at ``1.7 fade`` (≈ +28 d for a normal SN Ia),
  width ``0.45 fade`` (so it scales with the stretch), cf. Hamuy et al. 1996, Burns et al. 2011.
* **II** -- plateau / linear decline + nickel tail: ``dm = 0.75 t² / ((t + 10) fade)`` (round peak,
  then linear) until the plateau end
  ``t_p``, then a drop of ``drop`` mag (logistic, 3 d wide) and the ⁵⁶Co tail of ``tail`` mag / d
  (0.0098 for full trapping); II-L are the fast-``fade`` end of the same family (Anderson et al. 2014).
"""

from __future__ import annotations

import numpy as np

__all__ = ["brightness", "decline_dm", "PLATEAU_CLASSES", "SECOND_MAX_CLASSES"]

PLATEAU_CLASSES = ("II",)
SECOND_MAX_CLASSES = ("Ia",)


def _rise_dm(t, rise):
    return 0.75 * (t / rise) ** 2


def decline_dm(t, fade, tail, kappa: float = 0.8):
    """Post-peak decline (mag, t >= 0): ``A (1 - exp(-(t / (kappa fade))^2)) + tail t^2 / (t + fade / 2)``.

    Round at peak (quadratic), ``dm(fade) = 0.75`` (half flux) when A >= 0, and a linear tail of
    ``tail`` mag / d late (the saturating term A is the drop from the early decline to the tail)."""
    t = np.maximum(np.asarray(t, np.float64), 0.0)
    tr = 0.5 * fade
    a = max((0.75 - tail * fade * fade / (fade + tr)) / (1.0 - np.exp(-1.0 / kappa**2)), 0.0)
    return a * (1.0 - np.exp(-((t / (kappa * fade)) ** 2))) + tail * t * t / (t + tr)


def brightness(cls: str, t, rise: float, fade: float, tail: float, second_amp: float = 0.0,
               plateau_d: float = 100.0, drop: float = 2.0) -> np.ndarray:
    """Relative rest-frame r flux of an event of class ``cls`` at rest days ``t`` from the r peak."""
    t = np.asarray(t, np.float64)
    tt = np.maximum(t, 0.0)
    if cls in PLATEAU_CLASSES:
        tp = float(plateau_d)  # plateau end (rest days after peak)
        tc = min(10.0, 0.5 * fade)  # rounding of the peak: dm = 0.75 t^2 / ((t + tc) fade), linear later
        tm = np.minimum(tt, tp)
        dm_pl = 0.75 * tm * tm / ((tm + tc) * fade)
        x = np.minimum(np.maximum((tt - tp) / 3.0, -50.0), 50.0)
        # logistic drop, minus its (tiny) value at t = 0 so that L(0) = 1
        dm_post = dm_pl + drop * (1.0 / (1.0 + np.exp(-x)) - 1.0 / (1.0 + np.exp(tp / 3.0))) \
            + tail * np.maximum(tt - tp, 0.0)
    else:
        dm_post = decline_dm(tt, fade, tail)
    dm = np.where(t < 0, _rise_dm(t, rise), dm_post)
    flux = np.where(t < -2.5 * rise, 0.0, 10.0 ** (-0.4 * np.minimum(dm, 40.0)))
    if cls in SECOND_MAX_CLASSES and second_amp > 0:
        t2, w2 = 1.7 * fade, 0.45 * fade  # ~0 at peak (t2 ≈ 3.8 w2)
        flux = flux + second_amp * np.exp(-0.5 * ((t - t2) / w2) ** 2) * (t > 0)
    return flux
