"""Train the Maven v2 pre-trained encoders.

``--stage spec`` (default): the SpecFormer spectrum encoder — masked-chunk reconstruction, plus
spectrum ↔ metadata (class + redshift) CLIP unless the config's ``clip_weight`` is 0 (the label-free
variant) — on the shared template spectra redshifted on the fly.  No OSC spectrum is used: every SN of the
Open Supernova Catalog files (the evaluation objects) is removed from the template bank by name, so the
OSC spectrum numbers of ``benchmarks/eval_spectra.py`` stay leak-free with one model for all folds.

``--stage lc``: masked light-curve pre-training (AppleCiDEr MPT) of the v1-sized light-curve encoder on
simulated ZTF light curves (``--sim-dir`` = an ``astroembed simulate`` output, or ``--sim-n`` events
simulated here with ``--workers`` processes) + the real light curves that are never evaluated: ZTF BTS
objects without a Maven-5 class or redshift, and Foundation DR1.  No OSC light curve and no evaluated
BTS object is used (label-free and leak-free).

    PYTHONPATH=src python tools/train_maven_v2.py --stage spec --data-root ../shared/data --out runs/mavenv2 \
        --minutes 12 [--device cuda] [--threads 1] [--config configs/mavenv2_spec_ssl.json --name maven-v2-spec-ssl]

writes ``OUT/<name>/config.json + model.safetensors`` and ``OUT/<name>/history.json``; the whole run
(data included) stops itself within ``--minutes``.  On ``--device cuda`` the default configs are the
``*_gpu.json`` ones and ``--workers`` defaults to all CPUs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

MAVEN5 = ("Ia", "II", "Ibc", "IIn", "SLSN-I")


def _lc_data(a, log):
    import numpy as np

    from astroembed.datasets import load_foundation, load_ztf_bts

    lcs = []
    bts = load_ztf_bts(a.data_root, classes=None, min_detections=5)
    z = np.asarray(bts.redshifts, dtype=float)
    keep = ~(np.isin(np.asarray(bts.labels, dtype=object), MAVEN5) & np.isfinite(z))
    lcs += [lc for lc, k in zip(bts.lightcurves, keep) if k]
    log(f"BTS light curves never evaluated (no Maven-5 class or no redshift): {int(keep.sum())}")
    fnd = load_foundation(a.data_root)
    lcs += list(fnd.lightcurves)
    log(f"Foundation DR1 light curves: {len(fnd)}")
    if a.sim_dir:
        from astroembed.simulate.dataset import read_parquet

        sim = read_parquet(a.sim_dir).lightcurves
        log(f"simulated light curves from {a.sim_dir}: {len(sim)}")
        lcs += list(sim)
    elif a.sim_n:
        from astroembed.simulate import simulate
        from astroembed.simulate.dataset import write_parquet

        t = time.time()
        ds = simulate(n=a.sim_n, survey="ztf", seed=1, workers=a.workers)
        write_parquet(ds, Path(a.out) / "sim_pairs", overwrite=True)  # reused by the align stage
        log(f"simulated here: {len(ds.truth)} ZTF events in {time.time() - t:.0f} s -> {Path(a.out) / 'sim_pairs'}")
        lcs += list(ds.lightcurves)
    return lcs


def _sim_pairs(a, log):
    cached = Path(a.out) / "sim_pairs"
    if a.sim_dir or cached.exists():
        from astroembed.simulate.dataset import read_parquet

        sim = read_parquet(a.sim_dir or cached)
        log(f"simulated pairs from {a.sim_dir or cached}: {len(sim.truth)}")
    else:
        from astroembed.simulate import simulate

        t = time.time()
        sim = simulate(n=a.sim_n or 20000, survey="ztf", seed=2, workers=a.workers)
        log(f"simulated here: {len(sim.truth)} ZTF pairs in {time.time() - t:.0f} s")
    return sim.lightcurves, sim.spectra


def _align(a, t_start, on_gpu) -> int:
    """Label-free maven-ssl: assemble the MPT light-curve encoder and the masked-only spectrum encoder and
    align them with CLIP on simulated light curve ↔ spectrum pairs (no class, no redshift)."""
    import math

    import torch

    from astroembed.train.clip_align import AlignConfig, assemble, clip_align

    torch.set_num_threads(a.threads)
    out = Path(a.out)
    lc_dir = a.lc_dir or out / "maven-v2-lc"
    spec_dir = a.spec_dir or out / "maven-v2-spec-ssl"
    kw = {} if a.fixed_scale is None else {"learn_logit_scale": False, "logit_scale_init": math.log(a.fixed_scale)}
    model = assemble(lc_dir, spec_dir, **kw)
    lcs, sps = _sim_pairs(a, print)
    if a.max_pairs:
        lcs, sps = lcs[:a.max_pairs], sps[:a.max_pairs]
    cfg = AlignConfig(batch_size=a.batch_size or (512 if on_gpu else 128), max_steps=a.max_steps or 20000,
                      minutes=a.minutes or 10.0, val_every=200 if on_gpu else 50)
    deadline = None if a.minutes is None else t_start + 60 * a.minutes - 20
    name = a.name or "maven-ssl"
    hist = clip_align(model, lcs, sps, cfg, out / name, device=a.device, log=lambda s: print(s, flush=True),
                      deadline=deadline, extra_metadata={"data": {"lc_dir": str(lc_dir), "spec_dir": str(spec_dir),
                                                                  "pairs": "simulated ZTF", "labels_used": False}})
    (out / name / "history.json").write_text(json.dumps(hist, indent=1))
    print(f"done in {(time.time() - t_start) / 60:.1f} min -> {out / name}", flush=True)
    return 0


def _replace_args(argv, values: dict) -> list:
    """``argv`` with each ``--key value`` of ``values`` set (appended when absent)."""
    out, i = [], 0
    argv = list(argv)
    while i < len(argv):
        key = argv[i].split("=", 1)[0]
        if key in values:
            i += 1 if "=" in argv[i] else 2
            continue
        out.append(argv[i])
        i += 1
    for k, v in values.items():
        out += [k, v]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stage", choices=("spec", "spec_ssl", "lc", "align", "all"), default="all",
                    help="all = spec, spec_ssl, lc and align in turn (35/20/25/20 %% of --minutes)")
    ap.add_argument("--lc-dir", default=None, help="align stage: pre-trained LC model (default OUT/maven-v2-lc)")
    ap.add_argument("--spec-dir", default=None,
                    help="align stage: pre-trained spectrum model (default OUT/maven-v2-spec-ssl)")
    ap.add_argument("--init", default=None,
                    help="spec/lc stage: start from this model directory (same config) instead of random weights")
    ap.add_argument("--seed", type=int, default=None, help="override train.seed (e.g. a fresh pool when --init)")
    ap.add_argument("--max-pairs", type=int, default=None, help="align stage: use the first N simulated pairs")
    ap.add_argument("--fixed-scale", type=float, default=None,
                    help="align stage: fixed logit scale (e.g. 15.5, AstroCLIP) instead of a learned one")
    ap.add_argument("--config", default=None,
                    help="default: configs/mavenv2_<stage>[_gpu].json (the _gpu one on cuda)")
    ap.add_argument("--data-root", default="../shared/data")
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", default=None, help="default: maven-v2-<stage>")
    ap.add_argument("--minutes", type=float, default=None, help="wall-clock limit of the whole run")
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--pool-size", type=int, default=None, help="spec stage: spectra drawn before training")
    ap.add_argument("--sim-dir", default=None, help="lc stage: simulated light curves to add")
    ap.add_argument("--sim-n", type=int, default=0, help="lc stage: simulate this many here instead")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--workers", type=int, default=None,
                    help="processes for data generation (default: all CPUs on cuda, 1 on cpu)")
    a = ap.parse_args(argv)
    t_start = time.time()
    if a.stage == "all":
        total = a.minutes or 30.0
        rest = [x for x in (argv if argv is not None else sys.argv[1:])]
        for stage, frac in (("spec", 0.35), ("spec_ssl", 0.2), ("lc", 0.25), ("align", 0.2)):
            left = total - (time.time() - t_start) / 60
            budget = left if stage == "align" else frac * total
            args = _replace_args(rest, {"--stage": stage, "--minutes": f"{max(0.5, budget):.2f}"})
            if stage not in ("lc", "align"):
                args = _replace_args(args, {"--sim-n": "0"})
            main(args)
        return 0
    on_gpu = a.device.startswith("cuda")
    a.workers = a.workers or ((os.cpu_count() or 1) if on_gpu else 1)
    if a.stage == "align":
        return _align(a, t_start, on_gpu)
    a.config = a.config or f"configs/mavenv2_{a.stage}{'_gpu' if on_gpu else ''}.json"
    if a.stage == "spec_ssl":
        a.stage = "spec"
        a.name = a.name or "maven-v2-spec-ssl"
    a.workers = a.workers or ((os.cpu_count() or 1) if on_gpu else 1)
    a.name = a.name or f"maven-v2-{a.stage}"

    import pandas as pd
    import torch

    from astroembed.data.bands import pinned_band_wavelengths
    from astroembed.models.maven import MavenConfig, MavenModel
    from astroembed.train.pretrain_masked import (
        LCPretrainConfig,
        SpecPretrainConfig,
        pretrain_lightcurves,
        pretrain_spectra,
    )

    torch.set_num_threads(a.threads)
    if on_gpu:
        torch.backends.cuda.matmul.allow_tf32 = True

    def log(s):
        print(s, flush=True)

    raw = json.loads(Path(a.config).read_text())
    if set(raw) != {"model", "train"}:
        raise SystemExit(f"{a.config}: expected exactly the keys 'model' and 'train', got {sorted(raw)}")
    tcfg = raw["train"]
    for k, v in (("minutes", a.minutes), ("max_steps", a.max_steps), ("batch_size", a.batch_size),
                 ("pool_size", a.pool_size)):
        if v is not None and (k != "pool_size" or a.stage == "spec"):
            tcfg[k] = v
    if a.seed is not None:
        tcfg["seed"] = a.seed
    model = MavenModel(MavenConfig.from_dict(raw["model"]))
    if a.init:
        init = MavenModel.from_pretrained(a.init)
        if init.config != model.config:
            raise SystemExit(f"--init {a.init}: its config differs from {a.config}")
        model.load_state_dict(init.state_dict())
        model.pin_band_wavelengths(init.band_wavelengths)  # keep encoding bands as the init model did
        log(f"initialised from {a.init}")
    log(f"{a.config}: {model.num_parameters():,} parameters; device {a.device}; threads {a.threads}; "
        f"workers {a.workers}")
    out = Path(a.out) / a.name
    deadline = None if a.minutes is None else t_start + 60 * a.minutes - 30  # whole run within --minutes
    if a.stage == "spec":
        from astroembed.train.spectrum_templates import load_template_bank

        tcfg = SpecPretrainConfig.from_dict(tcfg)
        root = Path(a.data_root)
        osc = pd.read_parquet(root / "oac_2010_2014" / "spectra.parquet", columns=["name"])["name"].tolist()
        osc += pd.read_parquet(root / "oac_2010_2014" / "objects.parquet", columns=["name"])["name"].tolist()
        records = load_template_bank(root, exclude_names=osc)
        n_names = len({r.name for r in records})
        log(f"template bank: {len(records)} spectra of {n_names} SNe (OSC names excluded)")
        hist = pretrain_spectra(model, records, tcfg, out, device=a.device, workers=a.workers, deadline=deadline,
                                log=log, extra_metadata={"data": {"template_spectra": len(records),
                                                                  "template_sne": n_names,
                                                                  "osc_names_excluded": True}})
    else:
        tcfg = LCPretrainConfig.from_dict(tcfg)
        lcs = _lc_data(a, log)
        if deadline is not None:
            tcfg = tcfg.replace(minutes=max(0.1, (deadline - time.time()) / 60))
        with pinned_band_wavelengths(model.band_wavelengths):
            hist = pretrain_lightcurves(model, lcs, tcfg, out, device=a.device, log=log,
                                        extra_metadata={"data": {"n_lightcurves": len(lcs), "sim_dir": a.sim_dir,
                                                                 "sim_n": a.sim_n}})
    (out / "history.json").write_text(json.dumps(hist, indent=1))
    log(f"done in {(time.time() - t_start) / 60:.1f} min -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
