"""Peer adapters (astroembed.evaluate.peers): everything that runs without the peers installed."""

import importlib
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from astroembed.evaluate import peers

ROOT = Path(__file__).resolve().parents[1]


def _hide(monkeypatch, module_name):
    real = importlib.import_module

    def fake(name, *a, **k):
        if name == module_name or name.startswith(module_name + "."):
            raise ModuleNotFoundError(f"No module named {module_name!r}")
        return real(name, *a, **k)

    monkeypatch.setattr(peers.importlib, "import_module", fake)


@pytest.mark.parametrize("peer", sorted(peers.PEERS))
def test_missing_peer_error_names_venv_and_pip(monkeypatch, peer):
    info = peers.PEERS[peer]
    _hide(monkeypatch, info.module)
    with pytest.raises(ImportError) as e:
        peers.import_peer(peer)
    msg = str(e.value)
    assert info.dist in msg and info.venv in msg and "docs/peers.md" in msg
    assert (f"run_{peer}.py" in msg) == (peer != "astromer")  # no ASTROMER script: it cannot run offline


def test_adapters_raise_clear_import_error(monkeypatch):
    _hide(monkeypatch, "parsnip")
    with pytest.raises(ImportError, match="astro-parsnip.*venv-parsnip"):
        peers.ParsnipEmbedder("model.pt")
    _hide(monkeypatch, "astromcad")
    with pytest.raises(ImportError, match="venv-astromcad"):
        peers.AstromcadEmbedder()


def test_parsnip_redshift_mode_is_checked_before_import():
    with pytest.raises(ValueError, match="redshift"):
        peers.ParsnipEmbedder("model.pt", redshift="photo")


def test_unknown_peer():
    with pytest.raises(KeyError):
        peers.import_peer("nope")
    with pytest.raises(KeyError):
        peers.embeddings_path("/tmp", "nope")


def test_embeddings_path():
    assert peers.embeddings_path("/w", "parsnip", "zblind") == Path("/w/parsnip-zblind_ztf_bts.parquet")
    assert peers.embeddings_path("/w", "astromcad") == Path("/w/astromcad_ztf_bts.parquet")
    assert peers.embeddings_path("/w", "astromcad", "nohost", dataset="osc").name == "astromcad-nohost_osc.parquet"


def test_load_peer_embeddings_aligns_and_masks(tmp_path):
    from astroembed.search.files import write_embeddings

    E = np.arange(12, dtype=np.float32).reshape(4, 3)
    ids = np.array(["ZTFc", "ZTFa", "ZTFd", "ZTFb"])
    path = tmp_path / "e.parquet"
    write_embeddings(path, E, ids, metadata={"peer": "parsnip", "variant": "specz"})
    wanted = np.array(["ZTFa", "ZTFb", "ZTFx", "ZTFc"], dtype=object)  # ZTFx was rejected by the peer
    got, keep, meta = peers.load_peer_embeddings(path, wanted)
    assert keep.tolist() == [True, True, False, True]
    np.testing.assert_array_equal(got, E[[1, 3, 0]])
    assert meta["variant"] == "specz"
    with pytest.raises(ValueError, match="none of"):
        peers.load_peer_embeddings(path, np.array(["other"]))


class _LC:
    def __init__(self, time, band, flux, flux_err, **kw):
        self.time, self.band = np.asarray(time, float), np.asarray(band)
        self.flux, self.flux_err = np.asarray(flux, float), np.asarray(flux_err, float)
        self.object_id, self.redshift, self.mwebv, self.label = kw.get("object_id", "x"), kw.get("redshift"), \
            kw.get("mwebv"), kw.get("label")


def test_astromcad_sequence_encoding():
    lc = _LC([100.0, 110.0, 105.0, 300.0, 101.0], ["ztfg", "ztfr", "ztfg", "ztfr", "ztfi"],
             [10.0, 30.0, 20.0, 5.0, 99.0], [1.0, 2.0, 1.0, 1.0, 1.0])
    X = peers.astromcad_sequence(lc)  # minmax, trigger = first detection; t=300 is outside -30..+70 d
    assert X.shape == (peers.ASTROMCAD_NTIMESTEPS, 4) and X.dtype == np.float32
    rows = X[(X != 0).any(axis=1)]
    assert len(rows) == 3 and (X[3:] == 0).all()
    np.testing.assert_allclose(rows[:, 0], [0.4827, 0.4827, 0.6223], atol=1e-6)
    np.testing.assert_allclose(rows[:, 1], [0.30, 0.35, 0.40], atol=1e-6)
    np.testing.assert_allclose(rows[:, 2], [0.0, 0.5, 1.0], atol=1e-6)      # (f - 10) / 20
    np.testing.assert_allclose(rows[:, 3], [0.05, 0.05, 0.1], atol=1e-6)
    Xs = peers.astromcad_sequence(lc, swap_bands=True, flux_norm="max")
    rs = Xs[(Xs != 0).any(axis=1)]
    np.testing.assert_allclose(rs[:, 0], [0.6223, 0.6223, 0.4827], atol=1e-6)
    np.testing.assert_allclose(rs[:, 2], [1 / 3, 2 / 3, 1.0], atol=1e-6)
    with pytest.raises(ValueError, match="flux_norm"):
        peers.astromcad_sequence(lc, flux_norm="bogus")
    empty = _LC([1.0], ["ztfi"], [1.0], [1.0])
    assert not peers.astromcad_sequence(empty).any()


def test_parsnip_table_units():
    pytest.importorskip("astropy")
    lc = _LC([59000.0, 59001.0], ["ztfg", "ztfr"], [100.0, 200.0], [5.0, 10.0], object_id="ZTF1", redshift=0.05,
             mwebv=0.02, label="Ia")
    t = peers.lightcurve_to_parsnip_table(lc)
    # 100 µJy = 18.9 AB mag -> 10**(0.4 * (25 - 18.9)) on the zero point 25
    np.testing.assert_allclose(t["flux"], [10 ** (0.4 * 6.1), 2 * 10 ** (0.4 * 6.1)], rtol=1e-5)
    assert t.meta == {"object_id": "ZTF1", "redshift": 0.05, "mwebv": 0.02, "type": "Ia"}
    t2 = peers.lightcurve_to_parsnip_table(_LC([1.0], ["ztfg"], [1.0], [1.0]))
    assert np.isnan(t2.meta["redshift"]) and t2.meta["mwebv"] == 0.0 and t2.meta["type"] == "Unknown"


def test_parsnip_features_columns():
    pred = {"color": np.array([0.1, -0.2]), "s1": np.array([1.0, 2.0]), "s2": np.zeros(2), "s3": np.ones(2),
            "amplitude": np.array([100.0, -5.0])}
    F = peers.parsnip_features(pred)
    assert F.shape == (2, 5)
    np.testing.assert_allclose(F[:, 4], [2.0, -3.0])  # log10, amplitude clipped at 1e-3


def test_shipped_ztf_filter_curves_readable():
    for band in ("ztfg", "ztfr"):
        w, tr = peers._read_ecsv_columns(ROOT / "src/astroembed/_package_data/filters" / f"{band}.ecsv")
        assert len(w) > 100 and np.all(np.diff(w) > 0) and 0 <= tr.min() and tr.max() <= 1


def test_peers_module_loads_standalone():
    """The benchmark scripts load peers.py by path inside the peers' venvs (no astroembed package there)."""
    spec = importlib.util.spec_from_file_location("_peers_standalone_test", ROOT / "src/astroembed/evaluate/peers.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["_peers_standalone_test"] = mod
    try:
        spec.loader.exec_module(mod)
        assert mod.embeddings_path("/w", "parsnip").name == "parsnip_ztf_bts.parquet"
        assert mod.astromcad_sequence(_LC([0.0], ["ztfg"], [1.0], [0.1])).shape == (656, 4)
    finally:
        sys.modules.pop("_peers_standalone_test", None)
