import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import astroembed as ae
from astroembed.data.photometry import flux_to_mag, mag_to_flux

T = [59000.0, 59001.0, 59002.0]
B = ["ztfg", "ztfr", "ztfg"]
M = [18.0, 18.1, 18.3]
E = [0.05, 0.05, 0.1]


def test_public_keywords():
    lc = ae.LightCurve(time=T, band=B, mag=M, mag_err=E)
    assert len(lc) == 3 and lc.flux.dtype == np.float64
    lc2 = ae.LightCurve(time=T, band=B, flux=lc.flux, flux_err=lc.flux_err)
    assert lc.equals(lc2)
    s = ae.Spectrum(wavelength=np.linspace(4000, 8000, 10), flux=np.ones(10), flux_err=None, redshift=None)
    assert len(s) == 10


def test_sorted_by_time_and_meta():
    lc = ae.LightCurve(time=T[::-1], band=B[::-1], mag=M[::-1], mag_err=E[::-1], redshift=0.1, label="Ia",
                       object_id="x")
    assert np.all(np.diff(lc.time) >= 0)
    assert lc.redshift == 0.1 and lc.label == "Ia" and "x" in repr(lc)


def test_zeropoint_fluxcal():
    # FLUXCAL on ZP 27.5: mag = 27.5 - 2.5 log10(f)
    f = np.array([1000.0, 2000.0])
    lc = ae.LightCurve(time=[1.0, 2.0], band=["ps1g", "ps1g"], flux=f, flux_err=[10.0, 10.0], zeropoint=27.5)
    np.testing.assert_allclose(lc.mag, 27.5 - 2.5 * np.log10(f))


def test_quantity_flux():
    from astropy import units as u

    lc = ae.LightCurve(time=[1.0], band=["ztfg"], flux=[1.0] * u.mJy, flux_err=[0.1] * u.mJy)
    assert lc.flux[0] == pytest.approx(1000.0)


def test_negative_flux_allowed_mag_nan():
    lc = ae.LightCurve(time=[1.0, 2.0], band=["ztfg", "ztfg"], flux=[-3.0, 10.0], flux_err=[1.0, 1.0])
    assert np.isnan(lc.mag[0]) and np.isfinite(lc.mag[1])


@pytest.mark.parametrize("kwargs,exc,field", [
    (dict(time=[1.0, np.nan], band=["ztfg"] * 2, mag=[18, 18], mag_err=[.1, .1]), ValueError, "time"),
    (dict(time=[1.0, 2.0], band=["ztfg"] * 2, mag=[18, np.inf], mag_err=[.1, .1]), ValueError, "mag"),
    (dict(time=[], band=[], mag=[], mag_err=[]), ValueError, "no observations"),
    (dict(time=[1.0, 2.0], band=["ztfg"], mag=[18, 18], mag_err=[.1, .1]), ValueError, "band=1"),
    (dict(time=[1.0, 2.0], band=["ztfg"] * 2, mag=[18, 18], mag_err=[.1, 0.0]), ValueError, "mag_err"),
    (dict(time=[1.0, 2.0], band=["ztfg"] * 2, flux=[18, 18], flux_err=[-1, 1.0]), ValueError, "flux_err"),
    (dict(time=[1.0, 1.0], band=["ztfg"] * 2, mag=[18, 18], mag_err=[.1, .1]), ValueError, "duplicated"),
    (dict(time=[1.0], band=["nope"], mag=[18], mag_err=[.1]), ValueError, "register_band"),
    (dict(time=[1.0], band=["ztfg"], mag=[18], mag_err=[.1], flux=[1], flux_err=[1]), ValueError, "not both"),
    (dict(time=[1.0], band=["ztfg"]), ValueError, "brightness missing"),
    (dict(time=[1.0], band=["ztfg"], mag=[18]), ValueError, "together"),
    (dict(time=[[1.0, 2.0]], band=["ztfg"], mag=[18], mag_err=[.1]), ValueError, "1-D"),
    (dict(time=["a"], band=["ztfg"], mag=[18], mag_err=[.1]), TypeError, "time"),
    (dict(time=[1.0], band=["ztfg"], mag=["bright"], mag_err=[.1]), TypeError, "mag"),
    (dict(time=[1.0], band="ztfg", mag=[18], mag_err=[.1]), TypeError, "band"),
    (dict(time=[1.0], band=["ztfg"], mag=[18], mag_err=[.1], redshift=-1), ValueError, "redshift"),
    (dict(time=[1.0], band=["ztfg"], mag=[True], mag_err=[.1]), TypeError, "mag"),
])
def test_lightcurve_bad_input(kwargs, exc, field):
    with pytest.raises(exc, match=field):
        ae.LightCurve(**kwargs)


def test_dropna_policy():
    lc = ae.LightCurve(time=[1.0, 2.0, 3.0], band=["ztfg"] * 3, mag=[18, np.nan, 18.5], mag_err=[.1, .1, -1],
                       dropna=True)
    assert len(lc) == 1


def test_duplicate_mean_policy():
    lc = ae.LightCurve(time=[1.0, 1.0], band=["ztfg"] * 2, flux=[10.0, 20.0], flux_err=[1.0, 1.0],
                       duplicates="mean")
    assert len(lc) == 1 and lc.flux[0] == pytest.approx(15.0) and lc.flux_err[0] == pytest.approx(2 ** -0.5)


def test_million_points():
    n = 1_000_000
    rng = np.random.default_rng(1)
    lc = ae.LightCurve(time=np.arange(n, dtype=float), band=np.full(n, "ztfr"), flux=rng.normal(100, 1, n),
                       flux_err=np.ones(n))
    assert len(lc) == n


def test_arrays_read_only():
    lc = ae.LightCurve(time=T, band=B, mag=M, mag_err=E)
    with pytest.raises(ValueError):
        lc.flux[0] = 1.0


@given(st.lists(st.tuples(st.floats(10, 25), st.floats(0.001, 1.0)), min_size=1, max_size=30))
def test_mag_flux_round_trip(rows):
    m, e = np.array(rows).T
    f, fe = mag_to_flux(m, e)
    m2, e2 = flux_to_mag(f, fe)
    np.testing.assert_allclose(m2, m, rtol=0, atol=1e-9)
    np.testing.assert_allclose(e2, e, rtol=1e-9)


@settings(max_examples=40)
@given(st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_shuffle_rows_identical_container(n, seed):
    rng = np.random.default_rng(seed)
    t = rng.choice(np.arange(1000.0), n, replace=False)
    b = rng.choice(["ztfg", "ztfr", "lsstu"], n)
    f = rng.normal(10, 5, n)
    fe = rng.uniform(0.1, 1, n)
    perm = rng.permutation(n)
    a = ae.LightCurve(time=t, band=b, flux=f, flux_err=fe)
    c = ae.LightCurve(time=t[perm], band=b[perm], flux=f[perm], flux_err=fe[perm])
    assert a.equals(c)


# ------------------------------------------------------------------ Spectrum
@pytest.mark.parametrize("kwargs,exc,field", [
    (dict(wavelength=np.linspace(-10, 10, 10), flux=np.ones(10)), ValueError, "positive"),
    (dict(wavelength=np.r_[np.linspace(4000, 5000, 9), 5000.0], flux=np.ones(10)), ValueError, "duplicated"),
    (dict(wavelength=np.linspace(4000, 5000, 10), flux=np.r_[np.ones(9), np.nan]), ValueError, "flux"),
    (dict(wavelength=np.linspace(4000, 5000, 10), flux=np.ones(9)), ValueError, "equal lengths"),
    (dict(wavelength=np.linspace(4000, 5000, 3), flux=np.ones(3)), ValueError, "min_pixels"),
    (dict(wavelength=np.linspace(4000, 5000, 10), flux=np.ones(10), flux_err=np.zeros(10)), ValueError, "flux_err"),
    (dict(wavelength=np.ones((2, 5)), flux=np.ones(10)), ValueError, "1-D"),
    (dict(wavelength=np.linspace(4000, 5000, 10), flux=["x"] * 10), TypeError, "flux"),
    (dict(wavelength=np.linspace(4000, 5000, 10), flux=np.ones(10), frame="lab"), ValueError, "frame"),
    (dict(wavelength=[], flux=[]), ValueError, "min_pixels"),
])
def test_spectrum_bad_input(kwargs, exc, field):
    with pytest.raises(exc, match=field):
        ae.Spectrum(**kwargs)


def test_spectrum_negative_flux_and_unsorted_ok():
    w = np.linspace(4000, 5000, 10)[::-1]
    s = ae.Spectrum(wavelength=w, flux=np.linspace(-1, 1, 10))
    assert np.all(np.diff(s.wavelength) > 0) and s.flux.min() < 0


def test_spectrum_quantity_and_rest_frame():
    from astropy import units as u

    s = ae.Spectrum(wavelength=np.linspace(400, 900, 50) * u.nm, flux=np.ones(50), redshift=0.1)
    assert s.wavelength[0] == pytest.approx(4000.0)
    r = s.to_rest_frame()
    assert r.frame == "rest" and r.wavelength[0] == pytest.approx(4000 / 1.1)
    with pytest.raises(ValueError, match="redshift"):
        ae.Spectrum(wavelength=np.linspace(4000, 5000, 10), flux=np.ones(10)).to_rest_frame()


def test_million_pixel_spectrum_and_preprocess():
    from astroembed.data.preprocess import SpectrumPreprocessConfig, preprocess_spectrum

    n = 1_000_000
    w = np.linspace(3000.0, 10000.0, n)
    s = ae.Spectrum(wavelength=w, flux=1.0 + 0.1 * np.sin(w / 50.0))
    p = preprocess_spectrum(s, SpectrumPreprocessConfig())
    assert p.mask.all() and np.isfinite(p.flux).all()


def test_million_point_lightcurve_truncated_by_policy():
    from astroembed.data.preprocess import LightCurvePreprocessConfig, preprocess_lightcurve

    n = 1_000_000
    rng = np.random.default_rng(2)
    lc = ae.LightCurve(time=np.arange(n, dtype=float), band=np.where(np.arange(n) % 2, "ztfg", "ztfr"),
                       flux=rng.normal(100, 1, n), flux_err=np.ones(n))
    p = preprocess_lightcurve(lc, LightCurvePreprocessConfig(max_length=256))
    assert len(p) == 256 and np.all(np.diff(p.time) > 0)
