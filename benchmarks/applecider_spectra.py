"""Spectra stage of eval_applecider.py: OSC spectrum classification, cross-fitted over SNe (5 folds, the
Maven OSC folds where they exist), SpectraNet (the AppleCiDEr spectrum tower through predict_proba with
spectra only) vs an SNID-like template baseline (maximum masked Pearson correlation with the SNID templates
of each class, on the same rest-frame grid).  Templates of test-fold SNe are excluded from training and
from the baseline's library."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["stage_spectra"]


def _grid(spectra, cfg):
    from astroembed.models.applecider.features import spectrum_on_grid

    X, M, ok = [], [], []
    for s in spectra:
        try:
            x, m = spectrum_on_grid(s, cfg)
        except ValueError:
            x, m = np.zeros(cfg.n_bins, np.float32), np.zeros(cfg.n_bins, np.float32)
            ok.append(False)
        else:
            ok.append(True)
        X.append(x)
        M.append(m)
    return np.stack(X), np.stack(M), np.asarray(ok)


def template_scores(Xq, Mq, Xt, Mt, tlabels, classes):
    """(n_query, n_classes): max over each class's templates of the Pearson correlation on the bins both
    cover (pairs sharing < 30% of the grid score -1)."""
    Xq, Mq, Xt, Mt = (np.asarray(a, np.float64) for a in (Xq, Mq, Xt, Mt))
    a, b = Xq * Mq, Xt * Mt
    n = Mq @ Mt.T
    sa, sb = a @ Mt.T, Mq @ b.T
    saa, sbb, sab = (a * a) @ Mt.T, Mq @ (b * b).T, a @ b.T
    nn = n.clip(1)
    cov = sab - sa * sb / nn
    va, vb = saa - sa**2 / nn, sbb - sb**2 / nn
    r = cov / np.sqrt((va * vb).clip(1e-12))
    r[n < 0.3 * Xq.shape[1]] = -1.0
    tl = np.asarray(tlabels, dtype=object)
    out = np.full((len(Xq), len(classes)), -1.0)
    for m, c in enumerate(classes):
        sel = tl == c
        if sel.any():
            out[:, m] = r[:, sel].max(axis=1)
    return out


def stage_spectra(args):
    import torch

    from astroembed.models.applecider.bts import crossfit_folds
    from astroembed.models.applecider.config import AppleCiderTrainConfig
    from astroembed.models.applecider.spectra_data import load_osc_spectra, load_snid_templates, sn_key
    from astroembed.models.applecider.training import train_applecider

    torch.set_num_threads(args.threads)
    cfg = AppleCiderTrainConfig.from_file(args.spectra_config)
    classes = list(cfg.model.classes)
    spectra, labels, names = load_osc_spectra(args.data_root)
    Xq, Mq, okq = _grid(spectra, cfg.model.spectrum)
    spectra, labels, names, Xq, Mq = ([s for s, o in zip(spectra, okq) if o], labels[okq], names[okq], Xq[okq],
                                      Mq[okq])
    folds = crossfit_folds(names, labels, dataset="osc")
    tspec, tlab, tnames = load_snid_templates(args.data_root)
    Xt, Mt, okt = _grid(tspec, cfg.model.spectrum)
    tkeys = np.array([sn_key(n) for n in tnames])
    rows = []
    out = Path(args.out)
    for k in range(5):
        t0 = time.time()
        te = np.flatnonzero(folds == k)
        tr = np.flatnonzero(folds != k)
        test_keys = {sn_key(n) for n in names[te]}
        tkeep = np.array([okt[i] and tkeys[i] not in test_keys for i in range(len(tspec))])
        tr_spec = [spectra[i] for i in tr] + [tspec[i] for i in np.flatnonzero(tkeep)]
        tr_lab = list(labels[tr]) + list(tlab[tkeep])
        model, hist = train_applecider(cfg, [], [], None, tr_spec, tr_lab, log=lambda s: None)
        P = model.predict_proba(spectra=[spectra[i] for i in te]).to_numpy()
        S = template_scores(Xq[te], Mq[te], Xt[tkeep], Mt[tkeep], tlab[tkeep], classes)
        Ps = np.exp(10 * S) / np.exp(10 * S).sum(1, keepdims=True)
        for j, i in enumerate(te):
            for meth, PP in (("applecider SpectraNet", P), ("SNID-like template correlation", Ps)):
                rows.append({"object_id": names[i], "spec_index": int(i), "label": labels[i], "fold": k,
                             "horizon": 0, "method": meth, **{c: float(PP[j, m]) for m, c in enumerate(classes)}})
        print(f"spectra fold {k}: {len(te)} test spectra, {hist['epochs_done']} epochs, {time.time() - t0:.0f} s",
              flush=True)
    df = pd.DataFrame(rows)
    df.to_parquet(out / "spectra_oof.parquet")
    from applecider_report import horizon_metrics

    present = [c for c in classes if (df["label"] == c).any()]
    df2 = df.copy()
    df2[present] = df2[present].div(df2[present].sum(axis=1), axis=0)
    m = horizon_metrics(df2, present).drop(columns=["horizon"])
    counts = df[df["method"] == df["method"].iloc[0]]
    text = (f"OSC spectra by class: {counts['label'].value_counts().to_dict()} "
            f"({counts['object_id'].nunique()} SNe)\n\n| method | N spectra | macro-AUROC | macro-AUPRC | "
            "bal. acc. | top-2 |\n|---|---|---|---|---|---|\n")
    for _, r in m.iterrows():
        text += (f"| {r.method} | {r.n} | {r.macro_auroc:.3f} ± {r.macro_auroc_std:.3f} | {r.macro_auprc:.3f} ± "
                 f"{r.macro_auprc_std:.3f} | {r.balanced_acc:.3f} ± {r.balanced_acc_std:.3f} | {r.top2:.3f} ± "
                 f"{r.top2_std:.3f} |\n")
    (out / "spectra_table.md").write_text(text)
    print(text)
