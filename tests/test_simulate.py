"""Tests of astroembed.simulate: contract, determinism, physics, I/O and bad input (small n, < 60 s)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import astroembed as ae
import astroembed.simulate as sim
from astroembed.simulate.filters import C_AA_S, photometry_matrix, synthetic_flux
from astroembed.simulate.lightcurve_models import brightness
from astroembed.simulate.seds import luminosity_shape


@pytest.fixture(scope="module")
def ztf_small():
    return sim.simulate(n=40, survey="ztf", seed=3)


# -- contract ----------------------------------------------------------------------------------
def test_contract(ztf_small):
    ds = ztf_small
    assert len(ds.lightcurves) == len(ds.spectra) == len(ds.truth) == 40
    assert isinstance(ds.truth, pd.DataFrame)
    for col in ("class", "redshift", "peak_mjd", "peak_absmag", "mw_av", "host_av", "template_sn",
                "template_id", "spec_phase", "spec_mjd", "n_det", "n_tries"):
        assert col in ds.truth.columns, col
    for lc, sp, row, cls in zip(ds.lightcurves, ds.spectra, ds.truth.itertuples(index=False), ds.truth["class"], strict=False):
        assert isinstance(lc, ae.LightCurve) and isinstance(sp, ae.Spectrum)
        assert lc.object_id == sp.object_id == row.object_id
        assert lc.label == sp.label == cls
        assert lc.redshift == pytest.approx(row.redshift) and sp.redshift == pytest.approx(row.redshift)
        assert set(lc.band) <= {"ztfg", "ztfr"}
        assert len(lc) >= 3 and np.all(lc.flux / lc.flux_err >= 5.0)  # alert-style detections
        assert sp.frame == "observed" and 3790 < sp.wavelength[0] < 3900 and sp.wavelength[-1] < 9200
        assert sp.mjd == pytest.approx(row.spec_mjd)
        assert -10 <= row.spec_phase <= 30
    assert set(ds.truth["class"]) <= set(sim.CLASSES)
    assert ds.truth["object_id"].is_unique


def test_n_zero_and_class_mix():
    assert len(sim.simulate(n=0)) == 0
    ds = sim.simulate(n=30, classes="balanced", seed=1)
    assert ds.truth["class"].nunique() >= 4
    ds = sim.simulate(n=5, classes=["SLSN-I"], seed=1)
    assert set(ds.truth["class"]) == {"SLSN-I"}


# -- determinism -------------------------------------------------------------------------------
def test_same_seed_identical_and_different_seed_differs(ztf_small):
    again = sim.simulate(n=40, survey="ztf", seed=3)
    assert all(a.equals(b) for a, b in zip(again.lightcurves, ztf_small.lightcurves, strict=False))
    assert all(a.equals(b) for a, b in zip(again.spectra, ztf_small.spectra, strict=False))
    pd.testing.assert_frame_equal(again.truth, ztf_small.truth)
    other = sim.simulate(n=40, survey="ztf", seed=4)
    assert not np.allclose(other.truth["redshift"], ztf_small.truth["redshift"])


def test_worker_and_chunking_independence(ztf_small):
    cfg = sim.make_config(seed=3, survey="ztf")
    # events in any order / any chunk give the same result as the sequential run
    rev = sim.simulate_events(cfg, [7, 2])
    row = ztf_small.truth.iloc[7]
    for key in ("object_id", "class", "redshift", "peak_mjd", "peak_absmag", "template_sn", "spec_mjd", "n_tries"):
        assert rev[0]["truth"][key] == row[key], key
    assert np.array_equal(rev[1]["lc"]["flux"], ztf_small.lc_table[ztf_small.lc_table.object_id ==
                                                                  rev[1]["truth"]["object_id"]].flux.to_numpy())
    two = sim.simulate(n=12, survey="ztf", seed=3, workers=2)
    assert all(a.equals(b) for a, b in zip(two.lightcurves, ztf_small.lightcurves[:12], strict=False))
    assert all(a.equals(b) for a, b in zip(two.spectra, ztf_small.spectra[:12], strict=False))


# -- physics -----------------------------------------------------------------------------------
def test_synthetic_photometry_flat_fnu():
    w = np.geomspace(2500, 12000, 3000)
    flam = 10.0 * 1e-29 * C_AA_S / w**2  # 10 µJy flat in f_nu
    for b in ("ztfg", "ztfr", "ztfi", "lsstu", "lsstr", "lssty"):
        assert synthetic_flux(w, flam, b) == pytest.approx(10.0, rel=2e-3)


def test_luminosity_shape_half_max_times():
    assert luminosity_shape(0.0, 10, 20, 0.02) == pytest.approx(1.0)
    assert luminosity_shape(-10.0, 10, 20, 0.02) == pytest.approx(0.5, rel=0.01)
    assert luminosity_shape(20.0, 10, 20, 0.02) == pytest.approx(0.5, rel=0.01)
    late = luminosity_shape(np.array([200.0, 300.0]), 10, 20, 0.02)
    assert -2.5 * np.log10(late[1] / late[0]) == pytest.approx(2.0, rel=0.05)  # tail slope in mag/day


def _peak_r(z, n=30, seed=0):
    ds = sim.simulate(n=n, classes=["Ia"], redshift_range=(z * 0.98, z * 1.02), seed=seed, min_detections=0)
    return ds.truth["peak_mag_ztfr"].to_numpy()


def test_ia_at_z005_peaks_like_bts_and_dims_with_z():
    m05 = _peak_r(0.05)
    # real BTS SNe Ia at 0.045 < z < 0.055: median peak 17.9 mag, IQR 17.6-18.2
    assert 17.5 < np.median(m05) < 18.4
    m10 = _peak_r(0.10)
    # 5 log10(d_L ratio) ≈ 1.55 mag from z = 0.05 to 0.10 (+ K-correction)
    assert 1.2 < np.median(m10) - np.median(m05) < 2.0


def test_time_dilation():
    widths = {}
    for z in (0.02, 0.6):
        cfg = sim.make_config(seed=5, survey="lsst", classes=["Ia"], redshift_range=(z, z * 1.01),
                              min_detections=0)
        ratios = []
        for ev in sim.simulate_events(cfg, range(12)):
            t = ev["truth"]
            grid = t["peak_mjd"] + np.linspace(-80, 150, 4000) * (1 + t["redshift"])
            band = "lsstr" if z < 0.1 else "lssty"  # both ≈ 6000-6200 Å in the rest frame
            f = sim.model_flux(ev, grid, band)
            above = grid[f >= 0.5 * f.max()]
            # rest-frame half-max width of the event's own r-band brightness curve (incl. Ia 2nd max)
            rest = np.linspace(-80, 150, 4000)
            lum = brightness(t["class"], rest, t["rise_rest_d"], t["fade_rest_d"], t["tail_slope"],
                             t["second_max_amp"], t["plateau_rest_d"], t["plateau_drop_mag"])
            r_above = rest[lum >= 0.5]
            ratios.append((above[-1] - above[0]) / (r_above[-1] - r_above[0]))
        widths[z] = np.median(ratios)
    # the observed half-max width in the same rest-frame band scales as (1 + z)
    assert widths[0.6] / widths[0.02] == pytest.approx(1.6 / 1.02, rel=0.12)


def test_lightcurve_matches_spectrum_synthetic_photometry():
    cfg = sim.make_config(seed=11, survey="ztf", classes="balanced", forced_photometry=True)
    pulls, rel = [], []
    for ev in sim.simulate_events(cfg, range(25)):
        sp = ev["spectra"][0]
        model = sim.model_flux(ev, sp["mjd"], "ztfr")
        synth = synthetic_flux(sp["wave"], sp["flux"], "ztfr")
        w = photometry_matrix(["ztfr"], sp["wave"])[0]
        sigma = np.sqrt(np.sum((w * sp["flux_err"]) ** 2))  # noise of the synthetic flux
        pulls.append((synth - model) / np.hypot(sigma, 0.02 * model))
        rel.append(synth / model - 1)
        # and the light-curve points scatter around the same model with their quoted errors
        lc = ev["lc"]
        r = lc["band_index"] == ev["bands"].index("ztfr")
        pull_lc = (lc["flux"][r] - sim.model_flux(ev, lc["mjd"][r], "ztfr")) / lc["flux_err"][r]
        assert abs(np.mean(pull_lc)) < 4 / np.sqrt(max(r.sum(), 1)) + 0.3
        assert 0.5 < np.std(pull_lc) < 1.6
    assert np.median(np.abs(rel)) < 0.05
    assert np.mean(np.abs(pulls) < 3) > 0.9


def test_lsst_bands_and_depth():
    ds = sim.simulate(n=25, survey="lsst", seed=2)
    bands = set(ds.lc_table.band)
    assert bands <= {f"lsst{b}" for b in "ugrizy"} and len(bands) >= 4
    assert ds.truth.redshift.median() > 0.15  # deeper survey -> higher redshifts than ZTF
    assert ds.spectra[0].wavelength[0] < 3600  # generic spectrograph


def test_forced_photometry_has_nondetections():
    ds = sim.simulate(n=10, seed=8, forced_photometry=True)
    t = ds.lc_table
    assert (~t.detected).any() and (t.flux < 0).any()
    assert (t.groupby("object_id").detected.sum() >= 3).all()


# -- I/O ---------------------------------------------------------------------------------------
def test_parquet_round_trip(ztf_small, tmp_path):
    out = sim.write_parquet(ztf_small, tmp_path / "sims", shard_size=15)
    assert len(list((out / "truth").glob("part-*.parquet"))) == 3
    back = sim.read_parquet(out)
    pd.testing.assert_frame_equal(back.truth, ztf_small.truth)
    assert all(a.equals(b) for a, b in zip(back.lightcurves, ztf_small.lightcurves, strict=False))
    for a, b in zip(back.spectra, ztf_small.spectra, strict=False):
        assert a.object_id == b.object_id and a.label == b.label
        np.testing.assert_allclose(a.flux, b.flux, rtol=1e-6)
    with pytest.raises(FileExistsError, match="overwrite"):
        sim.write_parquet(ztf_small, out)


def test_cli_hook(tmp_path):
    import argparse

    from astroembed.cli.simulate import register as add_simulate_subparser

    parser = argparse.ArgumentParser()
    add_simulate_subparser(parser.add_subparsers())
    args = parser.parse_args(["simulate", "--n", "6", "--out", str(tmp_path / "o"), "--seed", "2",
                              "--shard-size", "4", "--no-progress"])
    assert args.func(args) == 0
    ds = sim.read_parquet(tmp_path / "o")
    ref = sim.simulate(n=6, seed=2)
    pd.testing.assert_frame_equal(ds.truth, ref.truth)


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    ({"survey": "pan-starrs"}, "valid surveys: lsst, ztf"),
    ({"classes": ["Ia", "TDE"]}, "valid classes: Ia, Ibc, II, IIn, SLSN-I"),
    ({"n": -1}, "n: number of events must be >= 0"),
    ({"redshift_range": (0.0, 0.1)}, "redshift_range"),
    ({"redshift_range": (0.2, 0.1)}, "redshift_range"),
    ({"redshift_range": (0.1, 3.5)}, "redshift_range"),
    ({"spectrum_phase": (-60, 10)}, "spectrum_phase.*template coverage"),
    ({"instrument": "xshooter"}, "valid instruments"),
    ({"bands": ["lsstu"]}, "bands"),
    ({"min_detections": -2}, "min_detections"),
    ({"classes": {"Ia": -1.0}}, "classes"),
    ({"workers": 0}, "workers"),
])
def test_bad_input(kwargs, match):
    args = {"n": 2} | kwargs
    with pytest.raises((ValueError, TypeError), match=match):
        sim.simulate(**args)


def test_inconsistent_config_names_the_keys():
    # impossible by construction: caught before any draw, naming the keys
    with pytest.raises(ValueError, match="peak_mag_max.*Ia.*redshift_range"):
        sim.simulate(n=1, classes=["Ia"], redshift_range=(0.3, 0.4), peak_mag_max=15.0, max_tries=200)
