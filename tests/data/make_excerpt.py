"""Derive the tiny test excerpt under tests/data/excerpt/ from the real data (../shared/data).

Run from the repository root:  python tests/data/make_excerpt.py [SOURCE_DIR]
The selection is deterministic (seeded); see tests/data/README.md for credit and contents.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

SRC = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
DST = Path(__file__).parent / "excerpt"
rng = np.random.default_rng(7)


def pick(ids, n):
    ids = sorted(set(ids))
    return list(rng.choice(ids, size=min(n, len(ids)), replace=False))


def write(df, rel):
    p = DST / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(p, compression="zstd", index=False)


# --- ztf_bts: per class, plus unlabelled objects and objects without a light curve ---------------
o = pd.read_parquet(SRC / "ztf_bts/objects.parquet")
lc = pd.read_parquet(SRC / "ztf_bts/lightcurves.parquet")
npts = lc.groupby("ztfid").size()
short = set(npts[npts < 5].index)
ids = []
for cls, n in (("Ia", 12), ("II", 8), ("Ibc", 6), ("IIn", 6), ("SLSN-I", 5)):
    ids += pick(o.loc[o.has_lc & (o.class_maven5 == cls) & ~o.ztfid.isin(short), "ztfid"], n)
ids += pick(o.loc[o.has_lc & o.class_maven5.isna(), "ztfid"], 3)
ids += pick(o.loc[o.has_lc & o.ztfid.isin(short) & o.class_maven5.notna(), "ztfid"], 2)
ids += pick(o.loc[o.has_lc & o.redshift.isna(), "ztfid"], 1)
ids += pick(o.loc[~o.has_lc, "ztfid"], 2)
write(o[o.ztfid.isin(ids)], "ztf_bts/objects.parquet")
write(lc[lc.ztfid.isin(ids)], "ztf_bts/lightcurves.parquet")

# --- oac_2010_2014: SNe with >= 10 real points across classes, with few spectra, + edge cases ------
oo = pd.read_parquet(SRC / "oac_2010_2014/objects.parquet")
ph = pd.read_parquet(SRC / "oac_2010_2014/photometry.parquet")
sp = pd.read_parquet(SRC / "oac_2010_2014/spectra.parquet")
real = ph[ph.refs != "MOSFiT"]
nreal = real.groupby("name").size()
nspec = sp.groupby("name").size()
maxpix = sp.groupby("name").n_points.max()
ok = set(nreal[(nreal >= 14) & (nreal <= 150)].index) & set(nspec[nspec <= 3].index) & set(maxpix[maxpix <= 1500].index)
names = []
for cls, n in (("Ia", 10), ("II", 6), ("Ibc", 5), ("IIn", 5), ("SLSN-I", 5), ("other", 1)):
    names += pick(oo.loc[(oo.class_broad == cls) & oo.name.isin(ok), "name"], n)
names += pick(real.loc[real.magerr.isna() & real.name.isin(ok), "name"], 2)          # missing magerr
names += pick(real.loc[real.telescope.eq("Swift") & real.name.isin(ok), "name"], 1)   # Vega UVOT
names += pick(set(nreal[nreal < 10].index) & set(nspec.index), 2)                     # too short
mosfit_sn = sorted(set(ph.loc[ph.refs == "MOSFiT", "name"]) & set(nspec[nspec <= 3].index))[:1]
names += mosfit_sn
bad_wave = sp[sp.wave.apply(lambda w: np.max(w) < 2000)]
names += pick(set(bad_wave.name) & set(nreal[nreal >= 10].index) & set(nspec[nspec <= 4].index), 1)
names = sorted(set(names))
phx = ph[ph.name.isin(names)]
# keep the MOSFiT rows of one SN, thinned to 300, so the loader's exclusion is exercised
mos = phx[phx.refs == "MOSFiT"]
phx = pd.concat([phx[phx.refs != "MOSFiT"], mos.iloc[:300]]).sort_values(["name", "mjd"], kind="stable")
write(oo[oo.name.isin(names)], "oac_2010_2014/objects.parquet")
write(phx, "oac_2010_2014/photometry.parquet")
write(sp[sp.name.isin(names)], "oac_2010_2014/spectra.parquet")

# --- foundation_dr1: 8 SNe ------------------------------------------------------------------------
fo = pd.read_parquet(SRC / "foundation_dr1/objects.parquet")
fl = pd.read_parquet(SRC / "foundation_dr1/lightcurves.parquet")
sn = pick(fo.snid, 8)
write(fo[fo.snid.isin(sn)], "foundation_dr1/objects.parquet")
write(fl[fl.snid.isin(sn)], "foundation_dr1/lightcurves.parquet")
print("excerpt written to", DST)
