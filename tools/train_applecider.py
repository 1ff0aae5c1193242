"""Train the release AppleCiDEr model on every BTS light curve (labelled and, for the masked pre-training,
unlabelled) with alert metadata, plus OSC spectra and SNID templates as spectrum-only examples.

  PYTHONPATH=src OMP_NUM_THREADS=1 nice -n 10 python tools/train_applecider.py --out runs/applecider_release \\
      --minutes 8 [--device cuda] [--data-root .gpudata] [--register]

With ``--config configs/applecider_release_sim.json`` the photometry tower starts from the simulation
pre-trained one (``tools/pretrain_applecider_sim.py``; the config's ``init_from``).

Writes ``OUT/applecider/{config.json, model.safetensors}``; ``--register`` copies them to
``src/astroembed/_weights/applecider/`` and records the sha256 in the registry.  The run stops itself
after ``--minutes`` (the config's ``max_minutes`` is replaced by it).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default="configs/applecider_release.json")
    p.add_argument("--data-root", default=None)
    p.add_argument("--out", required=True)
    p.add_argument("--minutes", type=float, default=8.0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--epochs", type=int, default=None, help="override the config's fine-tuning epochs")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-spectra", action="store_true", help="skip the OSC / SNID spectrum-only examples")
    p.add_argument("--register", action="store_true", help="bundle the weights as 'applecider' in the package")
    args = p.parse_args(argv)

    import torch

    from astroembed.models.applecider.bts import load_bts_applecider
    from astroembed.models.applecider.config import AppleCiderTrainConfig
    from astroembed.models.applecider.spectra_data import load_osc_spectra, load_snid_templates
    from astroembed.models.applecider.training import train_applecider

    torch.set_num_threads(args.threads)
    cfg = AppleCiderTrainConfig.from_file(args.config, max_minutes=args.minutes, epochs=args.epochs)
    t0 = time.time()
    d = load_bts_applecider(args.data_root)
    spectra, slabels = None, None
    if cfg.model.spectrum is not None and not args.no_spectra:
        s1, l1, _ = load_osc_spectra(args.data_root)
        s2, l2, _ = load_snid_templates(args.data_root)
        spectra, slabels = s1 + s2, list(l1) + list(l2)
    model, hist = train_applecider(cfg, d.lightcurves, list(d.labels), d.metadata, spectra, slabels,
                                   device=args.device, log=lambda s: print(s, flush=True))
    out = Path(args.out) / "applecider"
    meta = {"trained_on": "ZTF BTS development data (all labelled + unlabelled light curves, alert metadata); "
                          "OSC 2010-2014 spectra and SNID templates (spectrum-only examples)",
            "train_config": cfg.to_dict(), "epochs_done": hist["epochs_done"], "class_counts": hist["class_counts"],
            "n_lightcurves": hist["n_lightcurves"], "n_spectra": hist["n_spectra"],
            "device": args.device, "host": platform.machine(), "wall_s": round(time.time() - t0)}
    if cfg.init_from is not None:
        src = json.loads((Path(cfg.init_from) / "config.json").read_text()).get("metadata", {})
        meta["trained_on"] += (f"; photometry tower + embedding head initialised from {cfg.init_from} "
                               f"({src.get('trained_on', 'unknown')})")
    model.save_pretrained(out, extra_metadata=meta)
    print(f"wrote {out} ({hist['epochs_done']} epochs, {time.time() - t0:.0f} s)")
    if args.register:
        from astroembed.models.registry import bundle_weights

        sim = " (photometry tower pre-trained on simulated light curves)" if cfg.init_from else ""
        print(bundle_weights(out, "applecider", "AppleCiDEr-style early classifier: photometry + alert metadata "
                                   f"+ spectrum, mixture of experts; trained on ZTF BTS + OSC/SNID spectra{sim} "
                                   "(see docs/models/applecider.md)"))


if __name__ == "__main__":
    main()
