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
import shutil
import time
from pathlib import Path

from astroembed.evaluate.crossfit import _base_model_dict, load_crossfit_config, stage_train_config
from astroembed.models.hub import resolve_model_dir
from astroembed.models.registry import bundled_weights_dir, write_registry_entry
from astroembed.train.loop import train


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
    model_dict = _base_model_dict(cfg)
    init = str(resolve_model_dir(cfg.base_model)[0]) if cfg.base_model else None
    log = []
    for i, st in enumerate(cfg.stages):
        # fold=None: every development object except the demo ones
        tc = stage_train_config(cfg, i, None, model=model_dict, init_from=init, out_fold=out, folds_file=None,
                                progress=False)
        t0 = time.perf_counter()
        res = train(tc, resume=args.resume and (Path(tc.output_dir) / "checkpoints" / "last.pt").exists())
        if res.model is None or res.status == "interrupted":
            raise SystemExit(f"stage {st.name}: training did not finish ({res.status})")
        log.append({"stage": st.name, "best_epoch": res.best_epoch, "best_val_loss": res.best_val_loss,
                    "epochs_run": res.epochs_run, "seconds": round(time.perf_counter() - t0, 1),
                    "output_dir": str(res.output_dir)})
        init, model_dict = str(res.output_dir), res.model.config.to_dict()
    dest = bundled_weights_dir() / args.name
    dest.mkdir(parents=True, exist_ok=True)
    for f in ("config.json", "model.safetensors"):
        shutil.copy(Path(init) / f, dest / f)
    spec = write_registry_entry(args.name, args.description, default=args.name == "maven")
    (out / "release.json").write_text(json.dumps({"stages": log, "sha256": spec.sha256}, indent=2))
    print(json.dumps(log, indent=2))
    print(spec)


if __name__ == "__main__":
    main()
