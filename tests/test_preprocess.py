import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import astroembed as ae
from astroembed.data.collate import (
    collate_lightcurves,
    collate_spectra,
    length_buckets,
    uncollate_lightcurves,
)
from astroembed.data.preprocess import (
    LightCurvePreprocessConfig,
    SpectrumPreprocessConfig,
    preprocess_lightcurve,
    preprocess_spectrum,
)
from astroembed.data.resample import log_wavelength_grid, resample_flux_conserving
from astroembed.errors import ConfigError

from .conftest import make_lightcurve, make_spectrum


def test_lc_scale_and_time(rng):
    lc = make_lightcurve(rng)
    p = preprocess_lightcurve(lc, LightCurvePreprocessConfig())
    assert p.flux.max() == pytest.approx(1.0)
    assert p.log_scale == pytest.approx(np.log10(lc.flux.max()))
    first_det = np.flatnonzero(lc.flux / lc.flux_err >= 3.0)[0]
    assert p.time[first_det] == 0.0 and np.all(np.diff(p.time) >= 0)
    assert np.all(p.time[:first_det] < 0)


def test_lc_truncation_policies(rng):
    lc = make_lightcurve(rng, n=50)
    p = preprocess_lightcurve(lc, LightCurvePreprocessConfig(max_length=10, truncate="snr"))
    snr = lc.flux / lc.flux_err
    assert len(p) == 10 and np.all(np.diff(p.time) >= 0)
    # the kept points are the 10 of highest S/N
    kept_snr = np.sort(p.flux / p.flux_err)
    np.testing.assert_allclose(kept_snr, np.sort(snr)[-10:], rtol=1e-9)
    e = preprocess_lightcurve(lc, LightCurvePreprocessConfig(max_length=10, truncate="even"))
    assert len(e) == 10 and e.time[-1] == pytest.approx(lc.time[-1] - lc.time[0])


def test_merge_same_night():
    lc = ae.LightCurve(time=[1.0, 1.1, 3.0], band=["ztfg"] * 3, flux=[10.0, 20.0, 5.0], flux_err=[1.0, 1.0, 1.0])
    p = preprocess_lightcurve(lc, LightCurvePreprocessConfig(merge_same_night=True))
    assert len(p) == 2 and p.flux[0] * 10 ** p.log_scale == pytest.approx(15.0)


def test_config_strict():
    cfg = LightCurvePreprocessConfig()
    assert LightCurvePreprocessConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="unknown"):
        LightCurvePreprocessConfig.from_dict(cfg.to_dict() | {"max_len": 3})
    d = cfg.to_dict()
    d.pop("truncate")
    with pytest.raises(ConfigError, match="missing"):
        LightCurvePreprocessConfig.from_dict(d)
    with pytest.raises(ValueError, match="truncate"):
        LightCurvePreprocessConfig(truncate="random")
    with pytest.raises(ValueError, match="wave_max"):
        SpectrumPreprocessConfig(wave_min=5000, wave_max=4000)


def test_resample_conserves_flux():
    w = np.linspace(3000, 10000, 2000)
    f = 1 + np.sin(w / 100.0)
    edges, _ = log_wavelength_grid(4000, 9000, 64)
    out, _, mask = resample_flux_conserving(w, f, edges)
    assert mask.all()
    fine = (w >= 4000) & (w <= 9000)
    assert np.sum(out * np.diff(edges)) == pytest.approx(np.trapezoid(f[fine], w[fine]), rel=2e-3)


def test_resample_no_extrapolation():
    w = np.linspace(5000, 6000, 100)
    edges, _ = log_wavelength_grid(4000, 9000, 64)
    out, _, mask = resample_flux_conserving(w, np.ones(100), edges)
    c = np.sqrt(edges[:-1] * edges[1:])
    assert not mask[c < 5000].any() and not mask[c > 6000].any() and np.all(out[~mask] == 0)
    np.testing.assert_allclose(out[mask], 1.0)


@pytest.mark.parametrize("cfg", [SpectrumPreprocessConfig(), SpectrumPreprocessConfig(continuum="poly"),
                                 SpectrumPreprocessConfig(median_filter=5, normalize="max")])
def test_spectrum_preprocess_finite(rng, cfg):
    p = preprocess_spectrum(make_spectrum(rng), cfg)
    assert np.isfinite(p.flux).all() and np.isfinite(p.flux_err).all() and p.mask.sum() > 200


def test_spectrum_rest_frame_needs_redshift(rng):
    with pytest.raises(ValueError, match="redshift"):
        preprocess_spectrum(make_spectrum(rng), SpectrumPreprocessConfig(frame="rest"))
    p = preprocess_spectrum(make_spectrum(rng, redshift=0.1), SpectrumPreprocessConfig(frame="rest"))
    assert p.mask.any()


def test_spectrum_outside_grid(rng):
    with pytest.raises(ValueError, match="covers"):
        preprocess_spectrum(make_spectrum(rng, lo=10000, hi=12000), SpectrumPreprocessConfig())


def test_deredden_needs_mwebv(rng):
    pytest.importorskip("extinction")
    cfg = SpectrumPreprocessConfig(deredden_mw=True)
    with pytest.raises(ValueError, match="mwebv"):
        preprocess_spectrum(make_spectrum(rng), cfg)
    s = make_spectrum(rng, meta={"mwebv": 0.1})
    red = preprocess_spectrum(s, cfg)
    plain = preprocess_spectrum(s, SpectrumPreprocessConfig())
    # dereddening makes the blue side relatively brighter
    assert red.flux[red.mask][0] / red.flux[red.mask][-1] > plain.flux[plain.mask][0] / plain.flux[plain.mask][-1]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 30), min_size=1, max_size=8), st.integers(0, 2**32 - 1))
def test_collate_uncollate_recovers(lengths, seed):
    rng = np.random.default_rng(seed)
    cfg = LightCurvePreprocessConfig()
    items = [preprocess_lightcurve(make_lightcurve(rng, n=n, bands=("ztfg", "lsstu")), cfg) for n in lengths]
    batch = collate_lightcurves(items, band_vocab=("ztfg", "ztfr"))
    assert batch.mask.sum(1).tolist() == lengths
    for x, back in zip(items, uncollate_lightcurves(batch)):
        np.testing.assert_allclose(back["time"], x.time, rtol=1e-6, atol=1e-4)
        np.testing.assert_allclose(back["flux"], x.flux, rtol=1e-6)
        assert back["band_id"].tolist() == [1 if b == "ztfg" else 0 for b in x.band]
        # finite wherever the mask is true
        assert np.isfinite(back["flux"]).all() and np.isfinite(back["flux_err"]).all()


def test_collate_spectra_and_buckets(rng):
    cfg = SpectrumPreprocessConfig(n_bins=32)
    b = collate_spectra([preprocess_spectrum(make_spectrum(rng), cfg) for _ in range(3)])
    assert b.flux.shape == (3, 32) and b.mask.dtype.is_floating_point is False
    buckets = length_buckets([5, 1, 3, 2], 2)
    assert [x.tolist() for x in buckets] == [[1, 3], [2, 0]]
    with pytest.raises(ValueError):
        collate_spectra([])
    with pytest.raises(ValueError, match="batch_size"):
        length_buckets([1], 0)


@pytest.mark.parametrize("unit_scale", [1e-17, 1.0, 1e6])
@pytest.mark.parametrize("continuum", ["none", "poly"])
def test_spectrum_normalisation_is_unit_free(rng, unit_scale, continuum):
    """cgs spectra (~1e-17 erg/s/cm2/Å) must come out exactly as the same spectrum in other units."""
    base = make_spectrum(rng)
    s = ae.Spectrum(wavelength=base.wavelength, flux=base.flux / 1e-16 * unit_scale,
                    flux_err=base.flux_err / 1e-16 * unit_scale)
    p = preprocess_spectrum(s, SpectrumPreprocessConfig(continuum=continuum))
    ref = preprocess_spectrum(ae.Spectrum(wavelength=base.wavelength, flux=base.flux / 1e-16,
                                          flux_err=base.flux_err / 1e-16), SpectrumPreprocessConfig(continuum=continuum))
    np.testing.assert_allclose(p.flux, ref.flux, rtol=1e-9, atol=1e-12)
    assert p.log_scale == pytest.approx(ref.log_scale + np.log10(unit_scale))
    if continuum == "none":
        assert np.median(np.abs(p.flux[p.mask])) == pytest.approx(1.0)


def test_lightcurve_normalisation_tiny_fluxes():
    lc = ae.LightCurve(time=[1.0, 2.0], band=["ztfg"] * 2, flux=[1e-15, 2e-15], flux_err=[1e-16, 1e-16])
    p = preprocess_lightcurve(lc, LightCurvePreprocessConfig())
    assert p.flux.max() == pytest.approx(1.0) and p.log_scale == pytest.approx(np.log10(2e-15))
