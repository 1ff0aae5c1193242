"""AppleCiDEr early-horizon training: ``horizon_max`` (validated, caps the random-horizon draws) and the
nested recipe choice of ``benchmarks/applecider_inner.py`` (decision rule, inner fold never the test fold)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from astroembed.errors import ConfigError
from astroembed.models.applecider import config as C
from astroembed.models.applecider import training as T

ROOT = Path(__file__).resolve().parents[1]


def tiny():
    return C.AppleCiderConfig(
        embed_dim=8, spectrum=None,
        photometry=C.PhotometryConfig(d_model=16, n_layers=1, n_heads=2, ff_dim=16, time2vec_dim=4, max_length=16),
        metadata=None, fusion=C.FusionConfig(n_experts=2, hidden_dim=8))


def test_horizon_max_validated_and_in_shipped_configs():
    for bad in (1.0, 2.0, 150.0, "50", True):
        with pytest.raises(ConfigError, match="horizon_max"):
            C.AppleCiderTrainConfig(model=tiny(), horizon_min=2.0, horizon_max=bad)
    assert C.AppleCiderTrainConfig(model=tiny(), horizon_max=50.0).horizon_max == 50.0
    early = C.AppleCiderTrainConfig.from_file(ROOT / "configs/applecider_crossfit_early.json")
    sim = C.AppleCiderTrainConfig.from_file(ROOT / "configs/applecider_crossfit_sim.json")
    assert sim.horizon_max is None and early.horizon_max == 50.0
    # the early recipe differs from the sim one only in the horizon draw
    assert early.replace(horizon_max=None, p_truncate=sim.p_truncate) == sim


@pytest.mark.parametrize("hmax", [None, 6.0])
def test_horizon_max_caps_the_training_cuts(monkeypatch, hmax):
    import astroembed as ae

    seen = []
    real = T.cut_tokens

    def spy(item, horizon, min_points):
        seen.append(horizon)
        return real(item, horizon, min_points)

    monkeypatch.setattr(T, "cut_tokens", spy)
    r = np.random.default_rng(0)
    lcs = [ae.LightCurve(time=59000.0 + np.sort(r.uniform(0, 60, 10)), band=["ztfg", "ztfr"] * 5,
                         mag=r.uniform(18, 19, 10), mag_err=np.full(10, 0.1), object_id=f"o{i}") for i in range(16)]
    cfg = C.AppleCiderTrainConfig(model=tiny(), pretrain_epochs=0, epochs=3, batch_size=8, p_truncate=0.999999,
                                  horizon_min=2.0, horizon_max=hmax, max_minutes=1.0)
    T.train_applecider(cfg, lcs, [C.DEFAULT_CLASSES[i % 2] for i in range(16)], log=lambda s: None)
    h = np.asarray(seen)
    assert len(h) == 48 and np.isfinite(h).all() and h.min() >= 2.0
    if hmax is None:
        assert h.max() > 6.0 and h.max() <= 100.0
    else:
        assert h.max() <= 6.0


def _inner():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location("ac_inner", ROOT / "benchmarks/applecider_inner.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_nested_rule_and_inner_fold():
    m = _inner()
    assert all(m.inner_fold(k) != k for k in range(5)) and sorted(m.inner_fold(k) for k in range(5)) == list(range(5))
    ref = {5: 0.70, 30: 0.87}
    assert m.choose({"ref": ref, "early": {5: 0.72, 30: 0.865}}, "ref") == "early"     # 30 d within 0.01
    assert m.choose({"ref": ref, "early": {5: 0.72, 30: 0.855}}, "ref") == "ref"       # 30 d drops > 0.01
    assert m.choose({"ref": ref, "early": {5: 0.70, 30: 0.90}}, "ref") == "ref"        # 5 d not higher
    assert m.choose({"ref": ref, "a": {5: 0.71, 30: 0.87}, "b": {5: 0.73, 30: 0.87}}, "ref") == "b"
    assert not math.isnan(m.TOL_30)


def test_init_lr_scale_validated_and_slows_only_the_initialised_parts(tmp_path):
    import astroembed as ae
    from astroembed.models.applecider.model import AppleCiderModel

    with pytest.raises(ConfigError, match="init_lr_scale"):
        C.AppleCiderTrainConfig(model=tiny(), init_lr_scale=0.5)            # no init_from: no effect
    for bad in (0.0, 1.5, True):
        with pytest.raises(ConfigError, match="init_lr_scale"):
            C.AppleCiderTrainConfig(model=tiny(), init_from="x", init_lr_scale=bad)
    src = AppleCiderModel(tiny())
    src.save_pretrained(tmp_path / "src")
    r = np.random.default_rng(1)
    lcs = [ae.LightCurve(time=59000.0 + np.sort(r.uniform(0, 30, 8)), band=["ztfg", "ztfr"] * 4,
                         mag=r.uniform(18, 19, 8), mag_err=np.full(8, 0.1), object_id=f"o{i}") for i in range(16)]
    labels = [C.DEFAULT_CLASSES[i % 2] for i in range(16)]
    base = C.AppleCiderTrainConfig(model=tiny(), pretrain_epochs=1, epochs=2, batch_size=8, max_minutes=1.0,
                                   init_from=str(tmp_path / "src"))

    torch.manual_seed(0)                            # train_applecider seeds 0 before building its model
    fusion0 = [q.detach().clone() for q in AppleCiderModel(tiny()).fusion.parameters()]

    def moved(cfg):
        m, _ = T.train_applecider(cfg, lcs, labels, log=lambda s: None)
        ph = (m.photometry.proj.weight - src.photometry.proj.weight).abs().max().item()
        fu = max((q - q0).abs().max().item() for q, q0 in zip(m.fusion.parameters(), fusion0))
        return ph, fu

    full, slow = moved(base), moved(base.replace(init_lr_scale=1e-6))
    assert slow[0] < 1e-4 < full[0]                 # the initialised tower barely moves at scale 1e-6
    assert slow[1] > 0.3 * full[1] > 0              # the fresh fusion head still trains at lr


def test_average_predictions_means_probabilities_and_checks_rows():
    import pandas as pd

    m = _inner()

    def rows(tag, p):
        return pd.DataFrame({"object_id": ["b", "a"], "label": ["SN Ia", "SN II"], "fold": [1, 1], "horizon": [5, 5],
                             "method": [f"{tag} (phot+meta)"] * 2, "SN Ia": [p, 1 - p], "SN II": [1 - p, p]})

    avg = m.average_predictions({"x": rows("x", 0.2), "y": rows("y", 0.6)}, "ens")
    assert list(avg["object_id"]) == ["a", "b"] and set(avg["method"]) == {"ens (phot+meta)"}
    np.testing.assert_allclose(avg.set_index("object_id").loc["b", ["SN Ia", "SN II"]].to_numpy(float), [0.4, 0.6])
    bad = rows("y", 0.6)
    bad.loc[0, "object_id"] = "c"
    with pytest.raises(ValueError, match="differ"):
        m.average_predictions({"x": rows("x", 0.2), "y": bad}, "ens")


def test_init_from_trains_and_returns_with_the_source_band_table(tmp_path, monkeypatch):
    import astroembed as ae
    from astroembed.data.bands import LEGACY_BAND_WAVELENGTHS, band_wavelength, band_wavelength_table
    from astroembed.models.applecider.model import AppleCiderModel

    src = AppleCiderModel(tiny())
    src.pin_band_wavelengths(LEGACY_BAND_WAVELENGTHS)
    src.save_pretrained(tmp_path / "src")
    seen = []
    real = T.photometry_tokens

    def spy(lc, cfg):
        seen.append(float(band_wavelength("ztfg")))
        return real(lc, cfg)

    monkeypatch.setattr(T, "photometry_tokens", spy)
    r = np.random.default_rng(2)
    lcs = [ae.LightCurve(time=59000.0 + np.sort(r.uniform(0, 30, 6)), band=["ztfg", "ztfr"] * 3,
                         mag=r.uniform(18, 19, 6), mag_err=np.full(6, 0.1), object_id=f"o{i}") for i in range(8)]
    labels = [C.DEFAULT_CLASSES[i % 2] for i in range(8)]
    cfg = C.AppleCiderTrainConfig(model=tiny(), pretrain_epochs=0, epochs=1, batch_size=4, max_minutes=1.0,
                                  init_from=str(tmp_path / "src"))
    m, _ = T.train_applecider(cfg, lcs, labels, log=lambda s: None)
    assert set(seen) == {LEGACY_BAND_WAVELENGTHS["ztfg"]}
    assert m.band_wavelengths["ztfg"] == LEGACY_BAND_WAVELENGTHS["ztfg"]
    seen.clear()
    m2, _ = T.train_applecider(cfg.replace(init_from=None), lcs, labels, log=lambda s: None)
    assert set(seen) == {band_wavelength_table()["ztfg"]} and m2._band_table is None
