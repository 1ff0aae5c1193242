"""Bundle a probability-averaging AppleCiDEr ensemble (one trained model per recipe) as ``applecider``.

  PYTHONPATH=src python tools/release_applecider_ensemble.py --members runs/applecider_release_sim/applecider \\
      runs/applecider_release_lowlr/applecider runs/applecider_release_simearly/applecider \\
      --out runs/applecider_release_ens --register

Each member is a directory written by ``tools/train_applecider.py`` (same model config); the first one
gives the ensemble's embeddings.  Writes ``OUT/applecider/{config.json, model.safetensors}``;
``--register`` copies them into ``src/astroembed/_weights/applecider/`` and records the sha256.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--members", nargs="+", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--register", action="store_true")
    args = p.parse_args(argv)

    from astroembed.models.applecider.ensemble import AppleCiderEnsemble
    from astroembed.models.applecider.model import AppleCiderModel

    models = [AppleCiderModel.from_pretrained(m) for m in args.members]
    ens = AppleCiderEnsemble.from_members(models)
    prov = []
    for m in args.members:
        meta = json.loads((Path(m) / "config.json").read_text()).get("metadata", {})
        prov.append({"dir": m, "trained_on": meta.get("trained_on"), "train_config": meta.get("train_config"),
                     "epochs_done": meta.get("epochs_done"), "wall_s": meta.get("wall_s")})
    out = Path(args.out) / "applecider"
    ens.save_pretrained(out, extra_metadata={"members": prov, "combination": "mean of the members' probabilities; "
                                             "embeddings = the first member's"})
    print(f"wrote {out} ({len(models)} members, {sum(q.numel() for q in ens.parameters())} parameters)")
    if args.register:
        from astroembed.models.registry import bundle_weights

        print(bundle_weights(out, "applecider", "AppleCiDEr-style early classifier: photometry + alert metadata "
                                   f"+ spectrum, mixture of experts; mean of {len(models)} models (one per training "
                                   "recipe, photometry towers pre-trained on simulated light curves); trained on "
                                   "ZTF BTS + OSC/SNID spectra (see docs/models/applecider.md)"))


if __name__ == "__main__":
    main()
