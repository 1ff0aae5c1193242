"""Write ``folds.csv`` beside the released ``maven`` weights: for every development object, its fold in the
cross-fitted evaluation and its split in the release run.

Columns: ``dataset, object_id, label, crossfit_fold, release_split`` where ``crossfit_fold`` is the fold of
``configs/crossfit_maven.json``'s cross-fit (:func:`astroembed.train.sources.make_fold_table`, the folds
every cross-fitted model shares) and ``release_split`` is ``train`` / ``val`` (the release run of
``tools/release_maven.py`` fitted / early-stopped on these) or ``not used (demo object or not loadable)``.
``astroembed evaluate`` reads ``release_split`` to keep a shipped model off its own training objects.

Both columns are recomputed from the data and the config with the functions the runs used (the
cross-fit's fold table; each release stage's training rows after ``drop_invalid`` preprocessing and its
``split_for_run(fold=None)``), so no run directory is needed.  ``--check`` compares with an existing file.

Run: python tools/write_release_folds.py --config configs/crossfit_maven.json --base-model maven-sim \
         --out src/astroembed/_weights/maven/folds.csv [--check]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from astroembed.evaluate.crossfit import base_model_dict, load_crossfit_config, stage_train_config
from astroembed.evaluate.crossfit.config import SOURCES
from astroembed.train import sources
from astroembed.train.data import load_source, prepare_data
from astroembed.train.folds import split_for_run

NOT_USED = "not used (demo object or not loadable)"


def release_folds(cfg) -> pd.DataFrame:
    data = {n: getattr(sources, SOURCES[n].split(":")[1])(cfg.data_dir, exclude_demo_ids=False,
                                                          **(cfg.data or {}).get(n, {}))["dataset"]
            for n in sorted(SOURCES)}
    table = sources.make_fold_table(data, cfg.n_folds, cfg.folds_seed)
    table = table.rename(columns={"fold": "crossfit_fold"})[["dataset", "object_id", "label", "crossfit_fold"]]
    table["release_split"] = NOT_USED
    model = base_model_dict(cfg)
    for i, st in enumerate(cfg.stages):
        tc = stage_train_config(cfg, i, None, model=model, init_from=None, out_fold=Path("."), folds_file=None,
                                progress=False)
        pdata = prepare_data(tc.model, load_source(tc.data), modalities=[m for m in tc.data.modalities if m != "metadata"],
                             label_column=tc.data.label_column, redshift_column=tc.data.redshift_column,
                             drop_invalid=tc.data.drop_invalid)
        _, split = split_for_run(pdata.labels, pdata.object_ids, n_folds=tc.cv.n_folds, fold=None, seed=tc.cv.seed,
                                 validation_fraction=tc.cv.validation_fraction)
        of = dict(zip(pdata.object_ids.astype(str), split))
        rows = table["dataset"] == st.source
        table.loc[rows, "release_split"] = [of.get(o, NOT_USED) for o in table.loc[rows, "object_id"]]
        print(f"stage {st.name} ({st.source}): {sum(v == 'train' for v in of.values())} train, "
              f"{sum(v == 'val' for v in of.values())} val", file=sys.stderr)
    return table.sort_values(["dataset", "object_id"]).reset_index(drop=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/crossfit_maven.json", help="the release / cross-fit config")
    ap.add_argument("--base-model", default=None,
                    help="override the config's base_model (only its preprocessing config is used here; "
                         "'maven-sim' is the bundled pre-trained model the release started from)")
    ap.add_argument("--data-dir", default=None, help="real-data directory (default: the config's / $ASTROEMBED_DATA)")
    ap.add_argument("--out", default="src/astroembed/_weights/maven/folds.csv", help="output CSV")
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    args = ap.parse_args()
    cfg = load_crossfit_config(args.config)
    over = {k: v for k, v in (("base_model", args.base_model), ("data_dir", args.data_dir)) if v is not None}
    cfg = cfg.replace(**over) if over else cfg
    table = release_folds(cfg)
    if not args.check:
        table.to_csv(args.out, index=False)
        print(f"wrote {len(table)} rows to {args.out}")
        return 0
    old = pd.read_csv(args.out, dtype={"object_id": str, "label": str}).sort_values(["dataset", "object_id"])
    old = old.reset_index(drop=True)
    cols = ["dataset", "object_id", "crossfit_fold", "release_split"]
    same = len(old) == len(table) and (old[cols].astype(str).to_numpy() == table[cols].astype(str).to_numpy()).all()
    for c in ("crossfit_fold", "release_split"):
        if len(old) == len(table):
            n = int((old[c].astype(str).to_numpy() != table[c].astype(str).to_numpy()).sum())
            print(f"{c}: {n} of {len(table)} rows differ")
    print(f"{args.out}: {'identical' if same else 'DIFFERENT'} ({len(old)} rows in the file, {len(table)} recomputed)")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
