"""``astroembed evaluate``: run the evaluation protocol for a model on a data set and save the results.

Hook into the main CLI with :func:`add_evaluate_subparser` and dispatch to :func:`run_evaluate_cli`;
``python -m astroembed.evaluate.cli …`` runs it stand-alone.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

__all__ = ["add_evaluate_subparser", "run_evaluate_cli", "load_model", "load_dataset", "main"]

DATASETS = ("ztf_bts", "osc", "foundation", "sim")


def _configure(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--model", required=True,
                   help="registered name or path for astroembed.load_pretrained (e.g. 'maven'); 'features' for "
                        "the hand-made-feature baseline; or 'package.module:attr' (an object or a zero-argument "
                        "factory with embed_lightcurve/embed_spectrum)")
    p.add_argument("--data", required=True, choices=DATASETS, help="data set to evaluate on")
    p.add_argument("--data-dir", default=None, help="real-data directory (default: $ASTROEMBED_DATA or ../shared/data)")
    p.add_argument("--out", required=True, help="output directory (results.json, results.md, PNGs)")
    p.add_argument("--classes", default="maven5", choices=["maven5", "maven3", "broad"],
                   help="labelling for ztf_bts/osc (default maven5)")
    p.add_argument("--n-splits", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--hyperparams", default="nested", choices=["nested", "fixed"],
                   help="nested CV on the training folds (default) or the fixed values of the probes module")
    p.add_argument("--no-limited", action="store_true", help="skip the Limited (128 labelled) scenario")
    p.add_argument("--n-labelled", type=int, default=128)
    p.add_argument("--n-draws", type=int, default=5)
    p.add_argument("--zero-shot-k", type=int, default=100)
    p.add_argument("--reference", default=None, choices=DATASETS,
                   help="also run zero-shot redshift from this reference set (e.g. sim) to --data")
    p.add_argument("--max-objects", type=int, default=None, help="random subset of the data (quick runs)")
    p.add_argument("--sim-n", type=int, default=2000, help="number of simulated objects for --data/--reference sim")
    p.add_argument("--sim-survey", default="ztf")
    p.add_argument("--sim-dir", default=None,
                   help="read the simulated set from this `astroembed simulate --out` directory instead of simulating")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 3 folds, 2 draws, fixed hyper-parameters, at most 300 objects, no plots")
    return p


def add_evaluate_subparser(subparsers) -> argparse.ArgumentParser:
    """Add the ``evaluate`` sub-command to an ``argparse`` sub-parsers object; returns the parser."""
    p = subparsers.add_parser("evaluate", help="evaluate a model with Maven's protocols (probes, CV, retrieval)",
                              description=__doc__.splitlines()[0])
    _configure(p)
    p.set_defaults(func=run_evaluate_cli)
    return p


def load_model(name: str):
    """Resolve ``--model``: ``features``, ``module:attr``, a trained run directory (CLIP model or the
    supervised baseline), or ``astroembed.load_pretrained(name)``."""
    if name == "features":
        from .baselines import FeatureEmbedder

        return FeatureEmbedder()
    if ":" in name and not Path(name).exists():
        mod, attr = name.split(":", 1)
        obj = getattr(importlib.import_module(mod), attr)
        if not hasattr(obj, "embed_lightcurve") and callable(obj):
            obj = obj()
        if not hasattr(obj, "embed_lightcurve"):
            raise TypeError(f"--model {name}: {obj!r} has no embed_lightcurve method")
        return obj
    cfg_file = Path(name) / "config.json"
    if cfg_file.is_file():  # a trained run directory: CLIP model or the supervised light-curve baseline
        from .crossfit_train import load_trained_model

        return load_trained_model(name, "auto")
    try:
        from astroembed import load_pretrained  # lazy: the models package may not exist yet
    except ImportError as e:
        raise RuntimeError(f"--model {name!r}: astroembed.load_pretrained is not available in this version "
                           f"({e}); use --model features or --model package.module:attr") from e
    return load_pretrained(name)


def load_dataset(name: str, *, data_dir=None, classes="maven5", max_objects=None, seed=0, sim_n=2000,
                 sim_survey="ztf", sim_dir=None):
    """Build the :class:`~astroembed.datasets.SupernovaDataset` for ``--data``."""
    from ..datasets import SupernovaDataset, load_foundation, load_osc_pairs, load_ztf_bts

    if name == "ztf_bts":
        ds = load_ztf_bts(data_dir, classes=classes)
    elif name == "osc":
        ds = load_osc_pairs(data_dir, classes=None if classes == "broad" else classes)
    elif name == "foundation":
        ds = load_foundation(data_dir)
    elif name == "sim":
        try:
            from astroembed.simulate import simulate
        except ImportError as e:
            raise RuntimeError(f"--data sim: astroembed.simulate is not available ({e})") from e
        import numpy as np
        import pandas as pd

        if sim_dir is not None:  # a data set written by `astroembed simulate --out DIR`
            from astroembed.simulate import read_parquet

            sim = read_parquet(sim_dir)
        else:
            sim = simulate(sim_n, survey=sim_survey, seed=seed)
        truth = sim.truth.reset_index(drop=True)
        ids = truth["object_id"].tolist() if "object_id" in truth else list(range(len(truth)))
        objects = pd.DataFrame({"object_id": ids, "label": truth["class"].astype(object).tolist(),
                                "redshift": truth["redshift"].to_numpy(np.float64)})
        ds = SupernovaDataset(name=f"sim-{sim_survey}", lightcurves=list(sim.lightcurves),
                              spectra=None if getattr(sim, "spectra", None) is None else list(sim.spectra),
                              objects=objects, info={"n": sim_n, "survey": sim_survey, "seed": seed})
    else:
        raise ValueError(f"unknown data set {name!r}; choose from {DATASETS}")
    if max_objects is not None and max_objects < len(ds):
        import numpy as np

        ds = ds.subset(np.sort(np.random.default_rng(seed).choice(len(ds), max_objects, replace=False)))
    return ds


def run_evaluate_cli(args) -> int:
    """Run ``astroembed evaluate`` from parsed ``args``; prints the markdown table, returns an exit code."""
    from .report import evaluate_model, evaluate_zero_shot

    n_splits, n_draws, hyper, max_obj, plots = args.n_splits, args.n_draws, args.hyperparams, args.max_objects, \
        not args.no_plots
    if args.quick:
        n_splits, n_draws, hyper, plots = 3, 2, "fixed", False
        max_obj = min(max_obj or 300, 300)
    model = load_model(args.model)
    ds = load_dataset(args.data, data_dir=args.data_dir, classes=args.classes, max_objects=max_obj, seed=args.seed,
                      sim_n=args.sim_n, sim_survey=args.sim_survey, sim_dir=args.sim_dir)
    out = Path(args.out)
    scenarios = ("full",) if args.no_limited else ("full", "limited")
    report = evaluate_model(model, ds, out=out, plots=plots, batch_size=args.batch_size, model_name=args.model,
                            n_splits=n_splits, seed=args.seed, hyperparams=hyper, scenarios=scenarios,
                            n_labelled=args.n_labelled, n_draws=n_draws, zero_shot_k=args.zero_shot_k)
    text = report.to_markdown()
    if args.reference:
        ref = load_dataset(args.reference, data_dir=args.data_dir, classes=args.classes, max_objects=max_obj,
                           seed=args.seed, sim_n=args.sim_n, sim_survey=args.sim_survey, sim_dir=args.sim_dir)
        zs = evaluate_zero_shot(model, ref, ds, k=args.zero_shot_k)
        zs.to_json(out / "zero_shot.json")
        (out / "zero_shot.md").write_text(zs.to_markdown())
        text += "\n" + zs.to_markdown()
    print(text)
    print(f"results written to {out}/results.json and {out}/results.md", file=sys.stderr)
    return 0


def main(argv=None) -> int:
    parser = _configure(argparse.ArgumentParser(prog="astroembed evaluate", description=__doc__.splitlines()[0]))
    return run_evaluate_cli(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
