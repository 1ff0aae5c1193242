"""Real-data loaders on the shipped excerpt (tests/data/excerpt), band mapping, data-dir resolution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from astroembed.data.bands import band_wavelength, resolve_band
from astroembed.datasets import (
    DATA_ENV_VAR,
    load_foundation,
    load_osc_pairs,
    load_ztf_bts,
    map_osc_band,
    map_osc_photometry,
    resolve_data_dir,
)
from astroembed.datasets.osc_bands import VEGA_TO_AB
from astroembed.labels import MAVEN5

EXCERPT = Path(__file__).parent / "data" / "excerpt"


# ---------------------------------------------------------------- data directory -----------------
def test_missing_data_dir_names_env_var(tmp_path):
    with pytest.raises(FileNotFoundError, match=DATA_ENV_VAR):
        load_ztf_bts(tmp_path / "nowhere")


def test_env_var_is_used(monkeypatch):
    monkeypatch.setenv(DATA_ENV_VAR, str(EXCERPT))
    assert resolve_data_dir(None, "ztf_bts") == EXCERPT
    ds = load_foundation()
    assert len(ds) == pd.read_parquet(EXCERPT / "foundation_dr1/objects.parquet").shape[0]


# ---------------------------------------------------------------- ZTF BTS ------------------------
def _ztf_expected(classes_col, min_det=5, require_z=False):
    o = pd.read_parquet(EXCERPT / "ztf_bts/objects.parquet")
    lc = pd.read_parquet(EXCERPT / "ztf_bts/lightcurves.parquet")
    lc = lc[lc.band.astype(str).isin(["ztfg", "ztfr"])]
    n = lc.drop_duplicates(["ztfid", "mjd", "band"]).groupby("ztfid").size()
    o = o[o.ztfid.isin(n[n >= min_det].index)]
    if classes_col:
        o = o[o[classes_col].notna()]
    if require_z:
        o = o[np.isfinite(o.redshift)]
    return o.set_index("ztfid")


@pytest.mark.parametrize("classes,col", [("maven5", "class_maven5"), ("maven3", "class_maven3"), (None, None)])
def test_ztf_counts_and_labels(classes, col):
    ds = load_ztf_bts(EXCERPT, classes=classes)
    exp = _ztf_expected(col)
    assert sorted(ds.object_ids.tolist()) == sorted(exp.index.tolist())
    lab_col = col or "class_broad"
    for lc in ds.lightcurves:
        assert lc.label == exp.loc[lc.object_id, lab_col]
        assert len(lc) >= 5 and set(lc.bands) <= {"ztfg", "ztfr"}
        z = exp.loc[lc.object_id, "redshift"]
        assert (lc.redshift is None and not np.isfinite(z)) or lc.redshift == pytest.approx(z)
        assert lc.mwebv == pytest.approx(exp.loc[lc.object_id, "mw_av"] / 3.1)
    if classes == "maven3":
        assert set(ds.labels.tolist()) <= {"Ia", "II", "Ibc"}
    assert list(ds.objects.object_id) == [lc.object_id for lc in ds.lightcurves]


def test_ztf_magnitudes_roundtrip_and_filters():
    ds = load_ztf_bts(EXCERPT, require_redshift=True, min_detections=20)
    assert np.isfinite(ds.redshifts).all()
    assert (ds.objects.n_obs >= 20).all()
    raw = pd.read_parquet(EXCERPT / "ztf_bts/lightcurves.parquet")
    lc = ds.lightcurves[0]
    r = raw[raw.ztfid == lc.object_id].sort_values(["mjd"])
    np.testing.assert_allclose(np.sort(lc.mag), np.sort(r.mag.to_numpy(np.float64)), atol=1e-4)
    with pytest.raises(ValueError, match="classes"):
        load_ztf_bts(EXCERPT, classes="maven4")


# ---------------------------------------------------------------- OSC band mapping ---------------
@pytest.mark.parametrize("args,band,offset", [
    (("R", None, "P48"), "ptf48r", 0.0),
    (("R", "AB", "p48"), "ptf48r", 0.0),
    (("V", "Vega", "Swift", "UVOT"), "uvotv", VEGA_TO_AB["uvotv"]),
    (("UVW2", "Vega", "Swift", "UVOT"), "uvw2", 1.73),
    (("W1", "AB", "Swift"), "uvw1", 0.0),
    (("I", "Vega"), "besselli", 0.45),
    (("I", None, "kait4"), "besselli", 0.45),
    (("R", "AB", "NTT", "EFOSC"), "bessellr", 0.0),
    (("g", None, "PS1", "GPC"), "ps1g", 0.0),
    (("g", None, "LT"), "sdssg", 0.0),
    (("r'", "SDSS"), "sdssr", 0.0),
    (("C", None, "Catalina Schmidt"), "bessellv", 0.02),
    (("clear", None, "kait4"), "bessellr", 0.21),
    (("G", None, "GAIA", "Astrometric"), "gaiag", 0.105),
    (("G", "AB", "NTT", "EFOSC"), "sdssg", 0.0),
    (("z", None, "DECAM"), "decamz", 0.0),
    (("Ks", None, "PAIRITEL"), "2massks", 1.85),
    (("gr", None, None, "LSQ"), None, 0.0),
    (("I1", None, "Spitzer", "IRAC"), None, 0.0),
    (("R1pg",), None, 0.0),
    (("XYZ",), None, 0.0),
])
def test_map_osc_band(args, band, offset):
    got, off, rule = map_osc_band(*args)
    assert got == band, rule
    assert off == pytest.approx(offset)


def test_every_mapped_excerpt_band_is_registered():
    ph = pd.read_parquet(EXCERPT / "oac_2010_2014/photometry.parquet")
    m = map_osc_photometry(ph)
    mapped = m.reg_band.dropna().unique()
    assert len(mapped) > 5
    for b in mapped:
        assert resolve_band(b) == b
        assert 1000 < band_wavelength(b) < 30000
    ok = m.reg_band.notna()
    np.testing.assert_allclose(m.mag_ab[ok], m.mag[ok].astype(float) + m.ab_offset[ok])


# ---------------------------------------------------------------- OSC pairs ----------------------
def test_osc_pairs_alignment_and_mosfit_exclusion():
    ds = load_osc_pairs(EXCERPT)
    assert ds.paired and len(ds.spectra) == len(ds.lightcurves) == len(ds.objects) > 10
    ph = pd.read_parquet(EXCERPT / "oac_2010_2014/photometry.parquet")
    mosfit_names = set(ph.loc[ph.refs == "MOSFiT", "name"])
    assert mosfit_names, "the excerpt must contain MOSFiT rows"
    for lc, sp in zip(ds.lightcurves, ds.spectra):
        assert lc.object_id == sp.object_id and lc.label == sp.label and lc.redshift == sp.redshift
        assert sp.frame == "observed" and sp.wavelength[-1] > 2000
        assert len(lc) >= 10
        assert np.isfinite(lc.mag).all() and lc.mag.max() < 30  # MOSFiT realisations reach mag 70
        real = ph[(ph.name == lc.object_id) & (ph.refs != "MOSFiT")]
        assert lc.meta["n_points_raw"] <= len(real)
    assert ds.dropped.set_index("reason").loc["MOSFiT model realisation (not an observation)", "count"] == \
        (ph.refs == "MOSFiT").sum()
    assert len(set(ds.object_ids.tolist())) == len(ds)


def test_osc_vega_offset_applied():
    ds = load_osc_pairs(EXCERPT)
    ph = pd.read_parquet(EXCERPT / "oac_2010_2014/photometry.parquet")
    ph = ph[(ph.refs != "MOSFiT")]
    m = map_osc_photometry(ph)
    # a point in a Vega band that is unique in its (name, mjd, band): the container must hold raw + offset
    m = m[m.reg_band.notna() & (m.ab_offset != 0)]
    m = m[~m.duplicated(["name", "mjd", "reg_band"], keep=False) & m.name.isin(ds.object_ids)]
    assert len(m) > 0
    row = m.iloc[0]
    lc = ds.lightcurves[list(ds.object_ids).index(row["name"])]
    sel = (lc.time == row.mjd) & (lc.band == row.reg_band)
    assert sel.sum() == 1
    assert lc.mag[sel][0] == pytest.approx(float(row.mag) + row.ab_offset, abs=1e-4)


def test_osc_magerr_policy_and_spectrum_rules():
    fill = load_osc_pairs(EXCERPT)
    drop = load_osc_pairs(EXCERPT, magerr_policy="drop")
    assert fill.objects.n_filled_magerr.sum() > 0
    assert len(drop) <= len(fill)
    assert all(lc.meta["n_filled_magerr"] == 0 for lc in drop.lightcurves)
    with pytest.raises(ValueError, match="magerr_policy"):
        load_osc_pairs(EXCERPT, magerr_policy="guess")
    allp = load_osc_pairs(EXCERPT, spectrum="all")
    assert set(allp.object_ids.tolist()) == set(fill.object_ids.tolist())
    assert len(allp) >= len(fill)
    # "peak": the chosen spectrum is the closest in time to the reference epoch among that SN's spectra
    for oid, row in fill.objects.set_index("object_id").iterrows():
        cands = allp.objects[allp.objects.object_id == oid]
        assert abs(row.spec_phase) == pytest.approx(np.min(np.abs(cands.spec_mjd - row.peak_mjd)))
    cov = load_osc_pairs(EXCERPT, spectrum="coverage")
    for oid, row in cov.objects.set_index("object_id").iterrows():
        cands = allp.objects[allp.objects.object_id == oid]
        assert row.spec_wmax - row.spec_wmin == pytest.approx(np.max(cands.spec_wmax - cands.spec_wmin))
    m5 = load_osc_pairs(EXCERPT, classes="maven5")
    broad = fill.objects.set_index("object_id")["label"]
    assert m5.object_ids.tolist() == [o for o in fill.object_ids if broad[o] in MAVEN5]  # exactly those, in order
    assert len(m5) < len(fill)  # the excerpt has other classes, so the filter is exercised


# ---------------------------------------------------------------- Foundation ---------------------
def test_foundation_flux_matches_catalogue_mags():
    ds = load_foundation(EXCERPT)
    raw = pd.read_parquet(EXCERPT / "foundation_dr1/lightcurves.parquet")
    assert set(ds.labels.tolist()) == {"Ia"}
    lc = ds.lightcurves[0]
    r = raw[(raw.snid == lc.object_id) & (raw.fluxcal > 0)]
    expect = np.sort(27.5 - 2.5 * np.log10(r.fluxcal.to_numpy(np.float64)))
    got = np.sort(lc.mag[np.isfinite(lc.mag)])
    np.testing.assert_allclose(got, expect, atol=1e-4)
    assert set(lc.bands) <= {"ps1g", "ps1r", "ps1i", "ps1z"}
    cat = pd.read_parquet(EXCERPT / "foundation_dr1/objects.parquet").set_index("snid")
    for lc in ds.lightcurves:  # heliocentric by default; z_cmb on request
        assert lc.redshift == pytest.approx(cat.loc[lc.object_id, "z_helio"])
    cmb = load_foundation(EXCERPT, redshift="z_cmb")
    assert cmb.redshifts == pytest.approx(cat.loc[cmb.object_ids.tolist(), "z_cmb"].to_numpy(), nan_ok=True)
