"""Maven model: configs, encoders, CLIP loss, embedding API, save/load (tiny configs)."""

import dataclasses
import json
import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import astroembed as ae
from astroembed.data.collate import collate_spectra
from astroembed.data.preprocess import LightCurvePreprocessConfig, SpectrumPreprocessConfig
from astroembed.errors import ConfigError
from astroembed.models import (
    LightCurveEncoderConfig,
    LogitScales,
    MavenConfig,
    MavenModel,
    MetadataEncoderConfig,
    SpectrumEncoderConfig,
    clip_loss,
    info_nce,
)

from .conftest import make_lightcurve, make_spectrum


def tiny_config(**kw) -> MavenConfig:
    base = dict(
        embed_dim=8,
        lightcurve=LightCurveEncoderConfig(d_model=8, n_layers=1, n_heads=2, ff_dim=16, dropout=0.1),
        spectrum=SpectrumEncoderConfig(d_model=8, n_layers=1, n_heads=2, ff_dim=16, dropout=0.1, patch_size=8),
        lightcurve_preprocess=LightCurvePreprocessConfig(max_length=64),
        spectrum_preprocess=SpectrumPreprocessConfig(n_bins=32),
    )
    base.update(kw)
    return MavenConfig(**base)


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return MavenModel(tiny_config())


# -- loss -----------------------------------------------------------------------------------------
def test_info_nce_matches_hand_computation():
    a = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
    b = np.array([[0.8, 0.6], [0.0, 1.0], [1.0, 0.0]])
    s = 20.0

    def ce(logits_row, target):
        return -(logits_row[target] - math.log(sum(math.exp(x) for x in logits_row)))

    sim = [[s * sum(a[i][k] * b[j][k] for k in range(2)) for j in range(3)] for i in range(3)]
    a2b = sum(ce(sim[i], i) for i in range(3)) / 3
    b2a = sum(ce([sim[j][i] for j in range(3)], i) for i in range(3)) / 3
    expected = 0.5 * (a2b + b2a)
    got = info_nce(torch.tensor(a, dtype=torch.float32), torch.tensor(b, dtype=torch.float32), s)
    assert got.item() == pytest.approx(expected, rel=1e-5)
    # perfectly aligned, well-separated pairs give a lower loss than shuffled ones
    perfect = info_nce(torch.tensor(a, dtype=torch.float32), torch.tensor(a, dtype=torch.float32), s)
    assert perfect.item() < got.item()


def test_clip_loss_is_mean_over_pairs_and_names_pairs():
    torch.manual_seed(1)
    e = {m: torch.nn.functional.normalize(torch.randn(5, 4), dim=1) for m in ("lightcurve", "spectrum", "metadata")}
    scales = {"lightcurve-spectrum": 10.0, "lightcurve-metadata": 20.0, "spectrum-metadata": 5.0}
    total, parts = clip_loss(e, scales)
    assert set(parts) == set(scales)
    assert parts["lightcurve-metadata"].item() == pytest.approx(
        info_nce(e["lightcurve"], e["metadata"], 20.0).item())
    assert total.item() == pytest.approx(np.mean([p.item() for p in parts.values()]))
    with pytest.raises(ValueError, match="two modalities"):
        clip_loss({"lightcurve": e["lightcurve"]}, scales)


def test_logit_scale_init_clamp_and_fixed_option():
    ls = LogitScales([("lightcurve", "spectrum")], init=math.log(20.0), max_scale=100.0)
    assert ls.scales()["lightcurve-spectrum"].item() == pytest.approx(20.0)
    with torch.no_grad():
        ls.raw("lightcurve-spectrum").fill_(10.0)
    assert ls.scales()["lightcurve-spectrum"].item() == pytest.approx(100.0)
    ls.clamp_()
    assert ls.raw("lightcurve-spectrum").item() == pytest.approx(math.log(100.0))
    fixed = MavenModel(tiny_config(learn_logit_scale=False))
    assert not any("logit" in n for n, _ in fixed.named_parameters())
    assert any("logit" in n for n in fixed.state_dict())
    with pytest.raises(ConfigError, match="logit_scale_init"):
        tiny_config(logit_scale_init=math.log(200.0))


# -- embedding API --------------------------------------------------------------------------------
def test_embed_outputs_shape_dtype_norm_and_order(tiny_model, rng):
    lcs = [make_lightcurve(rng, n=int(n)) for n in rng.integers(3, 40, 13)]
    emb = tiny_model.embed_lightcurve(lcs, batch_size=4)
    assert emb.shape == (13, 8) and emb.dtype == np.float32 and emb.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    rev = tiny_model.embed_lightcurve(lcs[::-1], batch_size=5)
    np.testing.assert_allclose(rev[::-1], emb, atol=1e-5)
    assert tiny_model.embed_lightcurve(lcs[3]).shape == (1, 8)
    assert tiny_model.embed_lightcurve([]).shape == (0, 8)
    raw = tiny_model.embed_lightcurve(lcs[:3], normalize=False)
    np.testing.assert_allclose(raw / np.linalg.norm(raw, axis=1, keepdims=True), emb[:3], atol=1e-5)
    specs = [make_spectrum(rng) for _ in range(3)]
    both = tiny_model.embed(lightcurves=lcs[:3], spectra=specs)
    assert both.lightcurve.shape == (3, 8) and both.spectrum.shape == (3, 8)
    np.testing.assert_allclose(np.linalg.norm(both.spectrum, axis=1), 1.0, atol=1e-5)
    with pytest.raises(TypeError, match="LightCurve"):
        tiny_model.embed_lightcurve([lcs[0], "nope"])
    with pytest.raises(ValueError, match="batch_size"):
        tiny_model.embed_lightcurve(lcs, batch_size=0)


def test_embed_keeps_training_mode_and_is_deterministic(tiny_model, rng):
    lcs = [make_lightcurve(rng, n=12) for _ in range(4)]
    tiny_model.train()
    try:
        a = tiny_model.embed_lightcurve(lcs)
        b = tiny_model.embed_lightcurve(lcs)
        assert tiny_model.training
    finally:
        tiny_model.eval()
    np.testing.assert_array_equal(a, b)  # dropout off inside embed


def test_metadata_modality():
    torch.manual_seed(0)
    m = MavenModel(tiny_config(metadata=MetadataEncoderConfig(class_names=("Ia", "II"), hidden_dim=8, n_layers=1)))
    assert m.modalities == ("lightcurve", "spectrum", "metadata")
    assert {n for n in m.logit_scales.names} == {"lightcurve-spectrum", "lightcurve-metadata", "spectrum-metadata"}
    e = m.embed_metadata(["Ia", "II", None, "weird"], [0.1, None, 0.3, float("nan")])
    assert e.shape == (4, 8) and np.isfinite(e).all()
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    assert m.class_ids(["Ia", "II", "weird", None]).tolist() == [1, 2, 0, 0]
    with pytest.raises(ValueError, match="no metadata encoder"):
        MavenModel(tiny_config()).embed_metadata(["Ia"], [0.1])


def test_model_without_spectrum_refuses_spectra(rng):
    m = MavenModel(tiny_config(spectrum=None, spectrum_preprocess=None,
                               metadata=MetadataEncoderConfig(class_names=("Ia", "II"), hidden_dim=8, n_layers=1)))
    with pytest.raises(ValueError, match="no spectrum encoder"):
        m.embed_spectrum([make_spectrum(rng)])


# -- masking / batch invariance -------------------------------------------------------------------
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lengths=st.lists(st.integers(1, 30), min_size=2, max_size=7), seed=st.integers(0, 10_000),
       pooling=st.sampled_from(["mean", "attention"]), scale_input=st.sampled_from(["token", "feature", "none"]))
def test_batch_invariance(lengths, seed, pooling, scale_input):
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    lc_cfg = LightCurveEncoderConfig(d_model=8, n_layers=2, n_heads=2, ff_dim=16, dropout=0.1, pooling=pooling,
                                     scale_input=scale_input)
    m = MavenModel(tiny_config(lightcurve=lc_cfg))
    lcs = [make_lightcurve(rng, n=n) for n in lengths]
    together = m.embed_lightcurve(lcs, batch_size=len(lcs))
    alone = np.concatenate([m.embed_lightcurve(lc) for lc in lcs])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    specs = [make_spectrum(rng, n=int(n), lo=float(lo)) for n, lo in
             zip(rng.integers(50, 200, 3), rng.uniform(3000, 6000, 3))]
    np.testing.assert_allclose(m.embed_spectrum(specs), np.concatenate([m.embed_spectrum(s) for s in specs]),
                               atol=1e-5)


def test_extra_padding_does_not_change_embedding(tiny_model, rng):
    items = [tiny_model.preprocess_lightcurve(make_lightcurve(rng, n=n)) for n in (5, 9)]
    with torch.inference_mode():
        a = tiny_model.encode_lightcurves(ae.data.collate.collate_lightcurves(items, tiny_model.config.band_vocab))
        b = tiny_model.encode_lightcurves(ae.data.collate.collate_lightcurves(items, tiny_model.config.band_vocab,
                                                                               pad_to=40))
        # garbage in the padded positions must not leak either
        batch = ae.data.collate.collate_lightcurves(items, tiny_model.config.band_vocab, pad_to=40)
        for k in ("time", "flux", "flux_err", "wavelength"):
            t = getattr(batch, k)
            t[~batch.mask] = 1234.5
        c = tiny_model.encode_lightcurves(batch)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    torch.testing.assert_close(a, c, atol=1e-5, rtol=0)


@pytest.mark.parametrize("scale_input", ["none", "feature"])
@pytest.mark.parametrize("pooling", ["mean", "attention"])
def test_all_padding_row_is_finite(scale_input, pooling, rng):
    torch.manual_seed(0)
    m = MavenModel(tiny_config(
        lightcurve=LightCurveEncoderConfig(d_model=8, n_layers=1, n_heads=2, ff_dim=16, pooling=pooling,
                                           scale_input=scale_input),
        spectrum=SpectrumEncoderConfig(d_model=8, n_layers=1, n_heads=2, ff_dim=16, patch_size=8, pooling=pooling,
                                       scale_input=scale_input)))
    items = [m.preprocess_lightcurve(make_lightcurve(rng, n=6)) for _ in range(2)]
    batch = m.collate_lightcurves(items)
    batch.mask[1] = False
    sb = collate_spectra([m.preprocess_spectrum(make_spectrum(rng)) for _ in range(2)])
    sb.mask[0] = False
    for mode in (torch.inference_mode, torch.enable_grad):
        with mode():
            assert torch.isfinite(m.encode_lightcurves(batch)).all()
            assert torch.isfinite(m.encode_spectra(sb)).all()


# -- configs and persistence ----------------------------------------------------------------------
def test_config_round_trip_rebuilds_identical_model(tmp_path):
    cfg = tiny_config(metadata=MetadataEncoderConfig(class_names=("Ia", "II"), hidden_dim=8, n_layers=1))
    again = MavenConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg
    torch.manual_seed(3)
    a = MavenModel(cfg)
    torch.manual_seed(3)
    b = MavenModel(again)
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _assert_config_change_matters(base, changed, method, objs):
    """Models built from the two configs (same seed) differ in their parameters or in their embeddings."""
    torch.manual_seed(0)
    ma = MavenModel(base)
    torch.manual_seed(0)
    mb = MavenModel(changed)
    sa, sb = ma.state_dict(), mb.state_dict()
    same_params = sa.keys() == sb.keys() and all(sa[k].shape == sb[k].shape and torch.equal(sa[k], sb[k]) for k in sa)
    if same_params:
        assert not np.allclose(getattr(ma, method)(objs), getattr(mb, method)(objs), atol=1e-6)


@pytest.mark.parametrize("field,value", [
    ("d_model", 12), ("n_layers", 2), ("n_heads", 4), ("ff_dim", 24), ("time_base", 100.0),
    ("band_encoding", "linear"), ("band_base", 50.0), ("scale_input", "feature"), ("log_scale_offset", 5.0),
    ("log_scale_width", 0.1), ("pooling", "attention")])
def test_every_lightcurve_encoder_key_is_used(field, value, rng):
    """Changing any key changes the parameters or the embedding (dropout acts in training only)."""
    lcs = [make_lightcurve(rng, n=n) for n in (6, 15)]
    base = tiny_config()
    changed = base.replace(lightcurve=dataclasses.replace(base.lightcurve, **{field: value}))
    _assert_config_change_matters(base, changed, "embed_lightcurve", lcs)


@pytest.mark.parametrize("field,value", [("patch_size", 4), ("wavelength_encoding", "log"),
                                         ("wavelength_base", 100.0), ("scale_input", "token"),
                                         ("log_scale_offset", -3.0)])
def test_every_spectrum_encoder_key_is_used(field, value, rng):
    specs = [make_spectrum(rng) for _ in range(2)]
    base = tiny_config(spectrum=SpectrumEncoderConfig(d_model=8, n_layers=1, n_heads=2, ff_dim=16, patch_size=8,
                                                      scale_input="token" if field == "log_scale_offset" else "none"))
    changed = base.replace(spectrum=dataclasses.replace(base.spectrum, **{field: value}))
    _assert_config_change_matters(base, changed, "embed_spectrum", specs)


def test_unknown_and_missing_config_keys_error():
    d = tiny_config().to_dict()
    with pytest.raises(ConfigError, match="unknown key.*'colour'"):
        MavenConfig.from_dict({**d, "colour": 1})
    with pytest.raises(ConfigError, match="missing key.*embed_dim"):
        MavenConfig.from_dict({k: v for k, v in d.items() if k != "embed_dim"})
    bad = json.loads(json.dumps(d))
    bad["lightcurve"]["time_scale"] = 3
    with pytest.raises(ConfigError, match=r"lightcurve.*unknown key.*time_scale"):
        MavenConfig.from_dict(bad)
    with pytest.raises(ConfigError, match="patch_size"):
        tiny_config(spectrum=SpectrumEncoderConfig(d_model=8, n_layers=1, n_heads=2, ff_dim=16, patch_size=5))
    with pytest.raises(ConfigError, match="exactly when"):
        tiny_config(spectrum=None)
    with pytest.raises(ConfigError, match="canonical"):
        tiny_config(band_vocab=("ZTF_g",))


def test_save_load_round_trip(tmp_path, tiny_model, rng):
    lcs = [make_lightcurve(rng, n=n) for n in (4, 17, 30)]
    specs = [make_spectrum(rng) for _ in range(3)]
    tiny_model.save_pretrained(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "model.safetensors"]
    doc = json.loads((tmp_path / "m" / "config.json").read_text())
    assert doc["model_type"] == "maven"
    assert doc["metadata"]["torch_version"] == torch.__version__
    assert doc["metadata"]["astroembed_version"] == ae.__version__
    loaded = MavenModel.from_pretrained(tmp_path / "m")
    assert not loaded.training
    np.testing.assert_array_equal(loaded.embed_lightcurve(lcs), tiny_model.embed_lightcurve(lcs))
    np.testing.assert_array_equal(loaded.embed_spectrum(specs), tiny_model.embed_spectrum(specs))


def test_load_rejects_bad_config_and_foreign_weights(tmp_path, tiny_model):
    d = tmp_path / "m"
    tiny_model.save_pretrained(d)
    doc = json.loads((d / "config.json").read_text())

    def write(obj):
        (d / "config.json").write_text(json.dumps(obj))

    write({**doc, "config": {**doc["config"], "extra": 1}})
    with pytest.raises(ConfigError, match="unknown key.*extra"):
        MavenModel.from_pretrained(d)
    write({**doc, "config": {k: v for k, v in doc["config"].items() if k != "band_vocab"}})
    with pytest.raises(ConfigError, match="missing key.*band_vocab"):
        MavenModel.from_pretrained(d)
    write({**doc, "comment": "hi"})
    with pytest.raises(ConfigError, match="top-level"):
        MavenModel.from_pretrained(d)
    # same shapes, another config (time base): the weights are refused
    other = json.loads(json.dumps(doc))
    other["config"]["lightcurve"]["time_base"] = 123.0
    write(other)
    with pytest.raises(ConfigError, match="different config"):
        MavenModel.from_pretrained(d)
    # other shapes: a clear state-dict mismatch message
    other["config"]["lightcurve"]["time_base"] = doc["config"]["lightcurve"]["time_base"]
    other["config"]["lightcurve"]["d_model"] = 16
    write(other)
    with pytest.raises(ConfigError, match="do not match the config"):
        MavenModel.from_pretrained(d)
    write(doc)
    (d / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="safetensors"):
        MavenModel.from_pretrained(d)


def test_refuses_to_save_nan_weights(tmp_path):
    m = MavenModel(tiny_config())
    with torch.no_grad():
        next(m.parameters()).fill_(float("nan"))
    with pytest.raises(ValueError, match="non-finite"):
        m.save_pretrained(tmp_path / "nan")
    assert not (tmp_path / "nan" / "model.safetensors").exists()


def test_default_config_size():
    m = MavenModel(MavenConfig())
    n = m.num_parameters()
    assert 250_000 < n < 600_000  # Maven scale (~0.42 M): ships in a few MB
    assert m.embed_dim == 128
