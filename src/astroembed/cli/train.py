"""``astroembed train``: train or fine-tune a model from a JSON training config."""

from __future__ import annotations

import argparse
import sys

__all__ = ["register", "run_train"]


def register(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "train", help="train or fine-tune a model from a JSON config",
        description="Train (CLIP pre-training / fine-tuning, or the supervised baseline) as described by a "
                    "JSON training config (see configs/ and docs/models/training.md). "
                    "configs/maven_smoke_sim.json simulates its own small data set; configs/maven_pretrain_sim.json "
                    "reads one written by 'astroembed simulate' first.")
    p.add_argument("--config", required=True, help="training config (JSON)")
    p.add_argument("--resume", action="store_true", help="continue from OUTPUT_DIR/checkpoints/last.pt")
    p.add_argument("--output-dir", help="override the config's output_dir")
    p.add_argument("--device", help="override the config's device ('auto', 'cpu', 'cuda', 'cuda:1')")
    p.add_argument("--num-threads", type=int, help="override the config's num_threads (CPU threads)")
    p.add_argument("--fold", type=int, help="hold out this cross-validation fold as test set (overrides cv.fold)")
    p.add_argument("--all-folds", action="store_true",
                   help="run every cross-validation fold in turn, into OUTPUT_DIR/fold<k>")
    p.add_argument("--stop-after-steps", type=int, help="stop (resumably) after this many optimiser steps")
    p.add_argument("--time-limit-min", type=float, help="stop (resumably) after this many minutes")
    p.add_argument("--no-progress", action="store_true", help="no progress bar / log lines")
    p.set_defaults(func=run_train)
    return p


def _runs(cfg, args):
    from pathlib import Path

    if args.all_folds:
        return [cfg.replace(cv=cfg.cv.replace(fold=k), output_dir=str(Path(cfg.output_dir) / f"fold{k}"))
                for k in range(cfg.cv.n_folds)]
    if args.fold is not None:
        return [cfg.replace(cv=cfg.cv.replace(fold=args.fold))]
    return [cfg]


def run_train(args: argparse.Namespace) -> int:
    """Run the ``train`` command; returns the exit status (2 bad input, 3 stopped resumably, 4 diverged)."""
    from pathlib import Path

    from ..errors import ConfigError
    from ..train.config import load_train_config
    from ..train.loop import TrainingDivergedError, train

    overrides = {"output_dir": args.output_dir, "device": args.device, "num_threads": args.num_threads}
    if args.no_progress:
        overrides["progress"] = False
    try:
        if args.fold is not None and args.all_folds:
            raise ConfigError("--fold and --all-folds exclude each other")
        cfg = load_train_config(args.config, **overrides)
        limit = None if args.time_limit_min is None else 60.0 * args.time_limit_min
        for run in _runs(cfg, args):
            resume = args.resume and (Path(run.output_dir) / "checkpoints" / "last.pt").exists()
            if args.resume and not resume and not args.all_folds:
                raise FileNotFoundError(f"--resume: no checkpoint in {run.output_dir}/checkpoints/")
            res = train(run, resume=resume, stop_after_steps=args.stop_after_steps, time_limit_s=limit)
            print(f"{run.output_dir}: {res.status}; best epoch {res.best_epoch} (validation loss "
                  f"{res.best_val_loss:.4f}), {res.epochs_run} epoch(s), {res.global_step} steps")
            if res.status == "interrupted":
                print(f"resume with: astroembed train --config {args.config} --resume"
                      + (f" --output-dir {args.output_dir}" if args.output_dir else "")
                      + (" --all-folds" if args.all_folds else "")
                      + (f" --fold {args.fold}" if args.fold is not None else ""))
                return 3
    except (ConfigError, ValueError, FileNotFoundError, FileExistsError) as exc:
        print(f"astroembed train: error: {exc}", file=sys.stderr)
        return 2
    except TrainingDivergedError as exc:
        print(f"astroembed train: training diverged: {exc}", file=sys.stderr)
        return 4
    return 0
