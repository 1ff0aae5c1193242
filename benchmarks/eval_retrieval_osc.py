"""OSC light curve → spectrum retrieval of frozen models, on the shipped crossfit folds.

    PYTHONPATH=src python benchmarks/eval_retrieval_osc.py --data-root ../shared/data --out runs/eval_retrieval \
        --model maven-sim --model maven-ssl=DIR

Objects: the OSC light curve + spectrum pairs of the crossfit (``load_osc_pairs``: Maven-5 class, redshift,
≥ 10 detections, the spectrum closest to peak), with their ``crossfit_fold`` from
``_weights/maven/folds.csv``; pairs one of the models cannot embed (e.g. a spectrum outside its grid) are
dropped for every model.  For each fold, the gallery = that fold's spectra, queries = its light curves;
top-1 / top-10 / median rank (pessimistic ties), mean ± std over folds; chance top-10 = 10 / gallery size.
Only frozen models that never saw OSC pairs make sense here (``maven`` v1 was fine-tuned on them).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", default="../shared/data")
    ap.add_argument("--out", required=True)
    ap.add_argument("--model", action="append", default=[], help="NAME or NAME=DIR (repeatable)")
    a = ap.parse_args(argv)

    import astroembed as ae
    from astroembed.datasets import load_osc_pairs
    from astroembed.evaluate import retrieval_metrics, retrieval_ranks

    ds = load_osc_pairs(a.data_root, classes="maven5", require_redshift=True, min_detections=10, spectrum="peak")
    folds = pd.read_csv(Path(ae.__file__).parent / "_weights" / "maven" / "folds.csv", dtype=str)
    folds = folds[folds["dataset"] == "osc"].set_index("object_id")["crossfit_fold"].astype(int).to_dict()
    ids = ds.object_ids.astype(str)
    models = {}
    for spec in a.model:
        name, _, path = spec.partition("=")
        models[name] = ae.load_pretrained(path or name)
    ok = np.array([i in folds for i in ids])
    for m in models.values():
        for k, (lc, sp) in enumerate(zip(ds.lightcurves, ds.spectra)):
            if not ok[k]:
                continue
            try:
                m.preprocess_lightcurve(lc)
                m.preprocess_spectrum(sp)
            except ValueError:
                ok[k] = False
    keep = np.flatnonzero(ok)
    fold = np.array([folds[ids[k]] for k in keep])
    print(f"{len(keep)} OSC pairs with a crossfit fold, embeddable by every model", flush=True)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    res = {}
    for name, m in models.items():
        L = m.embed_lightcurve([ds.lightcurves[k] for k in keep])
        S = m.embed_spectrum([ds.spectra[k] for k in keep])
        rows = []
        for f in sorted(set(fold)):
            te = fold == f
            r = retrieval_metrics(retrieval_ranks(L[te], S[te]))
            r["gallery"] = int(te.sum())
            r["chance_top10"] = min(1.0, 10 / te.sum())
            rows.append(r)
        res[name] = {k: (float(np.mean([r[k] for r in rows])), float(np.std([r[k] for r in rows])))
                     for k in rows[0]}
        print(name, json.dumps(res[name]), flush=True)
    (out / "results.json").write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
