"""Maven v2: SpecFormer spectrum encoder, masked pre-training objectives, template sampler, SNID-like baseline."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import astroembed as ae
from astroembed.data.collate import collate_spectra
from astroembed.data.preprocess import SpectrumPreprocessConfig
from astroembed.errors import ConfigError
from astroembed.models.maven import MavenConfig, MavenModel
from astroembed.models.maven.config import SpecFormerConfig
from astroembed.models.maven.specformer import SpecFormerEncoder, chunk_mask, standardise_spectra

TINY = SpecFormerConfig(d_model=16, n_layers=1, n_heads=2, ff_dim=32, dropout=0.0, patch_size=20, patch_stride=10,
                        mask_chunks=2, mask_chunk_len=2)


def _cfg(**kw):
    base = dict(lightcurve=None, lightcurve_preprocess=None, band_vocab=(), spectrum=TINY, embed_dim=8,
                spectrum_preprocess=SpectrumPreprocessConfig(n_bins=100, continuum="poly", min_valid_bins=20),
                metadata={"class_names": ["Ia", "II"], "hidden_dim": 8, "n_layers": 1, "dropout": 0.0})
    base.update(kw)
    return MavenConfig(**base)


def _spec(seed=0, lo=3500.0, hi=9500.0, z=0.05):
    rng = np.random.default_rng(seed)
    w = np.linspace(lo, hi, 800)
    f = 1 + 0.3 * np.exp(-0.5 * ((w - 6150 * (1 + z)) / 80) ** 2) * -1 + 0.02 * rng.normal(size=w.size)
    return ae.Spectrum(w, f, None, z, frame="observed")


def test_v1_weights_load_and_give_identical_outputs():
    """The bundled v1 ``maven`` still loads (config sha256 unchanged) and embeds exactly as before v2: the
    reference values were computed with the v1 code (main before this branch)."""
    m = ae.load_pretrained("maven")
    assert not isinstance(m.config.spectrum, SpecFormerConfig)
    assert "kind" not in m.config.to_dict()["spectrum"]
    w = np.linspace(3500, 9500, 800)
    f = 1 - 0.3 * np.exp(-0.5 * ((w - 6450) / 80) ** 2) + 0.05 * np.sin(w / 37)
    e = m.embed_spectrum([ae.Spectrum(w, f, None, 0.05, frame="observed")])
    ref = [-0.0621524, 0.0982055, -0.1067869, -0.161704, 0.2144347, 0.0430167]
    np.testing.assert_allclose(e[0, :6], ref, atol=2e-6)


def test_specformer_config_roundtrip_and_strictness(tmp_path):
    cfg = _cfg()
    assert MavenConfig.from_dict(json.loads(cfg.to_json())) == cfg
    with pytest.raises(ConfigError, match="patch_stride"):
        _cfg(spectrum_preprocess=SpectrumPreprocessConfig(n_bins=105))
    with pytest.raises(ConfigError, match="unknown key"):
        MavenConfig.from_dict({**cfg.to_dict(), "spectrum": {**TINY.to_dict(), "bogus": 1}})
    with pytest.raises(ConfigError, match="patch_stride"):
        SpecFormerConfig(patch_size=10, patch_stride=20)
    m = MavenModel(cfg)
    m.save_pretrained(tmp_path / "m")
    m2 = ae.load_pretrained(tmp_path / "m")
    assert isinstance(m2.spectrum_encoder, SpecFormerEncoder)
    np.testing.assert_array_equal(m.embed_spectrum([_spec()]), m2.embed_spectrum([_spec()]))


def test_every_specformer_key_is_used():
    base = MavenModel(_cfg())
    torch.manual_seed(0)
    x = collate_spectra([base.preprocess_spectrum(_spec(i)) for i in range(3)])
    changes = {"d_model": 32, "n_layers": 2, "n_heads": 4, "ff_dim": 64, "dropout": 0.5, "patch_size": 40,
               "patch_stride": 20, "mask_chunks": 5, "mask_chunk_len": 1, "pooling": "attention"}
    assert set(changes) | {"kind"} == {f.name for f in dataclasses.fields(SpecFormerConfig)}

    def sig(cfg):
        torch.manual_seed(0)
        m = MavenModel(_cfg(spectrum=cfg))
        n = m.num_parameters()
        m.train()
        torch.manual_seed(1)
        emb, loss = m.spectrum_encoder.masked_forward(x, generator=torch.Generator().manual_seed(0))
        return n, loss.item(), emb.detach().double().abs().sum().item(), m.spectrum_encoder.n_patches
    ref = sig(TINY)
    for k, v in changes.items():
        assert sig(dataclasses.replace(TINY, **{k: v})) != ref, k


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 1000), st.integers(2, 6))
def test_batch_invariance_and_unit_norm(seed, n):
    m = MavenModel(_cfg())
    specs = [_spec(seed + i, lo=3500 + 300 * (i % 3), hi=9500 - 500 * (i % 2)) for i in range(n)]
    all_ = m.embed_spectrum(specs)
    one = np.concatenate([m.embed_spectrum([s]) for s in specs])
    np.testing.assert_allclose(all_, one, atol=2e-5)
    np.testing.assert_allclose(np.linalg.norm(all_, axis=1), 1.0, atol=1e-5)
    assert all_.dtype == np.float32


def test_standardise_and_chunk_mask():
    f = torch.tensor([[1.0, 2.0, 3.0, 100.0]])
    m = torch.tensor([[True, True, True, False]])
    x, mean, std = standardise_spectra(f, m)
    assert mean.item() == pytest.approx(2.0) and x[0, 3] == 0
    assert x[0, :3].mean().item() == pytest.approx(0.0, abs=1e-6)
    cm = chunk_mask(10, 50, 1, 3, torch.Generator().manual_seed(0))
    assert (cm.sum(1) == 3).all()
    run = cm.float().argmax(1)
    assert all(cm[i, run[i]:run[i] + 3].all() for i in range(50))  # contiguous


def test_masked_loss_only_scores_masked_patches_and_hides_them():
    m = MavenModel(_cfg()).eval()
    enc = m.spectrum_encoder
    b = collate_spectra([m.preprocess_spectrum(_spec(i)) for i in range(2)])
    hide = torch.zeros(2, enc.n_patches, dtype=torch.bool)
    hide[:, 3:5] = True
    l1 = enc.masked_loss(b, hide=hide)
    # changing the flux of bins no hidden patch covers (and not covered by any patch next to it) leaves
    # the loss's targets unchanged; changing the hidden bins changes the target but not the input
    b2 = collate_spectra([m.preprocess_spectrum(_spec(i)) for i in range(2)])
    b2.flux[:, 40:60] += 5.0  # bins of patch 4 (40..59) only: hidden, so input unchanged except stats
    l2 = enc.masked_loss(b2, hide=hide)
    assert l1.item() != pytest.approx(l2.item())
    assert torch.isfinite(l1)
    with pytest.raises(ValueError, match="bins"):
        enc._patches(torch.zeros(1, 99))


def test_template_sampler_and_names(tmp_path):
    from astroembed.train.spectrum_templates import TemplateRecord, TemplateSampler, normalise_sn_name

    assert normalise_sn_name("SN 2011fe") == normalise_sn_name("sn2011fe") == "2011fe"
    assert normalise_sn_name("PTF10qts") == "ptf10qts"
    w = np.linspace(3000, 9000, 500)
    recs = [TemplateRecord(w, np.ones(500), "Ia", "a", "snid", True)] * 9 + \
        [TemplateRecord(w, np.ones(500), "SLSN-I", "b", "superfit", False)]
    s = TemplateSampler(recs, balance_power=1.0)
    assert s.weights[-1] == pytest.approx(0.5)  # balanced: the lone SLSN gets half the draws
    rng = np.random.default_rng(0)
    sp, lab, z = s.sample(9, rng)
    assert lab == "SLSN-I" and 0.05 <= z <= 0.8 and sp.frame == "observed"
    sp, _, z = s.sample(0, rng, z=0.1)
    assert sp.wavelength.min() >= 3000 * 1.1 - 1e-6


def test_snid_like_recovers_redshift_and_type():
    from astroembed.evaluate.snid_baseline import SnidLikeClassifier, flatten, log_grid

    grid = log_grid()
    rng = np.random.default_rng(0)

    def feat(centres, wave):
        return 1 - sum(0.4 * np.exp(-0.5 * ((wave - c) / 60) ** 2) for c in centres)
    lines = {"A": [4000, 5200, 6150], "B": [4500, 5900, 6563]}
    t, labs = [], []
    for lab, c in lines.items():
        f = feat(c, grid)
        t.append(flatten(f, np.ones(len(grid), bool)))
        labs.append(lab)
    clf = SnidLikeClassifier(np.array(t), labs, ["x", "y"], grid, n_vote=1, n_z=1)
    for z in (0.02, 0.1, 0.3):
        w = np.linspace(3600, 9200, 1500)
        f = feat(lines["B"], w / (1 + z)) * (w / 5000) ** -1.5 + 0.01 * rng.normal(size=w.size)
        lab, zp, _ = clf.predict_one(w, f)
        assert lab == "B"
        assert abs(zp - z) < 0.005 * (1 + z)


# -- masked light-curve pre-training (AppleCiDEr MPT) -------------------------------------------------------
def _lc_batch(n_obj=4, seed=0):
    from astroembed.data.collate import collate_lightcurves
    from astroembed.data.preprocess import LightCurvePreprocessConfig, preprocess_lightcurve

    rng = np.random.default_rng(seed)
    items = []
    for i in range(n_obj):
        n = 6 + 3 * i
        t = np.sort(rng.uniform(0, 60, n)) + 59000
        items.append(preprocess_lightcurve(ae.LightCurve(
            time=t, band=rng.choice(["ztfg", "ztfr"], n), mag=19 + rng.normal(0, 0.3, n), mag_err=np.full(n, 0.1)),
            LightCurvePreprocessConfig(max_length=64)))
    return collate_lightcurves(items, ("ztfg", "ztfr", "ztfi"))


def test_observation_mask_hides_thirty_percent_of_real_points_only():
    from astroembed.models.maven.masked_lc import observation_mask

    mask = torch.zeros(3, 20, dtype=torch.bool)
    mask[0, :10] = True
    mask[1, :20] = True
    mask[2, :1] = True
    h = observation_mask(mask, 0.3, torch.Generator().manual_seed(0))
    assert h.sum(1).tolist() == [3, 6, 0]  # round(0.3 n), never all points, never padding
    assert not (h & ~mask).any()


def test_time_gaps():
    from astroembed.models.maven.masked_lc import time_gaps

    t = torch.tensor([[0.0, 1.5, 4.0, 0.0]])
    m = torch.tensor([[True, True, True, False]])
    assert time_gaps(t, m).tolist() == [[0.0, 1.5, 2.5, 0.0]]


def test_masked_lc_objective_weights_and_hiding():
    from astroembed.models.maven import LightCurveEncoderConfig
    from astroembed.models.maven.masked_lc import MaskedLightCurveObjective, maven_lc_adapter

    torch.manual_seed(0)
    model = MavenModel(MavenConfig(spectrum=None, spectrum_preprocess=None, embed_dim=8,
                                   lightcurve=LightCurveEncoderConfig(d_model=16, n_layers=1, n_heads=2, ff_dim=32)))
    enc = model.lightcurve_encoder
    obj = MaskedLightCurveObjective(16, 3)
    tf, cf = maven_lc_adapter(enc)
    b = _lc_batch()
    loss, parts = obj(b, tf, cf, torch.Generator().manual_seed(0))
    assert loss.item() == pytest.approx(5 * parts["flux"].item() + 3 * parts["band"].item() + 5 * parts["dt"].item(),
                                        rel=1e-5)
    # the hidden observations' flux must not reach the model: changing it changes the target only
    from astroembed.models.maven.masked_lc import observation_mask

    hidden = observation_mask(b.mask, 0.3, torch.Generator().manual_seed(0))
    hs = cf(obj.hide(tf(b), hidden), b.mask, b)
    b2 = _lc_batch()
    b2.flux[hidden] += 3.0
    b2.time[hidden] += 0.5
    hs2 = cf(obj.hide(tf(b2), hidden), b2.mask, b2)
    torch.testing.assert_close(hs, hs2)
    # context states match the encoder's own forward (the adapter mirrors encode_tokens; without the
    # scale token, whose state the adapter drops, mean pooling of the states is the encoder's pooling)
    torch.manual_seed(0)
    model = MavenModel(MavenConfig(spectrum=None, spectrum_preprocess=None, embed_dim=8, lightcurve=LightCurveEncoderConfig(
        d_model=16, n_layers=1, n_heads=2, ff_dim=32, scale_input="none")))
    enc = model.lightcurve_encoder
    tf, cf = maven_lc_adapter(enc)
    model.eval()
    h = cf(tf(b), b.mask, b)
    pooled = (h * b.mask.unsqueeze(-1)).sum(1) / b.mask.sum(1, keepdim=True)
    torch.testing.assert_close(enc.proj(enc.pool_norm(pooled)), enc(b), atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="mask_frac"):
        MaskedLightCurveObjective(16, 3, mask_frac=1.0)


def test_pretrain_lightcurves_runs_and_saves(tmp_path):
    from astroembed.models.maven import LightCurveEncoderConfig
    from astroembed.train.pretrain_masked import LCPretrainConfig, pretrain_lightcurves

    model = MavenModel(MavenConfig(spectrum=None, spectrum_preprocess=None, embed_dim=8,
                                   lightcurve=LightCurveEncoderConfig(d_model=16, n_layers=1, n_heads=2, ff_dim=32)))
    rng = np.random.default_rng(0)
    lcs = [ae.LightCurve(time=np.sort(rng.uniform(0, 50, 12)) + 59000, band=rng.choice(["ztfg", "ztfr"], 12),
                         mag=19 + rng.normal(0, 0.3, 12), mag_err=np.full(12, 0.1)) for _ in range(40)]
    before = model.lightcurve_encoder.value_proj.weight.detach().clone()
    hist = pretrain_lightcurves(model, lcs, LCPretrainConfig(batch_size=8, max_steps=6, val_every=3, warmup_steps=1,
                                                             val_fraction=0.2), tmp_path / "m", log=lambda s: None)
    assert [h["step"] for h in hist] == [3, 6]
    assert not torch.equal(before, model.lightcurve_encoder.value_proj.weight)
    assert ae.load_pretrained(tmp_path / "m").embed_lightcurve(lcs[:2]).shape == (2, 8)


def test_assemble_copies_encoders_and_clip_align_trains(tmp_path):
    from astroembed.models.maven import LightCurveEncoderConfig
    from astroembed.train.clip_align import AlignConfig, assemble, clip_align

    lc_model = MavenModel(MavenConfig(spectrum=None, spectrum_preprocess=None, embed_dim=8,
                                      lightcurve=LightCurveEncoderConfig(d_model=16, n_layers=1, n_heads=2, ff_dim=32)))
    sp_model = MavenModel(_cfg(metadata=None))
    lc_model.save_pretrained(tmp_path / "lc")
    sp_model.save_pretrained(tmp_path / "sp")
    m = assemble(tmp_path / "lc", tmp_path / "sp", learn_logit_scale=False, logit_scale_init=np.log(15.5))
    assert m.modalities == ("lightcurve", "spectrum") and not m.config.learn_logit_scale
    rng = np.random.default_rng(0)
    lcs = [ae.LightCurve(time=np.sort(rng.uniform(0, 50, 10)) + 59000, band=rng.choice(["ztfg", "ztfr"], 10),
                         mag=19 + rng.normal(0, 0.3, 10), mag_err=np.full(10, 0.1)) for _ in range(24)]
    sps = [_spec(i) for i in range(24)]
    np.testing.assert_array_equal(m.embed_spectrum(sps[:2]), sp_model.embed_spectrum(sps[:2]))
    np.testing.assert_array_equal(m.embed_lightcurve(lcs[:2]), lc_model.embed_lightcurve(lcs[:2]))
    hist = clip_align(m, lcs, sps, AlignConfig(batch_size=8, max_steps=4, val_every=2, warmup_steps=1,
                                               val_fraction=0.25), tmp_path / "ssl", log=lambda s: None)
    assert [h["step"] for h in hist] == [2, 4]
    assert all(h["logit_scale"] == pytest.approx(15.5) for h in hist)  # fixed scale stays fixed
    assert not np.array_equal(m.embed_spectrum(sps[:2]), sp_model.embed_spectrum(sps[:2]))
    with pytest.raises(ValueError, match="light curves but"):
        clip_align(m, lcs, sps[:3], AlignConfig(), tmp_path / "x")


def test_bundled_maven_ssl_is_label_free_and_embeds_both_modalities():
    m = ae.load_pretrained("maven-ssl")
    assert m.modalities == ("lightcurve", "spectrum") and m.metadata_encoder is None
    assert isinstance(m.config.spectrum, SpecFormerConfig)
    lc = ae.LightCurve(time=[59000.0, 59002.0, 59005.0, 59009.0], band=["ztfg", "ztfr", "ztfg", "ztfr"],
                       mag=[19.1, 18.9, 18.7, 18.9], mag_err=[0.1, 0.1, 0.1, 0.1])
    e_lc, e_sp = m.embed_lightcurve([lc]), m.embed_spectrum([_spec(3)])
    assert e_lc.shape == e_sp.shape == (1, m.embed_dim)
    np.testing.assert_allclose(np.linalg.norm(np.concatenate([e_lc, e_sp]), axis=1), 1.0, atol=1e-5)
