"""Training harness (tiny configs, tiny generated data)."""

import json

import numpy as np
import pytest
import torch

import astroembed as ae
from astroembed.data.preprocess import LightCurvePreprocessConfig, SpectrumPreprocessConfig
from astroembed.errors import ConfigError
from astroembed.models import (
    LightCurveEncoderConfig,
    MavenConfig,
    MavenModel,
    MetadataEncoderConfig,
    SpectrumEncoderConfig,
    SupervisedLightCurveModel,
)
from astroembed.train import (
    AugmentConfig,
    CVConfig,
    DataConfig,
    OptimConfig,
    SupervisedConfig,
    TrainConfig,
    TrainingDivergedError,
    prepare_data,
    train,
)
from astroembed.train.folds import read_folds, stratified_group_folds
from astroembed.train.loop import apply_freeze, epoch_batches, load_init


def make_pairs(n, seed=0, classes=("Ia", "II")):
    """Paired light curves + spectrum sharing a latent parameter s (brightness, width, spectral slope)."""
    rng = np.random.default_rng(seed)
    lcs, sps = [], []
    for i in range(n):
        s = rng.uniform(0, 1)
        lab = classes[min(int(s * len(classes)), len(classes) - 1)]
        k = int(rng.integers(6, 20))
        t = 59000 + np.sort(rng.uniform(0, 80, k))
        amp = 10 ** (1 + 2 * s)
        f = amp * np.exp(-0.5 * ((t - 59020) / (5 + 30 * s)) ** 2) + 0.03 * amp
        lcs.append(ae.LightCurve(time=t, band=rng.choice(["ztfg", "ztfr"], k), flux=f, flux_err=np.full(k, 0.02 * amp),
                                 object_id=f"o{i}", label=lab, redshift=0.02 + 0.1 * s, duplicates="keep"))
        wl = np.linspace(3700, 9300, 120)
        fl = 1 + (s - 0.5) * (wl - 6500) / 3000 + 0.2 * np.sin(wl / (100 + 200 * s))
        sps.append(ae.Spectrum(wl, fl, np.full(120, 0.02), object_id=f"o{i}"))
    return {"lightcurves": lcs, "spectra": sps}


def tiny_model_config(**kw):
    base = dict(
        embed_dim=16,
        lightcurve=LightCurveEncoderConfig(d_model=16, n_layers=1, n_heads=2, ff_dim=32, dropout=0.0),
        spectrum=SpectrumEncoderConfig(d_model=16, n_layers=1, n_heads=2, ff_dim=32, dropout=0.1, patch_size=16),
        lightcurve_preprocess=LightCurvePreprocessConfig(max_length=32),
        spectrum_preprocess=SpectrumPreprocessConfig(n_bins=64))
    base.update(kw)
    return MavenConfig(**base)


def tiny_train_config(out, **kw):
    base = dict(model=tiny_model_config(), data=DataConfig(source="callable", target="tests.test_train:dataset",
                                                           kwargs={"n": 120}),
                optim=OptimConfig(lr=1e-3, warmup_steps=10), augment=AugmentConfig(), cv=CVConfig(validation_fraction=0.2),
                output_dir=str(out), epochs=3, batch_size=16, progress=False)
    base.update(kw)
    return TrainConfig(**base)


def dataset(n=120, seed=0):
    """Data source for the CLI test (``data.target = "tests.test_train:dataset"``)."""
    return make_pairs(n, seed)


@pytest.fixture(scope="module")
def pairs120():
    return make_pairs(120)


def test_tiny_training_reduces_loss_and_writes_outputs(tmp_path):
    cfg = tiny_train_config(tmp_path / "run", epochs=8, optim=OptimConfig(lr=1e-3, warmup_steps=30))
    res = train(cfg, make_pairs(300))
    assert res.status == "completed" and res.epochs_run == 8
    val = [h["val_loss"] for h in res.history]
    assert min(val[-3:]) < val[0] - 0.1, val
    train_l = [h["train_loss"] for h in res.history]
    assert train_l[-1] < train_l[0] - 0.1, train_l
    out = tmp_path / "run"
    for f in ("config.json", "model.safetensors", "folds.csv", "train_config.json", "history.csv", "loss_curve.png",
              "checkpoints/last.pt"):
        assert (out / f).exists(), f
    m = MavenModel.from_pretrained(out)
    assert isinstance(res.model, MavenModel)
    best = min(res.history, key=lambda h: h["val_loss"])
    assert res.best_epoch == best["epoch"]
    meta = json.loads((out / "config.json").read_text())["metadata"]["training"]
    assert meta["best_epoch"] == res.best_epoch
    folds = read_folds(out / "folds.csv")
    assert len(folds["fold"]) == 300 and set(folds["split"]) == {"train", "val"}
    e = m.embed_lightcurve(make_pairs(5, seed=9)["lightcurves"])
    assert e.shape == (5, 16) and np.isfinite(e).all()


def test_resume_is_exact(tmp_path, pairs120):
    a = train(tiny_train_config(tmp_path / "a", checkpoint_every_steps=2), pairs120)
    # interrupted mid-epoch, then twice more; resumed to the end
    cfg_b = tiny_train_config(tmp_path / "b", checkpoint_every_steps=2)
    r1 = train(cfg_b, pairs120, stop_after_steps=3)
    assert r1.status == "interrupted" and r1.global_step == 3
    r2 = train(cfg_b, pairs120, resume=True, stop_after_steps=5)
    assert r2.status == "interrupted" and r2.global_step == 8
    b = train(cfg_b, pairs120, resume=True)
    assert b.status == a.status == "completed" and b.global_step == a.global_step
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert [h["val_loss"] for h in a.history] == [h["val_loss"] for h in b.history]
    ca = torch.load(tmp_path / "a/checkpoints/last.pt", weights_only=True)
    cb = torch.load(tmp_path / "b/checkpoints/last.pt", weights_only=True)
    assert all(torch.equal(ca["model"][k], cb["model"][k]) for k in ca["model"])


def test_resume_guards(tmp_path, pairs120):
    cfg = tiny_train_config(tmp_path / "r", epochs=2)
    train(cfg, pairs120, stop_after_steps=2)
    with pytest.raises(FileExistsError, match="resume"):
        train(cfg, pairs120)
    with pytest.raises(ConfigError, match="another training config.*optim"):
        train(cfg.replace(optim=OptimConfig(lr=5e-3, warmup_steps=10)), pairs120, resume=True)
    with pytest.raises(ValueError, match="data"):
        train(cfg, make_pairs(120, seed=1), resume=True)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        train(tiny_train_config(tmp_path / "none"), pairs120, resume=True)
    # run-level keys may change on resume
    res = train(cfg.replace(num_threads=1, progress=False), pairs120, resume=True)
    assert res.status == "completed"


def test_nan_loss_stops_cleanly(tmp_path):
    cfg = tiny_train_config(tmp_path / "nan")
    data = prepare_data(cfg.model, make_pairs(120), modalities=["lightcurve", "spectrum"])
    for p in data.lightcurves:
        p.flux[0] = np.nan
    with pytest.raises(TrainingDivergedError, match=r"epoch 1, batch 1/.*objects o"):
        train(cfg, data)
    assert not (tmp_path / "nan" / "model.safetensors").exists()
    assert not (tmp_path / "nan" / "checkpoints" / "last.pt").exists()


def test_nan_after_good_epoch_keeps_finite_weights(tmp_path, pairs120, monkeypatch):
    import astroembed.train.loop as loop

    cfg = tiny_train_config(tmp_path / "nan2", epochs=3)
    calls = {"n": 0}
    orig = loop._Batcher.loss

    def poisoned(self, batch):
        out = orig(self, batch)
        if torch.is_grad_enabled():
            calls["n"] += 1
            if calls["n"] > 7:  # epoch 1 has 6 batches of 16 out of 96 training rows
                return out * float("nan")
        return out
    monkeypatch.setattr(loop._Batcher, "loss", poisoned)
    with pytest.raises(TrainingDivergedError, match="epoch 2, batch 2/"):
        train(cfg, pairs120)
    m = MavenModel.from_pretrained(tmp_path / "nan2")
    assert all(torch.isfinite(v).all() for v in m.state_dict().values())


def test_empty_and_single_class_training_sets_error(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        train(tiny_train_config(tmp_path / "e"), {"lightcurves": [], "spectra": []})
    single = make_pairs(40, classes=("Ia",))
    with pytest.raises(ValueError, match="single class"):
        train(tiny_train_config(tmp_path / "s"), single)
    unlabelled = make_pairs(40)
    for lc in unlabelled["lightcurves"]:
        lc.label = None
    with pytest.raises(ValueError, match="no class labels"):
        train(tiny_train_config(tmp_path / "u"), unlabelled)


def test_train_config_strict_and_consistent(tmp_path):
    d = json.loads(tiny_train_config(tmp_path).to_json())
    assert TrainConfig.from_dict(d) == tiny_train_config(tmp_path)
    with pytest.raises(ConfigError, match="unknown key.*learning_rate"):
        TrainConfig.from_dict({**d, "learning_rate": 1})
    d2 = json.loads(json.dumps(d))
    del d2["optim"]["lr"]
    with pytest.raises(ConfigError, match=r"optim.*missing key.*lr"):
        TrainConfig.from_dict(d2)
    with pytest.raises(ConfigError, match="needs init_from"):
        tiny_train_config(tmp_path, freeze="all_but_first_block")
    with pytest.raises(ConfigError, match="not in the model"):
        tiny_train_config(tmp_path, data=DataConfig(source="callable", target="a:b",
                                                    modalities=("lightcurve", "metadata")))
    with pytest.raises(ConfigError, match="supervised"):
        tiny_train_config(tmp_path, task="supervised")


def test_folds_are_stratified_and_grouped():
    labels = np.array(["Ia"] * 30 + ["II"] * 20 + ["Ibc"] * 10, dtype=object)
    groups = np.array([f"g{i // 2}" for i in range(60)])  # two rows per object
    folds = stratified_group_folds(labels, groups, n_folds=5, seed=0)
    assert set(folds.tolist()) == set(range(5))
    for g in np.unique(groups):
        assert len(set(folds[groups == g].tolist())) == 1
    for k in range(5):
        assert set(labels[folds == k].tolist()) == {"Ia", "II", "Ibc"}


def test_cv_fold_is_held_out(tmp_path, pairs120):
    cfg = tiny_train_config(tmp_path / "cv", epochs=1, cv=CVConfig(n_folds=5, fold=2, validation_fraction=0.2))
    train(cfg, pairs120)
    f = read_folds(tmp_path / "cv" / "folds.csv")
    assert set(f["split"][f["fold"] == 2]) == {"test"}
    assert "test" not in set(f["split"][f["fold"] != 2])


def test_epoch_batches_deterministic_and_full():
    lengths = np.arange(103)
    a = epoch_batches(103, lengths, 16, seed=1, epoch=3, bucketing=True)
    b = epoch_batches(103, lengths, 16, seed=1, epoch=3, bucketing=True)
    assert all(np.array_equal(x, y) for x, y in zip(a, b)) and all(len(x) == 16 for x in a)
    c = epoch_batches(103, lengths, 16, seed=1, epoch=4, bucketing=True)
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_finetune_init_freeze_and_foreign_config(tmp_path, pairs120):
    pre = train(tiny_train_config(tmp_path / "pre", epochs=1), pairs120)
    # fine-tune LC <-> metadata from the pre-trained LC encoder, only the first block trainable
    ft_model = tiny_model_config(metadata=MetadataEncoderConfig(class_names=("Ia", "II"), hidden_dim=8, n_layers=1))
    cfg = tiny_train_config(tmp_path / "ft", model=ft_model, init_from=str(tmp_path / "pre"),
                            freeze="all_but_first_block", epochs=1,
                            data=DataConfig(source="callable", target="a:b", modalities=("lightcurve", "metadata")))
    m = MavenModel(ft_model)
    loaded = load_init(m, tmp_path / "pre")
    assert loaded == ["lightcurve", "spectrum"]
    sa = pre.model.lightcurve_encoder.state_dict()
    assert all(torch.equal(sa[k], v) for k, v in m.lightcurve_encoder.state_dict().items())
    apply_freeze(m, loaded)
    trainable = {n for n, p in m.named_parameters() if p.requires_grad}
    assert "lightcurve_encoder.transformer.layers.0.linear1.weight" in trainable
    assert "lightcurve_encoder.proj.weight" not in trainable
    assert any(n.startswith("metadata_encoder.") for n in trainable)
    res = train(cfg, pairs120)
    assert res.model.modalities == ("lightcurve", "spectrum", "metadata")
    # the frozen projection of the light-curve encoder kept its pre-trained values
    assert torch.equal(res.model.lightcurve_encoder.proj.weight, pre.model.lightcurve_encoder.proj.weight)
    # a pre-trained model built with another encoder config is refused
    other = tiny_model_config(lightcurve=LightCurveEncoderConfig(d_model=16, n_layers=1, n_heads=2, ff_dim=32,
                                                                 dropout=0.0, time_base=50.0))
    with pytest.raises(ConfigError, match="another config.*lightcurve"):
        load_init(MavenModel(other), tmp_path / "pre")


def test_supervised_baseline(tmp_path, pairs120):
    model_cfg = tiny_model_config(spectrum=None, spectrum_preprocess=None)
    cfg = tiny_train_config(tmp_path / "sup", task="supervised", model=model_cfg, epochs=2,
                            supervised=SupervisedConfig(class_names=("Ia", "II"), head_hidden_dim=8),
                            data=DataConfig(source="callable", target="a:b", modalities=("lightcurve",)))
    res = train(cfg, pairs120)
    assert isinstance(res.model, SupervisedLightCurveModel)
    loaded = SupervisedLightCurveModel.from_pretrained(tmp_path / "sup")
    lcs = make_pairs(4, seed=5)["lightcurves"]
    p, z = loaded.predict(lcs)
    assert p.shape == (4, 2) and np.allclose(p.sum(1), 1, atol=1e-5) and z.shape == (4,)
    np.testing.assert_array_equal(loaded.embed_lightcurve(lcs), res.model.embed_lightcurve(lcs))


def test_cli_train_and_resume(tmp_path, capsys):
    import argparse

    from astroembed.cli.train import register as add_train_subparser

    cfg = tiny_train_config(tmp_path / "cli", epochs=2)
    path = tmp_path / "cfg.json"
    path.write_text(cfg.to_json())
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    add_train_subparser(sub)
    args = parser.parse_args(["train", "--config", str(path), "--stop-after-steps", "3"])
    assert args.func(args) == 3
    args = parser.parse_args(["train", "--config", str(path), "--resume"])
    assert args.func(args) == 0
    assert "completed" in capsys.readouterr().out
    bad = json.loads(cfg.to_json())
    bad["epochs_total"] = 3
    path.write_text(json.dumps(bad))
    args = parser.parse_args(["train", "--config", str(path)])
    assert args.func(args) == 2
    assert "epochs_total" in capsys.readouterr().err


def test_prepare_data_cache_is_keyed_on_the_rows(tmp_path):
    """Regression: the cache key ignored the data, so other objects with the same config got the cached rows."""
    cfg, cache = tiny_model_config(), tmp_path / "cache.npz"
    a, b = make_pairs(6, seed=0), make_pairs(6, seed=1)
    for i, lc in enumerate(b["lightcurves"]):
        lc.object_id = f"other{i}"
    pa = prepare_data(cfg, a, cache=cache, cache_key="same config")
    pb = prepare_data(cfg, b, cache=cache, cache_key="same config")
    assert pb.object_ids.tolist() == [f"other{i}" for i in range(6)]
    # same ids, one flux value changed: still a different data set
    c = make_pairs(6, seed=0)
    lc = c["lightcurves"][2]
    flux = lc.flux.copy()
    flux[0] += 1.0
    c["lightcurves"][2] = ae.LightCurve(time=lc.time, band=lc.band, flux=flux, flux_err=lc.flux_err,
                                        object_id=lc.object_id, label=lc.label, redshift=lc.redshift,
                                        duplicates="keep")
    pc = prepare_data(cfg, c, cache=cache, cache_key="same config")
    assert not np.array_equal(pc.lightcurves[2].flux, pa.lightcurves[2].flux)
    # the same rows again: served from the cache (the file is not rewritten)
    mtime = cache.stat().st_mtime_ns
    pc2 = prepare_data(cfg, c, cache=cache, cache_key="same config")
    assert cache.stat().st_mtime_ns == mtime
    np.testing.assert_array_equal(pc2.lightcurves[2].flux, pc.lightcurves[2].flux)
