"""``astroembed evaluate`` (probes, CV, retrieval for one model on one data set) and ``astroembed crossfit``
(fine-tune per fold, probe the held-out fold)."""

from __future__ import annotations

import argparse
import sys

from ._common import check_out

__all__ = ["register", "configure_evaluate", "configure_crossfit", "run_evaluate", "run_crossfit_cli",
           "DATASETS"]

DATASETS = ("ztf_bts", "osc", "foundation", "sim")


def configure_evaluate(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``evaluate`` options to ``p``."""
    p.add_argument("--model", required=True,
                   help="registered name or path for astroembed.load_pretrained (e.g. 'maven'); a trained run "
                        "directory; 'features' for the hand-made-feature baseline; or 'package.module:attr' (an "
                        "object or a zero-argument factory with embed_lightcurve/embed_spectrum)")
    p.add_argument("--data", required=True, choices=DATASETS, help="data set to evaluate on")
    p.add_argument("--data-dir", default=None,
                   help="real-data directory (default: $ASTROEMBED_DATA or ../shared/data)")
    p.add_argument("--out", required=True, help="output directory (results.json, results.md, PNGs)")
    p.add_argument("--overwrite", action="store_true", help="replace the results already in --out")
    p.add_argument("--classes", default="maven5", choices=["maven5", "maven3", "broad"],
                   help="labelling for ztf_bts/osc")
    p.add_argument("--n-splits", type=int, default=5, help="outer cross-validation folds")
    p.add_argument("--seed", type=int, default=0, help="seed of the folds, draws and subsets")
    p.add_argument("--hyperparams", default="nested", choices=["nested", "fixed"],
                   help="probe hyper-parameters: nested CV on the training folds, or the fixed values of "
                        "astroembed.evaluate.probes")
    p.add_argument("--no-limited", action="store_true", help="skip the Limited (few labelled objects) scenario")
    p.add_argument("--n-labelled", type=int, default=128, help="labelled objects in the Limited scenario")
    p.add_argument("--n-draws", type=int, default=5, help="random draws of the Limited scenario")
    p.add_argument("--zero-shot-k", type=int, default=100, help="neighbours of the zero-shot kNN redshift")
    p.add_argument("--reference", default=None, choices=DATASETS,
                   help="also run zero-shot redshift from this reference set (e.g. sim) to --data")
    p.add_argument("--max-objects", type=int, default=None, help="random subset of the data (quick runs)")
    p.add_argument("--sim-n", type=int, default=2000, help="number of simulated objects for --data/--reference sim")
    p.add_argument("--sim-survey", default="ztf", help="survey of the simulated objects (ztf or lsst)")
    p.add_argument("--sim-dir", default=None,
                   help="read the simulated set from this 'astroembed simulate --out' directory instead of simulating")
    p.add_argument("--sim-classes", default=None,
                   help="class mix of a set simulated here (as 'astroembed simulate --classes'; e.g. 'rates' with "
                        "--sim-peak-mag-max 18.5 for BTS-like zero-shot references)")
    p.add_argument("--sim-peak-mag-max", type=float, default=None,
                   help="keep simulated events brighter than this at peak (AB mag; the BTS limit is 18.5)")
    p.add_argument("--sim-min-detections", type=int, default=None,
                   help="keep simulated events with at least this many detections")
    p.add_argument("--batch-size", type=int, default=None, help="objects per embedding call (default: all)")
    p.add_argument("--allow-training-objects", action="store_true",
                   help="evaluate a shipped model on the objects it was fine-tuned on (scores are then optimistic); "
                        "by default they are refused")
    p.add_argument("--no-plots", action="store_true", help="no PNG figures")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 3 folds, 2 draws, fixed hyper-parameters, at most 300 objects, no plots")
    return p


def configure_crossfit(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``crossfit`` options to ``p``."""
    p.add_argument("--config", required=True, help="crossfit config (JSON), see configs/crossfit_*.json")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--resume", action="store_true", help="continue / reuse the stage runs already in --out")
    p.add_argument("--folds-file", help="reuse this folds.csv (e.g. another model's) instead of computing the folds")
    p.add_argument("--only-folds", type=int, nargs="+", help="run only these folds (the report covers them only)")
    p.add_argument("--max-epochs", type=int, help="cap every stage's epochs (dry runs)")
    p.add_argument("--device", help="override the config's device")
    p.add_argument("--num-threads", type=int, help="override the config's num_threads")
    p.add_argument("--data-dir", help="override the config's data_dir")
    p.add_argument("--no-plots", action="store_true", help="no PNG figures")
    p.add_argument("--no-progress", action="store_true", help="no progress lines")
    return p


def register(sub) -> None:
    p = sub.add_parser("evaluate", help="evaluate a model with Maven's protocols (probes, CV, retrieval)",
                       description="Run the evaluation protocol for a model on a data set and save the results.")
    configure_evaluate(p).set_defaults(func=run_evaluate)
    p = sub.add_parser("crossfit", help="cross-fitted evaluation of fine-tuned models on real data",
                       description="Fine-tune on all folds but one, embed, probe the held-out fold; repeat per fold.")
    configure_crossfit(p).set_defaults(func=run_crossfit_cli)


def run_evaluate(args) -> int:
    """Run ``astroembed evaluate`` from parsed ``args``; prints the markdown table, returns an exit code."""
    from pathlib import Path

    from ..evaluate.loading import check_unseen, load_dataset, load_model
    from ..evaluate.report import evaluate_model, evaluate_zero_shot

    check_out(args.out, args.overwrite, directory_file="results.json")
    n_splits, n_draws, hyper, max_obj, plots = args.n_splits, args.n_draws, args.hyperparams, args.max_objects, \
        not args.no_plots
    if args.quick:
        n_splits, n_draws, hyper, plots = 3, 2, "fixed", False
        max_obj = min(max_obj or 300, 300)
    model = load_model(args.model)
    sel = {k: v for k, v in (("classes", args.sim_classes), ("peak_mag_max", args.sim_peak_mag_max),
                             ("min_detections", args.sim_min_detections)) if v is not None}
    if sel and "sim" not in (args.data, args.reference):
        raise ValueError("--sim-classes / --sim-peak-mag-max / --sim-min-detections select a simulated set: "
                         "use them with --data sim or --reference sim")
    kw = dict(data_dir=args.data_dir, classes=args.classes, seed=args.seed, sim_n=args.sim_n,
              sim_survey=args.sim_survey, sim_dir=args.sim_dir, sim_selection=sel)
    ds = load_dataset(args.data, **kw)
    ds = check_unseen(model, ds, args.data, name=args.model, allow=args.allow_training_objects)
    ds = subsample(ds, max_obj, args.seed)
    out = Path(args.out)
    scenarios = ("full",) if args.no_limited else ("full", "limited")
    report = evaluate_model(model, ds, out=out, plots=plots, batch_size=args.batch_size, model_name=args.model,
                            n_splits=n_splits, seed=args.seed, hyperparams=hyper, scenarios=scenarios,
                            n_labelled=args.n_labelled, n_draws=n_draws, zero_shot_k=args.zero_shot_k)
    text = report.to_markdown()
    if args.reference:
        ref = subsample(load_dataset(args.reference, **kw), max_obj, args.seed)
        zs = evaluate_zero_shot(model, ref, ds, k=args.zero_shot_k)
        zs.to_json(out / "zero_shot.json")
        (out / "zero_shot.md").write_text(zs.to_markdown())
        text += "\n" + zs.to_markdown()
    print(text)
    print(f"results written to {out}/results.json and {out}/results.md", file=sys.stderr)
    return 0


def subsample(ds, max_objects, seed):
    """A random subset of ``max_objects`` items (all when ``None`` or larger than the data set)."""
    if max_objects is None or max_objects >= len(ds):
        return ds
    import numpy as np

    return ds.subset(np.sort(np.random.default_rng(seed).choice(len(ds), max_objects, replace=False)))


def run_crossfit_cli(a) -> int:
    """Run the cross-fit described by parsed arguments ``a``; returns the exit code."""
    from ..errors import ConfigError
    from ..evaluate.crossfit import load_crossfit_config, run_crossfit

    try:
        cfg = load_crossfit_config(a.config)
        over = {k: v for k, v in (("device", a.device), ("num_threads", a.num_threads), ("data_dir", a.data_dir))
                if v is not None}
        cfg = cfg.replace(**over) if over else cfg
        reports = run_crossfit(cfg, a.out, resume=a.resume, only_folds=a.only_folds, max_epochs=a.max_epochs,
                               folds_file=a.folds_file, plots=not a.no_plots, progress=not a.no_progress)
    except (ConfigError, ValueError, FileNotFoundError, FileExistsError) as exc:
        print(f"astroembed crossfit: error: {exc}", file=sys.stderr)
        return 2
    for r in reports.values():
        print(r.to_markdown())
    print(f"results written to {a.out}/", file=sys.stderr)
    return 0
