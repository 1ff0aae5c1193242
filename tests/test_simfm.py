"""SimFM model family: config strictness, every config key used, batch invariance, persistence, training."""

import json
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import astroembed as ae
from astroembed.errors import ConfigError
from astroembed.models.simfm import SimFMConfig, SimFMModel, TransformerConfig, grad_reverse
from astroembed.models.simfm.training import SimFMTrainConfig, fit_simfm, supervised_contrastive_loss

from .conftest import make_lightcurve

TRANSFORMER = dict(encoder="transformer", hidden_dim=16, n_layers=1,
                   transformer=TransformerConfig(n_heads=2, ff_dim=32, time_base=1000.0))
SMALL = dict(hidden_dim=16, dense_dim=12, latent_dim=8)


def _model(seed=0, **kw):
    torch.manual_seed(seed)
    return SimFMModel(SimFMConfig(**(SMALL | kw)))


def _lcs(n=6, seed=0, **kw):
    rng = np.random.default_rng(seed)
    return [make_lightcurve(rng, n=int(rng.integers(3, 30)), object_id=f"o{i}", **kw) for i in range(n)]


def test_config_round_trip_and_strict_errors():
    c = SimFMConfig(**TRANSFORMER)
    assert SimFMConfig.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    d = SimFMConfig().to_dict()
    with pytest.raises(ConfigError, match="unknown key.*typo"):
        SimFMConfig.from_dict(d | {"typo": 1})
    with pytest.raises(ConfigError, match="missing key.*latent_dim"):
        SimFMConfig.from_dict({k: v for k, v in d.items() if k != "latent_dim"})
    with pytest.raises(ConfigError, match="transformer: must be null"):
        SimFMConfig(transformer=TransformerConfig())
    with pytest.raises(ConfigError, match="needs a transformer config"):
        SimFMConfig(encoder="transformer")
    with pytest.raises(ConfigError, match="encoder"):
        SimFMConfig(encoder="lstm")
    with pytest.raises(ConfigError, match="band_wavelength_range"):
        SimFMConfig(band_wavelength_range=(9000.0, 3000.0))


def _signature(model, lcs, train=False):
    """Parameter shapes + outputs of a model on ``lcs`` (embedding, logits) with fixed seeds."""
    torch.manual_seed(1)
    items = [model.preprocess_lightcurve(lc) for lc in lcs]
    batch = model.collate(items)
    model.train(train)
    with torch.no_grad():
        torch.manual_seed(2)
        out = model(batch)
    model.eval()
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    return shapes, {k: v.numpy().copy() for k, v in out.items()}


def _differs(a, b) -> bool:
    if a[0] != b[0]:
        return True
    if set(a[1]) != set(b[1]):
        return True
    return any(x.shape != b[1][k].shape or not np.allclose(x, b[1][k], atol=1e-6) for k, x in a[1].items())


# every key of SimFMConfig (and its nested configs) with a changed value that must change the model
CHANGES = {
    "encoder": TRANSFORMER, "hidden_dim": {"hidden_dim": 20}, "n_layers": {"n_layers": 1},
    "dense_dim": {"dense_dim": 10}, "latent_dim": {"latent_dim": 6}, "time_scale": {"time_scale": 7.0},
    "wavelength_scale": {"wavelength_scale": 1000.0}, "scale_feature": {"scale_feature": False},
    "host": {"host": True}, "class_names": {"class_names": ("a", "b", "c")},
    "redshift_head": {"redshift_head": False}, "n_surveys": {"n_surveys": 0},
    "preprocess": {"preprocess": ae.data.preprocess.LightCurvePreprocessConfig(max_length=4)},
}


def test_every_config_key_is_used():
    lcs = [make_lightcurve(np.random.default_rng(i), n=12, redshift=0.05, mwebv=0.02) for i in range(3)]
    keys = set(SimFMConfig().to_dict())
    covered = set(CHANGES) | {"dropout", "band_wavelength_range", "transformer"}
    assert covered == keys, f"keys without a usage test: {keys - covered}"
    base = _signature(_model(), lcs)
    for key, change in CHANGES.items():
        assert _differs(base, _signature(_model(**change), lcs)), f"config key {key!r} has no effect"
    # dropout: only in training mode
    assert _differs(_signature(_model(), lcs, train=True), _signature(_model(dropout=0.5), lcs, train=True))
    # the transformer's own keys
    tb = _signature(_model(**TRANSFORMER), lcs)
    for sub in ({"n_heads": 4}, {"ff_dim": 16}, {"time_base": 10.0}):
        tc = TransformerConfig(**(TRANSFORMER["transformer"].to_dict() | sub))
        assert _differs(tb, _signature(_model(**(TRANSFORMER | {"transformer": tc})), lcs)), sub
    # band_wavelength_range: drives the out-of-range warning
    m = _model(band_wavelength_range=(3000.0, 9000.0))
    with pytest.warns(UserWarning, match="outside the pre-training bands"):
        m.embed_lightcurve(_lcs(2, bands=("ztfg", "2massks")))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _model(band_wavelength_range=(3000.0, 30000.0)).embed_lightcurve(_lcs(2, bands=("ztfg", "2massks")))


def test_wavelength_warning_only_once():
    m = _model()
    with pytest.warns(UserWarning) as rec:
        m.embed_lightcurve(_lcs(3, bands=("galexnuv", "ztfr")))
        m.embed_lightcurve(_lcs(3, bands=("galexnuv", "ztfr")))
    assert len([r for r in rec if "outside" in str(r.message)]) == 1


@pytest.mark.parametrize("kind", ["gru", "transformer"])
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), n=st.integers(2, 7), batch=st.integers(1, 5))
def test_embedding_is_batch_invariant(kind, seed, n, batch):
    model = _model(**(TRANSFORMER if kind == "transformer" else {}))
    lcs = _lcs(n, seed=seed)
    alone = np.vstack([model.embed_lightcurve(lc) for lc in lcs])
    together = model.embed_lightcurve(lcs, batch_size=batch)
    assert np.allclose(alone, together, atol=2e-5)
    assert together.dtype == np.float32 and together.shape == (n, 8)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_padding_does_not_leak_into_gru_state():
    model = _model()
    short, long = _lcs(2, seed=3)
    items = [model.preprocess_lightcurve(lc) for lc in (short, long)]
    with torch.no_grad():
        b = model.collate(items)
        b.lc.flux[~b.lc.mask] = 1e3  # garbage in the padding must not matter
        e1 = model.encode_lightcurves(b)
        e2 = model.encode_lightcurves(model.collate(items))
    assert torch.allclose(e1, e2)


def test_save_load_round_trip(tmp_path):
    model = _model(**TRANSFORMER)
    lcs = _lcs(4)
    model.save_pretrained(tmp_path / "m")
    back = ae.load_pretrained(str(tmp_path / "m"))
    assert isinstance(back, SimFMModel) and back.config == model.config
    assert isinstance(back, ae.Embedder)
    assert np.array_equal(back.embed_lightcurve(lcs), model.embed_lightcurve(lcs))


def test_bundled_simfm_loads_and_embeds():
    assert "simfm" in ae.list_models()
    model = ae.load_pretrained("simfm")
    assert isinstance(model, SimFMModel) and model.modalities == ("lightcurve",)
    e = model.embed_lightcurve(_lcs(3))
    assert e.shape == (3, model.embed_dim) and np.allclose(np.linalg.norm(e, axis=1), 1, atol=1e-5)
    with pytest.raises(NotImplementedError, match="spectrum"):
        model.embed_spectrum([])


def test_host_branch_requires_redshift_and_ebv():
    with pytest.raises(ValueError, match="redshift=.*mwebv"):
        _model(host=True).embed_lightcurve(_lcs(1))
    m = _model(host=True)
    lc1, lc2 = (make_lightcurve(np.random.default_rng(0), redshift=z, mwebv=0.01) for z in (0.01, 0.3))
    e = m.embed_lightcurve([lc1, lc2])
    assert not np.allclose(e[0], e[1])  # identical photometry, different host inputs


def test_errors_coerce_keeps_alignment():
    m = _model()
    lcs = _lcs(3)
    ok = m.embed_lightcurve(lcs)
    got = m.embed_lightcurve(lcs, errors="coerce")
    assert np.allclose(ok, got)
    with pytest.raises(ValueError, match="errors"):
        m.embed_lightcurve(lcs, errors="ignore")


def test_grad_reverse_flips_gradient():
    x = torch.ones(3, requires_grad=True)
    (grad_reverse(x, 0.5) * 2).sum().backward()
    assert torch.allclose(x.grad, torch.full((3,), -1.0))


def test_supcon_prefers_cross_survey_alignment():
    y = torch.tensor([0, 0, 1, 1])
    s = torch.tensor([0, 1, 0, 1])
    aligned = torch.tensor([[1.0, 0], [1, 0], [0, 1], [0, 1]])
    crossed = torch.tensor([[1.0, 0], [0, 1], [0, 1], [1, 0]])
    assert supervised_contrastive_loss(aligned, y, s, 0.1) < supervised_contrastive_loss(crossed, y, s, 0.1)
    # no cross-survey positive: zero loss (and finite)
    assert float(supervised_contrastive_loss(aligned, y, torch.zeros(4, dtype=torch.long), 0.1)) == 0.0


@pytest.mark.parametrize("variant", ["classifier", "both"])
def test_fit_learns_a_separable_toy_problem(variant):
    """Two classes differing in light-curve width: a few epochs must beat chance clearly."""
    rng = np.random.default_rng(0)
    lcs, y = [], []
    for i in range(80):
        w = 5.0 if i % 2 else 40.0
        t = 59000 + np.sort(rng.uniform(0, 120, 20))
        f = 100 * np.exp(-0.5 * ((t - 59060) / w) ** 2) + 3
        lcs.append(ae.LightCurve(time=t, band=rng.choice(["ztfg", "ztfr"], 20), flux=f, flux_err=np.full(20, 2.0)))
        y.append(i % 2)
    model = _model(class_names=("a", "b"), n_surveys=2)
    items = [model.preprocess_lightcurve(lc) for lc in lcs]
    cfg = SimFMTrainConfig(variant=variant, epochs=15, batch_size=16, lr=1e-2, val_fraction=0.0, max_minutes=1.0)
    hist = fit_simfm(model, items, np.array(y), np.full(80, 0.05, np.float32), np.arange(80) % 2, cfg, log=lambda m: None)
    probs, z = model.predict(lcs)
    acc = float(((probs[:, 1] > 0.5).astype(int) == np.array(y)).mean())
    assert acc > 0.9, (acc, hist["epochs"][-1])
    assert np.isfinite(z).all()


def test_adversarial_needs_discriminator():
    model = _model(n_surveys=0)
    with pytest.raises(ConfigError, match="n_surveys"):
        fit_simfm(model, [], np.zeros(0), np.zeros(0), np.zeros(0), SimFMTrainConfig(variant="adversarial"))
