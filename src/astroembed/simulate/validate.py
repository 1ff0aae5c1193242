"""Realism report: simulated ZTF light curves vs the real ZTF Bright Transient Survey, per class.

    python -m astroembed.simulate.validate --shared ../shared/data --out docs/img/simulation --n 2000

Non-circular by construction: every statistic is measured by the SAME function
(:func:`lc_statistics`) from the detections (object, mjd, band, mag) of the simulated and of the real
light curves; no truth parameter of the simulation and no BTS catalogue column other than the class,
the redshift and (for the sample definition) the peak magnitude is used.

Samples: simulation ``simulate(n, survey="ztf", peak_mag_max=18.5)`` (the BTS-like setting of issue
12: detections only, S/N >= 5) vs the BTS objects with a light curve, a Maven class, a redshift and
``peakmag <= 18.5``; on both sides only objects whose measured peak (brightest detection, which is
how the BTS ``peakmag`` is defined) is <= 18.5 are then compared.  Detections per object are counted on the real side only on the ``hse`` ANTARES
points (the ``lctd`` download dropped every point followed by a same-band point) and on both sides only
for objects peaking in MJD 58300-59200 (the ``hse`` dump covers 58242-59305).

Statistics (rest-frame days = observed days / (1 + z); r peak = brightest r detection):

``n_det``        detections (g + r);
``peak_mag``     brightest detection in g or r (mag);
``rise``         rest days from the first detection to the r peak;
``decline_r``    rest days from the r peak until r is 0.75 mag fainter (linear between detections);
``decline_g``    the same in g from the g peak;
``drop50_r``     r mag at +50 rest days minus the r peak (interpolated, needs points within 10 d);
``gr_peak``      g − r at the r peak epoch, ``gr_20`` at +20 rest days (g and r interpolated the same way);
``redshift``     catalogue / true redshift.

Spectra (simulated SEDM-like spectra vs the Open Supernova Catalog 2010-2014 spectra, all phases):
Hα emission EW (II, IIn, Ibc, Ia) and Si II 6355 velocity (Ia), both by :func:`spectral_statistics`.

Two-sample KS statistics, p-values and medians go to ``realism.json``; plots to PNG.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

CLASSES_REPORT = ("Ia", "II", "Ibc", "IIn", "SLSN-I")
METRICS = ("n_det", "peak_mag", "rise", "decline_r", "decline_g", "drop50_r", "gr_peak", "gr_20", "redshift")
PEAK_MAG_MAX = 18.5
NDET_MJD = (58300.0, 59200.0)


def _mag_at(t, m, t0, win=10.0, near=1.5):
    """Magnitude at ``t0`` from detections (t sorted): linear between the bracketing points when both
    lie within ``win`` days of ``t0``, else the nearest point if within ``near`` days, else NaN."""
    if not len(t):
        return np.nan
    j = np.searchsorted(t, t0)
    if 0 < j < len(t) and t0 - t[j - 1] <= win and t[j] - t0 <= win:
        a, b = t[j - 1], t[j]
        return m[j - 1] if b == a else m[j - 1] + (m[j] - m[j - 1]) * (t0 - a) / (b - a)
    k = int(np.argmin(np.abs(t - t0)))
    return m[k] if abs(t[k] - t0) <= near else np.nan


def _decline(t, m, dm=0.75):
    """Days from the brightest point until ``dm`` mag fainter (linear between detections), NaN if never."""
    if len(t) < 2:
        return np.nan, np.nan
    k = int(np.argmin(m))
    after = np.flatnonzero(m[k + 1:] >= m[k] + dm)
    if not len(after):
        return t[k], np.nan
    j = k + 1 + int(after[0])
    a, b = t[j - 1], t[j]
    ma, mb = m[j - 1], m[j]
    tc = b if mb == ma else a + (m[k] + dm - ma) * (b - a) / (mb - ma)
    return t[k], tc - t[k]


def lc_statistics(lc: pd.DataFrame, z: pd.Series) -> pd.DataFrame:
    """Per-object statistics (see the module docstring) from detections.

    ``lc``: columns object_id, mjd, band (``ztfg`` / ``ztfr``), mag; ``z``: redshift by object_id.
    """
    lc = lc[lc.band.isin(["ztfg", "ztfr"]) & np.isfinite(lc.mag)].sort_values(["object_id", "mjd"])
    rows = []
    oid = lc.object_id.to_numpy()
    t_all, m_all, b_all = lc.mjd.to_numpy(float), lc.mag.to_numpy(float), lc.band.to_numpy()
    change = np.flatnonzero(oid[1:] != oid[:-1]) + 1
    starts, stops = np.concatenate([[0], change]), np.concatenate([change, [len(oid)]])
    zmap = z.to_dict()
    for a, b in zip(starts, stops, strict=True):
        o = oid[a]
        zp1 = 1.0 + float(zmap.get(o, np.nan))
        t, m, bd = t_all[a:b], m_all[a:b], b_all[a:b]
        r, g = bd == "ztfr", bd == "ztfg"
        tr, mr, tg, mg = t[r], m[r], t[g], m[g]
        rec = {"object_id": o, "n_det": b - a, "peak_mag": float(m.min())}
        rec["rise"] = rec["decline_r"] = rec["decline_g"] = rec["drop50_r"] = rec["gr_peak"] = rec["gr_20"] = np.nan
        if len(tr):
            kr = int(np.argmin(mr))
            tpk, mpk = tr[kr], mr[kr]
            rec["rise"] = (tpk - t[0]) / zp1
            rec["decline_r"] = _decline(tr, mr)[1] / zp1
            rec["drop50_r"] = _mag_at(tr, mr, tpk + 50.0 * zp1) - mpk
            rec["gr_peak"] = _mag_at(tg, mg, tpk, win=5.0) - mpk
            t20 = tpk + 20.0 * zp1
            rec["gr_20"] = _mag_at(tg, mg, t20, win=6.0) - _mag_at(tr, mr, t20, win=6.0)
        rec["decline_g"] = _decline(tg, mg)[1] / zp1
        rows.append(rec)
    return pd.DataFrame(rows).set_index("object_id")


def gr_evolution(lc: pd.DataFrame, stats: pd.DataFrame, z: pd.Series, bins) -> np.ndarray:
    """Median g − r of same-night g/r pairs in bins of rest days from the r peak (same on both sides)."""
    d = lc[lc.band.isin(["ztfg", "ztfr"])].copy()
    d["night"] = np.floor(d.mjd)
    m = d.groupby(["object_id", "night", "band"]).agg(mag=("mag", "mean"), mjd=("mjd", "mean")).reset_index()
    p = m[m.band == "ztfg"].merge(m[m.band == "ztfr"], on=["object_id", "night"], suffixes=("_g", "_r"))
    # phase relative to the r peak time (recomputed the same way as lc_statistics)
    dr = d[d.band == "ztfr"].sort_values("mag").drop_duplicates("object_id").set_index("object_id").mjd
    p["phase"] = (p.mjd_r - p.object_id.map(dr)) / (1.0 + p.object_id.map(z))
    p["gr"] = p.mag_g - p.mag_r
    return p.groupby(pd.cut(p.phase, bins), observed=False).gr.median().to_numpy()


def real_sample(shared: Path, peak_mag_max: float = PEAK_MAG_MAX):
    """Real BTS detections and per-object table (class, redshift, peak_mjd, ndet_ok) of the BTS-like sample."""
    obj = pd.read_parquet(shared / "ztf_bts" / "objects.parquet")
    lcs = pd.read_parquet(shared / "ztf_bts" / "lightcurves.parquet")
    obj = obj[obj.has_lc & obj.class_maven5.isin(CLASSES_REPORT) & obj.redshift.gt(0)
              & obj.peakmag.le(peak_mag_max)].set_index("ztfid")
    lc = lcs[lcs.ztfid.isin(obj.index)].rename(columns={"ztfid": "object_id"})
    meta = pd.DataFrame({"class": obj.class_maven5, "redshift": obj.redshift})
    hse_only = obj.lc_sources.eq("hse") & obj.peak_mjd.between(*NDET_MJD)
    ndet = lc[lc.source == "hse"].groupby("object_id").size()
    meta["n_det_hse"] = ndet.reindex(meta.index).where(hse_only)
    return lc[["object_id", "mjd", "band", "mag"]], meta


def sim_sample(ds):
    """Detections (mag) and per-object table of a :class:`SimulatedDataset` (detections only)."""
    tr = ds.truth.set_index("object_id")
    lc = ds.lc_table
    if "detected" in lc:
        lc = lc[lc.detected]
    lc = lc[lc.flux > 0]
    lc = pd.DataFrame({"object_id": lc.object_id.to_numpy(), "mjd": lc.mjd.to_numpy(), "band": lc.band.to_numpy(),
                       "mag": 23.9 - 2.5 * np.log10(lc.flux.to_numpy())})
    meta = pd.DataFrame({"class": tr["class"], "redshift": tr.redshift})
    n = lc.groupby("object_id").size().reindex(meta.index)
    meta["n_det_hse"] = n.where(tr.peak_mjd.between(*NDET_MJD))
    return lc, meta


def statistics_table(lc, meta) -> pd.DataFrame:
    st = lc_statistics(lc, meta.redshift).reindex(meta.index)
    st["n_det"] = meta.n_det_hse
    st["class"] = meta["class"]
    st["redshift"] = meta.redshift
    return st


def compare(real: pd.DataFrame, sim: pd.DataFrame, classes=CLASSES_REPORT) -> dict:
    from scipy.stats import ks_2samp

    out: dict = {}
    for c in classes:
        a_c, b_c = real[real["class"] == c], sim[sim["class"] == c]
        out[c] = {"n_real": int(len(a_c)), "n_sim": int(len(b_c))}
        for m in METRICS:
            a, b = a_c[m].dropna().to_numpy(float), b_c[m].dropna().to_numpy(float)
            e = {"n_real": int(len(a)), "n_sim": int(len(b))}
            if len(a):
                e["median_real"] = round(float(np.median(a)), 3)
            if len(b):
                e["median_sim"] = round(float(np.median(b)), 3)
            if len(a) >= 5 and len(b) >= 5:
                r = ks_2samp(a, b)
                e["ks"] = round(float(r.statistic), 3)
                e["p"] = float(f"{r.pvalue:.2g}")
            out[c][m] = e
    return out


def markdown_table(res: dict, metrics=METRICS) -> str:
    """KS (median real / sim) per class and metric as a Markdown table."""
    head = "| class | n real / sim | " + " | ".join(metrics) + " |"
    lines = [head, "|" + "---|" * (len(metrics) + 2)]
    for c, e in res.items():
        cells = []
        for m in metrics:
            x = e.get(m, {})
            if "ks" in x:
                cells.append(f"{x['ks']:.2f} ({x['median_real']:.3g} / {x['median_sim']:.3g})")
            else:
                cells.append("–")
        lines.append(f"| {c} | {e['n_real']} / {e['n_sim']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _smooth(f, k=5):
    return np.convolve(f, np.ones(k) / k, mode="same")


def spectral_statistics(wave_obs, flux, z) -> dict:
    """Hα emission EW (Å, rest; > 0 for emission) and Si II 6355 velocity (km/s) of one spectrum.

    EW = ∫ (f / c − 1) dλ over rest 6480–6650 Å, c a straight line through the medians of 6300–6400 and
    6720–6820 Å; Si II: minimum of the 5-pixel-smoothed spectrum in rest 5950–6300 Å relative to the
    line through the medians of 5800–5900 and 6300–6400 Å (NaN without coverage).  Same function on
    real (OSC) and simulated spectra.
    """
    w = np.asarray(wave_obs, float) / (1.0 + float(z))
    f = np.asarray(flux, float)
    ok = np.isfinite(w) & np.isfinite(f)
    w, f = w[ok], f[ok]
    out = {"halpha_ew": np.nan, "siII_v": np.nan}

    def med(lo, hi):
        m = (w >= lo) & (w <= hi)
        return (0.5 * (lo + hi), float(np.median(f[m]))) if m.sum() >= 3 else (None, None)

    (x1, y1), (x2, y2) = med(6300, 6400), med(6720, 6820)
    m = (w >= 6480) & (w <= 6650)
    if x1 is not None and x2 is not None and m.sum() >= 5 and y1 > 0 and y2 > 0:
        cont = y1 + (y2 - y1) * (w[m] - x1) / (x2 - x1)
        out["halpha_ew"] = float(np.trapezoid(f[m] / cont - 1.0, w[m]))
    (x1, y1), (x2, y2) = med(5800, 5900), med(6300, 6400)
    m = (w >= 5950) & (w <= 6300)
    if x1 is not None and x2 is not None and m.sum() >= 8 and y1 > 0 and y2 > 0:
        fs = _smooth(f)[m]
        cont = y1 + (y2 - y1) * (w[m] - x1) / (x2 - x1)
        k = int(np.argmin(fs / cont))
        if fs[k] / cont[k] < 0.95 and 0 < k < m.sum() - 1:
            out["siII_v"] = float(299792.458 * (6355.0 - w[m][k]) / 6355.0)
    return out


def spectra_compare(shared: Path, ds, classes=("Ia", "II", "IIn", "Ibc")) -> dict:
    """KS of Hα EW (II, IIn, Ibc, Ia) and Si II velocity (Ia) between simulated spectra and OSC spectra."""
    from scipy.stats import ks_2samp

    osc = pd.read_parquet(shared / "oac_2010_2014" / "spectra.parquet",
                          columns=["class_broad", "redshift", "wave", "flux"])
    osc = osc[osc.class_broad.isin(classes) & osc.redshift.gt(0)]
    real = pd.DataFrame([spectral_statistics(r.wave, r.flux, r.redshift) for r in osc.itertuples()])
    real["class"] = osc.class_broad.to_numpy()
    sim = pd.DataFrame([spectral_statistics(sp.wavelength, sp.flux, sp.redshift) for sp in ds.spectra])
    sim["class"] = ds.truth["class"].to_numpy()
    res: dict = {}
    for c in classes:
        res[c] = {}
        for m in ("halpha_ew", "siII_v"):
            if m == "siII_v" and c != "Ia":
                continue
            a = real.loc[real["class"] == c, m].dropna().to_numpy()
            b = sim.loc[sim["class"] == c, m].dropna().to_numpy()
            e = {"n_real": int(len(a)), "n_sim": int(len(b))}
            if len(a) >= 5 and len(b) >= 5:
                e.update(ks=round(float(ks_2samp(a, b).statistic), 3), median_real=round(float(np.median(a)), 1),
                         median_sim=round(float(np.median(b)), 1))
            res[c][m] = e
    return res


def realism_report(shared, out, n=2000, seed=0, workers=1, peak_mag_max=PEAK_MAG_MAX, plots=True, tag="",
                   pointings=None, spectra=True, classes=None):
    """Simulate a BTS-like sample, measure both samples the same way, write ``realism{tag}.json`` (+ plots).

    ``classes``: the simulator's class mix (default the BTS mix); a single class (e.g. ``["Ibc"]``) gives
    a larger simulated sample of a small real class (classes not simulated get no KS)."""
    from . import simulate

    shared, out = Path(shared), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ds = simulate(n=n, survey="ztf", seed=seed, peak_mag_max=peak_mag_max, workers=workers, pointings=pointings,
                  classes=classes)
    real_lc, real_meta = real_sample(shared, peak_mag_max)
    sim_lc, sim_meta = sim_sample(ds)
    real = statistics_table(real_lc, real_meta)
    simt = statistics_table(sim_lc, sim_meta)
    # the same sample cut on both sides: the measured peak (brightest detection), as the BTS peakmag
    real = real[real.peak_mag <= peak_mag_max]
    simt = simt[simt.peak_mag <= peak_mag_max]
    ks = compare(real, simt)
    res = {"n_sim": len(ds), "seed": seed, "peak_mag_max": peak_mag_max, "pointings": pointings, "ks": ks,
           "selection": ds.report(),
           "spectra_vs_osc": spectra_compare(shared, ds) if spectra else {}}
    (out / f"realism{tag}.json").write_text(json.dumps(res, indent=1) + "\n")
    if plots:
        _plots(real, simt, real_lc, real_meta, sim_lc, sim_meta, out, tag)
    return res


def _plots(real, simt, real_lc, real_meta, sim_lc, sim_meta, out, tag=""):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ranges = {"n_det": (0, 150), "peak_mag": (13, 19), "rise": (0, 60), "decline_r": (0, 120),
              "decline_g": (0, 80), "drop50_r": (-0.5, 4), "gr_peak": (-1, 1.5), "gr_20": (-0.5, 2),
              "redshift": (0, 0.3)}
    classes = CLASSES_REPORT[:4]
    fig, axes = plt.subplots(len(classes), len(METRICS), figsize=(26, 11))
    for i, c in enumerate(classes):
        for j, m in enumerate(METRICS):
            ax = axes[i, j]
            bins = np.linspace(*ranges[m], 30)
            for t, lab, col in ((real, "real BTS", "k"), (simt, "sim", "C1")):
                v = t.loc[t["class"] == c, m].dropna()
                if len(v):
                    ax.hist(v.clip(*ranges[m]), bins, density=True, histtype="step", color=col, lw=1.5,
                            label=f"{lab} ({len(v)})")
            ax.set_title(f"{c}: {m}", fontsize=9)
            ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out / f"realism_histograms{tag}.png", dpi=70)
    plt.close(fig)

    bins = np.array([-20, -10, -5, 0, 5, 10, 20, 30, 45, 60, 90])
    centres = 0.5 * (bins[1:] + bins[:-1])
    fig, axes = plt.subplots(1, 4, figsize=(17, 4))
    for ax, c in zip(axes, classes, strict=True):
        for lc, meta, st, lab, sty in ((real_lc, real_meta, real, "real BTS", "k-o"),
                                       (sim_lc, sim_meta, simt, "simulated", "C1-s")):
            ids = meta.index[meta["class"] == c]
            ax.plot(centres, gr_evolution(lc[lc.object_id.isin(ids)], st, meta.redshift, bins), sty, label=lab)
        ax.set_xlabel("rest-frame days from r peak")
        ax.set_ylabel("median g - r of same-night pairs (mag)")
        ax.set_title(c)
        ax.legend()
    fig.tight_layout()
    fig.savefig(out / f"realism_color_evolution{tag}.png", dpi=70)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", type=Path, default=Path("../shared/data"))
    p.add_argument("--out", type=Path, default=Path("docs/img/simulation"))
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--peak-mag-max", type=float, default=PEAK_MAG_MAX)
    p.add_argument("--tag", default="", help="suffix of the output files (e.g. _before)")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--no-spectra", action="store_true", help="skip the spectra vs OSC comparison")
    p.add_argument("--pointings", default=None, help="real ZTF pointing history .npz (tools/build_pointing_tables.py)")
    p.add_argument("--classes", nargs="+", default=None, help="simulate only these classes (default: BTS mix)")
    a = p.parse_args(argv)
    res = realism_report(a.shared, a.out, a.n, a.seed, a.workers, a.peak_mag_max, not a.no_plots, a.tag, a.pointings,
                         spectra=not a.no_spectra, classes=a.classes)
    print(markdown_table(res["ks"]))
    print()
    print("| class | spectral statistic | n OSC / sim | KS | median OSC / sim |")
    print("|---|---|---|---|---|")
    for c, e in res["spectra_vs_osc"].items():
        for m, x in e.items():
            cell = f"{x['ks']:.2f} | {x['median_real']:g} / {x['median_sim']:g}" if "ks" in x else "– | –"
            print(f"| {c} | {m} | {x['n_real']} / {x['n_sim']} | {cell} |")


if __name__ == "__main__":
    main()
