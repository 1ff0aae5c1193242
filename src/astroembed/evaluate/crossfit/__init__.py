"""Cross-fitted evaluation of fine-tuned models on the real data (ZTF BTS and OSC pairs).

A model fine-tuned on real objects cannot be probed on those objects.  For each of ``n_folds``
stratified folds *k* of the real objects (computed once, stratified by class, written to ``folds.csv``):

1. fine-tune in ``stages`` (each one :func:`astroembed.train.train` run, ``init_from`` = the previous
   stage or ``base_model``) on the **training folds only**: the sources of
   :mod:`astroembed.train.sources` drop fold *k* (``folds_file`` + ``exclude_folds``) and the demo
   objects; early stopping uses a validation split carved from those training objects;
2. embed every object with fold *k*'s model; fit the probes on the training folds (hyper-parameters
   fixed or chosen by nested CV inside them) and score fold *k*: kNN / SVC classification (5- and
   3-way), kNN / linear / ridge redshift, zero-shot kNN redshift (references = training folds),
   LC ↔ spectrum retrieval with gallery = fold *k*; the supervised baseline's own predictions too;
3. aggregate mean ± std over folds into :class:`EvaluationReport` (one per data set).

``stages = []`` evaluates a frozen ``base_model`` through the same folds.  Output directory::

    folds.csv  crossfit_config.json  summary.md  crossfit.json
    fold<k>/stage<i>_<name>/ (training run)  fold<k>/embeddings_<data>.npz  fold<k>/training.json
    <data>/results.json, results.md, confusion PNGs

CLI: ``astroembed crossfit --config configs/crossfit_maven.json --out runs/crossfit_maven``.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from ..report import EvaluationReport
from ..scoring import Accumulator
from .config import SOURCES, CrossFitConfig, CrossFitEvalConfig, StageConfig, load_crossfit_config
from .fold import embed_fold, evaluate_fold
from .stages import base_model_dict, load_trained_model, run_stages, stage_train_config

__all__ = ["CrossFitConfig", "StageConfig", "CrossFitEvalConfig", "load_crossfit_config", "run_crossfit",
           "stage_train_config", "run_stages", "base_model_dict", "load_trained_model", "evaluate_fold", "embed_fold", "Accumulator",
           "main"]


# -- the whole protocol ------------------------------------------------------------------------------
def _datasets(cfg, names):
    from ...train import sources

    fns = {"ztf_bts": sources.ztf_bts_pairs, "osc": sources.osc_triples}  # the training sources' own selection
    return {n: fns[n](cfg.data_dir, exclude_demo_ids=False, **(cfg.data or {}).get(n, {}))["dataset"] for n in names}


def run_crossfit(cfg: CrossFitConfig, out, *, resume: bool = False, only_folds=None, max_epochs: int | None = None,
                 folds_file=None, plots: bool = True, progress: bool = True) -> dict[str, EvaluationReport]:
    """Run the cross-fitted protocol; returns one :class:`EvaluationReport` per evaluated data set."""
    import torch

    from ...train.sources import fold_table

    t_all = time.perf_counter()
    if cfg.num_threads is not None:
        torch.set_num_threads(cfg.num_threads)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "crossfit_config.json").write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")
    ev = cfg.evaluation
    data = _datasets(cfg, sorted(SOURCES))  # folds over every real object, so every model gets the same file
    table, fsha = fold_table(data, out / "folds.csv", n_folds=cfg.n_folds, seed=cfg.folds_seed,
                             folds_file=folds_file or cfg.folds_file)
    fpath = out / "folds.csv"
    fold_of = {(d, o): int(f) for d, o, f in zip(table["dataset"], table["object_id"], table["fold"])}
    folds = {n: np.array([fold_of[(n, str(o))] for o in ds.object_ids]) for n, ds in data.items()}
    accs = {n: Accumulator() for n in ev.datasets}
    run_folds = list(range(cfg.n_folds)) if only_folds is None else sorted(set(int(k) for k in only_folds))
    training, frozen, n_bad = {}, {}, {}
    for k in run_folds:
        model, info = run_stages(cfg, k, out / f"fold{k}", fpath, resume=resume, max_epochs=max_epochs,
                                 progress=progress)
        training[k] = info
        t0 = time.perf_counter()
        for n in ev.datasets:
            ds = data[n]
            if cfg.stages or n not in frozen:  # a frozen model is embedded once
                frozen[n] = embed_fold(model, ds)
            emb, ok, direct = frozen[n]
            n_bad[n] = int((~ok).sum())
            (out / f"fold{k}").mkdir(exist_ok=True)
            np.savez(out / f"fold{k}" / f"embeddings_{n}.npz", object_ids=ds.object_ids[ok].astype(str),
                     fold=folds[n][ok], **emb, **({} if direct is None else {"class_probs": direct[0],
                                                                             "z_pred": direct[1]}))
            evaluate_fold(accs[n], emb, ds.labels[ok], ds.redshifts[ok], ds.object_ids[ok], folds[n][ok], k, ev,
                          cfg.seed, direct)
        (out / f"fold{k}" / "training.json").write_text(json.dumps(
            {"fold": k, "stages": info, "seconds_embed_and_probes": round(time.perf_counter() - t0, 1)}, indent=1))
        if progress:
            print(f"[crossfit {cfg.name}] fold {k} done: " + ", ".join(
                f"{s['stage']} {s['epochs_run']} ep {s['seconds_train']:.0f}s" for s in info), file=sys.stderr)
    train_s = [sum(s["seconds_train"] for s in training[k]) for k in run_folds]
    reports = {}
    for n in ev.datasets:
        ds = data[n]
        config = {"protocol": "crossfit", "title": f"{cfg.name} on {n}, cross-fitted ({len(run_folds)} folds)",
                  "n_splits": cfg.n_folds, "folds_evaluated": run_folds, "seed": cfg.seed,
                  "hyperparams": ev.hyperparams, "scenarios": list(ev.scenarios), "n_labelled": ev.n_labelled,
                  "n_draws": ev.n_draws, "zero_shot_k": ev.zero_shot_k, "n_items": len(ds)}
        info = {"model": cfg.name, "base_model": cfg.base_model, "dataset": n, "n_items": len(ds),
                "n_objects": int(len(set(ds.object_ids.tolist()))), "n_not_embeddable": n_bad.get(n, 0),
                "folds_file": str(fpath), "folds_sha256": fsha, "stages": [s.name for s in cfg.stages],
                "training": {str(k): training[k] for k in run_folds},
                "seconds_training_per_fold": {"mean": float(np.mean(train_s)), "values": train_s},
                "device": str(model.device), "torch_threads": torch.get_num_threads(),
                "python": platform.python_version(), "machine": platform.machine(),
                "processor": platform.processor() or platform.machine()}
        reports[n] = accs[n].report(config, info)
        reports[n].save(out / n, plots=plots)
        table[table["dataset"] == n].to_csv(out / n / "folds.csv", index=False)
    summary = [f"# Cross-fitted evaluation: {cfg.name}\n", f"folds: `{fpath}` (sha256 {fsha[:12]}), "
               f"training {np.mean(train_s):.0f} s per fold (mean), total {time.perf_counter() - t_all:.0f} s\n"]
    summary += [r.to_markdown() for r in reports.values()]
    (out / "summary.md").write_text("\n".join(summary))
    (out / "crossfit.json").write_text(json.dumps({"config": cfg.to_dict(), "folds_sha256": fsha,
                                                   "training": training, "seconds_total": time.perf_counter() - t_all},
                                                  indent=1, default=str))
    return reports



def main(argv=None) -> int:
    """``python -m astroembed.evaluate.crossfit``: the same as ``astroembed crossfit``."""
    from ...cli import main as cli_main

    return cli_main(["crossfit", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
