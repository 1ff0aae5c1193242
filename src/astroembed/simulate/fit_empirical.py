"""Offline fit of the simulator's empirical ZTF models to REAL BTS data (writes package data).

    python -m astroembed.simulate.fit_empirical --shared ../shared/data [--ids-file train_ids.txt]

Writes ``_package_data/sim_empirical.json`` and ``_package_data/ztf_cadence.npz``:

* **r-band widths**: the BTS ``fade_d`` is a g-band decline; per class the factor
  ``k = median(r decline) / median(fade_d / (1 + z))`` turns it into the r-band width of the
  simulator's brightness curve (r decline = rest days from the r peak to +0.75 mag, measured by
  :func:`astroembed.simulate.validate.lc_statistics`; for SNe II, whose r curves rarely fall 0.75 mag
  before the plateau ends, the plateau width 37.5 / drop50 is used instead, drop50 = r drop from the
  peak to +50 rest days);
* **Milky-Way dust vs sky position**: ln A_V = ln a − ln sin|b| + N(0, σ²) (least-squares in log)
  on BTS ``gal_b_deg`` / ``mw_av``, and the relative density of BTS objects in |b| bins over that of a
  uniform sky with dec > −30° (ZTF's field coverage and Galactic-plane avoidance);
* **cadence**: the real observation times of bright (peak ≤ 18 mag) BTS SNe from −8 to +25 observed days
  around their peak (``hse`` ANTARES points only, which keep same-night repeats), as a pool of
  (time offset, band) sequences that the simulator tiles over each event's time span.

* **alert photometry noise** (:func:`fit_noise`): per band, the median 5σ depth ``m5`` and the
  source term ``e`` (µJy per effective photo-electron) of σ² = (F5/5)² + F·e + (0.02 F)² (m5 scatter
  0.4 mag) that reproduce the real median ``magerr`` in 0.25-mag bins of 16.5–20.5 mag (``hse``
  points; model points drawn with noise and kept at S/N ≥ 5, as alerts).  Difference-image PSF
  photometry is noisier than the sky-limited photon noise of a 30 s exposure (reference-image noise,
  host light, PSF-fit errors): the real errors are ~1.5× the v2 assumption (e = 0.11) at 17–19 mag.

All from the ZTF BTS (Fremling+2020, Perley+2020; ANTARES, Matheson+2021) as redistributed by
``HSE-LAMBDA/light_curve_approx`` (MIT).  ``--ids-file`` restricts every fit to a list of ZTF ids (one
per line), so that a realism comparison can be made on the other objects.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

PKG = Path(__file__).resolve().parents[1] / "_package_data"
CLASSES = ["Ia", "Ibc", "II", "IIn", "SLSN-I", "IIb"]
CADENCE_WINDOW = (-8.0, 25.0)  # observed days around the peak where a <= 18 mag SN is always detectable
B_EDGES = np.array([0, 5, 10, 15, 20, 30, 45, 60, 90], float)


def galactic_latitude(ra_deg, dec_deg):
    """Galactic latitude (deg) of ICRS positions (IAU rotation, accurate to < 0.01°)."""
    ra, dec = np.radians(ra_deg), np.radians(dec_deg)
    # J2000 north Galactic pole
    ra_p, dec_p = np.radians(192.85948), np.radians(27.12825)
    sb = np.sin(dec) * np.sin(dec_p) + np.cos(dec) * np.cos(dec_p) * np.cos(ra - ra_p)
    return np.degrees(np.arcsin(np.clip(sb, -1, 1)))


def fit_widths(obj, lcs):
    from .validate import lc_statistics

    out = {}
    for c in CLASSES:
        cls = np.where(obj.class_broad == "IIb", "IIb", obj.class_maven5.astype(object))
        d = obj[(cls == c) & obj.redshift.gt(0) & obj.has_lc & ~obj.fade_is_limit & obj.fade_d.gt(0.5)]
        lc = lcs[lcs.ztfid.isin(d.index)].rename(columns={"ztfid": "object_id"})
        st = lc_statistics(lc, d.redshift)
        fade = (d.fade_d / (1 + d.redshift)).reindex(st.index)
        if c == "II":
            r_width = 37.5 / st.drop50_r.clip(lower=0.05)
        else:
            r_width = st.decline_r
        ok = r_width.notna() & fade.notna()
        out[c] = {"fade_r_factor": round(float(np.median(r_width[ok]) / np.median(fade[ok])), 4), "n": int(ok.sum()),
                  "measure": "37.5 / drop50_r" if c == "II" else "decline_r"}
    return out


def fit_sky(obj):
    d = obj.dropna(subset=["gal_b_deg", "mw_av"])
    d = d[d.mw_av > 0]
    absb = np.abs(d.gal_b_deg.to_numpy())
    y = np.log(d.mw_av.to_numpy()) + np.log(np.sin(np.radians(absb)))
    ln_a, sig = float(np.mean(y)), float(np.std(y))
    # uniform sky with dec > -30: density of |b|
    rng = np.random.default_rng(0)
    ra = rng.uniform(0, 360, 400_000)
    dec = np.degrees(np.arcsin(rng.uniform(np.sin(np.radians(-30)), 1, 400_000)))
    bu = np.abs(galactic_latitude(ra, dec))
    h_real = np.histogram(absb, B_EDGES)[0] / len(absb)
    h_unif = np.histogram(bu, B_EDGES)[0] / len(bu)
    ratio = h_real / h_unif
    ratio = ratio / ratio[B_EDGES[:-1] >= 30].mean()
    return {"av_ln_a": round(ln_a, 4), "av_ln_sigma": round(sig, 4), "b_edges": B_EDGES.tolist(),
            "b_keep": np.round(np.clip(ratio, 0, 1), 4).tolist(), "n": int(len(d))}


def fit_cadence(obj, lcs):
    o = obj[obj.has_lc & obj.peakmag.le(18.0) & obj.lc_sources.eq("hse")]
    lc = lcs[(lcs.source == "hse") & lcs.ztfid.isin(o.index) & lcs.band.isin(["ztfg", "ztfr"])]
    lc = lc.join(o.peak_mjd, on="ztfid")
    dt = lc.mjd - lc.peak_mjd
    lc = lc[(dt >= CADENCE_WINDOW[0]) & (dt < CADENCE_WINDOW[1])].sort_values(["ztfid", "mjd"])
    offs, bands, starts = [], [], [0]
    for _, g in lc.groupby("ztfid", sort=True):
        if len(g) < 3:
            continue
        t = g.mjd.to_numpy()
        offs.append(t - (g.peak_mjd.iloc[0] + CADENCE_WINDOW[0]))
        bands.append((g.band.to_numpy() == "ztfr").astype(np.int8))
        starts.append(starts[-1] + len(g))
    return (np.concatenate(offs).astype(np.float32), np.concatenate(bands), np.asarray(starts, np.int32))


NOISE_EDGES = np.arange(16.5, 20.51, 0.25)
NOISE_GRID = {"m5": np.round(np.arange(19.8, 20.81, 0.05), 2), "e": np.array([0.11, 0.2, 0.3, 0.45, 0.6, 0.8])}
NOISE_FLOOR, NOISE_M5_SIGMA = 0.02, 0.4


def noise_model_magerr(m5_median, e, floor=NOISE_FLOOR, m5_sigma=NOISE_M5_SIGMA, n=100_000, seed=0):
    """Median magerr per bin of :data:`NOISE_EDGES` of model detections (S/N >= 5) with the simulator's
    ZTF noise law (true magnitudes uniform in 16-21.5, m5 ~ N(m5_median, m5_sigma) clipped to 19-21.4)."""
    from dataclasses import replace

    from .surveys import get_survey, observe_at_depth

    rng = np.random.default_rng(seed)
    flux = 10.0 ** (-0.4 * (rng.uniform(16.0, 21.5, n) - 23.9))
    m5 = np.clip(m5_median + m5_sigma * rng.standard_normal(n), 19.0, 21.4)
    sv = replace(get_survey("ztf"), ujy_per_electron=e, floor=floor)  # the simulator's noise law, these values
    meas, err, _ = observe_at_depth(rng, sv, flux, m5)
    det = meas / err >= 5.0
    mag, magerr = 23.9 - 2.5 * np.log10(meas[det]), 1.0857 * err[det] / meas[det]
    idx = np.digitize(mag, NOISE_EDGES) - 1
    return np.array([np.median(magerr[idx == i]) for i in range(len(NOISE_EDGES) - 1)])


def fit_noise(lcs):
    """Per band (g, r): grid least squares in log magerr of (m5, e) to the real ``hse`` magerr medians."""
    out = {}
    for band in ("ztfg", "ztfr"):
        d = lcs[(lcs.source == "hse") & (lcs.band == band) & np.isfinite(lcs.magerr)]
        idx = np.digitize(d.mag.to_numpy(), NOISE_EDGES) - 1
        real = np.array([np.median(d.magerr.to_numpy(np.float64)[idx == i]) for i in range(len(NOISE_EDGES) - 1)])
        best = None
        for m5 in NOISE_GRID["m5"]:
            for e in NOISE_GRID["e"]:
                loss = float(np.sum(np.log(noise_model_magerr(m5, e) / real) ** 2))
                if best is None or loss < best[0]:
                    best = (loss, float(m5), float(e))
        out[band] = {"m5": best[1], "e_ujy": best[2], "rms_log_magerr": round(float(np.sqrt(best[0] / len(real))), 4),
                     "magerr_real": np.round(real, 4).tolist(),
                     "magerr_model": np.round(noise_model_magerr(best[1], best[2]), 4).tolist()}
    out["floor"], out["m5_sigma"], out["mag_edges"] = NOISE_FLOOR, NOISE_M5_SIGMA, NOISE_EDGES.tolist()
    return out


def main(argv=None):
    import pandas as pd

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", type=Path, default=Path("../shared/data"))
    p.add_argument("--ids-file", type=Path, default=None, help="fit only on these ZTF ids (one per line)")
    p.add_argument("--out", type=Path, default=PKG)
    a = p.parse_args(argv)
    obj = pd.read_parquet(a.shared / "ztf_bts" / "objects.parquet").set_index("ztfid")
    lcs = pd.read_parquet(a.shared / "ztf_bts" / "lightcurves.parquet")
    if a.ids_file is not None:
        ids = {s.strip() for s in a.ids_file.read_text().split() if s.strip()}
        obj = obj[obj.index.isin(ids)]
        lcs = lcs[lcs.ztfid.isin(ids)]
    offs, bands, starts = fit_cadence(obj, lcs)
    res = {"_doc": __doc__.strip().splitlines()[0], "fitted_on": "all BTS objects" if a.ids_file is None
           else f"{len(obj)} ids from {a.ids_file.name}", "widths": fit_widths(obj, lcs), "sky": fit_sky(obj), "noise": fit_noise(lcs),
           "cadence": {"window_d": list(CADENCE_WINDOW), "n_sequences": int(len(starts) - 1), "n_points": int(len(offs))}}
    (a.out / "sim_empirical.json").write_text(json.dumps(res, indent=1) + "\n")
    np.savez_compressed(a.out / "ztf_cadence.npz", offset_d=offs, is_r=bands, starts=starts,
                        span_d=np.float64(CADENCE_WINDOW[1] - CADENCE_WINDOW[0]))
    print(json.dumps({k: v for k, v in res.items() if k != "_doc"}, indent=1))


if __name__ == "__main__":
    main()
