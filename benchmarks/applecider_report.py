"""Report stage of eval_applecider.py: metrics per horizon and method from the out-of-fold predictions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["horizon_metrics", "stage_report"]


def _metrics(y, P, classes):
    """macro-AUROC / macro-AUPRC (one-vs-rest, mean over classes present), balanced accuracy of the
    arg-max, top-2 inclusion (true class among the two most probable)."""
    from sklearn.metrics import average_precision_score, balanced_accuracy_score, roc_auc_score

    y = np.asarray(y, dtype=object)
    au, ap = [], []
    for m, c in enumerate(classes):
        pos = y == c
        if 0 < pos.sum() < len(y):
            au.append(roc_auc_score(pos, P[:, m]))
            ap.append(average_precision_score(pos, P[:, m]))
    pred = np.asarray(classes, dtype=object)[P.argmax(axis=1)]
    top2 = np.argsort(-P, axis=1)[:, :2]
    idx = np.array([classes.index(t) for t in y])
    return {"macro_auroc": float(np.mean(au)), "macro_auprc": float(np.mean(ap)),
            "balanced_acc": float(balanced_accuracy_score(y.astype(str), pred.astype(str))),
            "top2": float(np.mean((top2 == idx[:, None]).any(axis=1)))}


def horizon_metrics(df: pd.DataFrame, classes: list[str]) -> pd.DataFrame:
    """One row per (horizon, method): pooled out-of-fold metrics and their std over folds."""
    rows = []
    for (h, meth), g in df.groupby(["horizon", "method"]):
        P = g[classes].to_numpy(np.float64)
        r = {"horizon": h, "method": meth, "n": len(g), **_metrics(g["label"].to_numpy(), P, classes)}
        per = [_metrics(gg["label"].to_numpy(), gg[classes].to_numpy(np.float64), classes)
               for _, gg in g.groupby("fold")]
        for k in ("macro_auroc", "macro_auprc", "balanced_acc", "top2"):
            r[f"{k}_std"] = float(np.std([p[k] for p in per]))
        rows.append(r)
    return pd.DataFrame(rows)


def _table(m: pd.DataFrame, title: str) -> str:
    lines = [f"### {title}", "", "| horizon (d) | method | N | macro-AUROC | macro-AUPRC | bal. acc. | top-2 |",
             "|---|---|---|---|---|---|---|"]
    for _, r in m.sort_values(["horizon", "method"]).iterrows():
        lines.append(f"| {r.horizon} | {r.method} | {r.n} | {r.macro_auroc:.3f} ± {r.macro_auroc_std:.3f} | "
                     f"{r.macro_auprc:.3f} ± {r.macro_auprc_std:.3f} | {r.balanced_acc:.3f} ± {r.balanced_acc_std:.3f} | "
                     f"{r.top2:.3f} ± {r.top2_std:.3f} |")
    return "\n".join(lines) + "\n"


def _plot(m: pd.DataFrame, path: Path, title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, key, lab in zip(axes, ("macro_auroc", "macro_auprc", "balanced_acc"),
                            ("macro-AUROC", "macro-AUPRC", "balanced accuracy")):
        for meth, g in m.groupby("method"):
            g = g.sort_values("horizon")
            ls = "-" if meth.startswith("applecider") and "emb." not in meth else "--"
            ax.errorbar(g["horizon"], g[key], yerr=g[f"{key}_std"], label=meth, ls=ls, marker="o", ms=3, capsize=2)
        ax.set_xscale("log")
        ax.set_xticks([3, 5, 10, 20, 30, 50, 100], ["3", "5", "10", "20", "30", "50", "100"])
        ax.set_xlabel("days after first detection")
        ax.set_ylabel(lab)
        ax.grid(alpha=0.3)
    axes[0].axhline(0.75, color="grey", lw=0.8, ls=":")
    axes[0].axhline(0.85, color="grey", lw=0.8, ls=":")
    axes[2].legend(fontsize=7, loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def stage_report(args):

    from astroembed.models.applecider.bts import load_bts_applecider
    from astroembed.models.applecider.config import AppleCiderTrainConfig

    out = Path(args.out)
    classes = list(AppleCiderTrainConfig.from_file(args.config).model.classes)
    parts = [pd.read_parquet(p) for p in sorted(out.glob("oof_*.parquet"))]
    df = pd.concat(parts, ignore_index=True)
    # common object set per horizon (every method scored on the same objects)
    counts = df.groupby(["horizon", "object_id"])["method"].nunique()
    n_meth = df.groupby("horizon")["method"].nunique()
    ok = counts[counts == n_meth.reindex(counts.index.get_level_values(0)).to_numpy()].index
    df = df.set_index(["horizon", "object_id"]).loc[ok].reset_index()
    d = load_bts_applecider(args.data_root)
    hse = set(d.objects.loc[d.objects["lc_sources"] == "hse", "object_id"])
    m_all = horizon_metrics(df, classes)
    m_hse = horizon_metrics(df[df["object_id"].isin(hse)], classes)
    m_all.to_csv(out / "horizon_metrics.csv", index=False)
    m_hse.to_csv(out / "horizon_metrics_hse.csv", index=False)
    counts = df[df["method"] == df["method"].iloc[0]].drop_duplicates(["horizon", "object_id"])
    cls_n = counts[counts["horizon"] == 100]["label"].value_counts().to_dict()
    text = (f"classes (objects at 100 d): {cls_n}\n\n" + _table(m_all, "all BTS objects") + "\n"
            + _table(m_hse, "objects whose light curve is from the 'hse' download only (no lctd cadence artefact)"))
    (out / "horizon_table.md").write_text(text)
    img = Path(args.img_dir)
    img.mkdir(parents=True, exist_ok=True)
    drop = getattr(args, "plot_exclude", None)

    def shown(m):
        return m[~m["method"].str.contains(drop)] if drop else m

    _plot(shown(m_all), img / "applecider_horizon_all.png", "BTS, cross-fitted (5 folds), all objects")
    _plot(shown(m_hse), img / "applecider_horizon_hse.png", "BTS, cross-fitted (5 folds), hse-only light curves")
    print(text)
