"""Nested choice of an AppleCiDEr training recipe on inner validation folds (never on the test fold).

For outer test fold k the inner validation fold is v = (k + 1) mod 5.  ``--stage inner``: for every
candidate ``TAG=CONFIG`` and outer fold k, train on the labelled objects of the three folds other than
k and v (+ the unlabelled BTS light curves, pre-training only, as in ``eval_applecider.py``) and predict
fold v at 5 and 30 days -> ``OUT/inner_TAG_fold{k}.parquet``.  Nothing of fold k is read.

``--stage average --members A B C --tag T`` writes the probability mean of several candidates' inner (and,
where all exist, outer) predictions as candidate T (a recipe ensemble: one model per member recipe).

``--stage select`` applies the decision rule below (fixed before the inner runs) and writes
``OUT/nested_choice.json`` and ``OUT/oof_NESTED_fold{k}.parquet``: for each outer fold the outer
prediction (``oof_TAG_fold{k}.parquet`` of ``eval_applecider.py --stage train --tag TAG``) of the
candidate chosen for that fold, renamed ``NESTED (phot)`` / ``NESTED (phot+meta)``.  Those rows are
an honest estimate of "pick the recipe on inner validation, then train on the four folds".

Decision rule (per outer fold k, scored on fold v with metadata, macro-AUROC over the classes present):
  a candidate replaces the reference (the first one given) when its 5-day AUROC is higher than the
  reference's AND its 30-day AUROC is at least the reference's - 0.01; among several such candidates
  the highest 5-day AUROC wins.  The release recipe is the candidate chosen in the most outer folds
  (ties -> the reference).

  PYTHONPATH=src OMP_NUM_THREADS=1 nice -n 10 python benchmarks/applecider_inner.py --stage inner \\
      --candidates applecider-sim=configs/applecider_crossfit_sim.json \\
                   applecider-early=configs/applecider_crossfit_early.json --out runs/applecider_eval
  PYTHONPATH=src python benchmarks/applecider_inner.py --stage select --candidates ... --out runs/applecider_eval
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

INNER_HORIZONS = (5, 30)
N_FOLDS = 5
#: the 30-day tolerance of the decision rule (macro-AUROC)
TOL_30 = 0.01


def inner_fold(k: int) -> int:
    """The inner validation fold of outer test fold ``k``."""
    return (k + 1) % N_FOLDS


def _candidates(specs) -> dict[str, str]:
    out = {}
    for s in specs:
        tag, eq, path = s.partition("=")
        if not (eq and tag and path) or tag in out:
            raise ValueError(f"--candidates {s!r}: expected distinct TAG=CONFIG entries")
        out[tag] = path
    return out


def _auroc(g: pd.DataFrame, classes) -> float:
    from applecider_report import _metrics

    return _metrics(g["label"].to_numpy(), g[classes].to_numpy(np.float64), classes)["macro_auroc"]


def choose(scores: dict[str, dict[int, float]], reference: str, tol: float = TOL_30) -> str:
    """The decision rule: ``scores[tag][h]`` = inner-validation macro-AUROC at h days."""
    ref = scores[reference]
    ok = [t for t, s in scores.items() if t != reference and s[5] > ref[5] and s[30] >= ref[30] - tol]
    return max(ok, key=lambda t: scores[t][5]) if ok else reference


def stage_inner(args):
    import torch
    from eval_applecider import _data, predict_rows

    from astroembed.models.applecider.config import AppleCiderTrainConfig
    from astroembed.models.applecider.training import train_applecider

    torch.set_num_threads(args.threads)
    d, folds = _data(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for tag, path in _candidates(args.candidates).items():
        cfg = AppleCiderTrainConfig.from_file(path)
        for k in args.folds:
            dest = out / f"inner_{tag}_fold{k}.parquet"
            if dest.exists():
                print(f"{tag} outer fold {k}: exists, skipped")
                continue
            t0 = time.time()
            v = inner_fold(k)
            tr = np.flatnonzero((folds != k) & (folds != v))   # unlabelled (-1) included: pre-training only
            va = np.flatnonzero(folds == v)
            model, hist = train_applecider(cfg, [d.lightcurves[i] for i in tr], [d.labels[i] for i in tr],
                                           d.metadata.iloc[tr].reset_index(drop=True), log=lambda s: None)
            rows = predict_rows(model, cfg, d, va, v, tag, horizons=INNER_HORIZONS)
            pd.DataFrame(rows).assign(outer_fold=k).to_parquet(dest)
            print(f"{tag} outer fold {k} (validate on {v}): {hist['epochs_done']} epochs, {time.time() - t0:.0f} s",
                  flush=True)


def stage_select(args):
    cands = _candidates(args.candidates)
    ref = next(iter(cands))
    out = Path(args.out)
    choice, table = {}, {}
    for k in range(N_FOLDS):
        scores = {}
        for tag in cands:
            g = pd.read_parquet(out / f"inner_{tag}_fold{k}.parquet")
            classes = [c for c in g.columns if c not in ("object_id", "label", "fold", "horizon", "method",
                                                         "outer_fold")]
            g = g[g["method"] == f"{tag} (phot+meta)"]
            scores[tag] = {h: round(_auroc(g[g["horizon"] == h], classes), 4) for h in INNER_HORIZONS}
        choice[k] = choose(scores, ref)
        table[k] = scores
        print(f"outer fold {k} (inner validation fold {inner_fold(k)}): {json.dumps(scores)} -> {choice[k]}")
    counts = pd.Series(list(choice.values())).value_counts()
    top = counts[counts == counts.max()].index.tolist()
    release = ref if ref in top or len(top) > 1 else top[0]
    print(f"release recipe (most outer folds, ties -> {ref}): {release}")
    (out / args.choice_file).write_text(json.dumps({"choice": choice, "inner_scores": table,
                                                        "release": release, "tol_30": TOL_30}, indent=1))
    if args.no_nested:
        return
    alias = dict(a.split("=", 1) for a in args.outer_alias)
    for k, tag in choice.items():
        src = alias.get(tag, tag)
        g = pd.read_parquet(out / f"oof_{src}_fold{k}.parquet")
        g["method"] = g["method"].str.replace(src, args.nested_tag, regex=False)
        g.to_parquet(out / f"oof_{args.nested_tag}_fold{k}.parquet")


def average_predictions(frames: dict[str, pd.DataFrame], tag: str) -> pd.DataFrame:
    """Mean class probabilities of several candidates' prediction rows (same objects, horizons and
    modes), methods renamed ``TAG (phot)`` / ``TAG (phot+meta)``; raises when the rows differ."""
    key = ["object_id", "horizon", "mode"]
    out = None
    for t, g in frames.items():
        g = g.copy()
        g["mode"] = g["method"].str.replace(t, "", regex=False)
        g = g.drop(columns="method").sort_values(key).reset_index(drop=True)
        if out is None:
            out, n, classes = g, 1, [c for c in g.columns if c not in
                                     ("object_id", "label", "fold", "horizon", "mode", "outer_fold")]
            continue
        if not g[key].equals(out[key]):
            raise ValueError(f"{t}: prediction rows differ from the first member's; cannot average")
        out[classes] += g[classes].to_numpy()
        n += 1
    out[classes] /= n
    out["method"] = tag + out.pop("mode")
    return out


def stage_average(args):
    """inner_/oof_ files of the ``--members`` tags -> their probability mean under ``--tag`` (the oof_ files
    only where every member has them)."""
    out = Path(args.out)
    for prefix in ("inner", "oof"):
        for k in range(N_FOLDS):
            paths = {t: out / f"{prefix}_{t}_fold{k}.parquet" for t in args.members}
            if not all(p.exists() for p in paths.values()):
                print(f"{prefix} fold {k}: not every member has predictions; skipped")
                continue
            avg = average_predictions({t: pd.read_parquet(p) for t, p in paths.items()}, args.tag)
            avg.to_parquet(out / f"{prefix}_{args.tag}_fold{k}.parquet")
            print(f"{prefix} fold {k}: mean of {args.members} -> {prefix}_{args.tag}_fold{k}.parquet")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stage", choices=("inner", "select", "average"), required=True)
    p.add_argument("--candidates", nargs="+", default=[], help="TAG=CONFIG; the first is the reference")
    p.add_argument("--members", nargs="+", default=[], help="average stage: the tags to average")
    p.add_argument("--tag", default=None, help="average stage: the tag of the mean")
    p.add_argument("--out", default="runs/applecider_eval")
    p.add_argument("--data-root", default=None)
    p.add_argument("--folds", type=lambda s: [int(x) for x in s.split(",")], default=list(range(N_FOLDS)))
    p.add_argument("--nested-tag", default="applecider-nested")
    p.add_argument("--choice-file", default="nested_choice.json", help="select stage: where the choice is written")
    p.add_argument("--outer-alias", nargs="*", default=[],
                   help="select stage: TAG=OUTERTAG, the outer predictions of candidate TAG are oof_OUTERTAG_*")
    p.add_argument("--no-nested", action="store_true",
                   help="select stage: only print / record the choice (no oof_NESTED files; e.g. a re-check)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    {"inner": stage_inner, "select": stage_select, "average": stage_average}[args.stage](args)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
