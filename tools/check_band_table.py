"""What the per-model band table protects: for every bundled model, the embeddings of the bundled BTS
sample light curves (a) as loaded (the model's recorded table), (b) recomputed with astroembed 0.1's table
pinned by hand, and (c) the same weights with the live registry (what an un-pinned model would give
after the 0.2 change of the ZTF wavelengths).  Prints cosine similarities (median, min) a-b and a-c.

    OMP_NUM_THREADS=1 PYTHONPATH=src python tools/check_band_table.py
"""

from __future__ import annotations

import numpy as np


def main() -> int:
    import astroembed as ae
    from astroembed.data.bands import LEGACY_BAND_WAVELENGTHS, pinned_band_wavelengths
    from astroembed.demo import load_sample_data

    lcs = load_sample_data()["bts"]
    print(f"{len(lcs)} bundled BTS sample light curves (ZTF g/r)")
    print("| model | ZTF g/r/i it encodes with (Å) | cos(loaded, 0.1 table) median / min | "
          "cos(loaded, live 0.2 registry) median / min | n |")
    print("|---|---|---|---|---|")
    for name in ("maven", "maven-sim", "maven-ssl", "simfm", "transceiver", "applecider"):
        m = ae.load_pretrained(name)
        a = m.embed_lightcurve(lcs, progress=False, errors="coerce")
        table = m.band_wavelengths
        m.pin_band_wavelengths(None)
        with pinned_band_wavelengths(LEGACY_BAND_WAVELENGTHS):
            b = m.embed_lightcurve(lcs, progress=False, errors="coerce")
        c = m.embed_lightcurve(lcs, progress=False, errors="coerce")
        ok = np.isfinite(a).all(1)  # coerce: objects a model cannot embed (NaN rows) are left out
        cb, cc = np.sum(a[ok] * b[ok], 1), np.sum(a[ok] * c[ok], 1)
        ztf = "/".join(f"{table[k]:.1f}" for k in ("ztfg", "ztfr", "ztfi"))
        print(f"| {name} | {ztf} | {np.median(cb):.6f} / {cb.min():.6f} | {np.median(cc):.3f} / {cc.min():.3f} | {int(ok.sum())} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
