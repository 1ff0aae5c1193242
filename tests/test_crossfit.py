"""Cross-fitted evaluation (tiny models on the real-data excerpt) and the real-data training sources."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from astroembed.data.preprocess import LightCurvePreprocessConfig, SpectrumPreprocessConfig
from astroembed.demo import demo_object_ids
from astroembed.errors import ConfigError
from astroembed.evaluate.crossfit import (
    Accumulator,
    CrossFitConfig,
    CrossFitEvalConfig,
    evaluate_fold,
    main,
    run_crossfit,
)
from astroembed.models import (
    LightCurveEncoderConfig,
    MavenConfig,
    MavenModel,
    MetadataEncoderConfig,
    SpectrumEncoderConfig,
)
from astroembed.train import sources
from astroembed.train.folds import read_folds

pytestmark = pytest.mark.filterwarnings("ignore:training data. dropped")
EXCERPT = str(Path(__file__).parent / "data" / "excerpt")
FAST_EVAL = {"datasets": ["ztf_bts", "osc"], "hyperparams": "fixed", "scenarios": ["full"], "n_labelled": 16,
             "n_draws": 2, "zero_shot_k": 10, "classification_probes": ["knn", "svc"],
             "regression_probes": ["knn", "ridge"], "direct": True}
TRAIN = {"epochs": 2, "batch_size": 8, "patience": 2, "optim": {"lr": 1e-3, "warmup_steps": 2},
         "augment": {"obs_dropout": 0.0}}


def tiny_model(metadata=True, spectrum=True) -> dict:
    return MavenConfig(
        embed_dim=8, lightcurve=LightCurveEncoderConfig(d_model=8, n_layers=1, n_heads=2, ff_dim=16, dropout=0.0),
        spectrum=SpectrumEncoderConfig(d_model=8, n_layers=1, n_heads=2, ff_dim=16, dropout=0.0, patch_size=16)
        if spectrum else None,
        metadata=MetadataEncoderConfig(hidden_dim=8, n_layers=1) if metadata else None,
        lightcurve_preprocess=LightCurvePreprocessConfig(max_length=32),
        spectrum_preprocess=SpectrumPreprocessConfig(n_bins=64) if spectrum else None).to_dict()


def cf_config(**kw) -> CrossFitConfig:
    d = {"name": "tiny", "base_model": None, "model": tiny_model(), "model_overrides": None,
         "stages": [{"name": "bts", "source": "ztf_bts", "modalities": ["lightcurve", "metadata"],
                     "validation_fraction": 0.2, "train": TRAIN},
                    {"name": "osc", "source": "osc", "modalities": ["lightcurve", "spectrum", "metadata"],
                     "validation_fraction": 0.2, "train": TRAIN}],
         "evaluation": FAST_EVAL, "data": None, "data_dir": EXCERPT, "n_folds": 3, "folds_seed": 0,
         "folds_file": None, "seed": 0, "device": "cpu", "num_threads": 1}
    d.update(kw)
    return CrossFitConfig.from_dict(json.loads(json.dumps(d)))


@pytest.fixture(scope="module")
def lite_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cf") / "lite"
    reports = run_crossfit(cf_config(), out, plots=False, progress=False)
    return out, reports


def test_sources_drop_demo_and_held_out_folds(tmp_path):
    full = sources.ztf_bts_pairs(EXCERPT, exclude_demo_ids=False)
    demo = set(demo_object_ids()["ztf_bts"]) & set(full["truth"]["object_id"])
    assert demo, "the excerpt should hold a demo object to test the exclusion"
    out = sources.ztf_bts_pairs(EXCERPT)
    assert not demo & set(out["truth"]["object_id"])
    assert set(out["truth"]["class"]) <= set(sources.MAVEN5) and len(out["lightcurves"]) == len(out["truth"])
    table = sources.make_fold_table({"ztf_bts": full["dataset"]}, 3, 0)
    table.to_csv(tmp_path / "folds.csv", index=False)
    fold_of = dict(zip(table.object_id, table.fold))
    for k in range(3):
        ids = sources.ztf_bts_pairs(EXCERPT, folds_file=tmp_path / "folds.csv", exclude_folds=[k])["truth"].object_id
        assert all(fold_of[i] != k for i in ids) and not demo & set(ids)
        assert len(ids) == sum(1 for i, f in fold_of.items() if f != k and i not in demo)
    table.iloc[1:].to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(ValueError, match="have no fold"):
        sources.ztf_bts_pairs(EXCERPT, folds_file=tmp_path / "short.csv", exclude_folds=[0])
    with pytest.raises(ValueError, match="needs folds_file"):
        sources.ztf_bts_pairs(EXCERPT, exclude_folds=[0])
    osc = sources.osc_triples(EXCERPT)
    assert len(osc["spectra"]) == len(osc["lightcurves"]) == len(osc["truth"])


def test_crossfit_never_trains_on_the_test_fold_or_demo_objects(lite_run):
    out, _ = lite_run
    folds = pd.read_csv(out / "folds.csv", dtype={"object_id": str})
    assert set(folds.fold) == {0, 1, 2} and folds.demo.any()
    fold_of = dict(zip(folds.object_id, folds.fold))
    demo = {i for ids in demo_object_ids().values() for i in ids}
    for k in range(3):
        for i, stage in enumerate(("bts", "osc")):
            run = out / f"fold{k}" / f"stage{i + 1}_{stage}"
            seen = read_folds(run / "folds.csv")["object_id"].tolist()
            assert seen and all(fold_of[o] != k for o in seen) and not demo & set(seen)
            tc = json.loads((run / "train_config.json").read_text())
            assert tc["data"]["kwargs"]["exclude_folds"] == [k] and tc["cv"]["fold"] is None
            assert tc["init_from"] == (None if i == 0 else str(out / f"fold{k}" / "stage1_bts"))
        z = np.load(out / f"fold{k}" / "embeddings_ztf_bts.npz")
        assert len(z["object_ids"]) == (folds.dataset == "ztf_bts").sum()  # every object embedded
    info = json.loads((out / "fold0" / "training.json").read_text())
    assert [s["stage"] for s in info["stages"]] == ["bts", "osc"] and info["stages"][0]["seconds_train"] > 0


def _fold_data(out, name, k):
    """Fold ``k``'s saved embeddings of data set ``name`` with labels / redshifts from folds.csv."""
    folds = pd.read_csv(out / "folds.csv", dtype={"object_id": str})
    folds = folds[folds.dataset == name].set_index("object_id")
    z = np.load(out / f"fold{k}" / f"embeddings_{name}.npz")
    ids = z["object_ids"].astype(str)
    return z, folds.loc[ids, "label"].to_numpy(object), folds.loc[ids, "redshift"].to_numpy(float), z["fold"] == k


def test_crossfit_report_rows_are_the_probes_on_the_saved_fold_embeddings(lite_run):
    """Each per-fold value is recomputed from that fold's saved embeddings: SVC (fixed C) trained on the
    other folds, scored on fold k; retrieval with fold k as gallery."""
    from astroembed.evaluate import classification_metrics, make_probe, retrieval_metrics, retrieval_ranks

    out, reports = lite_run
    bts, osc = reports["ztf_bts"], reports["osc"]
    row = bts.get(task="classification", subset="5-way", modality="lightcurve", scenario="full", probe="svc",
                  metric="macro_f1")
    med = osc.get(task="retrieval", modality="lightcurve→spectrum", metric="median_rank")
    assert row["n_repeats"] == med["n_repeats"] == 3
    for k in range(3):
        z, y, _, te = _fold_data(out, "ztf_bts", k)
        X = z["lightcurve"]
        present = [c for c in ("Ia", "II", "Ibc", "IIn", "SLSN-I") if c in set(y.tolist())]
        pred = make_probe("classification", "svc", C=1.0).fit(X[~te], y[~te]).predict(X[te])
        assert row["values"][k] == pytest.approx(classification_metrics(y[te], pred, labels=present)["macro_f1"])
        z, _, _, te = _fold_data(out, "osc", k)
        ranks = retrieval_ranks(z["lightcurve"][te], z["spectrum"][te])
        assert med["values"][k] == pytest.approx(retrieval_metrics(ranks)["median_rank"])
    assert row["mean"] == pytest.approx(np.mean(row["values"]))
    assert bts.get(task="zero-shot redshift", modality="lightcurve", metric="r2")["n_repeats"] == 3
    assert "5-way lightcurve knn" in bts.confusion
    saved = json.loads((out / "ztf_bts" / "results.json").read_text())
    assert saved["info"]["folds_sha256"] == osc.info["folds_sha256"] and "Classification" in \
        (out / "summary.md").read_text()


def test_frozen_and_supervised_use_the_same_folds(lite_run, tmp_path):
    out, reports = lite_run
    frozen_dir = MavenModel(MavenConfig.from_dict(tiny_model())).save_pretrained(tmp_path / "frozen")
    rep = run_crossfit(cf_config(name="frozen", base_model=str(frozen_dir), model=None, stages=[]), tmp_path / "fz",
                       plots=False, progress=False, folds_file=out / "folds.csv")
    assert rep["ztf_bts"].info["folds_sha256"] == reports["ztf_bts"].info["folds_sha256"]
    assert not list((tmp_path / "fz" / "fold0").glob("stage*"))
    sup = cf_config(name="sup", model=tiny_model(metadata=False, spectrum=False), evaluation={**FAST_EVAL,
                    "datasets": ["ztf_bts"]}, stages=[{"name": "bts", "source": "ztf_bts", "modalities": ["lightcurve"],
                                                       "validation_fraction": 0.2,
                                                       "train": {**TRAIN, "task": "supervised", "supervised": {}}}])
    rep = run_crossfit(sup, tmp_path / "sup", plots=False, progress=False)
    assert rep["ztf_bts"].info["folds_sha256"] == reports["ztf_bts"].info["folds_sha256"]
    r = rep["ztf_bts"].get(task="classification", subset="3-way", probe="direct", metric="macro_f1")
    assert r["n_repeats"] == 3
    rmse = rep["ztf_bts"].get(task="redshift", probe="direct", metric="rmse")
    for k in range(3):  # the baseline's own redshift predictions, scored on fold k
        z, _, zt, te = _fold_data(tmp_path / "sup", "ztf_bts", k)
        assert rmse["values"][k] == pytest.approx(np.sqrt(np.mean((z["z_pred"][te] - zt[te]) ** 2)))


def test_cli_resume_and_bad_configs(lite_run, tmp_path, capsys):
    out, _ = lite_run
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps(cf_config().to_dict()))
    # --resume over finished stage runs retrains nothing and reproduces the numbers
    before = lite_run[1]["ztf_bts"].table()["mean"].to_numpy()
    assert main(["--config", str(cfg), "--out", str(out), "--resume", "--no-plots", "--no-progress"]) == 0
    assert "Cross-modal retrieval" in capsys.readouterr().out
    after = json.loads((out / "ztf_bts" / "results.json").read_text())["results"]
    np.testing.assert_allclose([r["mean"] for r in after], before)
    assert main(["--config", str(cfg), "--out", str(out), "--no-progress"]) == 2  # no silent overwrite
    assert "already holds a training run" in capsys.readouterr().err
    d = cf_config().to_dict()
    d["stages"][0]["train"]["output_dir"] = "x"
    with pytest.raises(ConfigError, match="set by the crossfit harness"):
        CrossFitConfig.from_dict(d)
    with pytest.raises(ConfigError, match="unknown key"):
        CrossFitConfig.from_dict({**cf_config().to_dict(), "foo": 1})
    with pytest.raises(ConfigError, match="frozen"):
        cf_config(stages=[])


def test_evaluate_fold_uses_only_training_folds_for_probes():
    # fold-1 objects sit on top of training objects of ANOTHER class: a probe that had seen fold 1 would
    # score perfectly; one fitted on folds 0 and 2 only must get every fold-1 object wrong.
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(2, 16))
    labels = np.array(["Ia", "II"] * 30, dtype=object)
    folds = np.repeat([0, 1, 2], 20)
    X = centres[(labels == "II").astype(int)] + 0.01 * rng.normal(size=(60, 16))
    X[folds == 1] = centres[(labels[folds == 1] == "Ia").astype(int)] + 0.01 * rng.normal(size=(20, 16))
    acc = Accumulator()
    ev = CrossFitEvalConfig(hyperparams="fixed", scenarios=("full",), classification_probes=("knn",),
                            regression_probes=("knn",), zero_shot_k=5)
    evaluate_fold(acc, {"lightcurve": X}, labels, np.full(60, 0.1) + (labels == "II") * 0.2, np.arange(60), folds,
                  1, ev)
    rep = acc.report({}, {})
    assert rep.get(task="classification", subset="5-way", probe="knn", metric="micro_f1")["mean"] == 0.0
    assert rep.get(task="zero-shot redshift", metric="l1")["mean"] == pytest.approx(0.2, abs=1e-3)


def test_astroembed_crossfit_subcommand(tmp_path, capsys):
    from astroembed.cli import main as cli_main

    assert cli_main(["crossfit", "--config", str(tmp_path / "missing.json"), "--out", str(tmp_path / "o")]) == 2
    assert "missing.json" in capsys.readouterr().err
