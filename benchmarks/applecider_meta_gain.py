"""Does metadata help at each horizon?  Per fold: macro-AUROC of ``TAG (phot+meta)`` minus ``TAG (phot)``
(the same model with the metadata withheld), from the out-of-fold predictions of ``eval_applecider.py``.

  PYTHONPATH=src python benchmarks/applecider_meta_gain.py --out runs/applecider_eval --tags applecider-sim applecider-ens
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="runs/applecider_eval")
    p.add_argument("--tags", nargs="+", required=True)
    p.add_argument("--horizons", nargs="+", type=int, default=[3, 5, 10, 30])
    args = p.parse_args(argv)
    from applecider_report import _metrics

    for tag in args.tags:
        df = pd.concat([pd.read_parquet(f) for f in sorted(Path(args.out).glob(f"oof_{tag}_fold*.parquet"))])
        classes = [c for c in df.columns if c not in ("object_id", "label", "fold", "horizon", "method")]
        def auroc(g, mode, tag=tag, classes=classes):
            g = g[g["method"] == f"{tag} ({mode})"]
            return _metrics(g["label"].to_numpy(), g[classes].to_numpy(float), classes)["macro_auroc"]

        for h in args.horizons:
            g = df[df["horizon"] == h]
            per = [round(auroc(gg, "phot+meta") - auroc(gg, "phot"), 3) for _, gg in g.groupby("fold")]
            print(f"{tag} {h:>3} d: pooled phot+meta {auroc(g, 'phot+meta'):.3f} vs phot {auroc(g, 'phot'):.3f}; "
                  f"per-fold gain {per}, folds > 0: {sum(x > 0 for x in per)}/5")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
