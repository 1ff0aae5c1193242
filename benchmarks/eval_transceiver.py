"""Evaluate the Transceiver: light curve → spectrum on held-out simulated pairs and on real OSC pairs.

Scores (target space = rest-frame continuum-divided spectrum on the model grid; see scoring.py): MAE of the
posterior-predictive mean, 68 % interval coverage and width, per phase bin; baselines: training-set mean
spectrum per phase bin, nearest neighbour in maven's contrastive space (partner spectrum of the closest
training light curve), and the spectrum→spectrum reconstruction of the same model (ceiling).  Coverage
curve (calibrated vs τ = 1), robustness to removing 10–90 % of the light-curve points, redshift /
peak-magnitude regression from the latent (simulations), LC→spectrum retrieval vs maven (real).

Real data: cross-fitted by the object folds of ``_weights/maven/folds.csv`` (``--folds``): for each fold the
simulation model is fine-tuned on the other folds (a validation split of those gives early stopping and the
calibration temperature), then the held-out fold is scored.

  PYTHONPATH=src python benchmarks/eval_transceiver.py --part sim --sim-model runs/transceiver_sim/transceiver
  PYTHONPATH=src python benchmarks/eval_transceiver.py --part osc --sim-model ... --folds 0,1,2,3,4
  PYTHONPATH=src python benchmarks/eval_transceiver.py --part report
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from astroembed.models.transceiver import TransceiverModel  # noqa: E402
from astroembed.models.transceiver.scoring import (  # noqa: E402
    MeanSpectrumBaseline,
    interval_scores,
    nearest_partner,
    pair_mae,
    summarise,
)
from astroembed.models.transceiver.training import (  # noqa: E402
    TrainConfig,
    _grid_of,
    apply_training_overrides,
    arrays_to_generation,
    fit_calibration,
    split_by_object,
    train_model,
    usable_pairs,
)

LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.68, 0.8, 0.9, 0.95)
DROP = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9)


def target_of(d):
    return np.where(d.spec_mask, d.spec_flux, np.nan), d.spec_mask


def score_generation(model, data, n_samples, seed=0, temperature=None, encoder_mask=None):
    g = arrays_to_generation(model, data, n_samples, seed, temperature, encoder_mask=encoder_mask)
    T, M = target_of(data)
    lo, hi = g.interval(0.68)
    cov, width = interval_scores(T, M, lo, hi)
    return g, pair_mae(T, M, g.mean), cov, width


def coverage_curve(g, data):
    T, M = target_of(data)
    return [float(interval_scores(T, M, *g.interval(lv))[0].mean()) for lv in LEVELS]


@torch.no_grad()
def reconstruction(model, data):
    data._grid = _grid_of(model.config)
    out = np.zeros(data.spec_flux.shape, np.float32)
    for s in range(0, len(data), 128):
        idx = np.arange(s, min(len(data), s + 128))
        _, sp, ph = data.batch(idx)
        loc, _ = model.posterior_spectrum(sp, ph)
        out[idx] = model.decode_spectrum(loc, ph)[0].numpy()
    T, M = target_of(data)
    return pair_mae(T, M, out)


def drop_mask(data, frac, seed):
    r = np.random.default_rng(seed).random(data.lc_mask.shape)
    keep = data.lc_mask & (r >= frac)
    first = np.argmax(np.where(data.lc_mask, r, -1), axis=1)  # always keep one point
    keep[np.arange(len(keep)), first] = True
    return keep


def robustness(model, data, n_samples):
    out = {}
    for f in DROP:
        _, mae, cov, width = score_generation(model, data, n_samples, encoder_mask=drop_mask(data, f, 1))
        out[f"{f:.1f}"] = {"mae": float(np.nanmean(mae)), "coverage68": float(cov.mean()), "width68": float(width.mean())}
    return out


def maven_lc_embeddings(lcs):
    import astroembed as ae

    return ae.load_pretrained("maven").embed_lightcurve(lcs, progress=False)


def baselines(train, test, q_emb, ref_emb):
    T, M = target_of(test)
    Ttr, Mtr = target_of(train)
    mean_b = MeanSpectrumBaseline().fit(Ttr, Mtr, train.phase).predict(test.phase)
    nn = nearest_partner(q_emb, ref_emb, Ttr, Mtr, mean_b)
    return pair_mae(T, M, mean_b), pair_mae(T, M, nn)


def run_sim(a):
    from train_transceiver import DataConfig, load_config

    from astroembed.models.transceiver.pairs import load_sim_pairs
    from astroembed.simulate.dataset import read_parquet

    model = TransceiverModel.from_pretrained(a.sim_model)
    data = DataConfig.from_dict(load_config(a.sim_config)["data"])
    arr, table = load_sim_pairs(data.sim_dir, model.config, cache_dir=a.cache_dir)
    n_keep = int(round(len(arr) * (1 - data.holdout_fraction)))
    rng = np.random.default_rng(0)
    test_idx = np.arange(n_keep, len(arr))
    test_idx = test_idx[usable_pairs(arr.subset(test_idx), model.config)][: a.n_sim_test]
    ref_idx = np.sort(rng.choice(n_keep, min(a.n_sim_ref, n_keep), replace=False))
    train, test = arr.subset(ref_idx), arr.subset(test_idx)
    ds = read_parquet(data.sim_dir)
    lcs = ds.lightcurves
    t0 = time.time()
    g, mae, cov, width = score_generation(model, test, a.n_samples)
    res = {"n_test": len(test), "n_ref": len(train), "model": summarise(mae, cov, width, test.phase)}
    # expected |noise| of the truth itself (Gaussian σ √(2/π)): no prediction can get its MAE far below this
    floor = np.where(test.spec_mask, test.spec_err * np.sqrt(2 / np.pi), 0).sum(1) / np.maximum(test.spec_mask.sum(1), 1)
    res["noise_floor"] = summarise(floor, phase=test.phase)
    q_lcs = [lcs[i] for i in table["event"].to_numpy()[test_idx]]
    r_lcs = [lcs[i] for i in table["event"].to_numpy()[ref_idx]]
    mv_q, mv_r = maven_lc_embeddings(q_lcs), maven_lc_embeddings(r_lcs)
    mb, nn = baselines(train, test, mv_q, mv_r)
    res["mean_spectrum"] = summarise(mb, phase=test.phase)
    res["maven_nn"] = summarise(nn, phase=test.phase)
    res["reconstruction"] = summarise(reconstruction(model, test), phase=test.phase)
    res["coverage_curve"] = {"levels": LEVELS, "calibrated": coverage_curve(g, test),
                             "tau1": coverage_curve(score_generation(model, test, a.n_samples, temperature=1.0)[0], test)}
    res["tau"] = float(model.calibration_temperature)
    res["masking"] = robustness(model, test, a.n_samples)
    # physical parameters from the light-curve latent (ridge, fitted on the reference pool)
    from sklearn.linear_model import RidgeCV
    from sklearn.metrics import r2_score

    zq, zr = model.embed_lightcurve(q_lcs, normalize=False), model.embed_lightcurve(r_lcs, normalize=False)
    res["regression_r2"] = {}
    for col in ("redshift", "peak_absmag"):
        y_r, y_q = table[col].to_numpy()[ref_idx], table[col].to_numpy()[test_idx]
        for name, (xr, xq) in {"transceiver": (zr, zq), "maven": (mv_r, mv_q)}.items():
            reg = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(xr, y_r)
            res["regression_r2"][f"{col}/{name}"] = float(r2_score(y_q, reg.predict(xq)))
    res["seconds"] = time.time() - t0
    return res


def retrieval(q_emb, g_emb, q_groups, g_groups):
    from astroembed.evaluate.metrics import retrieval_metrics, retrieval_ranks

    return retrieval_metrics(retrieval_ranks(q_emb, g_emb, q_groups, g_groups), ks=(1, 10))


def run_osc(a):
    from train_transceiver import load_config, osc_folds

    import astroembed as ae
    from astroembed.models.transceiver.pairs import load_osc_pair_arrays

    base = TransceiverModel.from_pretrained(a.sim_model)
    cfg = load_config(a.osc_config)
    tc = TrainConfig.from_dict(cfg["train"])
    overrides = cfg["finetune_overrides"]  # training-only model settings of the fine-tuning ({} = the start model's)
    where = f"{a.osc_config}: finetune_overrides"
    apply_training_overrides(TransceiverModel.from_pretrained(a.sim_model), overrides, where=where)  # fail fast
    if a.finetune_minutes is not None:
        tc = tc.replace(minutes=a.finetune_minutes)
    arr, table, cont = load_osc_pair_arrays(base.config, data_dir=a.data_root, classes=cfg["data"]["osc_classes"],
                                            spectrum=cfg["data"]["osc_spectrum"])
    folds = osc_folds(table["object_id"])
    ok = usable_pairs(arr, base.config) & (folds >= 0)
    counts = {"pairs": len(arr), "objects": int(table["object_id"].nunique()), "usable_pairs": int(ok.sum()),
              "usable_objects": int(table["object_id"][ok].nunique())}
    # maven (release) was fine-tuned on ALL development OSC SNe, test folds included: favours it;
    # maven-sim saw no real data.
    mv = {}
    for name in ("maven", "maven-sim"):
        m = ae.load_pretrained(name)
        mv[name] = (m.embed_lightcurve([c[0] for c in cont], progress=False),
                    m.embed_spectrum([c[1] for c in cont], progress=False))
    mv_lc = mv["maven"][0]
    per_fold = []
    for k in [int(x) for x in a.folds.split(",")]:
        t0 = time.time()
        te = np.flatnonzero(ok & (folds == k))
        pool = np.flatnonzero(ok & (folds != k))
        tr_rel, va_rel = split_by_object(table["object_id"].to_numpy()[pool], tc.val_fraction, tc.seed)
        tr, va = pool[tr_rel], pool[va_rel]
        torch.manual_seed(tc.seed)
        model = TransceiverModel.from_pretrained(a.sim_model)
        zero = {}
        fit_calibration(model, arr.subset(va), tc)  # zero-shot model, calibrated on the same validation split
        _, m0, c0, w0 = score_generation(model, arr.subset(te), a.n_samples)
        zero = {"mae": float(np.nanmean(m0)), "coverage68": float(c0.mean()), "width68": float(w0.mean())}
        apply_training_overrides(model, overrides, where=where)
        hist = train_model(model, arr.subset(tr), arr.subset(va), tc, log=lambda *_: None)
        tau = fit_calibration(model, arr.subset(va), tc)
        test = arr.subset(te)
        g, mae, cov, width = score_generation(model, test, a.n_samples)
        g1 = score_generation(model, test, a.n_samples, temperature=1.0)[0]
        mb, nn = baselines(arr.subset(pool), test, mv_lc[te], mv_lc[pool])
        _, nn_sim = baselines(arr.subset(pool), test, mv["maven-sim"][0][te], mv["maven-sim"][0][pool])
        rec = reconstruction(model, test)
        # retrieval inside the test fold: one light curve per object vs every spectrum of the fold
        ids = table["object_id"].to_numpy()[te]
        _, first = np.unique(ids, return_index=True)
        lcs_q = [cont[i][0] for i in te[first]]
        tr_lc = model.embed_lightcurve(lcs_q)
        tr_sp = model.embed_spectrum([cont[i][1] for i in te])
        ret = {"transceiver": retrieval(tr_lc, tr_sp, ids[first], ids)}
        for name, (e_lc, e_sp) in mv.items():
            ret[name] = retrieval(e_lc[te[first]], e_sp[te], ids[first], ids)
        fold = {"fold": k, "n_test_pairs": len(te), "n_test_objects": len(first), "n_train": len(tr), "n_val": len(va),
                "tau": tau, "steps": hist["steps"], "train_seconds": hist["seconds"],
                "model": summarise(mae, cov, width, test.phase), "zero_shot_sim_model": zero,
                "mean_spectrum": summarise(mb, phase=test.phase), "maven_nn": summarise(nn, phase=test.phase),
                "maven_sim_nn": summarise(nn_sim, phase=test.phase), "reconstruction": summarise(rec, phase=test.phase),
                "coverage_curve": {"levels": LEVELS, "calibrated": coverage_curve(g, test), "tau1": coverage_curve(g1, test)},
                "masking": robustness(model, test, a.n_samples), "retrieval": ret, "seconds": time.time() - t0}
        per_fold.append(fold)
        print(f"fold {k}: model MAE {fold['model']['all']['mae']:.4f} cov {fold['model']['all']['coverage68']:.3f} | "
              f"mean {fold['mean_spectrum']['all']['mae']:.4f} | maven-NN {fold['maven_nn']['all']['mae']:.4f} | "
              f"recon {fold['reconstruction']['all']['mae']:.4f} | zero-shot {zero['mae']:.4f} | tau {tau:.2f} | "
              f"top10 {ret['transceiver']['top10']:.3f} vs maven {ret['maven']['top10']:.3f} / maven-sim "
              f"{ret['maven-sim']['top10']:.3f} ({fold['seconds']:.0f}s)",
              flush=True)
        if k == 0 or not (Path(a.out) / "osc_examples.npz").exists():
            sel = np.linspace(0, len(te) - 1, 4).astype(int)
            lo, hi = g.interval(0.68)
            T, M = target_of(test)
            np.savez(Path(a.out) / "osc_examples.npz", wave=g.wavelength, mean=g.mean[sel], lo=lo[sel], hi=hi[sel],
                     truth=T[sel], base=MeanSpectrumBaseline().fit(*target_of(arr.subset(pool)), arr.phase[pool])
                     .predict(test.phase[sel]), phase=test.phase[sel], ids=ids[sel].astype(str))
    return {"counts": counts, "folds": per_fold, "train_config": tc.to_dict(), "finetune_overrides": overrides,
            "osc_config": a.osc_config, "sim_model": a.sim_model}


def _mean_std(vals):
    v = np.array(vals, float)
    return f"{np.nanmean(v):.4f} ± {np.nanstd(v):.4f}" if len(v) > 1 else f"{v[0]:.4f}"


def report(out: Path) -> str:
    lines = []
    sim = json.loads((out / "sim.json").read_text()) if (out / "sim.json").exists() else None
    osc = json.loads((out / "osc.json").read_text()) if (out / "osc.json").exists() else None
    if sim:
        lines += [f"### Simulated held-out pairs (n = {sim['n_test']}; references: {sim['n_ref']} training pairs)", "",
                  "| method | MAE all | " + " | ".join(k for k in sim["model"] if k != "all") + " | 68% cov | 68% width |",
                  "|---" * (3 + len(sim["model"])) + "|"]
        for name, key in (("Transceiver LC→spectrum", "model"), ("mean spectrum per phase bin", "mean_spectrum"),
                          ("maven NN partner spectrum", "maven_nn"), ("spectrum→spectrum reconstruction (ceiling)",
                                                                      "reconstruction"),
                          ("measurement noise of the truth, σ√(2/π) (floor)", "noise_floor")):
            if key not in sim:
                continue
            r = sim[key]
            cells = [f"{r[k]['mae']:.4f} (n={r[k]['n']})" if k != "all" else f"{r[k]['mae']:.4f}" for k in r]
            cov = f"{r['all'].get('coverage68', float('nan')):.3f}" if "coverage68" in r["all"] else "–"
            wid = f"{r['all'].get('width68', float('nan')):.3f}" if "width68" in r["all"] else "–"
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {cov} | {wid} |")
        lines += ["", f"Calibration temperature τ = {sim['tau']:.3f}. Coverage curve (nominal → empirical, calibrated / τ=1): "
                  + ", ".join(f"{lv:.2f}→{c:.2f}/{c1:.2f}" for lv, c, c1 in zip(
                      sim["coverage_curve"]["levels"], sim["coverage_curve"]["calibrated"], sim["coverage_curve"]["tau1"],
                      strict=True)), "",
                  "LC masking (fraction of points removed → MAE / 68% coverage): " + ", ".join(
                      f"{k}: {v['mae']:.4f}/{v['coverage68']:.2f}" for k, v in sim["masking"].items()), "",
                  "Ridge regression from the light-curve latent (R² on the held-out pairs): " + ", ".join(
                      f"{k} {v:.3f}" for k, v in sim["regression_r2"].items()), ""]
    if osc:
        F = osc["folds"]
        c = osc["counts"]
        lines += [f"### Real OSC pairs, cross-fitted ({len(F)} fold(s) of the maven folds; {c['usable_pairs']} usable "
                  f"pairs of {c['usable_objects']} SNe out of {c['pairs']} pairs / {c['objects']} SNe)", "",
                  "| method | MAE (mean ± std over folds) | 68% coverage | 68% width |", "|---|---|---|---|"]
        for name, key in (("Transceiver LC→spectrum (fine-tuned per fold)", "model"),
                          ("mean spectrum per phase bin", "mean_spectrum"),
                          ("maven NN partner spectrum (maven saw the test SNe)", "maven_nn"),
                          ("maven-sim NN partner spectrum (no real data)", "maven_sim_nn"),
                          ("spectrum→spectrum reconstruction (ceiling)", "reconstruction")):
            cov = _mean_std([f[key]["all"]["coverage68"] for f in F]) if key == "model" else "–"
            wid = _mean_std([f[key]["all"]["width68"] for f in F]) if key == "model" else "–"
            lines.append(f"| {name} | {_mean_std([f[key]['all']['mae'] for f in F])} | {cov} | {wid} |")
        lines.append(f"| simulation model, no fine-tuning (calibrated on the same validation split) | "
                     f"{_mean_std([f['zero_shot_sim_model']['mae'] for f in F])} | "
                     f"{_mean_std([f['zero_shot_sim_model']['coverage68'] for f in F])} | "
                     f"{_mean_std([f['zero_shot_sim_model']['width68'] for f in F])} |")
        ratio = [f["model"]["all"]["mae"] / f["mean_spectrum"]["all"]["mae"] for f in F]
        ratio_nn = [f["model"]["all"]["mae"] / f["maven_nn"]["all"]["mae"] for f in F]
        pooled = sum(f["model"]["all"]["mae"] * f["n_test_pairs"] for f in F) / \
            sum(f["mean_spectrum"]["all"]["mae"] * f["n_test_pairs"] for f in F)
        lines += ["", f"Ratio to the mean-spectrum baseline: {_mean_std(ratio)} (target ≤ 0.85; pooled over the "
                  f"folds' pairs: {pooled:.4f}); to the maven NN baseline: {_mean_std(ratio_nn)} (target < 1).", ""]
        if osc.get("finetune_overrides"):
            lines += [f"Fine-tuning with finetune_overrides {osc['finetune_overrides']} ({osc.get('osc_config')}).", ""]
        bins = [k for k in F[0]["model"] if k != "all"]
        lines += ["Per phase bin (days from the brightest LC point; MAE pooled over folds, weighted by pairs):", "",
                  "| phase bin | n | Transceiver | 68% cov | mean spectrum | maven NN | reconstruction |", "|---" * 7 + "|"]
        for b in bins:
            n = sum(f["model"][b]["n"] for f in F)
            def w(key, field="mae", b=b, n=n):
                num = sum(f[key][b][field] * f[key][b]["n"] for f in F if f[key][b]["n"])
                return num / max(n, 1)
            lines.append(f"| {b} | {n} | {w('model'):.4f} | {w('model', 'coverage68'):.3f} | {w('mean_spectrum'):.4f} | "
                         f"{w('maven_nn'):.4f} | {w('reconstruction'):.4f} |")
        lines += ["", "Coverage curve, pooled over folds (nominal → calibrated / τ=1): " + ", ".join(
            f"{lv:.2f}→{np.mean([f['coverage_curve']['calibrated'][i] for f in F]):.2f}/"
            f"{np.mean([f['coverage_curve']['tau1'][i] for f in F]):.2f}" for i, lv in enumerate(LEVELS)),
            "", "LC masking (fraction removed → MAE / 68% coverage, mean over folds): " + ", ".join(
                f"{k}: {np.mean([f['masking'][k]['mae'] for f in F]):.4f}/"
                f"{np.mean([f['masking'][k]['coverage68'] for f in F]):.2f}" for k in F[0]["masking"]), "",
            "LC → spectrum retrieval inside each test fold (top-1 / top-10 / median rank, mean over folds): "
            + "; ".join(f"{m}: {np.mean([f['retrieval'][m]['top1'] for f in F]):.3f} / "
                        f"{np.mean([f['retrieval'][m]['top10'] for f in F]):.3f} / "
                        f"{np.mean([f['retrieval'][m]['median_rank'] for f in F]):.1f}" for m in ("transceiver", "maven", "maven-sim")),
            f" (gallery: all spectra of the fold, ≈{np.mean([f['n_test_pairs'] for f in F]):.0f}; "
            "queries: one light curve per SN).", "",
            "Per fold: " + "; ".join(f"fold {f['fold']}: {f['n_test_pairs']} pairs, {f['steps']} steps, "
                                     f"{f['train_seconds']:.0f}s, τ={f['tau']:.2f}" for f in F)]
    return "\n".join(lines)


def plots(out: Path, img: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    img.mkdir(parents=True, exist_ok=True)
    made = []
    ex = out / "osc_examples.npz"
    if ex.exists():
        e = np.load(ex)
        fig, axes = plt.subplots(2, 2, figsize=(10, 6), sharex=True)
        for i, ax in enumerate(axes.ravel()[: len(e["mean"])]):
            ax.fill_between(e["wave"], e["lo"][i], e["hi"][i], color="C0", alpha=0.3, label="68% interval")
            ax.plot(e["wave"], e["mean"][i], "C0", label="Transceiver mean (from the LC)")
            ax.plot(e["wave"], e["truth"][i], "k", lw=0.8, label="true spectrum")
            ax.plot(e["wave"], e["base"][i], "C3--", lw=0.8, label="mean spectrum (phase bin)")
            ax.set_title(f"{e['ids'][i]}, phase {e['phase'][i]:+.0f} d", fontsize=9)
        axes[1, 0].set_xlabel("rest wavelength (Å)")
        axes[0, 0].set_ylabel("flux / continuum − 1")
        axes[0, 0].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(img / "transceiver_osc_examples.png", dpi=110)
        made.append("transceiver_osc_examples.png")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for name, path in (("sim", out / "sim.json"), ("OSC", out / "osc.json")):
        if not path.exists():
            continue
        r = json.loads(path.read_text())
        cc = r["coverage_curve"] if name == "sim" else {
            "levels": LEVELS, "calibrated": np.mean([f["coverage_curve"]["calibrated"] for f in r["folds"]], 0),
            "tau1": np.mean([f["coverage_curve"]["tau1"] for f in r["folds"]], 0)}
        axes[0].plot(cc["levels"], cc["calibrated"], "o-", label=f"{name}, calibrated")
        axes[0].plot(cc["levels"], cc["tau1"], "x--", label=f"{name}, τ = 1")
        mk = r["masking"] if name == "sim" else {k: {"mae": np.mean([f["masking"][k]["mae"] for f in r["folds"]])}
                                                 for k in r["folds"][0]["masking"]}
        axes[1].plot([float(k) for k in mk], [v["mae"] for v in mk.values()], "o-", label=name)
    axes[0].plot([0, 1], [0, 1], "k:", lw=0.8)
    axes[0].set_xlabel("nominal level")
    axes[0].set_ylabel("empirical coverage")
    axes[0].legend(fontsize=8)
    axes[1].set_xlabel("fraction of light-curve points removed")
    axes[1].set_ylabel("MAE of the posterior mean")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(img / "transceiver_calibration_masking.png", dpi=110)
    made.append("transceiver_calibration_masking.png")
    return made


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", choices=("sim", "osc", "report"), required=True)
    ap.add_argument("--sim-model", default="runs/transceiver_sim/transceiver")
    ap.add_argument("--sim-config", default="configs/transceiver_sim.json")
    ap.add_argument("--osc-config", default="configs/transceiver_osc.json")
    ap.add_argument("--folds", default="0,1,2,3,4")
    ap.add_argument("--finetune-minutes", type=float, default=None)
    ap.add_argument("--n-samples", type=int, default=64)
    ap.add_argument("--n-sim-test", type=int, default=1000)
    ap.add_argument("--n-sim-ref", type=int, default=5000)
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--cache-dir", default="/work/data_sim/trans_cache")
    ap.add_argument("--out", default="runs/eval_transceiver")
    ap.add_argument("--img", default="docs/img/models")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    if a.part == "sim":
        (out / "sim.json").write_text(json.dumps(run_sim(a), indent=1))
    elif a.part == "osc":
        (out / "osc.json").write_text(json.dumps(run_osc(a), indent=1))
    from _common import hardware

    print(f"hardware: {hardware()}\n")
    print(report(out))
    if a.part == "report":
        print("plots:", plots(out, Path(a.img)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
