"""Transceiver (MoE-MMVAE): shapes, seeds, nested intervals, batch invariance, persistence, config keys,
bad input, calibration and the training objective.  Tiny random models; fast."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
import torch

import astroembed as ae
from astroembed.data.preprocess import LightCurvePreprocessConfig, SpectrumPreprocessConfig
from astroembed.errors import ConfigError
from astroembed.models.transceiver import (
    GeneratedSpectrum,
    TransceiverConfig,
    TransceiverModel,
    calibrate_temperature,
)
from astroembed.models.transceiver.training import (
    PairArrays,
    TrainConfig,
    peak_epoch,
    prepare_pairs,
    train_model,
)

from .conftest import make_lightcurve, make_spectrum


def tiny_config(**kw) -> TransceiverConfig:
    base = dict(latent_dim=6, n_latents=2, d_model=16, n_heads=2, ff_dim=16, n_self_layers=1, n_frequencies=4,
                patch_size=4, n_context_tokens=2, decoder_dim=8, decoder_heads=2, n_decoder_layers=1,
                iwae_samples=2, lightcurve_preprocess=LightCurvePreprocessConfig(max_length=24, time_reference="peak"),
                spectrum_preprocess=SpectrumPreprocessConfig(wave_min=3400.0, wave_max=8600.0, n_bins=32,
                                                             frame="rest", continuum="poly", min_valid_bins=8))
    base.update(kw)
    return TransceiverConfig(**base)


def model_of(cfg=None, seed=0) -> TransceiverModel:
    torch.manual_seed(seed)
    return TransceiverModel(cfg or tiny_config())


def lcs_and_specs(rng, n=3):
    lcs = [make_lightcurve(rng, n=k, object_id=f"o{k}") for k in (8, 30, 15)[:n]]
    specs = [make_spectrum(rng, redshift=0.05, mjd=float(lc.time[np.argmax(lc.flux)]) + 3.0, object_id=lc.object_id)
             for lc in lcs]
    return lcs, specs


def test_shapes_dtypes_and_unit_norm(rng):
    m = model_of()
    lcs, specs = lcs_and_specs(rng)
    e = m.embed_lightcurve(lcs)
    assert e.shape == (3, 6) and e.dtype == np.float32 and np.allclose(np.linalg.norm(e, axis=1), 1, atol=1e-5)
    es = m.embed_spectrum(specs, phase=[1.0, 2.0, 3.0])
    assert es.shape == (3, 6) and np.allclose(np.linalg.norm(es, axis=1), 1, atol=1e-5)
    assert not np.allclose(es, m.embed_spectrum(specs)), "phase must reach the spectrum encoder"
    g = m.generate_spectrum(lcs, phase=0.0, n_samples=5, seed=0)
    assert g.mean.shape == (3, 32) and g.samples.shape == (3, 5, 32) and g.wavelength.shape == (32,)
    assert np.all(np.diff(g.wavelength) > 0) and 3400 < g.wavelength[0] < g.wavelength[-1] < 8600
    T, M = m.spectrum_target(specs)
    assert T.shape == M.shape == (3, 32) and M.dtype == bool and np.isnan(T[~M]).all() and np.isfinite(T[M]).all()
    gl = m.generate_lightcurve(specs, [0.0, 5.0, 10.0, 20.0], ["ztfg", "ztfr", "ztfg", "ztfr"], n_samples=4, seed=0)
    assert gl.mean.shape == (3, 4) and gl.samples.shape == (3, 4, 4) and gl.band[0, 1] == "ztfr"
    assert m.embed_lightcurve([]).shape == (0, 6)


def test_seeds_reproduce_and_differ(rng):
    m = model_of()
    lcs, specs = lcs_and_specs(rng)
    a = m.generate_spectrum(lcs, phase=1.0, n_samples=6, seed=3)
    b = m.generate_spectrum(lcs, phase=1.0, n_samples=6, seed=3)
    c = m.generate_spectrum(lcs, phase=1.0, n_samples=6, seed=4)
    assert np.array_equal(a.samples, b.samples) and np.array_equal(a.mean, b.mean)
    assert not np.allclose(a.samples, c.samples)
    la = m.generate_lightcurve(specs, [0.0, 3.0], ["ztfg", "ztfr"], n_samples=6, seed=1)
    lb = m.generate_lightcurve(specs, [0.0, 3.0], ["ztfg", "ztfr"], n_samples=6, seed=1)
    assert np.array_equal(la.samples, lb.samples)


def test_intervals_nest_with_level(rng):
    m = model_of()
    lcs, _ = lcs_and_specs(rng)
    g = m.generate_spectrum(lcs, phase=2.0, n_samples=40, seed=0)
    prev_lo, prev_hi = g.interval(0.3)
    for level in (0.5, 0.68, 0.9, 0.99):
        lo, hi = g.interval(level)
        assert np.all(lo <= prev_lo + 1e-7) and np.all(hi >= prev_hi - 1e-7)
        assert (hi - lo).mean() > (prev_hi - prev_lo).mean()
        prev_lo, prev_hi = lo, hi
    with pytest.raises(ValueError, match="level"):
        g.interval(68)


def test_temperature_scales_spread_not_mean(rng):
    m = model_of()
    lcs, _ = lcs_and_specs(rng)
    g1 = m.generate_spectrum(lcs, phase=2.0, n_samples=8, seed=0, temperature=1.0)
    g2 = m.generate_spectrum(lcs, phase=2.0, n_samples=8, seed=0, temperature=2.0)
    assert np.allclose(g1.mean, g2.mean)
    assert np.allclose(g2.samples - g2.mean[:, None], 2 * (g1.samples - g1.mean[:, None]), atol=1e-5)


def test_batch_invariance_padding_masked(rng):
    m = model_of()
    lcs, specs = lcs_and_specs(rng)
    alone = m.generate_spectrum(lcs[:1], phase=1.0, n_samples=4, seed=0)
    together = m.generate_spectrum(lcs, phase=1.0, n_samples=4, seed=0, batch_size=2)
    assert np.allclose(alone.samples[0], together.samples[0], atol=1e-5)
    assert np.allclose(m.embed_lightcurve(lcs[:1]), m.embed_lightcurve(lcs)[:1], atol=1e-6)
    assert np.allclose(m.embed_lightcurve(lcs, batch_size=1), m.embed_lightcurve(lcs, batch_size=3), atol=1e-6)
    gl1 = m.generate_lightcurve(specs[:1], [0.0], ["ztfg"], n_samples=3, seed=2)
    gl3 = m.generate_lightcurve(specs, [0.0], ["ztfg"], n_samples=3, seed=2, batch_size=1)
    assert np.allclose(gl1.samples[0], gl3.samples[0], atol=1e-5)


def test_save_load_roundtrip_via_load_pretrained(rng, tmp_path):
    m = model_of()
    m.calibration_temperature.fill_(1.7)
    lcs, _ = lcs_and_specs(rng)
    m.save_pretrained(tmp_path / "tr")
    m2 = ae.load_pretrained(str(tmp_path / "tr"))
    assert isinstance(m2, TransceiverModel) and not m2.training
    assert float(m2.calibration_temperature) == pytest.approx(1.7)
    assert np.array_equal(m.embed_lightcurve(lcs), m2.embed_lightcurve(lcs))
    a = m.generate_spectrum(lcs, phase=1.0, n_samples=4, seed=0)
    b = m2.generate_spectrum(lcs, phase=1.0, n_samples=4, seed=0)
    assert np.array_equal(a.samples, b.samples)
    other = tiny_config(latent_dim=8)
    import json
    doc = json.loads((tmp_path / "tr" / "config.json").read_text())
    doc["config"] = other.to_dict()
    (tmp_path / "tr" / "config.json").write_text(json.dumps(doc))
    with pytest.raises(ConfigError):
        TransceiverModel.from_pretrained(tmp_path / "tr")


def _signature(cfg, lcs, specs):
    m = model_of(cfg)
    shapes = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    out = [m.embed_lightcurve(lcs), m.embed_spectrum(specs, phase=[2.0, 3.0]),
           m.generate_spectrum(lcs, phase=1.0, n_samples=3, seed=0, extrapolate=True).samples]
    arr, _ = prepare_pairs(lcs, specs, cfg)
    from astroembed.models.transceiver.training import _augment, _grid_of

    arr._grid = _grid_of(cfg)
    lc, sp, ph = arr.batch(np.arange(len(arr)))
    m.train()
    torch.manual_seed(0)
    keep, enc_phase = _augment(m, lc, ph, torch.Generator().manual_seed(0))
    loss, _ = m.loss(lc, sp, ph, lc_encoder_mask=keep, encoder_phase=enc_phase)
    out += [keep.numpy(), np.isnan(enc_phase.numpy()), np.array([float(loss)])]
    return shapes, out


@pytest.mark.parametrize("field,value", [
    ("latent_dim", 5), ("n_latents", 3), ("d_model", 8), ("n_heads", 4), ("ff_dim", 12), ("n_self_layers", 2),
    ("dropout", 0.3), ("n_frequencies", 3), ("time_base", 50.0), ("wave_base", 500.0), ("patch_size", 8),
    ("n_context_tokens", 3), ("decoder_dim", 12), ("decoder_heads", 4), ("n_decoder_layers", 2),
    ("min_scale", 0.5), ("prior_scale", 3.0), ("iwae_samples", 3), ("beta", 2.0), ("lc_likelihood_weight", 7.0),
    ("obs_dropout_max", 0.0), ("min_obs", 20), ("phase_dropout", 1.0),
    ("lightcurve_preprocess", LightCurvePreprocessConfig(max_length=10, time_reference="peak")),
    ("spectrum_preprocess", SpectrumPreprocessConfig(wave_min=3000.0, wave_max=9000.0, n_bins=32, frame="rest",
                                                     continuum="poly", min_valid_bins=8))])
def test_every_config_key_is_used(field, value, rng):
    lcs = [make_lightcurve(rng, n=k) for k in (30, 26)]
    specs = [make_spectrum(rng, redshift=0.05, mjd=float(lc.time[np.argmax(lc.flux)]) + 2.0) for lc in lcs]
    base = tiny_config()
    s0, o0 = _signature(base, lcs, specs)
    s1, o1 = _signature(dataclasses.replace(base, **{field: value}), lcs, specs)
    same_shapes = s0 == s1
    same_out = all(a.shape == b.shape and np.allclose(a, b, atol=1e-7) for a, b in zip(o0, o1, strict=True))
    assert not (same_shapes and same_out), f"changing {field} changed nothing"


def test_phase_checks_use_their_config_keys(rng):
    lc = make_lightcurve(rng, n=20)
    m = model_of(tiny_config(phase_range=(-5.0, 5.0), max_phase_gap=1000.0))
    with pytest.raises(ValueError, match=r"outside the training range \[-5, 5\].*extrapolate=True"):
        m.generate_spectrum([lc], phase=30.0, n_samples=2)
    with pytest.warns(UserWarning, match="extrapolating"):
        g = m.generate_spectrum([lc], phase=30.0, n_samples=2, extrapolate=True)
    assert np.isfinite(g.samples).all()
    m = model_of(tiny_config(phase_range=(-500.0, 500.0), max_phase_gap=5.0))
    with pytest.raises(ValueError, match="no light-curve point within 5 d"):
        m.generate_spectrum([lc], phase=300.0, n_samples=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.generate_spectrum([lc], phase=0.0, n_samples=2)


def test_bad_spectra_and_arguments(rng):
    m = model_of()
    lcs, _ = lcs_and_specs(rng)
    uv = make_spectrum(rng, lo=1200.0, hi=2500.0, redshift=0.01, object_id="uv-only")
    with pytest.raises(ValueError, match="uv-only.*covers 0 of 32 bins"):
        m.spectrum_target([uv])
    with pytest.raises(ValueError, match="redshift"):
        m.spectrum_target([make_spectrum(rng)])
    with pytest.raises(ValueError, match="uv-only"):
        m.generate_lightcurve([uv], [0.0], ["ztfg"], n_samples=2)
    with pytest.raises(ValueError, match="phase must be"):
        m.generate_spectrum(lcs, phase=[1.0, 2.0], n_samples=2)
    with pytest.raises(ValueError, match="n_samples"):
        m.generate_spectrum(lcs, phase=1.0, n_samples=1)
    with pytest.raises(ValueError, match="unknown band"):
        m.generate_lightcurve([make_spectrum(rng, redshift=0.05)], [0.0], ["nope"], n_samples=2)
    with pytest.raises(ConfigError, match="patch_size"):
        tiny_config(patch_size=5)
    with pytest.raises(ConfigError, match="unknown key"):
        TransceiverConfig.from_dict({**tiny_config().to_dict(), "colour": 1})


def test_calibrate_temperature_recovers_spread():
    r = np.random.default_rng(0)
    samples = r.normal(size=(200, 400, 8)).astype(np.float32)
    g = GeneratedSpectrum(np.arange(8.0), np.zeros((200, 8), np.float32), samples, np.zeros(200))
    target = 2.0 * r.normal(size=(200, 8))
    tau = calibrate_temperature(g, target, np.ones((200, 8), bool), 0.68)
    assert tau == pytest.approx(2.0, rel=0.08)


def test_peak_epoch_and_pair_phases(rng):
    cfg = tiny_config()
    lcs, specs = lcs_and_specs(rng)
    for lc in lcs:
        assert peak_epoch(lc, cfg) == lc.time[np.argmax(lc.flux)]
    arr, skipped = prepare_pairs(lcs + [lcs[0]], specs + [make_spectrum(rng, lo=1200.0, hi=2500.0, redshift=0.01)], cfg)
    assert len(arr) == 3 and [i for i, _ in skipped] == [3] and np.allclose(arr.phase, 3.0)


def test_training_reduces_loss_and_reaches_both_encoders(rng, tmp_path):
    cfg = tiny_config()
    lcs, specs = lcs_and_specs(rng)
    arr, _ = prepare_pairs(lcs * 4, specs * 4, cfg)
    m = model_of(cfg)
    m.train()
    from astroembed.models.transceiver.training import _grid_of

    arr._grid = _grid_of(cfg)
    lc, sp, ph = arr.batch(np.arange(3))
    loss, _ = m.loss(lc, sp, ph)
    loss.backward()
    for enc in (m.lc_encoder, m.spec_encoder):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in enc.parameters())
    m.zero_grad()
    hist = train_model(m, arr, arr.subset(np.arange(3)), TrainConfig(lr=3e-3, batch_size=6, max_epochs=15,
                                                                      eval_every=1000, warmup_steps=0),
                       log=lambda *_: None)
    assert hist["train"][-1] < hist["train"][0]
    assert isinstance(arr, PairArrays)


def test_bundled_transceiver_weights():
    """The shipped model loads through the registry (sha256) and generates finite, nested intervals."""
    from astroembed.demo import load_sample_data

    assert "transceiver" in ae.list_models()
    m = ae.load_pretrained("transceiver", device="cpu")
    assert isinstance(m, TransceiverModel) and 0.05 < float(m.calibration_temperature) < 20
    data = load_sample_data()
    lcs = data["bts"][:4]
    E = m.embed_lightcurve(lcs)
    assert E.shape == (4, m.embed_dim) and np.allclose(np.linalg.norm(E, axis=1), 1, atol=1e-5)
    g = m.generate_spectrum(lcs, phase=0.0, n_samples=16, seed=0)
    lo50, hi50 = g.interval(0.5)
    lo90, hi90 = g.interval(0.9)
    assert np.isfinite(g.samples).all() and np.all(lo90 <= lo50) and np.all(hi90 >= hi50)
    S = m.embed_spectrum([s for s in data["osc_spectra"][:5] if s.redshift is not None])
    assert np.isfinite(S).all()
