"""Cross-fitted fine-tuning of the v2 spectrum encoder on real OSC spectra (spectrum ↔ metadata CLIP + masked
chunks + z/class heads), scored with the spectrum tasks of ``benchmarks/eval_spectra.py``.

For each of the 5 folds of ``eval_spectra`` (stratified over SNe, seed 0): start from the template
pre-trained model (``--init``), fine-tune on the spectra of the other four folds only (their class +
redshift), embed every spectrum with that fold's model, and score the held-out fold with references =
the other folds (kNN k = 10, SVC C = 1, zero-shot k = 100; nothing tuned).  Mean ± std over folds.

    PYTHONPATH=src python tools/crossfit_spec_v2.py --init runs/mavenv2/maven-v2-spec --data-root ../shared/data \
        --out runs/crossfit_spec_v2 --steps 300
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--init", required=True)
    ap.add_argument("--data-root", default="../shared/data")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)

    import torch
    import torch.nn.functional as F

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from eval_spectra import fold_metrics, load_osc_spectra, summarise

    from astroembed.data.collate import collate_spectra
    from astroembed.models.maven import MavenModel
    from astroembed.models.maven.losses import info_nce, pair_name
    from astroembed.train.folds import stratified_group_folds

    torch.set_num_threads(a.threads)
    spectra, labels, zs, names = load_osc_spectra(a.data_root)
    folds = stratified_group_folds(labels, names, 5, 0)
    base = MavenModel.from_pretrained(a.init)
    items = [base.preprocess_spectrum(s) for s in spectra]
    classes = list(base.config.metadata.class_names)
    rows, t0 = [], time.time()
    for k in range(5):
        torch.manual_seed(k)
        rng = np.random.default_rng(k)
        m = copy.deepcopy(base).train()
        heads = torch.nn.Linear(m.embed_dim, 1 + len(classes) + 1)
        params = list(m.parameters()) + list(heads.parameters())
        opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.05)
        tr = np.flatnonzero(folds != k)
        g = torch.Generator().manual_seed(k)
        for _ in range(a.steps):
            idx = rng.choice(tr, size=min(a.batch_size, len(tr)), replace=False)
            b = collate_spectra([items[i] for i in idx])
            emb, mse = m.spectrum_encoder.masked_forward(b, generator=g)
            e = F.normalize(emb, dim=-1)
            meta = m.collate_metadata(labels[idx].tolist(), zs[idx].tolist())
            clip = info_nce(e, m.encode_metadata(meta), m.logit_scales.scales()[pair_name("spectrum", "metadata")])
            out = heads(e)
            zl = F.mse_loss(out[:, 0] * 0.1, torch.log1p(torch.tensor(zs[idx], dtype=torch.float32)))
            cl = F.cross_entropy(out[:, 1:], torch.tensor([classes.index(c) for c in labels[idx]]))
            loss = mse + clip + 100.0 * zl + cl
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            m.logit_scales.clamp_()
        m.eval()
        X = m.embed_spectrum(spectra, batch_size=128)
        r = fold_metrics(X, labels, zs, folds, folds != k)
        rows += r
        print(f"fold {k}: {json.dumps(r)} ({time.time() - t0:.0f} s)", flush=True)
    s = summarise(rows)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({"rows": rows, "summary": s, "args": vars(a)}, indent=1))
    for key, v in s.items():
        print(f"{key}: {v[0]:.3f} ± {v[1]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
