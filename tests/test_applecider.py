"""AppleCiDEr early classifier: predict_proba contract, bad input, modalities, persistence, losses."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import astroembed as ae
from astroembed.errors import ConfigError
from astroembed.models.applecider import config as C
from astroembed.models.applecider.features import metadata_matrix, photometry_tokens, truncate_lightcurve
from astroembed.models.applecider.losses import class_balanced_weights, focal_loss, random_token_mask
from astroembed.models.applecider.model import AppleCiderModel


def tiny_config(**over) -> C.AppleCiderConfig:
    kw = dict(photometry=C.PhotometryConfig(d_model=16, n_layers=1, n_heads=2, ff_dim=32, time2vec_dim=4,
                                            max_length=32),
              metadata=C.MetadataConfig(hidden_dim=8), spectrum=C.SpectrumTowerConfig(n_bins=64, channels=4,
                                                                                     hidden_dim=8),
              fusion=C.FusionConfig(n_experts=2, hidden_dim=16), embed_dim=16)
    kw.update(over)
    return C.AppleCiderConfig(**kw)


def make_lc(n=6, seed=0, oid=None, t0=59000.0):
    r = np.random.default_rng(seed)
    t = t0 + np.sort(r.uniform(0, 40, n))
    return ae.LightCurve(time=t, band=np.where(np.arange(n) % 2, "ztfr", "ztfg"), mag=19 + r.normal(0, 0.3, n),
                         mag_err=np.full(n, 0.08), object_id=oid)


def make_spec(lo=3300.0, hi=9000.0, z=0.05, seed=0):
    r = np.random.default_rng(seed)
    w = np.linspace(lo, hi, 400)
    return ae.Spectrum(w, 1 + 0.1 * np.sin(w / 200) + r.normal(0, 0.01, 400), redshift=z)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return AppleCiderModel(tiny_config())


def test_rows_sum_to_one_columns_are_classes_and_order_preserved(model):
    lcs = [make_lc(n=4 + i, seed=i, oid=f"o{i}") for i in range(5)]
    meta = [{"host_absmag": -20 + i, "mw_av": 0.1} for i in range(5)]
    p = model.predict_proba(lcs, metadata=meta)
    assert list(p.columns) == list(model.classes) == list(C.DEFAULT_CLASSES)
    assert list(p.index) == [f"o{i}" for i in range(5)]
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    perm = [3, 0, 4, 1, 2]
    q = model.predict_proba([lcs[i] for i in perm], metadata=[meta[i] for i in perm])
    assert list(q.index) == [f"o{i}" for i in perm]
    np.testing.assert_allclose(q.to_numpy(), p.to_numpy()[perm], atol=1e-5)


def test_batch_invariance_padding_masked(model):
    short, long_ = make_lc(n=3, seed=1), make_lc(n=25, seed=2)
    alone = model.predict_proba([short]).to_numpy()
    together = model.predict_proba([short, long_]).to_numpy()[:1]
    np.testing.assert_allclose(alone, together, atol=1e-5)
    e1 = model.embed_lightcurve([short])
    e2 = model.embed_lightcurve([short, long_])
    np.testing.assert_allclose(e1, e2[:1], atol=1e-5)


def test_metadata_and_spectrum_change_the_prediction(model):
    lc = make_lc()
    base = model.predict_proba([lc]).to_numpy()
    with_meta = model.predict_proba([lc], metadata=[{"host_absmag": -23.0, "host_color": 2.0}]).to_numpy()
    with_spec = model.predict_proba([lc], spectra=[make_spec()]).to_numpy()
    assert not np.allclose(base, with_meta, atol=1e-6)
    assert not np.allclose(base, with_spec, atol=1e-6)


def test_missing_modalities_allowed_but_not_all(model):
    p = model.predict_proba([make_lc(), None, None], metadata=[None, {"mw_av": 0.3}, None],
                            spectra=[None, None, make_spec()])
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match=r"object\(s\) \[1\]: no modality"):
        model.predict_proba([make_lc(), None])
    only_meta = model.predict_proba(metadata=pd.DataFrame({"host_absmag": [-20.0, np.nan], "mw_av": [np.nan, 0.1]}))
    assert len(only_meta) == 2


def test_one_point_lightcurve_error_names_field(model):
    lc = ae.LightCurve(time=[59000.0], band=["ztfg"], mag=[19.0], mag_err=[0.1])
    with pytest.raises(ValueError, match=r"lightcurves\[1\].*1 detection"):
        model.predict_proba([make_lc(), lc])
    # two points of one band within 12 h merge into one
    lc2 = ae.LightCurve(time=[59000.0, 59000.2], band=["ztfg", "ztfg"], mag=[19.0, 19.1], mag_err=[0.1, 0.1])
    with pytest.raises(ValueError, match="merging points within 12 h"):
        model.predict_proba([lc2])


def test_metadata_errors_name_the_field(model):
    with pytest.raises(ValueError, match=r"metadata\[0\]: unknown key\(s\) \['redshift'\]"):
        model.predict_proba([make_lc()], metadata=[{"redshift": 0.05}])
    with pytest.raises(ValueError, match=r"metadata\[0\]\.mw_av: 50.0 is outside \[0, 10\]"):
        model.predict_proba([make_lc()], metadata=[{"mw_av": 50.0}])
    with pytest.raises(ValueError, match=r"metadata\[0\]\.host_absmag: .*outside"):
        model.predict_proba([make_lc()], metadata=[{"host_absmag": 19.5}])   # apparent, not absolute
    with pytest.raises(ValueError, match="different lengths"):
        model.predict_proba([make_lc()], metadata=[None, None])


def test_missing_metadata_is_flagged_not_imputed():
    v, m = metadata_matrix(pd.DataFrame({"host_absmag": [-20.0, np.nan], "mw_av": [0.15, None]}),
                           ("host_absmag", "host_color", "mw_av"), 2)
    np.testing.assert_array_equal(m, [[0, 1, 0], [1, 1, 1]])
    np.testing.assert_allclose(v[0], [0.0, 0.0, 0.0], atol=1e-6)   # both at the standardisation centre
    v2, _ = metadata_matrix([{"gal_b_deg": -60.0}, {"gal_b_deg": 60.0}], ("gal_b_deg",), 2)
    assert v2[0, 0] == v2[1, 0] != 0       # |b| is used


def test_spectrum_outside_grid_error(model):
    with pytest.raises(ValueError, match=r"spectra\[0\]: spectrum .*wavelength: rest frame .*covers"):
        model.predict_proba([make_lc()], spectra=[make_spec(lo=9500.0, hi=12000.0)])
    s = ae.Spectrum(np.linspace(4000, 8000, 100), np.ones(100))
    with pytest.raises(ValueError, match="redshift"):
        model.predict_proba([make_lc()], spectra=[s])


def test_tokens_horizon_merge_and_truncation():
    cfg = C.PhotometryConfig(horizon_days=10.0)
    lc = ae.LightCurve(time=[100.0, 100.1, 100.3, 105.0, 112.0], band=["ztfg", "ztfg", "ztfr", "ztfg", "ztfg"],
                       mag=[19.0, 19.0, 19.2, 18.5, 18.0], mag_err=[0.1] * 5)
    tok, dt = photometry_tokens(lc, cfg)
    assert len(dt) == 3                      # g pair merged, point at +12 d beyond the horizon
    np.testing.assert_allclose(dt, [0.0, 0.25, 4.95], atol=1e-5)   # from the merged first g point
    np.testing.assert_allclose(tok[:, 0], np.log1p(dt), atol=1e-6)
    np.testing.assert_allclose(tok[1:, 1], np.log1p(np.diff(dt)), atol=1e-5)
    assert tok[0, 4] == pytest.approx((ae.bands.band_wavelength("ztfg") - 6000.0) / 1000.0)
    assert tok[:, 5].max() == 0.0 and tok[2, 5] == pytest.approx(tok[2, 2] - tok[:, 2].max())
    assert len(truncate_lightcurve(lc, 5.0)) == 4


@settings(max_examples=15, deadline=None)
@given(st.integers(2, 30), st.integers(0, 10_000))
def test_tokens_finite_and_time_ordered(n, seed):
    tok, dt = photometry_tokens(make_lc(n=n, seed=seed), C.PhotometryConfig())
    assert np.isfinite(tok).all() and (np.diff(dt) >= 0).all() and dt[0] == 0


def test_embedder_api_and_registry_roundtrip(model, tmp_path):
    e = model.embed_lightcurve([make_lc(seed=i) for i in range(3)])
    assert e.dtype == np.float32 and e.shape == (3, 16)
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    with pytest.raises(NotImplementedError, match="lightcurve"):
        model.embed_spectrum([make_spec()])
    model.save_pretrained(tmp_path / "m")
    back = ae.load_pretrained(str(tmp_path / "m"))
    assert isinstance(back, AppleCiderModel)
    np.testing.assert_allclose(back.embed_lightcurve([make_lc()]), model.embed_lightcurve([make_lc()]), atol=1e-6)


def test_bundled_weights_load():
    if "applecider" not in ae.list_models():
        pytest.skip("applecider weights not bundled in this checkout")
    m = ae.load_pretrained("applecider")
    p = m.predict_proba([make_lc(n=10)], metadata=[{"host_absmag": -20.0, "host_color": 0.8, "gal_b_deg": 40.0,
                                                    "mw_av": 0.1}])
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)


def test_config_strict_and_every_key_used(tmp_path):
    d = tiny_config().to_dict()
    with pytest.raises(ConfigError, match="unknown key"):
        C.AppleCiderConfig.from_dict({**d, "images": None})
    with pytest.raises(ConfigError, match="MetadataConfig.fields"):
        C.MetadataConfig(fields=("redshift",))
    assert C.AppleCiderConfig.from_dict(json.loads(json.dumps(d))) == tiny_config()

    lc0 = make_lc(n=12)
    lc = ae.LightCurve(time=np.append(lc0.time, lc0.time[-1] + 0.2), band=np.append(lc0.band, lc0.band[-1]),
                       mag=np.append(lc0.mag, 19.0), mag_err=np.full(13, 0.08))      # last two points merge
    s = make_spec(lo=5000.0)                                                     # covers ~60% of the grid
    meta = [{"host_absmag": -21.0, "mw_av": 0.3}]

    def fingerprint(cfg):
        torch.manual_seed(0)
        m = AppleCiderModel(cfg)
        shapes = {k: tuple(v.shape) for k, v in m.state_dict().items()}
        ev = m.predict_proba([lc], metadata=meta, spectra=[s]).to_numpy()
        m.train()
        torch.manual_seed(1)
        b = m.make_batch([lc] * 16, meta * 16, [s] * 16)
        tr = m(b).detach().numpy()
        return shapes, ev, tr

    base = fingerprint(tiny_config())
    changes = {"photometry": dict(d_model=32, n_layers=2, n_heads=4, ff_dim=64, dropout=0.3, time2vec_dim=6,
                                  merge_hours=0.0, horizon_days=20.0, max_length=5, min_points=13),
               "metadata": dict(fields=("host_absmag", "mw_av"), hidden_dim=4, n_layers=1, dropout=0.5),
               "spectrum": dict(wave_min=3000.0, wave_max=8000.0, n_bins=32, continuum_bins=5, min_coverage=0.9,
                                kernel_sizes=(3,), channels=2, hidden_dim=4, dropout=0.5),
               "fusion": dict(n_experts=3, hidden_dim=8, dropout=0.5, modality_dropout=0.9)}
    unused = []
    for sub, kv in changes.items():
        for k, v in kv.items():
            cfg = tiny_config().replace(**{sub: dataclasses.replace(getattr(tiny_config(), sub), **{k: v})})
            try:
                fp = fingerprint(cfg)
            except ValueError as exc:        # e.g. min_points / min_coverage now refuse the input: used
                assert k in ("min_points", "min_coverage"), exc
                continue
            if fp[0] == base[0] and np.allclose(fp[1], base[1]) and np.allclose(fp[2], base[2]):
                unused.append(f"{sub}.{k}")
    for k, v in (("classes", ("a", "b")), ("embed_dim", 8)):
        fp = fingerprint(tiny_config(**{k: v}))
        if fp[0] == base[0]:
            unused.append(k)
    assert not unused, f"config keys without effect: {unused}"
    # every field of every sub-config is exercised above
    for sub, kv in changes.items():
        assert set(kv) == {f.name for f in dataclasses.fields(getattr(tiny_config(), sub))}, sub


def test_focal_loss_and_class_balanced_weights():
    logits = torch.randn(8, 4)
    y = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    ce = torch.nn.functional.cross_entropy(logits, y)
    assert float(focal_loss(logits, y, torch.ones(4), 0.0)) == pytest.approx(float(ce), rel=1e-5)
    assert float(focal_loss(logits, y, torch.ones(4), 2.0)) < float(ce)
    w = class_balanced_weights([1000, 100, 10, 0], 0.999)
    assert w[0] < w[1] < w[2] and w[3] == 0 and w[:3].mean() == pytest.approx(1.0)


def test_random_token_mask_hides_some_never_all_or_padding():
    mask = torch.tensor([[True, True, True, False], [True, False, False, False], [True] * 4])
    for s in range(20):
        h = random_token_mask(mask, 0.99, torch.Generator().manual_seed(s))
        assert not (h & ~mask).any()
        assert (h.sum(1) >= 1).all()
        assert h[0].sum() <= 2 and h[2].sum() <= 3


def test_modality_dropout_only_in_training(model):
    lc = make_lc()
    b = model.make_batch([lc] * 64, [{"host_absmag": -22.0, "host_color": 2.0}] * 64, [make_spec()] * 64)
    model.eval()
    with torch.no_grad():
        ev = model(b)
    assert torch.allclose(ev, ev[:1].expand_as(ev), atol=1e-5)   # eval: no dropout, identical rows
    m2 = AppleCiderModel(tiny_config(fusion=C.FusionConfig(n_experts=2, hidden_dim=16, dropout=0.0,
                                                           modality_dropout=0.5)))
    m2.load_state_dict(model.state_dict())
    m2.photometry.encoder.layers[0].self_attn.dropout = 0.0
    m2.train()
    torch.manual_seed(0)
    for mod in m2.modules():
        if isinstance(mod, torch.nn.Dropout):
            mod.p = 0.0
    with torch.no_grad():
        tr = m2(b)
    assert torch.isfinite(tr).all()
    distinct = torch.unique(tr.round(decimals=4), dim=0)
    assert 2 <= len(distinct) <= 7        # subsets of the 3 modalities, never the empty one


def test_train_tiny_run_and_classify_table():
    from astroembed.models.applecider.api import classify_table
    from astroembed.models.applecider.training import train_applecider

    lcs = [make_lc(n=8, seed=i, oid=f"x{i}") for i in range(24)]
    labels = [C.DEFAULT_CLASSES[i % 2] for i in range(20)] + [None] * 4
    meta = pd.DataFrame({"host_absmag": np.linspace(-22, -18, 24), "host_color": 0.8, "gal_b_deg": 30.0,
                         "mw_av": 0.1})
    cfg = C.AppleCiderTrainConfig(model=tiny_config(), pretrain_epochs=1, epochs=2, batch_size=8, max_minutes=1.0)
    m, hist = train_applecider(cfg, lcs, labels, meta, spectra=[make_spec(seed=i) for i in range(4)],
                               spectrum_labels=["SN Ia", "SN II", "SN Ia", "unknown"], log=lambda s: None)
    assert hist["n_labelled"] == 20 and hist["n_spectra"] == 3 and hist["epochs_done"] == 2
    assert not m.training
    rows = [{"object_id": lc.object_id, "mjd": t, "band": b, "mag": mg, "magerr": 0.08}
            for lc in lcs[:3] for t, b, mg in zip(lc.time, lc.band, lc.mag)]
    phot = pd.DataFrame(rows).iloc[::-1]
    out = classify_table(phot, pd.DataFrame({"object_id": ["x1"], "mw_av": [0.2]}), model=m)
    assert list(out.index) == ["x2", "x1", "x0"]
    assert set(out["predicted_class"]) <= set(m.classes)
    np.testing.assert_allclose(out[list(m.classes)].sum(axis=1), 1.0, atol=1e-5)
