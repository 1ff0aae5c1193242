"""Train ParSNIP (astro-parsnip) on the ZTF BTS light curves and write its latent embedding to Parquet.

Run in the ParSNIP venv (NOT the astroembed one), after ``export_ztf_bts.py``::

    OMP_NUM_THREADS=1 nice -n 15 venv-parsnip/bin/python benchmarks/peers/run_parsnip.py --variant specz
    OMP_NUM_THREADS=1 nice -n 15 venv-parsnip/bin/python benchmarks/peers/run_parsnip.py --variant zblind

Variants
--------
``specz``   ParSNIP as designed: the spectroscopic redshift is an encoder input and sets the rest frame
            of the decoder.  Objects without a redshift are rejected.  Evaluate classification only: a
            redshift probe on an embedding that was given the redshift is meaningless.
``zblind``  No redshift anywhere: every light curve at z = 0 in training and in inference (an
            observer-frame ParSNIP; the redshift input channel is the constant 0, because
            ``input_redshift=False`` crashes in astro-parsnip 1.4.3).  Nothing but the light curve enters, so both
            classification and redshift probes are fair.

Both are trained without labels on the same objects they embed (transductive and unsupervised, like
Maven's pre-training on unlabelled data).  No ZTF model ships with astro-parsnip (its wheel has
``plasticc``, ``plasticc_photoz`` and ``ps1`` models only), so training is needed; it is time-bounded
(``--minutes``) and uses a narrower encoder than the paper's (``--arch small``) to fit a CPU budget.
The training loop is ParSNIP's ``fit`` (same loss, augmentation, optimiser, LR scheduler), cut by time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    DEFAULT_WORK,
    EXPORT_NAME,
    dump_json,
    environment,
    peers_module,
    read_export,
    write_peer_embeddings,  # noqa: E402
)

ARCHS = {"paper": [40, 80, 120, 160, 200, 200, 200], "small": [32, 64, 64, 64, 64, 64, 64]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", default=str(DEFAULT_WORK), help="where the model and embeddings go")
    p.add_argument("--export", default=None, help=f"exported light curves (default <work>/{EXPORT_NAME})")
    p.add_argument("--variant", choices=["specz", "zblind"], required=True)
    p.add_argument("--minutes", type=float, default=8.0, help="wall-clock training budget")
    p.add_argument("--max-passes", type=int, default=1000, help="passes over the data (ParSNIP 'epochs' are ~13)")
    p.add_argument("--arch", choices=sorted(ARCHS), default="small")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-objects", type=int, default=None, help="quick runs")
    a = p.parse_args(argv)

    import lcdata
    import parsnip
    import torch

    P = peers_module()
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    torch.set_num_threads(1)
    work = Path(a.work)
    t_start = time.perf_counter()
    export = Path(a.export) if a.export else work / EXPORT_NAME
    records = read_export(export)
    if a.max_objects:
        records = records[:a.max_objects]
    P.register_ztf_bandpasses()

    zblind = a.variant == "zblind"
    tables = []
    for r in records:
        t = P.lightcurve_to_parsnip_table(r)
        if zblind:
            t.meta["redshift"] = 0.0
        elif not np.isfinite(t.meta["redshift"]):
            continue
        tables.append(t)
    # input_redshift=False crashes in astro-parsnip 1.4.3 (UnboundLocalError in _get_data); zblind keeps the
    # input channel but it is the constant z = 0, so it carries no information.
    settings = {"encode_conv_architecture": ARCHS[a.arch]}
    model_path = work / f"parsnip-{a.variant}.pt"
    model = parsnip.ParsnipModel(str(model_path), ["ztfg", "ztfr"], threads=1, settings=settings)
    train = model.preprocess(lcdata.from_light_curves(tables), verbose=False)
    n_params = sum(p_.numel() for p_ in model.parameters())
    print(f"ParSNIP {a.variant}: {len(train)} training light curves, {n_params} parameters, settings {settings}")

    loader = model.get_data_loader(train, augment=True, shuffle=True)
    budget = a.minutes * 60
    t0 = time.perf_counter()
    losses = []
    passes = 0
    while passes < a.max_passes and time.perf_counter() - t0 < budget:
        model.train()
        tot, cnt = 0.0, 0
        for batch in loader:
            model.optimizer.zero_grad()
            loss = model.loss_function(model.forward(batch))
            loss.backward()
            parsnip.parsnip.replace_nan_grads(model.parameters())
            model.optimizer.step()
            tot += loss.item()
            cnt += len(batch)
            if time.perf_counter() - t0 > budget:
                break
        model.scheduler.step(tot)
        passes += 1
        losses.append(tot / max(cnt, 1))
        print(f"pass {passes:3d}  loss/lc {losses[-1]:10.3f}  lr {model.optimizer.param_groups[0]['lr']:.1e}  "
              f"{time.perf_counter() - t0:6.0f} s", flush=True)
    t_train = time.perf_counter() - t0
    model.epoch = passes
    model.save()

    # embed every exported object with the adapter (the same code evaluate_model would run)
    t1 = time.perf_counter()
    emb = P.ParsnipEmbedder(model, register_ztf=False, redshift="zero" if zblind else "true")
    E = emb.embed_lightcurve(records)
    t_embed = time.perf_counter() - t1
    out = P.embeddings_path(work, "parsnip", a.variant)
    meta = {"peer": "parsnip", "variant": a.variant, "redshift_mode": emb.redshift, "features": list(emb.features), "settings": settings,
            "arch": a.arch, "n_parameters": n_params, "n_train": len(train), "passes": passes,
            "light_curves_seen": passes * len(train), "train_seconds": round(t_train, 1),
            "embed_seconds": round(t_embed, 1), "total_seconds": round(time.perf_counter() - t_start, 1),
            "loss_per_pass": [round(x, 3) for x in losses], "seed": a.seed, "model_path": str(model_path),
            "environment": environment()}
    write_peer_embeddings(out, E, records, metadata=meta)
    dump_json(out.with_suffix(".json"), meta)
    print(f"train {t_train:.0f} s ({passes} passes), embed {t_embed:.1f} s")


if __name__ == "__main__":
    main()
