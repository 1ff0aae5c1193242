"""Why does zero-shot ZTF → LSST redshift fail?  Diagnostics for docs/models/simfm.md (no training).

Sections (printed):

1. **Units.**  (a) For every event of a simulated set and every band: observed peak magnitude
   ``23.9 - 2.5 log10(max flux / µJy)`` of the stored light curve (as ``LightCurve`` objects, i.e. what a
   model sees) minus the simulator's noiseless ``peak_mag_<band>``; both surveys must give ~0.
   (b) The same SED through ZTF and LSST filters: events simulated with a 4-band survey
   (ztfg, ztfr, lsstg, lsstr) so that ``peak_mag_ztfg - peak_mag_lsstg`` compares the filters on one
   physical event.  (c) Model-facing scale feature ``log10(max flux / µJy)`` of SN Ia at z < 0.04
   (below every magnitude cut) in ``ztf_zs`` vs ``lsst_zs``.
2. **Where the ZTF reference lives.**  Redshift quantiles of ``ztf_zs`` and ``lsst_zs``.
3. **Embeddings** (cached ``<model>_ztf_zs.npy`` / ``_lsst_zs.npy`` of ``eval_simfm.py``): survey
   separability (5-fold logistic AUROC ZTF vs LSST on events in the ZTF core z range), and the ridge
   ZTF → LSST predictions per true-z bin (mean prediction, RMSE).
4. **Is z in the LSST embedding at all?**  5-fold cross-validated ridge *within* LSST (diagnostic only:
   it uses LSST labels, it is not a zero-shot number) and within ZTF.
6. **Peak flux alone** (no embedding): ridge of z on [x, x²], x = log10(max g/r flux / µJy), ZTF → LSST
   (g/r bands of each survey) and 5-fold CV within ZTF: how far a pure distance indicator gets.
7. **Peak coverage and Malmquist bias**: per z bin, the noiseless g/r peak magnitude (min of g, r) and the
   observed one (brightest g/r point) of the reference and of LSST.
5. **Selection.**  Zero-shot R² in the core range split by whether the LSST event would have passed the
   BTS-like cut (min of its noiseless g/r peak magnitudes < 19).

Usage::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/diagnose_simfm_zero_shot.py \
        --emb /work/data_sim/eval_simfm4/emb --model simfm
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

from astroembed.evaluate.probes import make_probe
from astroembed.simulate import simulate
from astroembed.simulate.dataset import read_parquet
from astroembed.simulate.surveys import SURVEYS


def observed_minus_true_peak(ds) -> dict:
    """Per band: quantiles (16, 50, 84 %) of observed peak mag − noiseless peak mag (events with ≥ 1 point)."""
    out: dict = {}
    for lc, (_, row) in zip(ds.lightcurves, ds.truth.iterrows(), strict=True):
        for b in np.unique(lc.band):
            f = lc.flux[lc.band == b]
            col = f"peak_mag_{b}"
            if col in row and np.max(f) > 0:
                out.setdefault(b, []).append(23.9 - 2.5 * np.log10(np.max(f)) - row[col])
    return {b: np.quantile(v, [0.16, 0.5, 0.84]) for b, v in out.items()}


def same_sed_two_surveys(n: int, seed: int):
    """Simulate ``n`` events whose single SED is observed through ZTF g/r and LSST g/r at once."""
    z = SURVEYS["ztf"]
    sv = replace(z, bands=("ztfg", "ztfr", "lsstg", "lsstr"), cadence="ztf",
                 m5={**z.m5, "lsstg": z.m5["ztfg"], "lsstr": z.m5["ztfr"]},
                 band_prob={"ztfg": 0.9, "ztfr": 0.9, "lsstg": 0.9, "lsstr": 0.9})
    return simulate(n=n, survey=sv, seed=seed, classes="bts").truth


def r2(y, p):
    return float(1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2))


def ridge():
    return make_probe("regression", "ridge", alpha=1.0)


def cv_r2(X, y, mask_eval, k=5, seed=0):
    """5-fold cross-validated ridge R² on the rows ``mask_eval`` (fitted on all other-fold rows)."""
    fold = np.random.default_rng(seed).permutation(len(y)) % k
    pred = np.empty(len(y))
    for f in range(k):
        pred[fold == f] = ridge().fit(X[fold != f], y[fold != f]).predict(X[fold == f])
    return r2(y[mask_eval], pred[mask_eval]), r2(y, pred)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sim-root", default="/work/data_sim/simfm")
    p.add_argument("--emb", default="/work/data_sim/eval_simfm4/emb")
    p.add_argument("--model", default="simfm", help="registered name or label=DIR (as eval_simfm.py --models)")
    p.add_argument("--n-same-sed", type=int, default=200)
    p.add_argument("--ref", default=None, help="ZTF reference set (default <sim-root>/ztf_zs); its embeddings "
                   "must be cached as <emb>/<model>_<dir name>.npy (eval_simfm.py --zs-refs writes them)")
    p.add_argument("--skip-units", action="store_true", help="skip section 1 (simulates 200 events)")
    p.add_argument("--z-head", action="store_true", help="also the pre-training redshift head on both sets "
                   "(it was trained on simulated LSST + ZTF redshifts: not a zero-shot number)")
    a = p.parse_args(argv)
    root = Path(a.sim_root)
    ref = Path(a.ref) if a.ref else root / "ztf_zs"
    tag = "ztf_zs" if ref == root / "ztf_zs" else ref.name
    ztf, lsst = read_parquet(ref), read_parquet(root / "lsst_zs")
    zz, zl = ztf.truth["redshift"].to_numpy(float), lsst.truth["redshift"].to_numpy(float)

    for name, ds in (("ztf", ztf), ("lsst_zs", lsst)) if not a.skip_units else ():
        d = []
        for lc, (_, row) in zip(ds.lightcurves, ds.truth.iterrows(), strict=True):
            d.append(min(23.9 - 2.5 * np.log10(max(np.max(lc.flux[lc.band == b]), 1e-9)) - row[f"peak_mag_{b}"]
                         for b in np.unique(lc.band)))
        d = np.array(d)
        print(f"## 1.0 {name}: best band's observed peak more than 0.5 / 1 mag fainter than its noiseless peak "
              f"(peak not sampled): {np.mean(d > 0.5):.1%} / {np.mean(d > 1):.1%}")
    print("## 1a. observed peak mag (stored light curve, µJy → AB) − simulator's noiseless peak mag, q16/50/84")
    for name, ds in (("ztf", ztf), ("lsst_zs", lsst)) if not a.skip_units else ():
        for b, q in observed_minus_true_peak(ds).items():
            print(f"  {name} {b}: {q[0]:+.3f} {q[1]:+.3f} {q[2]:+.3f}")
    print(f"## 1b. one SED through both surveys' filters ({a.n_same_sed} BTS-mix events, seed 5)")
    t = same_sed_two_surveys(a.n_same_sed, 5) if not a.skip_units else None
    for b in ("g", "r") if t is not None else ():
        d = t[f"peak_mag_ztf{b}"] - t[f"peak_mag_lsst{b}"]
        print(f"  peak_mag_ztf{b} − peak_mag_lsst{b}: median {d.median():+.3f}, q16 {d.quantile(.16):+.3f}, "
              f"q84 {d.quantile(.84):+.3f}, max |d| {d.abs().max():.3f}")
    print("## 1c. log10(max flux / µJy) of SN Ia at z < 0.04 (no cut binds): median [q16, q84] (n)")
    for name, ds in (("ztf", ztf), ("lsst_zs", lsst)) if not a.skip_units else ():
        sel = np.flatnonzero((ds.truth["class"] == "Ia").to_numpy() & (ds.truth["redshift"].to_numpy() < 0.04))
        ls = np.array([np.log10(np.max(ds.lightcurves[i].flux)) for i in sel])
        lsgr = np.array([np.log10(np.max(ds.lightcurves[i].flux[np.isin(ds.lightcurves[i].band, ("ztfg", "ztfr",
                         "lsstg", "lsstr"))], initial=1e-9)) for i in sel])
        zm = ds.truth["redshift"].to_numpy()[sel]
        print(f"  {name}: all bands {np.median(ls):.2f} [{np.quantile(ls, .16):.2f}, {np.quantile(ls, .84):.2f}]; "
              f"g/r only {np.median(lsgr):.2f}; median z {np.median(zm):.3f} (n {len(sel)})")

    print("## 2. redshift quantiles 5/25/50/75/95 %")
    for name, z in ((tag, zz), ("lsst_zs", zl)):
        print(f"  {name}: " + " ".join(f"{v:.3f}" for v in np.quantile(z, [.05, .25, .5, .75, .95]))
              + f"  (min {z.min():.3f}, max {z.max():.3f}, n {len(z)})")
    lo, hi = np.quantile(zz, [0.05, 0.95])
    core = (zl >= lo) & (zl <= hi)
    print(f"  LSST events in ZTF core [{lo:.3f}, {hi:.3f}]: {core.sum()}; z std there {zl[core].std():.4f} "
          f"(R² = 0 ⇔ MSE {zl[core].var():.5f})")

    emb = Path(a.emb)
    label, _, mdir = a.model.partition("=")
    Xz, Xl = np.load(emb / f"{label}_{tag}.npy"), np.load(emb / f"{label}_lsst_zs.npy")
    print(f"## 3. embeddings of {label}")
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import cross_val_predict

    cz = (zz >= lo) & (zz <= hi)
    X = np.r_[Xz[cz], Xl[core]]
    y = np.r_[np.zeros(cz.sum()), np.ones(core.sum())]
    pr = cross_val_predict(LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced"), X, y, cv=5,
                           method="predict_proba")[:, 1]
    print(f"  survey separability (ZTF vs LSST, both in core z): 5-fold logistic AUROC {roc_auc_score(y, pr):.3f}")
    for cls in ("Ia", "II", "Ibc"):
        a_ = Xz[cz & (ztf.truth["class"] == cls).to_numpy()]
        b_ = Xl[core & (lsst.truth["class"] == cls).to_numpy()]
        if len(a_) > 10 and len(b_) > 5:
            h = len(a_) // 2
            d_cross = 1 - float(a_.mean(0) @ b_.mean(0) / np.linalg.norm(a_.mean(0)) / np.linalg.norm(b_.mean(0)))
            d_in = 1 - float(a_[:h].mean(0) @ a_[h:].mean(0) / np.linalg.norm(a_[:h].mean(0))
                             / np.linalg.norm(a_[h:].mean(0)))
            print(f"  {cls}: centroid cosine distance ZTF–LSST {d_cross:.3f} vs ZTF half–half {d_in:.3f} "
                  f"(n {len(a_)} / {len(b_)})")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    for lab, est in (("ridge (raw)", ridge()), ("ridge (standardised)", make_pipeline(StandardScaler(), ridge()))):
        pz = est.fit(Xz, zz).predict(Xz)
        print(f"  {lab} fitted on ZTF: slope of prediction vs true z — ZTF (in-sample) "
              f"{np.polyfit(zz, pz, 1)[0]:.2f}, LSST {np.polyfit(zl, est.predict(Xl), 1)[0]:.2f}")
    pred = ridge().fit(Xz, zz).predict(Xl)
    print("  ridge ZTF→LSST by true-z bin: bin | n | mean true | mean pred | RMSE")
    for b0, b1 in zip([0, .03, .06, .1, .15, .2, .25], [.03, .06, .1, .15, .2, .25, .31], strict=True):
        m = (zl >= b0) & (zl < b1)
        if m.any():
            print(f"    {b0:.2f}–{b1:.2f} | {m.sum()} | {zl[m].mean():.3f} | {pred[m].mean():.3f} | "
                  f"{np.sqrt(np.mean((pred[m] - zl[m]) ** 2)):.3f}")
    print(f"  ZTF→LSST ridge R²: full-range {r2(zl, pred):.2f}, core {r2(zl[core], pred[core]):.2f}; "
          f"max prediction {pred.max():.3f}; ZTF-train max z {zz.max():.3f}")

    print("## 4. cross-validated ridge within one survey (uses that survey's labels: diagnostic, not zero-shot)")
    for std in (False, True):
        f = (lambda X: StandardScaler().fit_transform(X)) if std else (lambda X: X)  # noqa: E731
        lab = "standardised" if std else "raw"
        r_core, r_all = cv_r2(f(Xl), zl, core)
        print(f"  ridge ({lab}) within LSST: R² all {r_all:.2f}, on core-range events {r_core:.2f}")
        r_core, r_all = cv_r2(f(Xz), zz, cz)
        print(f"  ridge ({lab}) within ZTF:  R² all {r_all:.2f}, on core-range events {r_core:.2f}")
    if a.z_head:
        import astroembed as ae

        m = ae.load_pretrained(mdir or label)
        for name, ds, z_, c_ in ((tag, ztf, zz, cz), ("lsst_zs", lsst, zl, core)):
            zp = m.predict(ds.lightcurves)[1]
            print(f"  pre-training z head on {name}: R² all {r2(z_, zp):.2f}, core {r2(z_[c_], zp[c_]):.2f}")

    print("## 5. selection: LSST core events split by the BTS-like cut (min noiseless g/r peak mag < 19)")
    bright = (np.minimum(lsst.truth["peak_mag_lsstg"], lsst.truth["peak_mag_lsstr"]) < 19).to_numpy()
    for lab, m in (("would pass the ZTF cut", core & bright), ("fainter than the cut", core & ~bright)):
        if m.sum() > 2:
            print(f"  {lab}: n {m.sum()}, R² {r2(zl[m], pred[m]):.2f}, bias (pred − true) "
                  f"{np.mean(pred[m] - zl[m]):+.4f}, RMSE {np.sqrt(np.mean((pred[m] - zl[m]) ** 2)):.4f}")
    from astroembed.simulate.candidates import _mag_cut

    lim = _mag_cut(SURVEYS["ztf"], None)
    det = (np.minimum(lsst.truth["peak_mag_lsstg"], lsst.truth["peak_mag_lsstr"]) < lim).to_numpy()
    full = (zl >= zz.min()) & (zl <= zz.max())
    for lab, m in ((f"full range, ZTF-detectable (g/r peak < {lim:.2f})", full & det),
                   ("full range, fainter than ZTF's limit", full & ~det)):
        if m.sum() > 2:
            print(f"  {lab} (post-hoc diagnostic): n {m.sum()}, R² {r2(zl[m], pred[m]):.2f}, bias "
                  f"{np.mean(pred[m] - zl[m]):+.4f}")
    print("## 6. peak flux alone: ridge z ~ [x, x²], x = log10(max g/r flux / µJy)")

    def logpeak(ds):
        return np.array([np.log10(max(np.max(lc.flux[np.isin(lc.band, ("ztfg", "ztfr", "lsstg", "lsstr"))],
                                             initial=1e-3), 1e-3)) for lc in ds.lightcurves])

    fz, fl = logpeak(ztf), logpeak(lsst)
    Fz, Fl = np.c_[fz, fz ** 2], np.c_[fl, fl ** 2]
    pf = ridge().fit(Fz, zz).predict(Fl)
    print(f"  ZTF→LSST R²: full-range {r2(zl, pf):.2f}, core {r2(zl[core], pf[core]):.2f}; "
          f"within ZTF (5-fold CV) {cv_r2(Fz, zz, cz)[1]:.2f}")
    print(f"  LSST events fainter (max g/r flux) than every ZTF reference event: {np.mean(fl < fz.min()):.1%} "
          f"(core range {np.mean(fl[core] < fz.min()):.1%}); than the ZTF 1 % quantile: "
          f"{np.mean(fl < np.quantile(fz, 0.01)):.1%}")
    print("## 7. g/r peak magnitude by z bin: noiseless median [q5, q95]; observed (brightest g/r point) median")
    for name, ds in ((tag, ztf), ("lsst_zs", lsst)):
        b = ("ztfg", "ztfr") if "peak_mag_ztfg" in ds.truth else ("lsstg", "lsstr")
        obs = 23.9 - 2.5 * np.log10(np.maximum([np.max(lc.flux[np.isin(lc.band, b)], initial=1e-3)
                                               for lc in ds.lightcurves], 1e-3))
        true = np.minimum(ds.truth[f"peak_mag_{b[0]}"], ds.truth[f"peak_mag_{b[1]}"]).to_numpy()
        z = ds.truth["redshift"].to_numpy()
        print(f"  {name}: observed − noiseless median {np.median(obs - true):+.2f}, q84 {np.quantile(obs - true, .84):+.2f}")
        for z0, z1 in ((0.04, 0.1), (0.1, 0.15), (0.15, 0.2), (0.2, 0.31)):
            m = (z >= z0) & (z < z1)
            if m.sum():
                print(f"    z {z0:.2f}–{z1:.2f} (n {m.sum()}): noiseless {np.median(true[m]):.2f} "
                      f"[{np.quantile(true[m], .05):.2f}, {np.quantile(true[m], .95):.2f}]; observed {np.median(obs[m]):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
