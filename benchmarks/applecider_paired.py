"""Per-fold macro-AUROC of chosen methods at chosen horizons, and paired per-fold differences.

  PYTHONPATH=src python benchmarks/applecider_paired.py --out runs/applecider_eval --horizons 5 30 \\
      --methods "applecider-sim (phot+meta)" "applecider-long (phot+meta)" "maven-sim emb.+meta"

The first method is compared with each other one (same objects: the report stage's common object set).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def per_fold_auroc(df: pd.DataFrame, classes: list[str]) -> pd.DataFrame:
    """(method, horizon) x fold table of macro-AUROC (one-vs-rest, mean over classes present in the fold)."""
    from sklearn.metrics import roc_auc_score

    rows = []
    for (h, meth, k), g in df.groupby(["horizon", "method", "fold"]):
        y = g["label"].to_numpy(object)
        P = g[classes].to_numpy(np.float64)
        au = [roc_auc_score(y == c, P[:, m]) for m, c in enumerate(classes) if 0 < (y == c).sum() < len(y)]
        rows.append({"horizon": h, "method": meth, "fold": int(k), "macro_auroc": float(np.mean(au))})
    return pd.DataFrame(rows).pivot_table(index=["horizon", "method"], columns="fold", values="macro_auroc")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="runs/applecider_eval")
    p.add_argument("--horizons", type=int, nargs="+", default=[5, 30])
    p.add_argument("--methods", nargs="+", required=True)
    args = p.parse_args(argv)
    from astroembed.models.applecider.config import DEFAULT_CLASSES

    df = pd.concat([pd.read_parquet(f) for f in sorted(Path(args.out).glob("oof_*.parquet"))], ignore_index=True)
    df = df[df["horizon"].isin(args.horizons) & df["method"].isin(args.methods)]
    counts = df.groupby(["horizon", "object_id"])["method"].nunique()
    ok = counts[counts == len(args.methods)].index
    df = df.set_index(["horizon", "object_id"]).loc[ok].reset_index()
    t = per_fold_auroc(df, list(DEFAULT_CLASSES))
    print(t.round(3).to_string())
    for h in args.horizons:
        a = t.loc[(h, args.methods[0])]
        for other in args.methods[1:]:
            d = a - t.loc[(h, other)]
            print(f"{h} d: {args.methods[0]} - {other}: per fold {np.round(d.to_numpy(), 3).tolist()}, "
                  f"mean {d.mean():+.3f}, folds > 0: {int((d > 0).sum())}/{len(d)}")


if __name__ == "__main__":
    sys.exit(main())
