"""Offline script that derives the simulator's small package data from public sources.

Run once by a maintainer (not at import time)::

    python -m astroembed.simulate.build_package_data \
        --shared ../shared/data --lemaitre /path/to/lemaitre_bandpasses-0.4.3/src/lemaitre/bandpasses/data

It writes

* ``_package_data/filters/ztf_{g,r,i}.ecsv`` -- ZTF P48 total bandpasses (mean of the 16 CCDs of the
  ``ztf_filters_tcbp_v6`` set shipped by the PyPI package ``lemaitre-bandpasses`` 0.4.3, MIT,
  Rosnet et al., ZTF-II IN2P3 group), resampled to 10 Å;
* ``_package_data/sim_templates/templates.npz`` -- a compact excerpt of spectral-feature templates
  (continuum-divided, rest frame, SNID log-λ grid, float16): SNID templates (Blondin & Tonry 2007;
  Liu & Modjaz 2016; BSNIP) and, continuum-divided here, superfit (Howell et al. 2005) and the
  astrodash SLSN-I set, all from ``daniel-muthukrishna/astrodash`` (MIT).

The population fit lives in :mod:`astroembed.simulate.fit_populations`.
"""

from __future__ import annotations

import argparse
import glob
import json
from pathlib import Path

import numpy as np

PKG = Path(__file__).resolve().parents[1] / "_package_data"

# phase window kept per class (rest-frame days from peak) and the phase nodes used to thin epochs
PHASE_WINDOW = {"Ia": (-20, 80), "Ibc": (-20, 90), "IIb": (-20, 100), "II": (-20, 160),
                "IIn": (-20, 200), "SLSN-I": (-45, 160)}
NODES = np.array([-30, -15, -10, -5, 0, 5, 10, 15, 20, 30, 45, 60, 80, 100, 130, 160, 200])
MAX_IA_SNE = 110
MAX_EPOCHS_PER_SN = 12


def build_filters(lemaitre_data: Path) -> None:
    for b in "gri":
        files = sorted(glob.glob(str(lemaitre_data / "ztf_filters_tcbp_v6" / f"ztf{b}_*.txt")))
        if len(files) != 16:
            raise FileNotFoundError(f"expected 16 CCD curves for ztf{b} under {lemaitre_data}")
        arr = [np.loadtxt(f, skiprows=1) for f in files]
        wave = arr[0][:, 0] * 10.0
        trans = np.mean([a[:, 1] for a in arr], axis=0)
        grid = np.arange(3000.0, 11001.0, 10.0)
        t = np.interp(grid, wave, trans)
        t[t < 2e-3 * t.max()] = 0.0
        nz = np.flatnonzero(t)
        lo, hi = max(nz[0] - 1, 0), min(nz[-1] + 2, len(grid))
        grid, t = grid[lo:hi], t[lo:hi]
        header = [
            "# %ECSV 1.0",
            "# ---",
            "# datatype:",
            "# - {name: wavelength, unit: Angstrom, datatype: float64}",
            "# - {name: transmission, datatype: float64}",
            "# meta:",
            f"#   band: ztf{b}",
            "#   description: ZTF P48 total bandpass (telescope+camera), mean of the 16 CCDs, resampled to 10 A",
            "#   source: PyPI lemaitre-bandpasses 0.4.3, data/ztf_filters_tcbp_v6 (Rosnet et al., ZTF-II IN2P3)",
            "#   licence: MIT (c) 2024 Nicolas Regnault",
            "#   derived_by: astroembed.simulate.build_package_data",
            "# schema: astropy-2.0",
            "wavelength transmission",
        ]
        lines = [f"{w:.1f} {v:.6f}" for w, v in zip(grid, t, strict=False)]
        (PKG / "filters" / f"ztf{b}.ecsv").write_text("\n".join(header + lines) + "\n")


def _norm_name(name: str) -> str:
    n = str(name).lower().replace(" ", "")
    return n[2:] if n.startswith("sn") and n[2:3].isdigit() else n


def _thin_epochs(phases: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Indices of at most MAX_EPOCHS_PER_SN epochs inside [lo, hi], the ones nearest the nodes."""
    ok = np.flatnonzero((phases >= lo) & (phases <= hi))
    if len(ok) <= MAX_EPOCHS_PER_SN:
        return ok
    chosen = []
    for node in NODES[(NODES >= lo) & (NODES <= hi)]:
        j = ok[np.argmin(np.abs(phases[ok] - node))]
        if j not in chosen:
            chosen.append(j)
    return np.array(sorted(chosen)[:MAX_EPOCHS_PER_SN], dtype=int)


def continuum_divide(wave_rest, flux, grid):
    """SNID-like flattening of a spectrum with continuum: rebin to the log grid, divide by a smooth
    spline continuum (knots every 0.1 in ln λ), subtract 1, taper 5% at each end.

    Returns (flat, lo, hi) with ``flat`` zero outside the valid bins [lo, hi).
    """
    from scipy.interpolate import LSQUnivariateSpline

    w, f = np.asarray(wave_rest, float), np.asarray(flux, float)
    good = np.isfinite(w) & np.isfinite(f)
    w, f = w[good], f[good]
    order = np.argsort(w)
    w, f = w[order], f[order]
    inside = (grid >= w[0]) & (grid <= w[-1])
    idx = np.flatnonzero(inside)
    if len(idx) < 60:
        return None
    lo, hi = idx[0], idx[-1] + 1
    fr = np.interp(grid[lo:hi], w, f)
    scale = np.nanmedian(np.abs(fr))
    if not np.isfinite(scale) or scale <= 0:
        return None
    fr = fr / scale
    x = np.log(grid[lo:hi])
    knots = np.arange(x[0] + 0.1, x[-1] - 0.05, 0.1)
    # fit in a robust way: two passes with clipping of strong lines
    wts = np.ones_like(fr)
    for _ in range(2):
        spl = LSQUnivariateSpline(x, fr, knots, w=wts, k=3)
        cont = spl(x)
        resid = fr - cont
        sig = 1.4826 * np.median(np.abs(resid))
        wts = np.where(np.abs(resid) > 3 * sig, 0.1, 1.0)
    cont = np.clip(cont, 0.05 * np.max(cont), None)
    flat = np.zeros(len(grid))
    seg = fr / cont - 1.0
    n = hi - lo
    taper = np.ones(n)
    m = max(int(0.05 * n), 1)
    ramp = 0.5 * (1 - np.cos(np.linspace(0, np.pi, m)))
    taper[:m], taper[-m:] = ramp, ramp[::-1]
    flat[lo:hi] = np.clip(seg, -1.0, 5.0) * taper
    return flat, lo, hi


def build_templates(shared: Path) -> None:
    import pandas as pd

    grid = np.load(shared / "spectra_templates" / "snid_wave_grid.npy")
    snid = pd.read_parquet(shared / "spectra_templates" / "snid_templates.parquet")
    raw = pd.read_parquet(shared / "spectra_templates" / "raw_template_spectra.parquet")
    rng = np.random.default_rng(20240601)
    rows = []  # (class, subtype, sn_name, source, phase, flat, lo, hi)

    seen = set()
    for cls, (lo_p, hi_p) in PHASE_WINDOW.items():
        sub = snid[snid.class_broad == cls]
        names = sorted(sub.sn_name.unique())
        if cls == "Ia" and len(names) > MAX_IA_SNE:  # a random, type-stratified subset of SNe
            by_type = sub.groupby("sn_name").snid_type.first()
            keep = []
            for _t, grp in by_type.groupby(by_type):
                k = max(1, round(MAX_IA_SNE * len(grp) / len(by_type)))
                keep += list(rng.choice(grp.index.to_numpy(), size=min(k, len(grp)), replace=False))
            names = sorted(keep)
        for name in names:
            e = sub[sub.sn_name == name].sort_values("phase_days")
            ph = e.phase_days.to_numpy(float)
            for j in _thin_epochs(ph, lo_p, hi_p):
                r = e.iloc[j]
                rows.append((cls, r.snid_type, name, "snid", float(ph[j]), np.asarray(r.flux, np.float32),
                             int(r.valid_lo), int(r.valid_hi) + 1))
            if len(_thin_epochs(ph, lo_p, hi_p)):
                seen.add(_norm_name(name))
    # superfit + SLSN spectra with continuum: continuum-divide them here; skip SNe already in SNID
    raw = raw[raw.class_broad.isin(["Ia", "Ibc", "II", "SLSN-I"])]
    for (cls, name), e in raw.groupby(["class_broad", "sn_name"]):
        if _norm_name(name) in seen or (cls == "Ia"):  # Ia is well covered by SNID
            continue
        e = e.drop_duplicates("phase_days").sort_values("phase_days")
        ph = e.phase_days.to_numpy(float)
        lo_p, hi_p = PHASE_WINDOW[cls]
        for j in _thin_epochs(ph, lo_p, hi_p):
            r = e.iloc[j]
            res = continuum_divide(r.wave, r.flux, grid)
            if res is None:
                continue
            flat, lo, hi = res
            rows.append((cls, str(r.type_raw), str(name), str(r.collection), float(ph[j]),
                         flat.astype(np.float32), lo, hi))
        seen.add(_norm_name(name))

    rows.sort(key=lambda r: (r[0], r[2], r[4]))
    sn_keys = sorted({(r[0], r[2]) for r in rows})
    sn_index = {k: i for i, k in enumerate(sn_keys)}
    out = dict(
        wave=grid.astype(np.float64),
        flux=np.stack([r[5] for r in rows]).astype(np.float16),
        phase=np.array([r[4] for r in rows], np.float32),
        valid_lo=np.array([r[6] for r in rows], np.int16),
        valid_hi=np.array([r[7] for r in rows], np.int16),
        sn=np.array([sn_index[(r[0], r[2])] for r in rows], np.int32),
        sn_name=np.array([k[1] for k in sn_keys]),
        sn_class=np.array([k[0] for k in sn_keys]),
        sn_subtype=np.array([next(r[1] for r in rows if (r[0], r[2]) == k) for k in sn_keys]),
        sn_source=np.array([next(r[3] for r in rows if (r[0], r[2]) == k) for k in sn_keys]),
    )
    np.savez_compressed(PKG / "sim_templates" / "templates.npz", **out)
    summary = {c: {"n_sne": int(np.sum(out["sn_class"] == c)),
                   "n_spectra": int(np.sum(out["sn_class"][out["sn"]] == c))} for c in PHASE_WINDOW}
    (PKG / "sim_templates" / "templates_summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", type=Path, default=Path("../shared/data"))
    p.add_argument("--lemaitre", type=Path, default=None, help="lemaitre/bandpasses/data directory")
    a = p.parse_args(argv)
    if a.lemaitre is not None:
        build_filters(a.lemaitre)
    build_templates(a.shared)


if __name__ == "__main__":
    main()
