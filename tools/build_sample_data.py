"""Build the small real-data excerpt shipped in ``astroembed/_sample_data`` for ``astroembed demo``.

Derived from the development data in ../shared/data (see its README for provenance and licences):
- ``ztf_bts_sample.parquet``: light curves of 300 ZTF Bright Transient Survey SNe with a Maven 5-class
  label and a redshift (random, seed 0); long format: object_id, mjd, band, mag, magerr.
- ``ztf_bts_objects.parquet``: object_id, label, redshift of those SNe.
- ``osc_pairs_sample.parquet``: 24 Open Supernova Catalog light curve + spectrum pairs (one row per SN,
  photometry and spectrum as list columns), Maven 5 classes.

The object ids are listed in ``demo_ids.json``; the shipped model's fine-tuning excludes them
(``astroembed.demo.demo_object_ids``) so the demo shows numbers on objects the model never saw.

Run: python tools/build_sample_data.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from astroembed.datasets import load_osc_pairs, load_ztf_bts

OUT = Path(__file__).resolve().parents[1] / "src" / "astroembed" / "_sample_data"


def _bin_pixels(wave, flux, max_pixels):
    """Average groups of adjacent pixels so that at most ``max_pixels`` remain (keeps the excerpt small)."""
    g = int(np.ceil(len(wave) / max_pixels))
    n = len(wave) // g * g
    return wave[:n].reshape(-1, g).mean(1), flux[:n].reshape(-1, g).mean(1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=None)
    ap.add_argument("--n-bts", type=int, default=300)
    ap.add_argument("--n-osc", type=int, default=24)
    args = ap.parse_args()
    rng = np.random.default_rng(0)

    bts = load_ztf_bts(args.data, classes="maven5", min_detections=10, require_redshift=True)
    pick = np.sort(rng.choice(len(bts.lightcurves), args.n_bts, replace=False))
    rows, objs = [], []
    for i in pick:
        lc = bts.lightcurves[i]
        rows.append(pd.DataFrame({"object_id": lc.object_id, "mjd": lc.time, "band": lc.band,
                                  "mag": lc.mag.astype(np.float32), "magerr": lc.mag_err.astype(np.float32)}))
        objs.append({"object_id": lc.object_id, "label": lc.label, "redshift": lc.redshift})
    pd.concat(rows).to_parquet(OUT / "ztf_bts_sample.parquet", index=False)
    pd.DataFrame(objs).to_parquet(OUT / "ztf_bts_objects.parquet", index=False)

    # widest-coverage spectrum per SN: the peak-closest one is sometimes a narrow line snippet
    osc = load_osc_pairs(args.data, classes="maven5", min_detections=10, spectrum="coverage")
    pick = np.sort(rng.choice(len(osc.lightcurves), args.n_osc, replace=False))
    recs = []
    for i in pick:
        lc, sp = osc.lightcurves[i], osc.spectra[i]
        wave, flux = _bin_pixels(sp.wavelength, sp.flux, 800)
        recs.append({"object_id": str(lc.object_id), "label": lc.label, "redshift": lc.redshift,
                     "mjd": lc.time.tolist(), "band": lc.band.tolist(), "flux_ujy": lc.flux.astype(np.float32).tolist(),
                     "flux_err_ujy": lc.flux_err.astype(np.float32).tolist(),
                     "wavelength": wave.astype(np.float32).tolist(),
                     "flux": (flux / np.median(np.abs(flux))).astype(np.float32).tolist(),
                     "spec_mjd": sp.mjd})
    pd.DataFrame(recs).to_parquet(OUT / "osc_pairs_sample.parquet", index=False)
    ids = {"ztf_bts": [o["object_id"] for o in objs], "osc": [r["object_id"] for r in recs]}
    (OUT / "demo_ids.json").write_text(json.dumps(ids, indent=1) + "\n")
    for f in sorted(OUT.glob("*.parquet")):
        print(f.name, f"{f.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
