"""Fine-tune the released ``maven`` weights on ALL development data (minus the demo objects) and bundle them.

Same stages and settings as the cross-fitted evaluation (``configs/crossfit_maven.json``), without
holding out a fold; the cross-fitted run provides the evaluation numbers, this run provides the
weights users get.  Then copies ``config.json`` + ``model.safetensors`` into
``src/astroembed/_weights/maven`` and records their sha256 in the registry.

Run: python tools/release_maven.py --config configs/crossfit_maven.json --out runs/release_maven
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from astroembed.evaluate.crossfit import load_crossfit_config, run_stages
from astroembed.models.registry import bundle_weights


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="configs/crossfit_maven.json")
    ap.add_argument("--out", default="runs/release_maven")
    ap.add_argument("--name", default="maven")
    ap.add_argument("--description", default="Maven CLIP model: simulation pre-trained, fine-tuned on real ZTF BTS "
                                             "+ OSC data (see docs/models/maven.md)")
    ap.add_argument("--resume", action="store_true")
    args = ap.parse_args()
    cfg = load_crossfit_config(args.config)
    out = Path(args.out)
    t0 = time.perf_counter()
    # fold=None: every development object except the demo ones; the same stage loop as the cross-fit
    _, info = run_stages(cfg, None, out, None, resume=args.resume, progress=False)
    log = [{k: s[k] for k in ("stage", "best_epoch", "best_val_loss", "epochs_run", "seconds_train", "output_dir")}
           for s in info]
    print(f"trained {len(log)} stage(s) in {time.perf_counter() - t0:.0f} s")
    init = info[-1]["output_dir"]
    spec = bundle_weights(init, args.name, args.description, default=args.name == "maven")
    (out / "release.json").write_text(json.dumps({"stages": log, "sha256": spec.sha256}, indent=2))
    print(json.dumps(log, indent=2))
    print(spec)


if __name__ == "__main__":
    main()
