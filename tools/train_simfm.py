"""Pre-train a SimFM model on simulated ZTF + LSST light curves (written by tools/simulate_simfm_data.py).

Usage::

    OMP_NUM_THREADS=1 nice -n 10 python tools/train_simfm.py configs/simfm_gru.json --out runs/simfm_gru
    python tools/train_simfm.py configs/simfm_gru.json --out runs/simfm_gru_gpu --device cuda \
        --set train.epochs=60 train.max_minutes=60          # a larger run on a GPU

The config file holds ``{"model": SimFMConfig, "train": SimFMTrainConfig, "data": {...}}``;
``data`` = ``{"root", "surveys", "held_out_classes", "max_per_survey"}`` and optionally ``"dirs"``
(``{survey: directory}``, e.g. ``{"ztf": "/work/main/runs/sim_v2_ztf100k"}``) and ``"pairs"`` (a list of
directories written by tools/simulate_simfm_pairs.py, each with ``ztf/`` and ``lsst/``: the same events in
both surveys, pair ids for ``train.pair_weight``): the simulated set of each
survey, ``dirs[survey]`` if given else ``<root>/<survey>_train``, is read, objects of ``held_out_classes`` are dropped (they are the
anomalies of the simulated anomaly task), and every other class must be in ``model.class_names``.
``model.band_wavelength_range`` is set to the λ_eff range of the training bands.
Writes ``<out>/config.json``, ``model.safetensors`` and ``train_log.json`` (history, data counts).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from astroembed.data.bands import band_wavelength
from astroembed.models.simfm import SimFMConfig, SimFMModel
from astroembed.models.simfm.training import SimFMTrainConfig, fit_simfm
from astroembed.simulate.dataset import read_parquet

DATA_KEYS = {"root", "surveys", "held_out_classes", "max_per_survey"}
OPTIONAL_DATA_KEYS = {"dirs", "pairs"}


def survey_dirs(data: dict, where: str = "data") -> dict[str, Path]:
    """The simulated-set directory of each survey: ``data["dirs"][survey]`` or ``<root>/<survey>_train``."""
    dirs = data.get("dirs") or {}
    if not isinstance(dirs, dict):
        raise SystemExit(f"{where}.dirs must be a mapping {{survey: directory}}, got {dirs!r}")
    extra = sorted(set(dirs) - set(data["surveys"]))
    if extra:
        raise SystemExit(f"{where}.dirs names surveys {extra} that are not in {where}.surveys "
                         f"{list(data['surveys'])}: remove them or add them to surveys")
    out = {s: Path(dirs[s]) if s in dirs else Path(data["root"]) / f"{s}_train" for s in data["surveys"]}
    for s, d in out.items():
        if not (d / "manifest.json").is_file():
            raise SystemExit(f"{where}: no simulated set (manifest.json) for survey {s!r} in {d}; "
                             f"set {where}.dirs.{s} or {where}.root")
    return out


def _set(doc: dict, assignments: list[str]) -> None:
    for a in assignments:
        key, _, val = a.partition("=")
        *path, last = key.split(".")
        d = doc
        for p in path:
            d = d[p]
        if last not in d:
            raise SystemExit(f"--set {a}: unknown key {key!r}")
        d[last] = json.loads(val) if val[:1] in "[{0123456789-tfn\"" else val


def load_sim(data: dict, class_names) -> tuple[list, np.ndarray, np.ndarray, np.ndarray, dict]:
    """Light curves, class index, redshift, survey index of the simulated training sets."""
    lcs, y, z, s, counts = [], [], [], [], {}
    index = {c: i for i, c in enumerate(class_names)}
    dirs = survey_dirs(data)
    for k, survey in enumerate(data["surveys"]):
        ds = read_parquet(dirs[survey])
        keep = _kept_rows(ds, data, index, f"{dirs[survey]} ({survey})", data["max_per_survey"])
        _append_rows(ds, keep, index, lcs, y, z)
        s.extend([k] * len(keep))
        counts[survey] = ds.truth["class"].iloc[keep].value_counts().to_dict()
    return lcs, np.array(y), np.array(z, np.float32), np.array(s), counts


def _kept_rows(ds, data: dict, index: dict, where: str, limit=None) -> list[int]:
    """Rows of ``ds`` whose class is not held out (the first ``limit`` of them); unknown classes refused."""
    keep = [i for i, c in enumerate(ds.truth["class"]) if c not in data["held_out_classes"]]
    keep = keep[:limit] if limit else keep
    unknown = sorted({ds.truth["class"][i] for i in keep} - set(index))
    if unknown:
        raise SystemExit(f"classes {unknown} of {where} are neither in model.class_names nor held out")
    return keep


def _append_rows(ds, keep, index: dict, lcs: list, y: list, z: list) -> None:
    all_lcs = ds.lightcurves
    for i in keep:
        lcs.append(all_lcs[i])
        y.append(index[ds.truth["class"][i]])
        z.append(float(ds.truth["redshift"][i]))


def load_pairs(data: dict, class_names) -> tuple[list, np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
    """Light curves, class, redshift, survey index and pair id of the paired sets in ``data["pairs"]``."""
    lcs, y, z, s, pid, counts = [], [], [], [], [], {}
    index = {c: i for i, c in enumerate(class_names)}
    offset = 0
    for d in data.get("pairs") or []:
        sets = {sv: read_parquet(Path(d) / sv) for sv in ("ztf", "lsst")}
        if not (sets["ztf"].truth["pair_id"].to_numpy() == sets["lsst"].truth["pair_id"].to_numpy()).all():
            raise SystemExit(f"data.pairs: {d}/ztf and {d}/lsst are not aligned by pair_id")
        for sv, ds in sets.items():
            if sv not in data["surveys"]:
                raise SystemExit(f"data.pairs: survey {sv!r} of {d} is not in data.surveys {data['surveys']}")
            keep = _kept_rows(ds, data, index, f"{d}/{sv}")
            _append_rows(ds, keep, index, lcs, y, z)
            s.extend([data["surveys"].index(sv)] * len(keep))
            pid.extend(offset + i for i in keep)
            counts[f"pairs:{d}:{sv}"] = len(keep)
        offset += len(sets["ztf"])
    return lcs, np.array(y, np.int64), np.array(z, np.float32), np.array(s, np.int64), np.array(pid, np.int64), counts


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("config")
    p.add_argument("--out", required=True)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--set", nargs="*", default=[], help="overrides, e.g. train.epochs=5 model.encoder=\"gru\"")
    p.add_argument("--init", default=None, help="start from this saved SimFM model's weights (same architecture)")
    a = p.parse_args(argv)
    doc = json.loads(Path(a.config).read_text())
    if set(doc) != {"model", "train", "data"} or not DATA_KEYS <= set(doc["data"]) <= DATA_KEYS | OPTIONAL_DATA_KEYS:
        raise SystemExit(f"{a.config}: expected keys model/train/data with data keys {sorted(DATA_KEYS)} "
                         f"(optional: {sorted(OPTIONAL_DATA_KEYS)})")
    _set(doc, a.set)
    mcfg = SimFMConfig.from_dict(doc["model"], where=f"{a.config}:model")
    tcfg = SimFMTrainConfig.from_dict(doc["train"], where=f"{a.config}:train")
    t = time.time()
    lcs, y, z, s, counts = load_sim(doc["data"], mcfg.class_names)
    pair = None
    if doc["data"].get("pairs"):
        plcs, py, pz, ps, pid, pcounts = load_pairs(doc["data"], mcfg.class_names)
        pair = np.r_[np.full(len(lcs), -1), pid]
        lcs, y, z, s, counts = lcs + plcs, np.r_[y, py], np.r_[z, pz], np.r_[s, ps], counts | pcounts
    # the warning range of the model = the λ_eff range of the training bands (the config's value is replaced)
    wl = np.concatenate([band_wavelength(lc.band) for lc in lcs])
    mcfg = mcfg.replace(band_wavelength_range=(float(np.floor(wl.min())), float(np.ceil(wl.max()))))
    torch.manual_seed(tcfg.seed)
    model = SimFMModel(mcfg)
    if a.init:
        init = SimFMModel.from_pretrained(a.init)
        if init.config.replace(band_wavelength_range=mcfg.band_wavelength_range) != mcfg:
            raise SystemExit(f"--init {a.init}: its model config differs from {a.config}:model")
        model.load_state_dict(init.state_dict())
    items = [model.preprocess_lightcurve(lc) for lc in lcs]
    print(f"{len(items)} light curves ({counts}) loaded in {time.time() - t:.0f} s; model {model}", flush=True)
    hist = fit_simfm(model, items, y, z, s, tcfg, device=a.device, log=lambda m: print(m, flush=True), pair=pair)
    out = Path(a.out)
    model.to("cpu").save_pretrained(out, extra_metadata={"train": tcfg.to_dict(), "data": doc["data"],
                                                         "init": a.init, "command": " ".join(sys.argv)})
    (out / "train_log.json").write_text(json.dumps({"history": hist, "counts": counts, "config": doc,
                                                    "device": a.device, "torch_threads": torch.get_num_threads()},
                                                   indent=1) + "\n")
    print(f"saved {out} (best epoch {hist['best_epoch']}, {hist['seconds']} s, stopped: {hist['stopped']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
