"""Train the Maven v2 spectrum encoder (SpecFormer, masked-chunk + optional spectrum↔metadata CLIP) on the
shared template spectra redshifted on the fly.  No OSC spectrum is used: every SN of the Open Supernova
Catalog files (the evaluation objects) is removed from the template bank by name, so the OSC spectrum
numbers of ``benchmarks/eval_spectra.py`` stay leak-free with one model for all folds.

    PYTHONPATH=src python tools/train_maven_v2.py --config configs/mavenv2_spec.json \
        --data-root ../shared/data --out runs/mavenv2 --minutes 12 [--device cuda] [--threads 1]

writes ``OUT/<name>/config.json + model.safetensors`` (``--name``, default ``maven-v2-spec``) and
``OUT/<name>/history.json``.  Stops itself after ``--minutes`` of training.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=None,
                    help="default: configs/mavenv2_spec_gpu.json on cuda, configs/mavenv2_spec.json on cpu")
    ap.add_argument("--data-root", default="../shared/data")
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", default="maven-v2-spec")
    ap.add_argument("--minutes", type=float, default=None, help="wall-clock limit (overrides train.minutes)")
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--pool-size", type=int, default=None)
    ap.add_argument("--workers", type=int, default=None,
                    help="processes that build the sample pool (default: all CPUs on cuda, 1 on cpu)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    t_start = time.time()
    import os

    on_gpu = a.device.startswith("cuda")
    a.config = a.config or ("configs/mavenv2_spec_gpu.json" if on_gpu else "configs/mavenv2_spec.json")
    a.workers = a.workers or ((os.cpu_count() or 1) if on_gpu else 1)

    import pandas as pd
    import torch

    from astroembed.models.maven import MavenConfig, MavenModel
    from astroembed.train.pretrain_masked import SpecPretrainConfig, pretrain_spectra
    from astroembed.train.spectrum_templates import load_template_bank

    torch.set_num_threads(a.threads)
    raw = json.loads(Path(a.config).read_text())
    if set(raw) != {"model", "train"}:
        raise SystemExit(f"{a.config}: expected exactly the keys 'model' and 'train', got {sorted(raw)}")
    tcfg = raw["train"]
    for k, v in (("minutes", a.minutes), ("max_steps", a.max_steps), ("batch_size", a.batch_size),
                 ("pool_size", a.pool_size)):
        if v is not None:
            tcfg[k] = v
    tcfg = SpecPretrainConfig.from_dict(tcfg)
    mcfg = MavenConfig.from_dict(raw["model"])
    root = Path(a.data_root)
    osc_names = pd.read_parquet(root / "oac_2010_2014" / "objects.parquet", columns=["name"])["name"].tolist()
    osc_names += pd.read_parquet(root / "oac_2010_2014" / "spectra.parquet", columns=["name"])["name"].tolist()
    records = load_template_bank(root, exclude_names=osc_names)
    n_names = len({r.name for r in records})
    print(f"template bank: {len(records)} spectra of {n_names} SNe (OSC names excluded)", flush=True)
    model = MavenModel(mcfg)
    print(f"model: {model.num_parameters():,} parameters; device {a.device}; threads {a.threads}", flush=True)
    t0 = time.time()
    out = Path(a.out) / a.name
    if on_gpu:
        torch.backends.cuda.matmul.allow_tf32 = True
    deadline = None if a.minutes is None else t_start + 60 * a.minutes - 30  # whole run within --minutes
    hist = pretrain_spectra(model, records, tcfg, out, device=a.device, workers=a.workers, deadline=deadline,
                            log=lambda s: print(s, flush=True),
                            extra_metadata={"data": {"template_spectra": len(records), "template_sne": n_names,
                                                     "osc_names_excluded": True}})
    (out / "history.json").write_text(json.dumps(hist, indent=1))
    print(f"done in {(time.time() - t0) / 60:.1f} min -> {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
