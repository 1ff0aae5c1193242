"""Latent-usage check of Transceiver models on the SIMULATED VALIDATION split (never a test set).

For each model: posterior-mean spread (std over objects, mean over dimensions) and mean posterior scale
of both experts, mean analytic KL per dimension to the prior, LC → spectrum retrieval (cosine between the
unit-normalised posterior means; spectra embedded without their phase, as the OSC evaluation does) inside
the validation pairs, and the LC → spectrum MAE with the pair's own light curve vs a light curve of another
object (if they are equal, the generated spectrum ignores the light curve).  Used to choose
``contrastive_weight`` / ``free_bits`` before any real-data evaluation.

  PYTHONPATH=src python tools/transceiver_latent_check.py --models runs/transceiver_sim2/transceiver runs/x/transceiver
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))


def check(model, val, n_samples=16):
    from astroembed.evaluate.metrics import retrieval_metrics, retrieval_ranks
    from astroembed.models.transceiver.objective import laplace_kl
    from astroembed.models.transceiver.scoring import pair_mae
    from astroembed.models.transceiver.training import _grid_of, arrays_to_generation

    val._grid = _grid_of(model.config)
    model.eval()
    idx = np.arange(len(val))
    with torch.no_grad():
        lc, sp, ph = val.batch(idx)
        lq, ls = model.posterior_lightcurve(lc)
        sq, ss = model.posterior_spectrum(sp, torch.full_like(ph, float("nan")))
    out = {}
    for name, (q, s) in {"lc": (lq, ls), "spec": (sq, ss)}.items():
        out[f"{name}_mean_spread"] = float(q.std(0).mean())
        out[f"{name}_mean_scale"] = float(s.mean())
        out[f"{name}_kl_per_dim"] = float(laplace_kl(q, s, model.config.prior_scale).mean())
    e_lc = torch.nn.functional.normalize(lq, dim=-1).numpy()
    e_sp = torch.nn.functional.normalize(sq, dim=-1).numpy()
    groups = np.arange(len(val))
    r = retrieval_metrics(retrieval_ranks(e_lc, e_sp, groups, groups), ks=(1, 10))
    out.update({f"retrieval_{k}": float(v) for k, v in r.items()})
    T = np.where(val.spec_mask, val.spec_flux, np.nan)
    g = arrays_to_generation(model, val, n_samples, 0, None)
    out["mae_own_lc"] = float(np.nanmean(pair_mae(T, val.spec_mask, g.mean)))
    perm = np.random.default_rng(0).permutation(len(val))
    sh = val.subset(np.arange(len(val)))
    for k in ("lc_time", "lc_flux", "lc_err", "lc_wave", "lc_mask"):
        setattr(sh, k, getattr(val, k)[perm])
    g2 = arrays_to_generation(model, sh, n_samples, 0, None)
    out["mae_other_lc"] = float(np.nanmean(pair_mae(T, val.spec_mask, g2.mean)))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="+", required=True)
    ap.add_argument("--config", default="configs/transceiver_sim.json", help="training config (data + val split)")
    ap.add_argument("--cache-dir", default="/work/data_sim/trans_cache")
    ap.add_argument("--n", type=int, default=500, help="validation pairs used")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    from train_transceiver import DataConfig, load_config, training_data

    from astroembed.models.transceiver import TransceiverModel
    from astroembed.models.transceiver.training import TrainConfig, split_by_object, usable_pairs

    doc = load_config(a.config)
    tc = TrainConfig.from_dict(doc["train"])
    first = TransceiverModel.from_pretrained(a.models[0])
    arr, table = training_data(DataConfig.from_dict(doc["data"]), first.config, cache_dir=a.cache_dir,
                               log=lambda *_: None)
    ok = usable_pairs(arr, first.config)
    arr, table = arr.subset(np.flatnonzero(ok)), table[ok].reset_index(drop=True)
    _, va = split_by_object(table["object_id"], tc.val_fraction, tc.seed)   # the training runs' validation split
    val = arr.subset(va[: a.n])
    print(f"simulated validation pairs: {len(val)} (of {len(va)})")
    for m in a.models:
        model = TransceiverModel.from_pretrained(m)
        c = model.config
        res = check(model, val)
        print(json.dumps({"model": m, "beta": c.beta, "free_bits": c.free_bits,
                          "contrastive_weight": c.contrastive_weight, **{k: round(v, 4) for k, v in res.items()}}),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
