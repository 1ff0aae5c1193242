"""Bundle pre-trained SimFM runs (from tools/train_simfm.py) as registry entries.

Copies ``config.json`` + ``model.safetensors`` of each run into ``src/astroembed/_weights/<name>/``, puts
beside them ``folds.csv`` (the ztf_bts cross-fitting folds its real-data numbers were computed with;
the weights themselves saw simulations only) and ``train_log.json``, and records the sha256 of the
weight files in ``registry.json`` with :func:`astroembed.models.registry.write_registry_entry`.

Usage::

    python tools/release_simfm.py simfm=/work/data_sim/runs/simfm_gru_contrastive \
        simfm-classifier=/work/data_sim/runs/simfm_gru ...
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pandas as pd

from astroembed.models.registry import bundled_weights_dir, write_registry_entry

VARIANT_TEXT = {
    "classifier": "class-balanced cross-entropy (+ log-redshift head)",
    "adversarial": "classifier + gradient-reversal survey discriminator",
    "contrastive": "classifier + supervised contrastive loss pairing same-class ZTF/LSST objects",
    "both": "classifier + survey discriminator + cross-survey contrastive loss",
}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("entries", nargs="+", help="NAME=RUN_DIR")
    a = p.parse_args(argv)
    root = bundled_weights_dir()
    folds = pd.read_csv(root / "maven" / "folds.csv")
    folds = folds[folds.dataset == "ztf_bts"][["dataset", "object_id", "label", "crossfit_fold"]]
    for entry in a.entries:
        name, _, run = entry.partition("=")
        run = Path(run)
        log = json.loads((run / "train_log.json").read_text())
        tcfg, mcfg = log["config"]["train"], log["config"]["model"]
        dest = root / name
        dest.mkdir(parents=True, exist_ok=True)
        for f in ("config.json", "model.safetensors", "train_log.json"):
            shutil.copyfile(run / f, dest / f)
        folds.to_csv(dest / "folds.csv", index=False)
        desc = (f"SimFM ({mcfg['encoder'].upper()} encoder, {VARIANT_TEXT[tcfg['variant']]}) pre-trained on "
                f"simulated ZTF + LSST light curves only (no real data), 1 seed; see docs/models/simfm.md")
        print(write_registry_entry(name, desc, default=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
