"""Train the Transceiver (MoE-MMVAE): pre-train on simulated pairs, or fine-tune on real OSC pairs.

The JSON config has four keys, all used: ``model`` (a TransceiverConfig mapping, or null with
``init_from``), ``init_from`` (a model directory to start from, or null; with both, its weights are loaded
into the given config, which must have the same shapes), ``train`` (a TrainConfig
mapping) and ``data``; and an optional fifth, ``finetune_overrides`` (absent = ``{}`` = no change): training-only
model settings replaced on the model before training (``{"contrastive_weight": 4.0}``; keys from
``astroembed.models.transceiver.training.TRAINING_ONLY_KEYS``, validated by the config; shape keys refused).
``benchmarks/eval_transceiver.py --part osc`` applies it to each fold's fine-tuning likewise.  ``data``:

* ``source``: ``"sim"`` (``sim_dir``; the last ``holdout_fraction`` of the events are never used — they are
  the simulated test set of benchmarks/eval_transceiver.py) or ``"osc"`` (the development OSC pairs,
  ``osc_classes``, ``osc_spectrum``; ``exclude_fold`` drops that fold of ``_weights/maven/folds.csv``).

A validation split (``train.val_fraction`` of the objects) gives early stopping and the calibration
temperature.  Writes ``OUT/NAME/{config.json, model.safetensors, train_log.json}``.

CPU:  PYTHONPATH=src python tools/train_transceiver.py --config configs/transceiver_sim.json --out runs/tr
GPU:  python tools/train_transceiver.py --config configs/transceiver_sim_gpu.json --device cuda \
          --data-root .gpudata --simulate 60000 --workers 14 --out runs/tr_gpu --minutes 5
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from astroembed.config import StrictConfig
from astroembed.data.bands import pinned_band_wavelengths
from astroembed.errors import ConfigError


@dataclass(frozen=True)
class DataConfig(StrictConfig):
    source: str = "sim"
    sim_dir: str = "/work/data_sim/trans_ztf20k"
    holdout_fraction: float = 0.1
    osc_classes: str = "maven5"
    osc_spectrum: str = "all"
    exclude_fold: int | None = None

    def __post_init__(self):
        if self.source not in ("sim", "osc"):
            raise ConfigError(f"data.source: must be 'sim' or 'osc', got {self.source!r}")
        if not 0.0 <= self.holdout_fraction < 1.0:
            raise ConfigError(f"data.holdout_fraction: must be in [0, 1), got {self.holdout_fraction!r}")


def load_config(path) -> dict:
    doc = json.loads(Path(path).read_text())
    keys, optional = {"model", "init_from", "train", "data"}, {"finetune_overrides"}
    if not keys <= set(doc) <= keys | optional:
        raise ConfigError(f"{path}: keys must be {sorted(keys)} (+ optional {sorted(optional)}); unknown "
                          f"{sorted(set(doc) - keys - optional)}, missing {sorted(keys - set(doc))}")
    doc.setdefault("finetune_overrides", {})
    if not isinstance(doc["finetune_overrides"], dict):
        raise ConfigError(f"{path}: finetune_overrides: expected a mapping of training-only model settings "
                          f"(e.g. {{\"contrastive_weight\": 4.0}}), got {type(doc['finetune_overrides']).__name__}")
    if doc["model"] is None and doc["init_from"] is None:
        raise ConfigError(f"{path}: give model (a new model), init_from (a model directory) or both (init_from's "
                          "weights in a model with the given config, e.g. another beta; shapes must match)")
    return doc


def osc_folds(object_ids) -> np.ndarray:
    """Cross-fit fold of each OSC object (``_weights/maven/folds.csv``; -1 if absent)."""
    import pandas as pd

    from astroembed.models.registry import bundled_weights_dir

    f = pd.read_csv(bundled_weights_dir() / "maven" / "folds.csv")
    f = f[f["dataset"] == "osc"].set_index("object_id")["crossfit_fold"].to_dict()
    return np.array([f.get(o, -1) for o in object_ids], dtype=int)


def training_data(data: DataConfig, config, *, data_root=None, sim_dir=None, cache_dir=None, workers=1, log=print):
    from astroembed.models.transceiver.pairs import load_osc_pair_arrays, load_sim_pairs

    if data.source == "sim":
        arr, table = load_sim_pairs(sim_dir or data.sim_dir, config, cache_dir=cache_dir, workers=workers)
        n_keep = int(round(len(arr) * (1 - data.holdout_fraction)))
        log(f"simulated pairs: {len(arr)}; training pool {n_keep} (last {len(arr) - n_keep} held out for eval)")
        return arr.subset(np.arange(n_keep)), table.iloc[:n_keep].reset_index(drop=True)
    arr, table, _ = load_osc_pair_arrays(config, data_dir=data_root, classes=data.osc_classes,
                                         spectrum=data.osc_spectrum, cache_dir=None)
    if data.exclude_fold is not None:
        keep = osc_folds(table["object_id"]) != data.exclude_fold
        arr, table = arr.subset(np.flatnonzero(keep)), table[keep].reset_index(drop=True)
    log(f"OSC pairs: {len(arr)} of {table['object_id'].nunique()} SNe")
    return arr, table


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True, help="JSON with model / init_from / train / data")
    ap.add_argument("--out", required=True, help="output folder; the model goes to OUT/NAME")
    ap.add_argument("--name", default="transceiver", help="model folder name inside OUT")
    ap.add_argument("--minutes", type=float, default=None,
                    help="wall-clock limit of the whole run incl. --simulate and preprocessing (overrides train.minutes)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--data-root", default=None, help="real data folder (default: $ASTROEMBED_DATA or ../shared/data)")
    ap.add_argument("--sim-dir", default=None, help="simulated set (overrides data.sim_dir)")
    ap.add_argument("--simulate", type=int, default=0, help="first simulate this many pairs into OUT/sim")
    ap.add_argument("--sim-seed", type=int, default=1,
                    help="seed of --simulate (default 1: disjoint from the seed-0 set whose tail is the sim test set)")
    ap.add_argument("--workers", type=int, default=1, help="processes for --simulate and preprocessing")
    ap.add_argument("--cache-dir", default=None, help="where preprocessed simulated arrays are cached")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--init-from", default=None, help="model directory to start from (overrides init_from)")
    a = ap.parse_args(argv)

    import torch

    from astroembed.models.transceiver import TransceiverConfig, TransceiverModel
    from astroembed.models.transceiver.training import (
        TrainConfig,
        apply_training_overrides,
        fit_calibration,
        split_by_object,
        train_model,
        usable_pairs,
    )

    torch.set_num_threads(a.threads)
    doc = load_config(a.config)
    if a.init_from is not None:
        doc["init_from"] = a.init_from
    tc = TrainConfig.from_dict(doc["train"], where="train")
    if a.minutes is not None:
        tc = tc.replace(minutes=a.minutes)
    data = DataConfig.from_dict(doc["data"], where="data")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    logf = open(out / "train.log", "a")

    def log(msg):
        print(msg, flush=True)
        logf.write(msg + "\n")
        logf.flush()

    t0 = time.time()
    sim_dir = a.sim_dir
    if a.simulate:
        from astroembed.models.transceiver.pairs import simulate_pairs

        sim_dir = simulate_pairs(a.simulate, out / "sim", seed=a.sim_seed, workers=a.workers)
        log(f"simulated {a.simulate} pairs in {time.time() - t0:.0f}s")
    if doc["model"] is None:
        model = TransceiverModel.from_pretrained(doc["init_from"])
    else:
        model = TransceiverModel(TransceiverConfig.from_dict(doc["model"], where="model"))
        if doc["init_from"] is not None:  # same shapes, other training-only settings (e.g. beta)
            init = TransceiverModel.from_pretrained(doc["init_from"])
            model.load_state_dict(init.state_dict(), strict=True)
            model.pin_band_wavelengths(init.band_wavelengths)  # fine-tune with the bands it was trained with
    apply_training_overrides(model, doc["finetune_overrides"], where=f"{a.config}: finetune_overrides")
    if doc["finetune_overrides"]:
        log(f"finetune_overrides: {doc['finetune_overrides']}")
    torch.manual_seed(tc.seed)
    with pinned_band_wavelengths(model.band_wavelengths):
        arr, table = training_data(data, model.config, data_root=a.data_root, sim_dir=sim_dir,
                                   cache_dir=a.cache_dir, workers=a.workers, log=log)
    if a.minutes is not None:  # the limit covers simulation and preprocessing too; keep ~1 min for calibration
        left = a.minutes - (time.time() - t0) / 60.0 - 0.75
        tc = tc.replace(minutes=max(0.25, left))
        log(f"training time budget: {tc.minutes:.2f} min")
    ok = usable_pairs(arr, model.config)
    log(f"usable pairs (phase in {model.config.phase_range}, a point within {model.config.max_phase_gap} d): "
        f"{int(ok.sum())} of {len(arr)}")
    arr, table = arr.subset(np.flatnonzero(ok)), table[ok].reset_index(drop=True)
    tr, va = split_by_object(table["object_id"], tc.val_fraction, tc.seed)
    lo, hi = np.percentile(arr.phase, [1, 99])
    log(f"train {len(tr)} / val {len(va)} pairs; phases 1-99%: {lo:.1f} .. {hi:.1f} d "
        f"(config phase_range {model.config.phase_range}); params {model.num_parameters():,}")
    hist = train_model(model, arr.subset(tr), arr.subset(va), tc, device=a.device, log=log)
    tau = fit_calibration(model, arr.subset(va), tc)
    model.to("cpu")
    log(f"calibration temperature (68% on validation): {tau:.3f}")
    d = model.save_pretrained(out / a.name, extra_metadata={
        "trained_on": data.source, "n_train_pairs": int(len(tr)), "n_val_pairs": int(len(va)),
        "init_from": doc["init_from"], "steps": hist["steps"], "seconds": round(hist["seconds"], 1),
        "calibration_temperature": tau, "device": a.device})
    (d / "train_log.json").write_text(json.dumps({"history": hist, "config": doc, "argv": sys.argv[1:],
                                                  "tau": tau, "seconds_total": time.time() - t0}, default=str,
                                                 indent=1))
    log(f"wrote {d} ({time.time() - t0:.0f}s)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
