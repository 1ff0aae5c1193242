"""Each model encodes bands with the table it was trained with (``band_wavelengths`` in config.json), so
changing the band registry (0.2 moved ZTF g/r/i to the shipped curves' photon-weighted means) changes
no saved model's embeddings."""

import json
import threading

import numpy as np
import pytest

import astroembed as ae
from astroembed.data.bands import (
    LEGACY_BAND_WAVELENGTHS,
    band_wavelength,
    band_wavelength_table,
    pinned_band_wavelengths,
)
from astroembed.errors import ConfigError
from astroembed.models import MavenModel
from astroembed.models.persistence import read_band_table
from astroembed.models.registry import bundled_weights_dir
from tests.test_train import make_pairs, tiny_model_config, tiny_train_config

ZTF = ("ztfg", "ztfr", "ztfi")


def ztf_lightcurves(n=4, seed=3):
    return [lc for lc in make_pairs(n, seed)["lightcurves"]]


def test_legacy_table_is_the_builtin_table_but_ztf():
    live = band_wavelength_table()
    differ = sorted(b for b in LEGACY_BAND_WAVELENGTHS if LEGACY_BAND_WAVELENGTHS[b] != live[b])
    assert differ == sorted(ZTF)
    assert [LEGACY_BAND_WAVELENGTHS[b] for b in ZTF] == [4746.5, 6366.4, 7867.6]  # astroembed 0.1's SVO values
    assert all(abs(live[b] - LEGACY_BAND_WAVELENGTHS[b]) > 4 for b in ZTF)


def test_pin_scopes_nests_and_stays_in_its_thread():
    live = float(band_wavelength("ztfg"))
    with pinned_band_wavelengths({"ztfg": 5000.0}):
        assert float(band_wavelength("ztf_g")) == 5000.0  # aliases resolve before the pin is read
        assert float(band_wavelength("ztfr")) == band_wavelength_table()["ztfr"]  # unpinned bands: registry
        with pinned_band_wavelengths(LEGACY_BAND_WAVELENGTHS):
            assert float(band_wavelength("ztfg")) == 4746.5
        assert float(band_wavelength("ztfg")) == 5000.0
        seen = []
        t = threading.Thread(target=lambda: seen.append(float(band_wavelength("ztfg"))))
        t.start()
        t.join()
        assert seen == [live]
        assert np.array_equal(ae.LightCurve([1.0, 2.0], ["ztfg", "ztfr"], [1.0, 2.0], [0.1, 0.1]).wavelength,
                              [5000.0, band_wavelength_table()["ztfr"]])
    assert float(band_wavelength("ztfg")) == live
    with pytest.raises(ValueError, match=r"band_wavelengths\['ztfg'\].*500 and 60000"):
        with pinned_band_wavelengths({"ztfg": float("nan")}):
            pass


@pytest.fixture(scope="module")
def tiny_model():
    import torch

    torch.manual_seed(0)
    return MavenModel(tiny_model_config()).eval()


def test_save_records_the_table_and_a_file_without_it_loads_as_legacy(tmp_path, tiny_model):
    lcs = ztf_lightcurves()
    tiny_model.save_pretrained(tmp_path / "new")
    doc = json.loads((tmp_path / "new" / "config.json").read_text())
    assert doc["band_wavelengths"] == band_wavelength_table()
    new = MavenModel.from_pretrained(tmp_path / "new")
    assert np.allclose(new.embed_lightcurve(lcs), tiny_model.embed_lightcurve(lcs), atol=1e-6)

    # an astroembed 0.1 file: same config and weights, no band_wavelengths
    del doc["band_wavelengths"]
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "config.json").write_text(json.dumps(doc))
    (tmp_path / "old" / "model.safetensors").write_bytes((tmp_path / "new" / "model.safetensors").read_bytes())
    old = MavenModel.from_pretrained(tmp_path / "old")
    assert old.band_wavelengths["ztfg"] == 4746.5
    e_old = old.embed_lightcurve(lcs)
    with pinned_band_wavelengths(LEGACY_BAND_WAVELENGTHS):
        e_legacy = tiny_model.embed_lightcurve(lcs)  # what 0.1 computed
    assert np.allclose(e_old, e_legacy, atol=1e-6)
    assert not np.allclose(e_old, tiny_model.embed_lightcurve(lcs), atol=1e-4)  # the pin is what matters
    # the packed table path (embed_table -> prepare_lightcurves) is pinned too
    rows = [(lc.object_id, t, b, f, e) for lc in lcs for t, b, f, e in zip(lc.time, lc.band, lc.flux, lc.flux_err)]
    table = {"object_id": [r[0] for r in rows], "time": [r[1] for r in rows], "band": [r[2] for r in rows],
             "flux": [r[3] for r in rows], "flux_err": [r[4] for r in rows]}
    ids, emb = ae.embed_table(table, model=old)
    assert list(ids) == [lc.object_id for lc in lcs]
    assert np.allclose(emb, e_old, atol=1e-4)
    # re-saving keeps the legacy table explicitly
    old.save_pretrained(tmp_path / "resaved")
    assert read_band_table(tmp_path / "resaved")["ztfg"] == 4746.5


def test_a_registry_change_after_loading_does_not_move_a_saved_model(tmp_path, tiny_model):
    lcs = ztf_lightcurves()
    tiny_model.save_pretrained(tmp_path / "m")
    m = MavenModel.from_pretrained(tmp_path / "m")
    before = m.embed_lightcurve(lcs)
    old = float(band_wavelength("ztfg"))
    ae.register_band("ztfg", 5100.0, overwrite=True)
    try:
        assert np.allclose(m.embed_lightcurve(lcs), before, atol=1e-6)
        assert not np.allclose(tiny_model.embed_lightcurve(lcs), before, atol=1e-4)  # an unpinned model moves
    finally:
        ae.register_band("ztfg", old, overwrite=True)


def test_bad_band_table_in_config_json_names_the_field(tmp_path, tiny_model):
    tiny_model.save_pretrained(tmp_path / "m")
    p = tmp_path / "m" / "config.json"
    doc = json.loads(p.read_text())
    doc["band_wavelengths"]["ztfg"] = -3
    p.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match=r"band_wavelengths.*ztfg.*Å"):
        MavenModel.from_pretrained(tmp_path / "m")


@pytest.mark.parametrize("name", ["maven", "maven-sim", "transceiver", "applecider"])
def test_bundled_models_keep_the_table_they_were_trained_with(name):
    """The bundled weights were trained with astroembed 0.1's table; they must keep it.  A bundle fine-tuned
    since (transceiver, 2026-11-30, on OSC pairs) also records the OSC-only bands (DECam, Gaia) it saw, at their
    registry values (``pinned_band_wavelengths`` keeps those for bands the pinned table lacks), and never other
    values for 0.1 bands."""
    table = read_band_table(bundled_weights_dir() / name)
    if name == "transceiver":  # fine-tuned on OSC pairs: also the bands astroembed.datasets.osc_bands registers
        import astroembed.datasets.osc_bands  # noqa: F401

        assert {k: table[k] for k in LEGACY_BAND_WAVELENGTHS} == dict(LEGACY_BAND_WAVELENGTHS)
        assert {k: v for k, v in table.items() if k not in LEGACY_BAND_WAVELENGTHS} == \
            {k: v for k, v in band_wavelength_table().items() if k not in LEGACY_BAND_WAVELENGTHS}
    else:
        assert table == dict(LEGACY_BAND_WAVELENGTHS)
    m = ae.load_pretrained(name)
    assert [m.band_wavelengths[b] for b in ZTF] == [4746.5, 6366.4, 7867.6]


def test_bundled_simfm_keeps_the_0_2_table_it_was_trained_with():
    """`simfm` was re-trained with astroembed 0.2's table (ZTF g/r/i at the photon-weighted means)."""
    table = read_band_table(bundled_weights_dir() / "simfm")
    assert [table[b] for b in ZTF] == [4824.6, 6420.7, 7863.1]
    m = ae.load_pretrained("simfm")
    assert [m.band_wavelengths[b] for b in ZTF] == [4824.6, 6420.7, 7863.1]
    lcs = ztf_lightcurves(6)
    e = m.embed_lightcurve(lcs)
    m.pin_band_wavelengths(LEGACY_BAND_WAVELENGTHS)  # the same weights with the 0.1 table
    try:
        e_legacy = m.embed_lightcurve(lcs)
    finally:
        m.pin_band_wavelengths(table)
    assert np.allclose(m.embed_lightcurve(lcs), e, atol=1e-6)
    assert np.max(np.abs(e - e_legacy)) > 1e-3


@pytest.mark.parametrize("name", ["maven", "transceiver", "applecider"])
def test_bundled_embeddings_are_those_of_the_legacy_table(name):
    m = ae.load_pretrained(name)
    lcs = ztf_lightcurves(6)
    e = m.embed_lightcurve(lcs)
    m.pin_band_wavelengths(None)  # the same weights with the live (0.2) registry
    try:
        e_live = m.embed_lightcurve(lcs)
        with pinned_band_wavelengths(LEGACY_BAND_WAVELENGTHS):
            e_legacy = m.embed_lightcurve(lcs)
    finally:
        m.pin_band_wavelengths(LEGACY_BAND_WAVELENGTHS)
    assert np.allclose(e, e_legacy, atol=1e-6)
    assert np.max(np.abs(e - e_live)) > 1e-3


def test_finetuning_keeps_the_table_of_the_model_it_starts_from(tmp_path):
    from astroembed.train import train

    data = make_pairs(60, 1)
    pre = train(tiny_train_config(tmp_path / "pre", epochs=1), data)
    assert read_band_table(tmp_path / "pre") == band_wavelength_table()
    # make the pre-trained model an astroembed 0.1 one (no band table recorded)
    p = tmp_path / "pre" / "config.json"
    doc = json.loads(p.read_text())
    del doc["band_wavelengths"]
    p.write_text(json.dumps(doc))
    ft = train(tiny_train_config(tmp_path / "ft", epochs=1, init_from=str(tmp_path / "pre")), data)
    ft_table = read_band_table(tmp_path / "ft")  # the 0.1 table (+ any band registered since, at its value)
    assert {b: ft_table[b] for b in LEGACY_BAND_WAVELENGTHS} == dict(LEGACY_BAND_WAVELENGTHS)
    assert ft.model.band_wavelengths["ztfg"] == 4746.5
    assert pre.model is not None


def test_every_family_reads_bands_only_under_its_table():
    """Each family's public methods that take light curves or band names run under ``encodes_bands``."""
    from astroembed.models.base import MODEL_TYPES, model_class

    band_methods = ("embed_lightcurve", "preprocess_lightcurve", "prepare_lightcurves", "predict", "predict_proba",
                    "make_batch", "generate_spectrum", "generate_lightcurve")
    for model_type in MODEL_TYPES:
        cls = model_class(model_type)
        present = [m for m in band_methods if hasattr(cls, m)]
        assert "embed_lightcurve" in present, model_type
        bare = [m for m in present if not hasattr(getattr(cls, m), "__wrapped__")]
        assert not bare, f"{model_type}: {bare} read band wavelengths without the model's band table"
