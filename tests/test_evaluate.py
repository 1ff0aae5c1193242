"""Evaluation harness: metrics against hand computations, no test-fold leakage, object-level CV,
retrieval on constructed cases, the end-to-end run and the CLI function on a stand-in embedder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, r2_score, recall_score

from astroembed.cli import main
from astroembed.cli.evaluate import register as add_evaluate_subparser
from astroembed.cli.evaluate import run_evaluate
from astroembed.evaluate import (
    classification_metrics,
    confusion_matrices,
    cross_validate_probe,
    evaluate_embeddings,
    evaluate_model,
    limited_scenario,
    outer_splits,
    redshift_metrics,
    retrieval_metrics,
    retrieval_ranks,
)

EXCERPT = Path(__file__).parent / "data" / "excerpt"


# ---------------------------------------------------------------- stand-in embedder ---------------
class StandIn:
    """A fixed random projection of a few hand-made features (peak mag, colour, width, spectral slope)."""

    def __init__(self, dim=16, seed=0):
        rng = np.random.default_rng(seed)
        self.p_lc, self.p_sp, self.dim = rng.normal(size=(5, dim)), rng.normal(size=(5, dim)), dim

    @staticmethod
    def _unit(x):
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    def embed_lightcurve(self, lcs):
        f = []
        for lc in lcs:
            m = lc.mag[np.isfinite(lc.mag)]
            f.append([np.min(m) - 18, np.median(m) - 18, np.log1p(np.ptp(lc.time)), np.log(len(lc)), 1.0])
        return self._unit(np.array(f).reshape(len(lcs), 5) @ self.p_lc)

    def embed_spectrum(self, specs):
        f = []
        for s in specs:
            w, fl = s.wavelength, s.flux / np.median(np.abs(s.flux))
            f.append([np.mean(fl[w < np.median(w)]), np.mean(fl[w >= np.median(w)]), np.log(w[-1] / w[0]),
                      np.log(len(s)), 1.0])
        return self._unit(np.array(f).reshape(len(specs), 5) @ self.p_sp)


def make_stand_in():
    return StandIn()


# ---------------------------------------------------------------- metrics ------------------------
def test_classification_metrics_match_hand_and_sklearn():
    y = ["a", "a", "a", "b", "b", "c"]
    p = ["a", "a", "b", "b", "c", "c"]
    m = classification_metrics(y, p)
    # by hand: a: P=1, R=2/3, F1=0.8; b: P=1/2, R=1/2, F1=1/2; c: P=1/2, R=1, F1=2/3
    assert m["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert m["macro_precision"] == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert m["macro_recall"] == pytest.approx((2 / 3 + 0.5 + 1) / 3)
    assert m["micro_f1"] == pytest.approx(4 / 6) == m["accuracy"]
    rng = np.random.default_rng(1)
    y, p = rng.integers(0, 4, 200).astype(str), rng.integers(0, 4, 200).astype(str)
    m = classification_metrics(y, p)
    assert m["macro_f1"] == pytest.approx(f1_score(y, p, average="macro"))
    assert m["macro_precision"] == pytest.approx(precision_score(y, p, average="macro"))
    assert m["macro_recall"] == pytest.approx(recall_score(y, p, average="macro"))


def test_confusion_normalisations():
    y = ["a", "a", "a", "b", "b", "c"]
    p = ["a", "a", "b", "b", "c", "c"]
    cm = confusion_matrices(y, p, ["a", "b", "c"])
    np.testing.assert_array_equal(cm["counts"], [[2, 1, 0], [0, 1, 1], [0, 0, 1]])
    np.testing.assert_allclose(cm["recall"].sum(axis=1), 1)
    np.testing.assert_allclose(cm["precision"].sum(axis=0), 1)
    assert cm["recall"][0, 0] == pytest.approx(2 / 3) and cm["precision"][1, 1] == pytest.approx(1 / 2)


def test_redshift_metrics_by_hand():
    zt = np.array([0.1, 0.2, 0.3, 0.4])
    zp = np.array([0.1, 0.3, 0.3, 0.8])
    m = redshift_metrics(zt, zp)
    assert m["l1"] == pytest.approx((0 + 0.1 + 0 + 0.4) / 4)
    assert m["rmse"] == pytest.approx(np.sqrt((0.01 + 0.16) / 4))
    assert m["r2"] == pytest.approx(r2_score(zt, zp))
    # |dz|/(1+z): 0, 0.0833, 0, 0.2857 -> one outlier > 0.15; |dz| > 0.07: 0.1 and 0.4 -> two
    assert m["outlier_frac"] == pytest.approx(0.25)
    assert m["outlier_frac_abs"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="non-finite"):
        redshift_metrics([0.1, np.nan], [0.1, 0.2])


def test_retrieval_constructed_cases():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(50, 8))
    r = retrieval_ranks(A, A)
    assert (r == 1).all()
    # partner of query i is gallery row perm[i]; put gallery in a known order and give the partner
    # exactly rank 3 by making two decoys more similar
    q = np.eye(4)
    g = np.array([[0.5, 0.5, 0, 0], [1, 0.1, 0, 0], [1, 0.05, 0, 0], [0, 0, 0, 1]], dtype=float)
    ranks = retrieval_ranks(q[:1].repeat(4, 0), g)  # query 0 vs partner row 0 (cos .707), decoys 1,2 (~.99)
    assert ranks[0] == 3
    m = retrieval_metrics(np.array([1, 3, 12, 1]))
    assert m["top1"] == 0.5 and m["top10"] == 0.75 and m["median_rank"] == 2.0
    # ties count against the query
    assert retrieval_ranks(np.ones((2, 3)), np.ones((2, 3))).tolist() == [2, 2]
    # groups: two gallery items of object "x"; the best one counts, other-group items only
    g = np.array([[0.0, 1], [1, 0.1], [1, 0.5], [0, -1]])  # cos with query: 0, .995, .894, 0
    assert retrieval_ranks(np.array([[1.0, 0]]), g, ["x"], ["x", "y", "x", "y"]).tolist() == [2]
    assert retrieval_ranks(np.array([[1.0, 0]]), g, ["x"], ["y", "x", "y", "x"]).tolist() == [1]


def test_zero_shot_rows_come_from_tasks_zero_shot_redshift(monkeypatch):
    """The evaluation's zero-shot kNN is astroembed.tasks.zero_shot_redshift (one implementation): a spy sees
    every fold (training part as references, test part as queries), and the row is scored on its output."""
    import astroembed.tasks as tasks

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4))
    z = np.linspace(0.01, 0.4, 40)
    calls = []

    def spy(q, r, zr, k=100, **kw):
        calls.append((len(q), len(r), k))
        return np.full(len(q), 0.5), np.zeros(len(q))  # a constant guess: L1 = mean |z - 0.5|

    monkeypatch.setattr(tasks, "zero_shot_redshift", spy)
    rep = evaluate_embeddings(X, redshifts=z, n_splits=4, hyperparams="fixed", scenarios=("full",),
                              regression_probes=(), zero_shot_k=100)
    assert len(calls) == 4 and all(nq + nr == 40 and k == nr for nq, nr, k in calls)  # k clipped to the references
    row = rep.get(task="zero-shot redshift", metric="l1")
    assert row["mean"] == pytest.approx(np.mean(np.abs(z - 0.5)), rel=0.05)


# ---------------------------------------------------------------- no leakage ---------------------
class Spy:
    """Estimator whose first feature is the row id; records every fit/predict call (shared log)."""

    def __init__(self, log, n_neighbors=1):
        self.log, self.n_neighbors = log, n_neighbors

    def fit(self, X, y):
        self.log.append(("fit", set(X[:, 0].astype(int).tolist())))
        self.majority_ = max(set(list(y)), key=list(y).count)
        return self

    def predict(self, X):
        self.log.append(("predict", set(X[:, 0].astype(int).tolist())))
        return np.full(len(X), self.majority_, dtype=object)


def check_no_leak(log, splits):
    """Calls come fold by fold; until the fold's final predict (on exactly the test ids), every call may
    touch training ids only."""
    f, seen_final = 0, []
    for kind, ids in log:
        tr, te = (set(s.tolist()) for s in splits[f])
        if kind == "predict" and ids == te:
            seen_final.append(f)
            f += 1
            continue
        assert ids <= tr, f"fold {f}: a {kind} call touched {len(ids - tr)} test-fold row(s) during selection"
    assert seen_final == list(range(len(splits)))


@pytest.mark.parametrize("hyper", ["nested", "fixed"])
def test_no_test_fold_leakage(hyper):
    rng = np.random.default_rng(0)
    n = 60
    X = np.column_stack([np.arange(n), rng.normal(size=(n, 3))])
    y = np.array(["a", "b", "c"] * 20, dtype=object)
    log = []
    splits = outer_splits(y, None, 5, seed=0)
    res = cross_validate_probe(X, y, task="classification", probe="knn", hyperparams=hyper, splits=splits,
                               factory=lambda p: Spy(log, **p), grid=[{"n_neighbors": 1}, {"n_neighbors": 3}])
    n_fit = sum(k == "fit" for k, _ in log)
    assert n_fit > 5 if hyper == "nested" else n_fit == 5
    check_no_leak(log, splits)
    assert len(res.params) == 5


def test_leak_checker_catches_a_leaky_selection():
    splits = [(np.array([0, 1, 2]), np.array([3, 4])), (np.array([2, 3, 4]), np.array([0, 1]))]
    leaky = [("fit", {0, 1, 2}), ("predict", {3}), ("fit", {0, 1, 2}), ("predict", {3, 4}),
             ("fit", {2, 3, 4}), ("predict", {0, 1})]
    with pytest.raises(AssertionError, match="test-fold"):
        check_no_leak(leaky, splits)


def test_limited_scenario_trains_on_n_labelled():
    rng = np.random.default_rng(1)
    n = 400
    X = np.column_stack([np.arange(n), rng.normal(size=(n, 2))])
    y = np.array(["a", "b"] * 200, dtype=object)
    log = []
    draws = limited_scenario(X, y, task="classification", probe="knn", n_labelled=128, n_draws=3, hyperparams="fixed",
                             factory=lambda p: Spy(log), n_splits=5)
    fits = [ids for k, ids in log if k == "fit"]
    assert len(draws) == 3 and len(fits) == 15 and all(len(f) == 128 for f in fits)
    assert len({frozenset(f) for f in fits}) == 15  # different draws and folds


# ---------------------------------------------------------------- CV over objects ----------------
def test_cv_groups_objects_and_stratifies():
    y = np.array(["Ia"] * 60 + ["II"] * 30 + ["Ibc"] * 15, dtype=object)
    groups = np.repeat(np.arange(35), 3)  # three rows per object, labels constant within object
    splits = outer_splits(y, groups, 5, seed=3)
    for tr, te in splits:
        assert not set(groups[tr]) & set(groups[te])
    te_counts = [{c: int(np.sum(y[te] == c)) for c in ("Ia", "II", "Ibc")} for _, te in splits]
    for c, total in (("Ia", 60), ("II", 30), ("Ibc", 15)):
        assert max(t[c] for t in te_counts) - min(t[c] for t in te_counts) <= 3
        assert sum(t[c] for t in te_counts) == total
    s = outer_splits(np.array(["a", "b"] * 50), None, 5, seed=0)
    assert sorted(np.concatenate([te for _, te in s]).tolist()) == list(range(100))


# ---------------------------------------------------------------- end to end ---------------------
def test_evaluate_embeddings_separable_vs_shuffled():
    rng = np.random.default_rng(0)
    classes = np.array(["Ia", "II", "Ibc", "IIn", "SLSN-I"])
    y = classes[np.repeat(np.arange(5), 40)]
    centers = rng.normal(size=(5, 12)) * 3
    E = centers[np.repeat(np.arange(5), 40)] + rng.normal(size=(200, 12)) * 0.3
    z = np.repeat([0.02, 0.05, 0.08, 0.1, 0.3], 40) + rng.normal(0, 0.003, 200)
    rep = evaluate_embeddings({"lightcurve": E, "spectrum": E + rng.normal(size=E.shape) * 0.05}, labels=y,
                              redshifts=z, n_draws=2, seed=0, hyperparams="fixed")
    assert rep.get(subset="5-way", modality="lightcurve", scenario="full", probe="knn", metric="macro_f1")["mean"] > 0.95
    assert rep.get(task="redshift", modality="lightcurve", scenario="full", probe="knn", metric="r2")["mean"] > 0.9
    top1 = rep.get(task="retrieval", modality="lightcurve→spectrum", metric="top1")
    assert top1["mean"] > 0.5 and top1["n_repeats"] == 5
    assert rep.get(subset="3-way", modality="spectrum", scenario="limited", probe="svc", metric="macro_f1")["n_repeats"] == 2
    shuffled = evaluate_embeddings(E, labels=rng.permutation(y), scenarios=("full",), seed=0, hyperparams="fixed")
    assert shuffled.get(subset="5-way", probe="knn", metric="macro_f1")["mean"] < 0.45
    md = rep.to_markdown()
    assert "5-way macro_f1" in md and "±" in md and "top10" in md
    d = json.loads(rep.to_json())
    assert {r["task"] for r in d["results"]} == {"classification", "redshift", "zero-shot redshift", "retrieval"}


def test_evaluate_model_on_excerpt_writes_outputs(tmp_path):
    from astroembed.datasets import load_osc_pairs

    ds = load_osc_pairs(EXCERPT)
    rep = evaluate_model(StandIn(), ds, out=tmp_path, n_splits=3, n_draws=2, n_labelled=16, hyperparams="fixed",
                         class_sets={"3-way": ("Ia", "II", "IIn")})
    for f in ("results.json", "results.md", "embedding_map_lightcurve.png", "retrieval_examples.png",
              "confusion_3-way_lightcurve_knn_recall.png", "confusion_3-way_spectrum_svc_precision.png"):
        assert (tmp_path / f).stat().st_size > 0, f
    assert rep.info["n_items"] == len(ds) and rep.info["embedding_dim"] == {"lightcurve": 16, "spectrum": 16}


def test_cli_function_on_stand_in(tmp_path, capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    rc = main(["evaluate", "--model", "test_evaluate:make_stand_in", "--data", "ztf_bts", "--data-dir", str(EXCERPT),
               "--out", str(tmp_path / "ev"), "--n-splits", "3", "--n-draws", "2", "--n-labelled", "20",
               "--hyperparams", "fixed", "--no-plots"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "Classification" in out and "Redshift" in out
    d = json.loads((tmp_path / "ev" / "results.json").read_text())
    assert d["info"]["dataset"] == "ztf_bts" and d["config"]["n_splits"] == 3
    # the sub-parser hook
    parser = argparse.ArgumentParser(prog="astroembed")
    add_evaluate_subparser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["evaluate", "--model", "features", "--data", "foundation", "--data-dir", str(EXCERPT),
                              "--out", str(tmp_path / "ev2"), "--quick"])
    assert args.func is run_evaluate
    # foundation is all-Ia: no classification; redshift probes still run
    assert args.func(args) == 0
    d = json.loads((tmp_path / "ev2" / "results.json").read_text())
    assert {r["task"] for r in d["results"]} == {"redshift", "zero-shot redshift"}
    with pytest.raises(SystemExit):
        main(["evaluate", "--model", "features", "--data", "nope", "--out", str(tmp_path)])


def test_load_dataset_reads_simulated_parquet_dir(tmp_path):
    import astroembed.simulate as sim
    from astroembed.evaluate.loading import load_dataset

    ds = sim.simulate(n=8, survey="ztf", seed=5)
    sim.write_parquet(ds, tmp_path / "s")
    loaded = load_dataset("sim", sim_dir=tmp_path / "s")
    assert len(loaded.lightcurves) == 8 and len(loaded.spectra) == 8
    assert loaded.objects["label"].tolist() == ds.truth["class"].tolist()
    # a selection applies to a set simulated here, and is refused with a set already written
    with pytest.raises(ValueError, match="sim_dir"):
        load_dataset("sim", sim_dir=tmp_path / "s", sim_selection={"peak_mag_max": 18.5})
    only_ia = load_dataset("sim", sim_n=6, seed=5, sim_selection={"classes": "Ia", "min_detections": 6})
    assert set(only_ia.objects["label"]) == {"Ia"}
    assert min(int((lc.flux / lc.flux_err > 3).sum()) for lc in only_ia.lightcurves) >= 6


def test_cli_sim_selection_needs_a_simulated_set(tmp_path, capsys):
    from astroembed.cli import main

    rc = main(["evaluate", "--model", "features", "--data", "osc", "--sim-peak-mag-max", "18.5",
               "--out", str(tmp_path / "ev")])
    assert rc == 2 and "--reference sim" in capsys.readouterr().err


def test_load_model_from_run_directories(tmp_path):
    """`--model DIR` loads a trained CLIP run or the supervised baseline's run from its config.json."""
    from astroembed.evaluate.loading import load_model
    from astroembed.models.maven.config import LightCurveEncoderConfig, MavenConfig
    from astroembed.models.maven.model import MavenModel
    from astroembed.models.supervised import SupervisedLightCurveModel, SupervisedModelConfig

    enc = MavenConfig(embed_dim=8, lightcurve=LightCurveEncoderConfig(d_model=8, n_layers=1, n_heads=2, ff_dim=8),
                      spectrum=None, spectrum_preprocess=None)
    SupervisedLightCurveModel(SupervisedModelConfig(encoder=enc, class_names=("Ia", "II"))).save_pretrained(
        tmp_path / "sup")
    MavenModel(enc).save_pretrained(tmp_path / "clip")
    assert isinstance(load_model(str(tmp_path / "sup")), SupervisedLightCurveModel)
    assert isinstance(load_model(str(tmp_path / "clip")), MavenModel)


def _tiny_clip_dir(path):
    from astroembed.models.maven.config import LightCurveEncoderConfig, MavenConfig
    from astroembed.models.maven.model import MavenModel

    enc = MavenConfig(embed_dim=8, lightcurve=LightCurveEncoderConfig(d_model=8, n_layers=1, n_heads=2, ff_dim=8),
                      spectrum=None, spectrum_preprocess=None)
    MavenModel(enc).save_pretrained(path)
    return path


def test_shipped_model_is_not_scored_on_its_fine_tuning_objects(tmp_path, capsys):
    """Regression: `evaluate --model maven --data ztf_bts` scored the release model on its own training objects."""
    import pandas as pd

    from astroembed.datasets import load_ztf_bts
    from astroembed.evaluate.loading import check_unseen, load_model

    ds = load_ztf_bts(EXCERPT)
    ids = ds.object_ids.astype(str)
    d = _tiny_clip_dir(tmp_path / "m")
    split = np.where(np.arange(len(ids)) % 3 == 0, "not used (demo object or not loadable)",
                     np.where(np.arange(len(ids)) % 3 == 1, "train", "val"))
    pd.DataFrame({"dataset": "ztf_bts", "object_id": ids, "label": ds.labels, "crossfit_fold": 0,
                  "release_split": split}).to_csv(d / "folds.csv", index=False)
    model = load_model(str(d))
    sub = check_unseen(model, ds, "ztf_bts", name=str(d))
    assert sorted(sub.object_ids.astype(str)) == sorted(ids[split.astype(str) == split[0]])
    assert "evaluating only the" in capsys.readouterr().err
    assert check_unseen(model, ds, "osc", name=str(d)) is ds  # other data set: nothing to exclude
    with pytest.warns(UserWarning, match="optimistic"):
        assert len(check_unseen(model, ds, "ztf_bts", name=str(d), allow=True)) == len(ds)
    # every object was seen: the command refuses (exit 2, one line naming the way out)
    pd.DataFrame({"dataset": "ztf_bts", "object_id": ids, "label": ds.labels, "crossfit_fold": 0,
                  "release_split": "train"}).to_csv(d / "folds.csv", index=False)
    assert main(["evaluate", "--model", str(d), "--data", "ztf_bts", "--data-dir", str(EXCERPT),
                 "--out", str(tmp_path / "ev"), "--quick"]) == 2
    err = capsys.readouterr().err
    assert "fine-tune" in err and "astroembed crossfit" in err and "--allow-training-objects" in err


def test_bundled_maven_folds_mark_its_training_objects():
    """The release weights ship the ids they were fitted on; the demo objects are not among them."""
    from astroembed.demo import demo_object_ids
    from astroembed.evaluate.loading import training_objects
    from astroembed.models.registry import bundled_weights_dir

    used = training_objects(bundled_weights_dir() / "maven", "ztf_bts")
    assert len(used) > 1000
    assert not used & set(demo_object_ids()["ztf_bts"])


def _with_uv_only_spectrum(ds, row=0):
    """The data set with item ``row``'s spectrum replaced by one covering only 1500-3000 Å."""
    import astroembed as ae

    sp = list(ds.spectra)
    old = sp[row]
    wl = np.linspace(1500.0, 3000.0, 200)
    sp[row] = ae.Spectrum(wl, np.ones_like(wl), np.full_like(wl, 0.1), object_id=old.object_id)
    ds.spectra = sp
    return ds


def test_one_unusable_spectrum_does_not_abort_the_evaluation(tmp_path, capsys):
    """Regression: one UV-only OSC spectrum made `astroembed evaluate --data osc` fail for the whole batch."""
    from astroembed.datasets import load_osc_pairs
    from astroembed.models.maven.config import LightCurveEncoderConfig, MavenConfig, SpectrumEncoderConfig
    from astroembed.models.maven.model import MavenModel

    ds = _with_uv_only_spectrum(load_osc_pairs(EXCERPT), row=2)
    bad_id = str(ds.object_ids[2])
    model = MavenModel(MavenConfig(embed_dim=8, lightcurve=LightCurveEncoderConfig(d_model=8, n_layers=1, n_heads=2,
                                                                                  ff_dim=8),
                                   spectrum=SpectrumEncoderConfig(d_model=8, n_layers=1, n_heads=2, ff_dim=8,
                                                                  patch_size=16))).eval()
    with pytest.raises(ValueError, match="1500|wavelength|bins"):
        model.embed_spectrum(ds.spectra)  # the model itself refuses the batch
    rep = evaluate_model(model, ds, n_splits=3, n_draws=2, n_labelled=16, hyperparams="fixed",
                         scenarios=("full",), class_sets={"3-way": ("Ia", "II", "IIn")})
    info = rep.info["not_embeddable"]  # the injected one and the excerpt's real UV-only spectrum (PTF10bgl)
    assert info["n"] == 2 and info["by_modality"] == {"spectrum": 2}
    assert {(d["object_id"], d["row"]) for d in info["items"]} == {
        (bad_id, 2), ("PTF10bgl", ds.object_ids.tolist().index("PTF10bgl"))}
    assert rep.info["n_items"] == len(ds) - 2
    assert "cannot be embedded" in capsys.readouterr().err


def test_coerce_path_keeps_alignment():
    """With a model that takes errors="coerce", the NaN row is dropped and the other rows stay aligned."""
    from astroembed.evaluate.embedding import embed_items

    class Coercing:
        modalities = ("lightcurve",)

        def embed_lightcurve(self, objs, *, errors="raise", batch_size=None, progress=None):
            E = np.array([[float(o), 1.0] for o in objs])
            if errors == "coerce":
                E[np.array(objs) < 0] = np.nan
            return E

    E, dropped = embed_items(Coercing(), "lightcurve", [3, -1, 5])
    assert list(dropped) == [1]
    np.testing.assert_array_equal(E[[0, 2], 0], [3.0, 5.0])
