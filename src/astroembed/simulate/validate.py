"""Realism report: simulated ZTF events vs the real ZTF Bright Transient Survey, per class.

    python -m astroembed.simulate.validate --shared ../shared/data --out docs/img/simulation --n 3000

The simulation is run BTS-like (``peak_mag_max=19``, the faintest BTS peak; detections only) and
compared with the BTS objects that have a light curve and a Maven class.  Metrics per class: peak
apparent magnitude, number of detections (real: ``hse`` ANTARES points only, since the ``lctd``
download dropped half of each curve), duration above half maximum (observed days), g−r at peak
(mean of the detections within ±3 observed days of peak, same recipe on both sides), g−r versus
phase, and redshift.  Two-sample KS statistics and p-values go to ``realism.json``; plots to PNG.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import simulate
from .population import CLASSES

METRICS = ("peak_mag", "n_det", "duration_d", "gr_peak", "redshift")


def _gr_at_peak(lc: pd.DataFrame, peaks: pd.Series, window=3.0) -> pd.Series:
    d = lc.join(peaks.rename("peak"), on="object_id")
    d = d[np.abs(d.mjd - d.peak) <= window]
    m = d.groupby(["object_id", "band"]).mag.mean().unstack()
    if "ztfg" not in m or "ztfr" not in m:
        return pd.Series(dtype=float)
    return (m["ztfg"] - m["ztfr"]).dropna()


def _gr_evolution(lc, peaks, zs, bins):
    d = lc.join(peaks.rename("peak"), on="object_id").join(zs.rename("z"), on="object_id")
    d["phase"] = (d.mjd - d.peak) / (1 + d.z)
    d["night"] = np.floor(d.mjd)
    m = d.groupby(["object_id", "night", "band"]).agg(mag=("mag", "mean"), phase=("phase", "mean")).reset_index()
    g = m[m.band == "ztfg"].merge(m[m.band == "ztfr"], on=["object_id", "night"], suffixes=("_g", "_r"))
    g["gr"] = g.mag_g - g.mag_r
    g["bin"] = pd.cut(g.phase_g, bins)
    return g.groupby("bin", observed=False).gr.median().to_numpy()


def real_metrics(shared: Path):
    obj = pd.read_parquet(shared / "ztf_bts" / "objects.parquet")
    lcs = pd.read_parquet(shared / "ztf_bts" / "lightcurves.parquet")
    obj = obj[obj.has_lc & obj.class_maven5.notna() & obj.redshift.gt(0)].set_index("ztfid")
    lcs = lcs[lcs.ztfid.isin(obj.index)].rename(columns={"ztfid": "object_id"})
    hse = lcs[lcs.source == "hse"]
    t = pd.DataFrame({"class": obj.class_maven5, "peak_mag": obj.peakmag, "redshift": obj.redshift,
                      "duration_d": obj.duration_d.where(~obj.duration_is_limit)})
    t["n_det"] = hse.groupby("object_id").size().reindex(t.index)
    t.loc[~t.index.isin(hse.object_id.unique()), "n_det"] = np.nan
    t["gr_peak"] = _gr_at_peak(lcs, obj.peak_mjd).reindex(t.index)
    return t, lcs, obj


def sim_metrics(ds):
    tr = ds.truth.set_index("object_id")
    lc = ds.lc_table.copy()
    lc["mag"] = 23.9 - 2.5 * np.log10(lc.flux.clip(lower=1e-3))
    t = pd.DataFrame({"class": tr["class"], "redshift": tr.redshift, "n_det": tr.n_det,
                      "peak_mag": tr[["peak_mag_ztfg", "peak_mag_ztfr"]].min(axis=1),
                      "duration_d": (tr.rise_rest_d + tr.fade_rest_d) * (1 + tr.redshift)})
    t["gr_peak"] = _gr_at_peak(lc, tr.peak_mjd).reindex(t.index)
    return t, lc, tr


def realism_report(shared, out, n=3000, seed=0, workers=1):
    from scipy.stats import ks_2samp

    shared, out = Path(shared), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ds = simulate(n=n, survey="ztf", seed=seed, peak_mag_max=19.0, workers=workers)
    real, real_lc, real_obj = real_metrics(shared)
    simt, sim_lc, sim_tr = sim_metrics(ds)
    ks: dict = {}
    for c in CLASSES:
        ks[c] = {"n_real": int((real["class"] == c).sum()), "n_sim": int((simt["class"] == c).sum())}
        for m in METRICS:
            a = real.loc[real["class"] == c, m].dropna().to_numpy()
            b = simt.loc[simt["class"] == c, m].dropna().to_numpy()
            if len(a) >= 5 and len(b) >= 5:
                r = ks_2samp(a, b)
                ks[c][m] = {"ks": round(float(r.statistic), 3), "p": float(f"{r.pvalue:.3g}"),
                            "median_real": round(float(np.median(a)), 3), "median_sim": round(float(np.median(b)), 3)}
    _plots(real, simt, real_lc, real_obj, sim_lc, sim_tr, ds, shared, out)
    res = {"n_sim": len(ds), "seed": seed, "ks": ks, "selection": ds.report()}
    (out / "realism.json").write_text(json.dumps(res, indent=1) + "\n")
    return res


def _plots(real, simt, real_lc, real_obj, sim_lc, sim_tr, ds, shared, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ranges = {"peak_mag": (13, 19.5), "n_det": (0, 120), "duration_d": (0, 150), "gr_peak": (-1, 1.5),
              "redshift": (0, 0.35)}
    fig, axes = plt.subplots(len(CLASSES), len(METRICS), figsize=(17, 13))
    for i, c in enumerate(CLASSES):
        for j, m in enumerate(METRICS):
            ax = axes[i, j]
            bins = np.linspace(*ranges[m], 30)
            for t, lab, col in ((real, "real BTS", "k"), (simt, "simulated", "C1")):
                v = t.loc[t["class"] == c, m].dropna()
                if len(v):
                    ax.hist(v.clip(*ranges[m]), bins, density=True, histtype="step", color=col, lw=1.5,
                            label=f"{lab} ({len(v)})")
            ax.set_title(f"{c}: {m}", fontsize=9)
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "realism_histograms.png", dpi=80)
    plt.close(fig)

    bins = np.array([-20, -10, -5, 0, 5, 10, 20, 30, 45, 60, 90])
    centres = 0.5 * (bins[1:] + bins[:-1])
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for ax, c in zip(axes, ("Ia", "II", "Ibc"), strict=False):
        ids_r = real_obj.index[real_obj.class_maven5 == c]
        lr = real_lc[real_lc.object_id.isin(ids_r)]
        ax.plot(centres, _gr_evolution(lr, real_obj.peak_mjd, real_obj.redshift, bins), "k-o", label="real BTS")
        ids_s = sim_tr.index[sim_tr["class"] == c]
        ls = sim_lc[sim_lc.object_id.isin(ids_s)]
        ax.plot(centres, _gr_evolution(ls, sim_tr.peak_mjd, sim_tr.redshift, bins), "C1-s", label="simulated")
        ax.set_xlabel("rest-frame days from peak")
        ax.set_ylabel("median g - r (mag)")
        ax.set_title(c)
        ax.legend()
    fig.tight_layout()
    fig.savefig(out / "realism_color_evolution.png", dpi=80)
    plt.close(fig)

    spec = pd.read_parquet(shared / "oac_2010_2014" / "spectra.parquet",
                           columns=["name", "class_broad", "redshift", "wave", "flux"])
    fig, axes = plt.subplots(len(CLASSES), 2, figsize=(12, 13))
    rng = np.random.default_rng(0)
    for i, c in enumerate(CLASSES):
        rs = spec[(spec.class_broad == c) & (spec.redshift > 0)]
        for k in range(min(2, len(rs))):
            r = rs.iloc[int(rng.integers(len(rs)))]
            w, f = np.asarray(r.wave), np.asarray(r.flux)
            ok = (w > 3800) & (w < 9200) & np.isfinite(f)
            if ok.sum() > 10:
                axes[i, 0].plot(w[ok], f[ok] / np.nanmedian(np.abs(f[ok])) + 2 * k, lw=0.7,
                                label=f"{r['name']} z={r.redshift:.3f}")
        idx = np.flatnonzero(ds.truth["class"].to_numpy() == c)[:2]
        for k, j in enumerate(idx):
            s = ds.spectra[j]
            axes[i, 1].plot(s.wavelength, s.flux / np.median(np.abs(s.flux)) + 2 * k, lw=0.8,
                            label=f"sim z={s.redshift:.3f} phase={s.meta['phase']:+.0f} d S/N={s.meta['snr']:.0f}")
        axes[i, 0].set_title(f"{c}: real (Open Supernova Catalog)", fontsize=9)
        axes[i, 1].set_title(f"{c}: simulated (SEDM-like)", fontsize=9)
        for ax in axes[i]:
            ax.legend(fontsize=7)
            ax.set_yticks([])
    axes[-1, 0].set_xlabel("observed wavelength (Å)")
    axes[-1, 1].set_xlabel("observed wavelength (Å)")
    fig.tight_layout()
    fig.savefig(out / "realism_spectra.png", dpi=80)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", type=Path, default=Path("../shared/data"))
    p.add_argument("--out", type=Path, default=Path("docs/img/simulation"))
    p.add_argument("--n", type=int, default=3000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1)
    a = p.parse_args(argv)
    res = realism_report(a.shared, a.out, a.n, a.seed, a.workers)
    print(json.dumps(res["ks"], indent=1))


if __name__ == "__main__":
    main()
