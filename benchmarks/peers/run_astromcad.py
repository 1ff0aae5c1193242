"""Embed the ZTF BTS light curves with astromcad's shipped, pretrained classifier (its 100-d ``latent``
layer) and write the embeddings to Parquet.

Run in the astromcad venv (NOT the astroembed one), after ``export_ztf_bts.py``::

    OMP_NUM_THREADS=1 nice -n 15 venv-astromcad/bin/python benchmarks/peers/run_astromcad.py --variant nohost
    OMP_NUM_THREADS=1 nice -n 15 venv-astromcad/bin/python benchmarks/peers/run_astromcad.py --variant host

``nohost`` uses ``NoHostClassifier.h5`` (light curve only: fair for classification and redshift probes);
``host`` uses ``HostClassifier.h5``, whose second input is [redshift, MW E(B-V)] — the redshift is an input,
so evaluate it for classification only.  Both models ship inside the astromcad 1.2.7 wheel (trained by its
authors on simulated ZTF g/r light curves of 12 transient classes); nothing is trained or downloaded here,
and none of these ZTF BTS objects was seen in their training.  The input encoding (passband µm, time,
normalised flux, flux error; 656 zero-padded steps) is reconstructed in
``astroembed.evaluate.peers.astromcad_sequence`` from the package's example and training code.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
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


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", default=str(DEFAULT_WORK))
    p.add_argument("--export", default=None)
    p.add_argument("--variant", choices=["nohost", "host"], default="nohost")
    p.add_argument("--flux-norm", choices=["minmax", "max", "zp27.5/500"], default="minmax")
    p.add_argument("--swap-bands", action="store_true", help="g <-> r passband values, as in the authors' notebook")
    p.add_argument("--max-objects", type=int, default=None)
    p.add_argument("--out", default=None, help="embedding file (default <work>/astromcad-<variant>_ztf_bts.parquet)")
    a = p.parse_args(argv)
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    P = peers_module()
    work = Path(a.work)
    t0 = time.perf_counter()
    records = read_export(Path(a.export) if a.export else work / EXPORT_NAME)
    if a.max_objects:
        records = records[:a.max_objects]
    emb = P.AstromcadEmbedder(host=a.variant == "host", flux_norm=a.flux_norm, swap_bands=a.swap_bands)
    t_load = time.perf_counter() - t0
    t1 = time.perf_counter()
    E = emb.embed_lightcurve(records)
    t_embed = time.perf_counter() - t1
    X = np.stack([P.astromcad_sequence(r, flux_norm=a.flux_norm, swap_bands=a.swap_bands) for r in records])
    n_steps = (X != 0).any(axis=2).sum(axis=1)
    # sanity check of the input encoding: what the shipped classifier itself predicts for each true class
    if emb.host:
        H = np.array([[np.nan if r.redshift is None else r.redshift, r.mwebv or 0.0] for r in records], np.float32)
        ok = np.isfinite(H).all(axis=1)
        prob = np.full((len(records), len(emb.classes)), np.nan)
        prob[ok] = emb.classifier.predict([X[ok], H[ok]], batch_size=256, verbose=0)
    else:
        prob = emb.classifier.predict(X, batch_size=256, verbose=0)
    pred = [emb.classes[i] if np.isfinite(p_).all() else None for i, p_ in zip(np.nanargmax(np.nan_to_num(prob, nan=-1), 1), prob)]
    crosstab = {}
    for r, c in zip(records, pred):
        crosstab.setdefault(r.label, {}).setdefault(c, 0)
        crosstab[r.label][c] += 1
    out = Path(a.out) if a.out else P.embeddings_path(work, "astromcad", a.variant)
    meta = {"peer": "astromcad", "variant": a.variant, "flux_norm": a.flux_norm, "swap_bands": a.swap_bands, "dim": emb.dim, "pretrained": True, "trained_here": False,
            "load_route": emb.load_route, "load_seconds": round(t_load, 1), "embed_seconds": round(t_embed, 1),
            "objects_per_second": round(len(records) / max(t_embed, 1e-9), 1),
            "steps_per_object": {"median": float(np.median(n_steps)), "min": int(n_steps.min()),
                                 "max": int(n_steps.max())},
            "n_all_zero_latent": int((np.abs(np.nan_to_num(E)) < 1e-12).all(axis=1).sum()),
            "n_dead_units": int((np.nan_to_num(E) <= 0).all(axis=0).sum()),
            "shipped_classifier_predictions_by_true_class": crosstab, "environment": environment()}
    write_peer_embeddings(out, E, records, metadata=meta)
    dump_json(out.with_suffix(".json"), meta)
    print(meta)


if __name__ == "__main__":
    main()
