"""AppleCiDEr recipe ensemble: probabilities are the members' mean (rows sum to 1, order kept), the
embedding is the first member's, save/load round trip is exact, strict config."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import astroembed as ae
from astroembed.errors import ConfigError
from astroembed.models.applecider import config as C
from astroembed.models.applecider.ensemble import AppleCiderEnsemble, AppleCiderEnsembleConfig
from astroembed.models.applecider.model import AppleCiderModel


def tiny():
    return C.AppleCiderConfig(
        embed_dim=8, spectrum=None,
        photometry=C.PhotometryConfig(d_model=16, n_layers=1, n_heads=2, ff_dim=16, time2vec_dim=4, max_length=16),
        metadata=C.MetadataConfig(hidden_dim=4), fusion=C.FusionConfig(n_experts=2, hidden_dim=8))


def lcs(n=5):
    r = np.random.default_rng(3)
    return [ae.LightCurve(time=59000.0 + np.sort(r.uniform(0, 20, 6)), band=["ztfg", "ztfr"] * 3,
                          mag=r.uniform(17, 20, 6), mag_err=np.full(6, 0.1), object_id=f"o{i}") for i in range(n)]


def members(k=3):
    out = []
    for s in range(k):
        torch.manual_seed(s)
        out.append(AppleCiderModel(tiny()))
    return out


def test_mean_of_members_rows_sum_to_one_order_kept(tmp_path):
    ms = members()
    ens = AppleCiderEnsemble.from_members(ms)
    x, meta = lcs(), [{"mw_av": 0.1}, None, {"host_absmag": -21.0}, None, None]
    p = ens.predict_proba(x, metadata=meta)
    want = sum(m.predict_proba(x, metadata=meta).to_numpy() for m in ms) / 3
    np.testing.assert_allclose(p.to_numpy(), want, atol=1e-6)
    assert list(p.index) == [lc.object_id for lc in x] and list(p.columns) == list(ens.classes)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert not np.allclose(p.to_numpy(), ms[0].predict_proba(x, metadata=meta).to_numpy(), atol=1e-4)
    np.testing.assert_array_equal(ens.embed_lightcurve(x), ms[0].embed_lightcurve(x))
    ens.save_pretrained(tmp_path / "e")
    back = ae.load_pretrained(str(tmp_path / "e"))
    assert isinstance(back, AppleCiderEnsemble)
    np.testing.assert_allclose(back.predict_proba(x, metadata=meta).to_numpy(), p.to_numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="detection"):
        ens.predict_proba([ae.LightCurve(time=[1.0], band=["ztfg"], mag=[19.0], mag_err=[0.1])])


def test_config_strict_and_members_checked():
    d = AppleCiderEnsembleConfig(member=tiny(), n_members=2).to_dict()
    assert AppleCiderEnsembleConfig.from_dict(d) == AppleCiderEnsembleConfig(member=tiny(), n_members=2)
    with pytest.raises(ConfigError, match="unknown key"):
        AppleCiderEnsembleConfig.from_dict({**d, "weights": [0.5, 0.5]})
    with pytest.raises(ConfigError, match="n_members"):
        AppleCiderEnsembleConfig(member=tiny(), n_members=1)
    with pytest.raises(ValueError, match="one config"):
        AppleCiderEnsemble.from_members([AppleCiderModel(tiny()), AppleCiderModel(tiny().replace(embed_dim=4))])
    # every key has an effect: n_members changes the parameter count, member the architecture
    n = sum(p.numel() for p in AppleCiderEnsemble(AppleCiderEnsembleConfig(member=tiny(), n_members=2)).parameters())
    assert n * 3 == 2 * sum(p.numel() for p in AppleCiderEnsemble(AppleCiderEnsembleConfig(member=tiny(),
                                                                                             n_members=3)).parameters())


def test_members_keep_their_own_band_tables(tmp_path):
    from astroembed.data.bands import LEGACY_BAND_WAVELENGTHS, band_wavelength_table

    ms = members(2)
    ms[0].pin_band_wavelengths(LEGACY_BAND_WAVELENGTHS)            # member 0: astroembed 0.1's table
    x = lcs()
    want = [m.predict_proba(x).to_numpy() for m in ms]
    ens = AppleCiderEnsemble.from_members(ms)
    ens.save_pretrained(tmp_path / "e")
    back = ae.load_pretrained(str(tmp_path / "e"))
    assert back.band_wavelengths["ztfg"] == LEGACY_BAND_WAVELENGTHS["ztfg"]     # member 0 follows it
    assert back.members[1].band_wavelengths["ztfg"] == band_wavelength_table()["ztfg"]
    np.testing.assert_allclose(back.predict_proba(x).to_numpy(), (want[0] + want[1]) / 2, atol=1e-6)
    np.testing.assert_allclose(back.embed_lightcurve(x), ms[0].embed_lightcurve(x), atol=1e-6)
    back.pin_band_wavelengths(None)                               # the ensemble's table is member 0's
    assert not np.allclose(back.embed_lightcurve(x), ms[0].embed_lightcurve(x), atol=1e-4)
    back.pin_band_wavelengths(LEGACY_BAND_WAVELENGTHS)
    # with one table for both members the mean differs (the tables matter)
    same = AppleCiderEnsemble(back.config.replace(member_band_tables=()))
    same.load_state_dict(back.state_dict())
    assert not np.allclose(same.predict_proba(x).to_numpy(), back.predict_proba(x).to_numpy(), atol=1e-5)
    with pytest.raises(ConfigError, match="member_band_tables"):
        AppleCiderEnsembleConfig(member=tiny(), n_members=2, member_band_tables=({"ztfg": 4800.0},) * 2)
