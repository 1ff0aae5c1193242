"""Evaluate a peer's embedding file (written by ``run_<peer>.py`` in the peer's venv) with astroembed's
harness, on the same ZTF BTS objects: ``evaluate_embeddings`` (stratified 5-fold CV over objects,
hyper-parameters by nested CV inside the training folds, Full and Limited scenarios).

    python benchmarks/peers/evaluate_peer.py /tmp/astroembed-peers/parsnip-zblind_ztf_bts.parquet \\
        --out runs/peers/parsnip-zblind

Run in the astroembed environment.  ``--no-redshift`` skips the redshift probes (use it when the peer was
given the redshift as an input, e.g. ParSNIP ``specz``).  ``--transform standardise`` (default) z-scores
every embedding dimension over all objects before the probes (label-free; the probes use cosine kNN and an
RBF SVC, which assume comparable scales — peers' raw features are on arbitrary scales).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("embeddings", help="Parquet file written by a run_<peer>.py script")
    p.add_argument("--out", required=True)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--no-redshift", action="store_true")
    p.add_argument("--no-limited", action="store_true")
    p.add_argument("--transform", choices=["standardise", "none"], default="standardise")
    p.add_argument("--n-splits", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-plots", action="store_true")
    a = p.parse_args(argv)

    from astroembed.datasets import load_ztf_bts
    from astroembed.evaluate import evaluate_embeddings
    from astroembed.evaluate.peers import load_peer_embeddings

    t0 = time.perf_counter()
    ds = load_ztf_bts(a.data_dir, classes="maven5")
    E, keep, meta = load_peer_embeddings(a.embeddings, ds.object_ids)
    if a.transform == "standardise":
        sd = E.std(axis=0)
        E = (E - E.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    name = meta.get("peer", Path(a.embeddings).stem) + (f" {meta['variant']}" if meta.get("variant") else "")
    title = (f"{name} on ztf_bts ({int(keep.sum())} of {len(ds)} objects, D={E.shape[1]}, "
             f"transform={a.transform})")
    report = evaluate_embeddings({"lightcurve": E}, labels=ds.labels[keep],
                                 redshifts=None if a.no_redshift else ds.redshifts[keep],
                                 groups=ds.object_ids[keep], n_splits=a.n_splits, seed=a.seed, hyperparams="nested",
                                 scenarios=("full",) if a.no_limited else ("full", "limited"), title=title)
    report.info.update({"peer_metadata": meta, "embeddings_file": str(a.embeddings), "transform": a.transform,
                        "n_objects": int(keep.sum()), "n_dataset": len(ds),
                        "missing_objects": [str(o) for o in ds.object_ids[~keep]][:50],
                        "redshift_probes": not a.no_redshift, "seconds_total": None})
    out = Path(a.out)
    report.save(out, plots=not a.no_plots)
    if not a.no_plots:
        from astroembed.evaluate.plots import plot_embedding_map

        z = ds.redshifts[keep]
        plot_embedding_map(E, out / "embedding_map_lightcurve.png", labels=ds.labels[keep], redshift=z,
                           title=f"{name}: light-curve embeddings, ztf_bts")
    report.info["seconds_total"] = round(time.perf_counter() - t0, 1)
    report.to_json(out / "results.json")
    print(report.to_markdown())
    print(f"# {report.info['seconds_total']} s; wrote {out}")


if __name__ == "__main__":
    sys.exit(main())
