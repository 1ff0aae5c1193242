"""load_pretrained: registry (sha256), local directory, offline Hugging Face cache; sklearn; CLI."""

import json
import shutil

import numpy as np
import pytest

import astroembed as ae
from astroembed.errors import ConfigError, ModelNotFoundError, OfflineError, WeightsIntegrityError
from astroembed.models import registry as reg
from astroembed.models.maven.config import LightCurveEncoderConfig, MavenConfig, SpectrumEncoderConfig
from astroembed.models.maven.model import MavenModel

from .conftest import make_lightcurve, make_spectrum


def tiny_model(seed=0):
    import torch

    torch.manual_seed(seed)
    cfg = MavenConfig(embed_dim=8, lightcurve=LightCurveEncoderConfig(d_model=16, n_layers=1, n_heads=2, ff_dim=16),
                      spectrum=SpectrumEncoderConfig(d_model=16, n_layers=1, n_heads=2, ff_dim=16, patch_size=16))
    return MavenModel(cfg).eval()


@pytest.fixture
def saved(tmp_path):
    model = tiny_model()
    d = tmp_path / "tiny"
    model.save_pretrained(d)
    return model, d


@pytest.fixture
def fake_bundle(tmp_path, monkeypatch, saved):
    """A registry with one bundled model 'tiny' in a temporary _weights folder."""
    model, d = saved
    root = tmp_path / "_weights"
    shutil.copytree(d, root / "tiny")
    monkeypatch.setattr(reg, "bundled_weights_dir", lambda: root)
    reg.write_registry_entry("tiny", "test model", weights_root=root)
    return model, root


def test_local_directory_round_trip(saved, rng):
    model, d = saved
    loaded = ae.load_pretrained(d, device="cpu")
    assert not loaded.training and loaded.source["kind"] == "local"
    lcs = [make_lightcurve(rng) for _ in range(3)]
    np.testing.assert_allclose(loaded.embed_lightcurve(lcs), model.embed_lightcurve(lcs), atol=1e-6)
    assert sorted(p.name for p in d.iterdir()) == ["config.json", "model.safetensors"]


def test_bundle_weights_copies_and_registers(saved, tmp_path, monkeypatch, rng):
    model, d = saved
    root = tmp_path / "_weights"
    monkeypatch.setattr(reg, "bundled_weights_dir", lambda: root)
    spec = reg.bundle_weights(d, "tiny2", "bundled by the release helper")
    assert sorted(p.name for p in (root / "tiny2").iterdir()) == ["config.json", "model.safetensors"]
    assert spec.sha256["model.safetensors"] == reg.sha256_file(d / "model.safetensors")
    loaded = ae.load_pretrained("tiny2", device="cpu")
    lcs = [make_lightcurve(rng) for _ in range(2)]
    np.testing.assert_allclose(loaded.embed_lightcurve(lcs), model.embed_lightcurve(lcs), atol=1e-6)
    with pytest.raises(FileNotFoundError, match="lacks"):
        reg.bundle_weights(tmp_path / "nowhere", "x", "missing files")


def test_registry_bundled_and_sha(fake_bundle, rng):
    model, root = fake_bundle
    assert "tiny" in ae.list_models() and ae.list_models("ti*") == ["tiny"]
    loaded = ae.load_pretrained("tiny", device="cpu")
    assert loaded.source["kind"] == "registry"
    s = [make_spectrum(rng)]
    np.testing.assert_allclose(loaded.embed_spectrum(s), model.embed_spectrum(s), atol=1e-6)
    # truncate the weights: hash mismatch
    w = root / "tiny" / "model.safetensors"
    w.write_bytes(w.read_bytes()[:-10])
    with pytest.raises(WeightsIntegrityError, match="corrupt or truncated"):
        ae.load_pretrained("tiny")


def test_unknown_name_lists_known(fake_bundle):
    with pytest.raises(ModelNotFoundError, match="tiny"):
        ae.load_pretrained("tinny")
    with pytest.raises(ModelNotFoundError, match="Did you mean 'tiny'"):
        ae.load_pretrained("tinny")


def test_missing_files_and_pickles(tmp_path):
    d = tmp_path / "m"
    d.mkdir()
    (d / "pytorch_model.bin").write_bytes(b"x")
    with pytest.raises(ModelNotFoundError, match="pickled weights are not supported"):
        ae.load_pretrained(d)


def test_config_unknown_and_missing_key(saved):
    _, d = saved
    cfg_path = d / "config.json"
    raw = json.loads(cfg_path.read_text())
    text = json.dumps(raw)
    raw2 = json.loads(text)
    _inject(raw2, "bogus_key", 1)
    cfg_path.write_text(json.dumps(raw2))
    with pytest.raises(ConfigError, match="bogus_key"):
        ae.load_pretrained(d)
    raw3 = json.loads(text)
    _drop(raw3, "embed_dim")
    cfg_path.write_text(json.dumps(raw3))
    with pytest.raises(ConfigError, match="embed_dim"):
        ae.load_pretrained(d)


def _find_cfg(raw):
    """The dict holding the MavenConfig keys inside config.json (wherever the model stores it)."""
    if "embed_dim" in raw:
        return raw
    for v in raw.values():
        if isinstance(v, dict) and (found := _find_cfg(v)) is not None:
            return found
    return None


def _inject(raw, key, value):
    _find_cfg(raw)[key] = value


def _drop(raw, key):
    del _find_cfg(raw)[key]


def _fill_hf_cache(cache, repo_id, src, commit="0123456789abcdef0123456789abcdef01234567"):
    """Lay out a Hugging Face hub cache by hand, as `huggingface-cli download` would."""
    base = cache / f"models--{repo_id.replace('/', '--')}"
    snap = base / "snapshots" / commit
    snap.mkdir(parents=True)
    for f in ("config.json", "model.safetensors"):
        shutil.copy(src / f, snap / f)
    (base / "refs").mkdir()
    (base / "refs" / "main").write_text(commit)
    return commit


def test_hub_offline_cache(saved, tmp_path, monkeypatch, rng):
    from huggingface_hub import constants

    model, d = saved
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    cache = tmp_path / "hf"
    commit = _fill_hf_cache(cache, "astro/tiny-maven", d)
    loaded = ae.load_pretrained("astro/tiny-maven", cache_dir=cache)
    assert loaded.source["kind"] == "hub"
    lcs = [make_lightcurve(rng)]
    np.testing.assert_allclose(loaded.embed_lightcurve(lcs), model.embed_lightcurve(lcs), atol=1e-6)
    # a pinned commit works offline too
    ae.load_pretrained("astro/tiny-maven", revision=commit, cache_dir=cache)


def test_hub_offline_missing_says_what_to_do(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(OfflineError) as e:
        ae.load_pretrained("astro/not-cached", cache_dir=tmp_path / "empty")
    msg = str(e.value)
    assert "astro/not-cached" in msg and "HF_HUB_OFFLINE" in msg and "huggingface-cli download" in msg
    assert str(tmp_path / "empty") in msg


def test_sklearn_pipeline(rng):
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline

    model = tiny_model()
    lcs = [make_lightcurve(rng, n=int(rng.integers(5, 30))) for _ in range(20)]
    y = np.array([0, 1] * 10)
    pipe = make_pipeline(ae.LightCurveEmbedder(model), KNeighborsClassifier(3))
    scores = cross_val_score(pipe, lcs, y, cv=2)
    assert scores.shape == (2,) and np.isfinite(scores).all()
    X = ae.SpectrumEmbedder(model).fit_transform([make_spectrum(rng) for _ in range(3)])
    assert X.shape == (3, 8) and X.dtype == np.float32


def test_cli_models_embed_search_redshift(fake_bundle, tmp_path, rng, capsys):
    import pandas as pd

    from astroembed.cli import main

    assert main(["models"]) == 0
    assert "tiny" in capsys.readouterr().out
    rows = []
    for i in range(6):
        tab = make_lightcurve(rng, n=8).to_table().to_pandas()
        tab["object_id"] = f"obj{i}"
        rows.append(tab)
    pd.concat(rows).to_csv(tmp_path / "lcs.csv", index=False)
    out = tmp_path / "emb.parquet"
    assert main(["embed", str(tmp_path / "lcs.csv"), "--kind", "lightcurve", "--model", "tiny",
                 "--out", str(out)]) == 0
    from astroembed.search.files import read_embeddings, write_embeddings

    E, cat, meta = read_embeddings(out)
    assert E.shape == (6, 8) and cat["object_id"].tolist() == [f"obj{i}" for i in range(6)]
    assert meta["model"] == "tiny"
    np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1, atol=1e-5)
    assert main(["search", "--index", str(out), "--query", str(out), "-k", "2"]) == 0
    printed = capsys.readouterr().out
    assert "obj3" in printed
    write_embeddings(tmp_path / "ref.parquet", E, cat["object_id"], columns={"redshift": np.linspace(0.01, 0.1, 6)})
    assert main(["redshift", "--reference", str(tmp_path / "ref.parquet"), "--query", str(out), "-k", "3",
                 "--out", str(tmp_path / "z.csv")]) == 0
    z = pd.read_csv(tmp_path / "z.csv")
    assert len(z) == 6 and z["z"].between(0.01, 0.1).all()
    assert main(["embed", str(tmp_path / "nope.csv"), "--kind", "lightcurve", "--out", str(out)]) == 2


def test_demo_runs_on_bundled_sample(fake_bundle, capsys):
    from astroembed.demo import demo_object_ids, load_sample_data, run_demo

    data = load_sample_data()
    assert len(data["bts"]) == 300 and len(data["osc_lightcurves"]) == len(data["osc_spectra"]) == 24
    ids = demo_object_ids()
    assert {lc.object_id for lc in data["bts"]} == set(ids["ztf_bts"])
    out = run_demo("tiny", k=50, device="cpu")
    text = capsys.readouterr().out
    assert "Zero-shot redshift" in text and "retrieval" in text
    assert 1 <= out["retrieval_median_rank"] <= 24 and 0 <= out["class_accuracy"] <= 1


@pytest.mark.parametrize("name", ["maven", "maven-sim"])
def test_bundled_weights_contract(name):
    """The shipped models load (sha256 checked) and give finite unit-norm float32 embeddings."""
    from astroembed.demo import load_sample_data

    assert name in ae.list_models()
    model = ae.load_pretrained(name, device="cpu")
    data = load_sample_data()
    E = model.embed_lightcurve(data["bts"][:20])
    S = model.embed_spectrum(data["osc_spectra"][:5])
    for X, n in ((E, 20), (S, 5)):
        assert X.shape == (n, model.embed_dim) and X.dtype == np.float32 and X.flags["C_CONTIGUOUS"]
        assert np.isfinite(X).all()
        np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)
    # one object alone == the same object inside a batch
    np.testing.assert_allclose(model.embed_lightcurve(data["bts"][3]), E[3:4], atol=1e-5)
    z, z_err = ae.zero_shot_redshift(E[:5], E[5:], [lc.redshift for lc in data["bts"][5:20]], k=10)
    assert np.isfinite(z).all() and (z_err >= 0).all()
    scores, ids = ae.cross_modal_search(E[:2], ae.EmbeddingIndex(S), k=3)
    assert scores.shape == ids.shape == (2, 3)


def test_missing_local_run_dir_fails_fast_naming_both_readings(tmp_path, monkeypatch):
    """Regression: 'runs/x' that does not exist was tried as a Hub repo for ~25 s of retries."""
    import time

    import astroembed as ae
    from astroembed.errors import ModelNotFoundError

    (tmp_path / "runs").mkdir()
    monkeypatch.chdir(tmp_path)
    t0 = time.perf_counter()
    with pytest.raises(ModelNotFoundError, match=r"neither a local model directory.*runs/maven_sim_pretrain.*"
                                                 r"nor a registered name.*looks like a local path"):
        ae.load_pretrained("runs/maven_sim_pretrain")
    assert time.perf_counter() - t0 < 2.0


def test_unreachable_hub_fails_fast_naming_both_readings(tmp_path, monkeypatch):
    import astroembed as ae
    from astroembed.errors import OfflineError
    from astroembed.models import hub

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(hub, "_hf_offline", lambda: False)
    monkeypatch.setattr(hub, "_hub_reachable", lambda timeout=3.0: False)
    with pytest.raises(OfflineError, match=r"neither a local model directory.*as a Hugging Face Hub repo id.*"
                                           r"Hub is unreachable"):
        ae.load_pretrained("someorg/somemodel", cache_dir=tmp_path / "cache")
