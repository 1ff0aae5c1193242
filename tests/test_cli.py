"""The command line: fast parser (no heavy imports), every option documented in plain text, no sub-command
silently dropped, clean one-line errors (existing --out, bad rows named by object id and row), embed
--keep-columns feeding redshift, search --out Parquet/CSV by extension."""

from __future__ import annotations

import argparse
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from astroembed.cli import build_parser, main

from .conftest import make_lightcurve
from .test_pretrained import tiny_model

try:
    from astroembed.search.files import read_embeddings
except ImportError:  # before the search package layout
    from astroembed.search.files import read_embeddings

COMMANDS = {"models", "embed", "search", "redshift", "classify", "simulate", "train", "evaluate", "crossfit", "demo"}


def _subparsers(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


def test_parser_builds_without_torch_sklearn_pandas():
    code = ("import sys; from astroembed.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('torch', 'sklearn', 'pandas', 'astropy', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_command_present_and_every_option_has_plain_help():
    subs = _subparsers(build_parser())
    assert set(subs) == COMMANDS
    for name, p in subs.items():
        texts = [p.description or ""]
        for a in p._actions:
            if isinstance(a, argparse._HelpAction):
                continue
            assert a.help, f"astroembed {name} {a.option_strings or a.dest}: no help text"
            texts.append(a.help)
        for t in texts:
            assert "``" not in t and ":mod:" not in t and ":func:" not in t and "`" not in t, (name, t)


def test_broken_subcommand_import_is_not_hidden(monkeypatch):
    """A command whose implementation cannot be imported fails loudly instead of vanishing from the CLI."""
    import astroembed.cli.demo as demo_cli

    def boom(args):
        import astroembed._no_such_module  # noqa: F401

    monkeypatch.setattr(demo_cli, "run_demo_cli", boom)
    parser = build_parser()
    assert "demo" in _subparsers(parser)
    monkeypatch.setattr("astroembed.cli.build_parser", lambda: _rebuild(parser, boom))
    with pytest.raises(ModuleNotFoundError, match="_no_such_module"):
        main(["demo"])


def _rebuild(parser, func):
    _subparsers(parser)["demo"].set_defaults(func=func)
    return parser


def test_missing_third_party_package_is_one_clean_line(monkeypatch, capsys):
    def needs(args):
        import faiss_not_installed_xyz  # noqa: F401

    parser = build_parser()
    monkeypatch.setattr("astroembed.cli.build_parser", lambda: _rebuild(parser, needs))
    assert main(["demo"]) == 2
    err = capsys.readouterr().err
    assert "faiss_not_installed_xyz" in err and "pip install" in err and "Traceback" not in err


# -- embed / search / redshift on a tiny registered model --------------------------------------
@pytest.fixture
def fake_bundle(tmp_path, monkeypatch):
    """A registry with one bundled model 'tiny' in a temporary _weights folder."""
    from astroembed.models import registry as reg

    root = tmp_path / "_weights"
    tiny_model().save_pretrained(root / "tiny")
    monkeypatch.setattr(reg, "bundled_weights_dir", lambda: root)
    reg.write_registry_entry("tiny", "test model", weights_root=root)
    return root


@pytest.fixture
def lc_table(tmp_path, rng):
    rows = []
    for i in range(6):
        tab = make_lightcurve(rng, n=8).to_table().to_pandas()
        tab["object_id"] = f"obj{i}"
        tab["redshift"] = 0.01 * (i + 1)
        tab["type"] = "Ia" if i % 2 else "II"
        rows.append(tab)
    path = tmp_path / "lcs.csv"
    pd.concat(rows).to_csv(path, index=False)
    return path


def test_embed_keep_columns_then_redshift_without_pandas_surgery(fake_bundle, lc_table, tmp_path):
    ref = tmp_path / "ref.parquet"
    assert main(["embed", str(lc_table), "--kind", "lightcurve", "--model", "tiny", "--keep-columns",
                 "redshift,type", "--out", str(ref)]) == 0
    E, cat, _ = read_embeddings(ref)
    assert cat["redshift"].tolist() == pytest.approx([0.01 * (i + 1) for i in range(6)])
    assert cat["type"].tolist() == ["II", "Ia"] * 3
    z_out = tmp_path / "z.parquet"
    assert main(["redshift", "--reference", str(ref), "--query", str(ref), "-k", "1", "--out", str(z_out)]) == 0
    z = pd.read_parquet(z_out)  # Parquet because of the extension
    # k=1 and queries = references: each object's nearest neighbour is itself
    np.testing.assert_allclose(z["z"], cat["redshift"], atol=1e-5)


def test_search_out_format_follows_extension_and_existing_out_is_clean(fake_bundle, lc_table, tmp_path, capsys):
    emb = tmp_path / "e.parquet"
    assert main(["embed", str(lc_table), "--kind", "lightcurve", "--model", "tiny", "--out", str(emb)]) == 0
    pq_out, csv_out = tmp_path / "hits.parquet", tmp_path / "hits.csv"
    assert main(["search", "--index", str(emb), "--query", str(emb), "-k", "2", "--out", str(pq_out)]) == 0
    assert main(["search", "--index", str(emb), "--query", str(emb), "-k", "2", "--out", str(csv_out)]) == 0
    a, b = pd.read_parquet(pq_out), pd.read_csv(csv_out)
    assert list(a.columns) == ["query_id", "rank", "id", "score"] and len(a) == 12
    pd.testing.assert_frame_equal(a[["query_id", "rank", "id"]], b[["query_id", "rank", "id"]])
    assert (a[a["rank"] == 1]["id"] == a[a["rank"] == 1]["query_id"]).all()
    capsys.readouterr()
    # an existing --out: one clean line naming --overwrite, no traceback; --overwrite replaces it
    assert main(["embed", str(lc_table), "--kind", "lightcurve", "--model", "tiny", "--out", str(emb)]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "--overwrite" in err and "Traceback" not in err
    assert main(["search", "--index", str(emb), "--query", str(emb), "--out", str(csv_out)]) == 2
    assert main(["embed", str(lc_table), "--kind", "lightcurve", "--model", "tiny", "--out", str(emb),
                 "--overwrite"]) == 0
    assert main(["search", "--index", str(emb), "--query", str(emb), "--out", str(tmp_path / "x.txt")]) == 2
    assert ".csv or .parquet" in capsys.readouterr().err


def test_embed_error_names_object_and_rows(fake_bundle, lc_table, tmp_path, capsys):
    df = pd.read_csv(lc_table)
    df.loc[df["object_id"] == "obj3", "band"] = "nosuchband"
    df.to_csv(lc_table, index=False)
    assert main(["embed", str(lc_table), "--kind", "lightcurve", "--model", "tiny",
                 "--out", str(tmp_path / "e.parquet")]) == 2
    err = capsys.readouterr().err
    assert "'obj3'" in err and "data rows 24-31" in err, err
    df["redshift"] = np.arange(len(df))  # not constant per object
    df.to_csv(lc_table, index=False)
    assert main(["embed", str(lc_table), "--kind", "lightcurve", "--model", "tiny", "--keep-columns", "redshift",
                 "--out", str(tmp_path / "e.parquet")]) == 2
    assert "'obj0'" in capsys.readouterr().err


def test_embed_unusable_spectrum_names_object_and_rows(fake_bundle, tmp_path, capsys):
    rows = []
    for i, (lo, hi) in enumerate([(3600, 9300), (1200, 3000), (4000, 9000)]):  # object s1 is UV only
        w = np.linspace(lo, hi, 50)
        rows.append(pd.DataFrame({"object_id": f"s{i}", "wavelength": w, "flux": 1 + 0.1 * np.sin(w / 300),
                                  "flux_err": 0.05}))
    pd.concat(rows).to_csv(tmp_path / "spec.csv", index=False)
    assert main(["embed", str(tmp_path / "spec.csv"), "--kind", "spectrum", "--model", "tiny",
                 "--out", str(tmp_path / "e.parquet")]) == 2
    err = capsys.readouterr().err
    assert "1 of 3 objects" in err and "'s1'" in err and "data rows 50-99" in err and "Traceback" not in err
    # --errors coerce: a NaN row for s1 only, and a warning with the reason
    assert main(["embed", str(tmp_path / "spec.csv"), "--kind", "spectrum", "--model", "tiny", "--errors", "coerce",
                 "--out", str(tmp_path / "e.parquet")]) == 0
    E, cat, _ = read_embeddings(tmp_path / "e.parquet")
    assert cat["object_id"].tolist() == ["s0", "s1", "s2"] and np.isfinite(E).all(axis=1).tolist() == [True, False, True]
    err = capsys.readouterr().err
    assert "1 of 3 objects could not be embedded" in err and "'s1'" in err and "data rows 50-99" in err


def test_train_missing_simulated_data_says_run_simulate_first(tmp_path, capsys):
    import json
    from pathlib import Path

    cfg = json.loads((Path(__file__).parents[1] / "configs" / "maven_pretrain_sim.json").read_text())
    cfg["data"]["kwargs"]["path"] = str(tmp_path / "no_sims_here")
    cfg["data"]["cache"] = None
    cfg["output_dir"] = str(tmp_path / "run")
    (tmp_path / "c.json").write_text(json.dumps(cfg))
    assert main(["train", "--config", str(tmp_path / "c.json")]) == 2
    err = capsys.readouterr().err
    assert "astroembed simulate" in err and "no_sims_here" in err


# -- embed: the table path (astroembed.table.embed_table in chunks) ------------------------------
@pytest.fixture
def lc_long(rng):
    """7 light curves of 5..23 observations, sorted by object, with a per-object column z."""
    rows = []
    for i in range(7):
        tab = make_lightcurve(rng, n=5 + 3 * i).to_table().to_pandas()
        tab["object_id"] = f"o{i}"
        tab["z"] = 0.1 * i
        rows.append(tab)
    return pd.concat(rows, ignore_index=True)


def _container_reference(df):
    from astroembed.data.io import lightcurves_from_table

    model = tiny_model()
    lcs = list(lightcurves_from_table(df, "object_id"))
    return dict(zip([lc.object_id for lc in lcs], model.embed_lightcurve(lcs)))


def test_embed_table_path_equals_container_path_csv_parquet_chunks(fake_bundle, lc_long, tmp_path, monkeypatch,
                                                                   capsys):
    import astroembed.table as table_mod

    ref = _container_reference(lc_long)
    seen = []
    real = table_mod.embed_table
    monkeypatch.setattr(table_mod, "embed_table", lambda tab, *a, **k: seen.append(len(tab)) or real(tab, *a, **k))
    lc_long.to_csv(tmp_path / "lc.csv", index=False)
    lc_long.to_parquet(tmp_path / "lc.parquet")
    lc_long.sample(frac=1.0, random_state=1).to_parquet(tmp_path / "shuffled.parquet")
    for name, extra in (("lc.csv", []), ("lc.parquet", ["--chunk-rows", "10"]),
                        ("shuffled.parquet", ["--chunk-rows", "10"])):
        out = tmp_path / f"{name}.emb.parquet"
        seen.clear()
        assert main(["embed", str(tmp_path / name), "--kind", "lightcurve", "--model", "tiny", "--keep-columns", "z",
                     "--out", str(out), *extra]) == 0
        E, cat, meta = read_embeddings(out)
        first_seen = pd.read_parquet(tmp_path / name) if name.endswith("parquet") else lc_long
        assert cat["object_id"].tolist() == first_seen["object_id"].drop_duplicates().tolist()  # first appearance
        np.testing.assert_allclose(E, np.stack([ref[o] for o in cat["object_id"]]), atol=1e-4)
        np.testing.assert_allclose(cat["z"], [0.1 * int(o[1:]) for o in cat["object_id"]])
        assert meta["model"] == "tiny" and meta["kind"] == "lightcurve"
        if extra:  # chunks of >= 10 rows that never cut an object: more than one, none holding everything
            assert len(seen) > 1 and sum(seen) == len(lc_long) and max(seen) < len(lc_long), seen
    assert "not contiguous" in capsys.readouterr().err  # the shuffled file was read into memory, with a note


def test_embed_sorted_parquet_is_streamed_not_read_whole(fake_bundle, lc_long, tmp_path, monkeypatch):
    import astroembed.cli._tables as T

    lc_long.to_parquet(tmp_path / "lc.parquet", row_group_size=16)
    monkeypatch.setattr(T, "read_table", lambda *a, **k: pytest.fail("the sorted Parquet input was read whole"))
    monkeypatch.setattr(pd, "read_parquet", lambda *a, **k: pytest.fail("the sorted Parquet input was read whole"))
    assert main(["embed", str(tmp_path / "lc.parquet"), "--kind", "lightcurve", "--model", "tiny", "--chunk-rows",
                 "16", "--out", str(tmp_path / "e.parquet")]) == 0
    E, cat, _ = read_embeddings(tmp_path / "e.parquet")
    assert len(cat) == 7 and np.isfinite(E).all()


def test_embed_errors_raise_names_global_rows_and_coerce_writes_nan(fake_bundle, lc_long, tmp_path, capsys):
    df = lc_long.copy()
    rows_o5 = np.flatnonzero(df["object_id"] == "o5")
    df.loc[rows_o5[2], "band"] = "nosuchband"
    df.to_parquet(tmp_path / "lc.parquet")
    args = ["embed", str(tmp_path / "lc.parquet"), "--kind", "lightcurve", "--model", "tiny", "--chunk-rows", "10"]
    assert main([*args, "--out", str(tmp_path / "e.parquet")]) == 2
    err = capsys.readouterr().err
    # rows counted in the whole file, not in the chunk; the bad row itself is named too
    assert "'o5'" in err and f"data rows {rows_o5[0]}-{rows_o5[-1]}" in err and f"data row {rows_o5[2]}" in err, err
    assert "Traceback" not in err and not (tmp_path / "e.parquet").exists()
    assert not list(tmp_path.glob(".e.parquet.partial*"))  # no half-written file left behind
    assert main([*args, "--errors", "coerce", "--out", str(tmp_path / "e.parquet")]) == 0
    E, cat, _ = read_embeddings(tmp_path / "e.parquet")
    bad = ~np.isfinite(E).all(axis=1)
    assert cat["object_id"][bad].tolist() == ["o5"]
    ref = _container_reference(lc_long[lc_long["object_id"] != "o5"])
    np.testing.assert_allclose(E[~bad], np.stack([ref[o] for o in cat["object_id"][~bad]]), atol=1e-4)
    err = capsys.readouterr().err
    assert "1 of 7 objects could not be embedded" in err and "'o5'" in err


def test_embed_spectra_one_row_per_spectrum_equals_containers(fake_bundle, rng, tmp_path):
    from .conftest import make_spectrum

    specs = [make_spectrum(rng, n=120 + 10 * i, object_id=f"s{i}") for i in range(4)]
    pd.DataFrame({"object_id": [s.object_id for s in specs], "wavelength": [s.wavelength for s in specs],
                  "flux": [s.flux for s in specs], "flux_err": [s.flux_err for s in specs],
                  "label": ["a", "b", "c", "d"]}).to_parquet(tmp_path / "spec.parquet")
    assert main(["embed", str(tmp_path / "spec.parquet"), "--kind", "spectrum", "--model", "tiny", "--chunk-rows", "3",
                 "--keep-columns", "label", "--out", str(tmp_path / "e.parquet")]) == 0
    E, cat, _ = read_embeddings(tmp_path / "e.parquet")
    assert cat["object_id"].tolist() == ["s0", "s1", "s2", "s3"] and cat["label"].tolist() == ["a", "b", "c", "d"]
    np.testing.assert_allclose(E, tiny_model().embed_spectrum(specs), atol=1e-4)


def test_embed_empty_table_and_missing_id_column_are_one_line(fake_bundle, lc_long, tmp_path, capsys):
    lc_long.iloc[:0].to_csv(tmp_path / "empty.csv", index=False)
    assert main(["embed", str(tmp_path / "empty.csv"), "--kind", "lightcurve", "--model", "tiny",
                 "--out", str(tmp_path / "e.parquet")]) == 2
    err = capsys.readouterr().err
    assert "empty.csv" in err and "empty" in err and "Traceback" not in err
    lc_long.to_parquet(tmp_path / "lc.parquet")
    assert main(["embed", str(tmp_path / "lc.parquet"), "--kind", "lightcurve", "--model", "tiny", "--id-column",
                 "ztfid", "--out", str(tmp_path / "e.parquet")]) == 2
    err = capsys.readouterr().err
    assert "lc.parquet" in err and "'ztfid'" in err and "Traceback" not in err


# -- classify: any model with predict_proba (a tiny fake family registered for the test) ---------------
import torch  # noqa: E402


class FakeClassifier(torch.nn.Module):
    """A family with predict_proba only: probabilities from (points, log mean flux, host_absmag, has spectrum)."""

    model_type = "fake-classifier"

    def __init__(self, classes=("Ia", "II", "Ibc")):
        super().__init__()
        self.config = {"classes": list(classes)}
        self.head = torch.nn.Linear(4, len(classes))
        self.received = None

    @property
    def classes(self):
        return tuple(self.config["classes"])

    def predict_proba(self, lightcurves, metadata=None, spectra=None):
        n = len(lightcurves)
        self.received = {"lightcurves": lightcurves, "metadata": metadata, "spectra": spectra}
        x = np.zeros((n, 4), np.float32)
        for i, lc in enumerate(lightcurves):
            if len(lc) < 2:
                raise ValueError(f"lightcurves[{i}]: needs at least 2 points, got {len(lc)}")
            m = (metadata or [None] * n)[i] or {}
            unknown = set(m) - {"host_absmag", "host_color"}
            if unknown:
                raise ValueError(f"metadata[{i}]: unknown key(s) {sorted(unknown)}")
            x[i] = [len(lc) / 10, np.log10(np.abs(lc.flux).mean()), (m.get("host_absmag") or 0.0) / 10,
                    float(spectra is not None and spectra[i] is not None)]
        with torch.no_grad():
            p = torch.softmax(self.head(torch.from_numpy(x)), -1).numpy()
        return pd.DataFrame(p, columns=list(self.classes),
                            index=pd.Index([lc.object_id for lc in lightcurves], name="object_id"))

    def save_pretrained(self, directory, extra_metadata=None):
        from pathlib import Path

        from astroembed.models.persistence import save_weights, write_config_file

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        save_weights(self, d / "model.safetensors", "fake")
        write_config_file(d / "config.json", self.model_type, self.config, extra_metadata)
        return d

    @classmethod
    def from_pretrained(cls, directory, *, device="cpu"):
        from pathlib import Path

        from astroembed.models.persistence import load_weights, read_config_file

        model = cls(tuple(read_config_file(Path(directory) / "config.json", cls.model_type)["classes"]))
        load_weights(model, Path(directory) / "model.safetensors", "fake")
        return model.eval()


@pytest.fixture
def fake_classifier(fake_bundle, monkeypatch):
    """'fakecls' registered and bundled beside 'tiny' (a Maven model without predict_proba)."""
    from astroembed.models import registry as reg
    from astroembed.models.base import MODEL_TYPES

    monkeypatch.setitem(MODEL_TYPES, FakeClassifier.model_type, f"{__name__}:FakeClassifier")
    torch.manual_seed(0)
    FakeClassifier().save_pretrained(fake_bundle / "fakecls")
    reg.write_registry_entry("fakecls", "test classifier", weights_root=fake_bundle)
    return FakeClassifier.from_pretrained(fake_bundle / "fakecls")


@pytest.fixture
def classify_inputs(lc_long, rng, tmp_path):
    from .conftest import make_spectrum

    lc_long.drop(columns="z").to_parquet(tmp_path / "lc.parquet")
    meta = pd.DataFrame({"object_id": ["o3", "o0", "o1", "o5"], "host_absmag": [-21.0, -19.5, np.nan, -18.0],
                         "host_color": [0.5, 0.9, 0.7, 1.1], "type": ["Ia", "II", "Ia", "Ibc"]})
    meta.to_csv(tmp_path / "meta.csv", index=False)
    specs = {o: make_spectrum(rng, n=100) for o in ("o2", "o4")}
    pd.DataFrame({"object_id": list(specs), "wavelength": [s.wavelength for s in specs.values()],
                  "flux": [s.flux for s in specs.values()], "redshift": [0.05, 0.1]}).to_parquet(tmp_path / "spec.parquet")
    return tmp_path


def test_classify_writes_probabilities_equal_to_predict_proba(fake_classifier, lc_long, classify_inputs, monkeypatch):
    import astroembed.models.pretrained as pretrained
    from astroembed.data.io import lightcurves_from_table

    d = classify_inputs
    loaded = []
    real = pretrained.load_pretrained
    monkeypatch.setattr(pretrained, "load_pretrained", lambda *a, **k: loaded.append(real(*a, **k)) or loaded[-1])
    for out in ("p.csv", "p.parquet"):
        assert main(["classify", str(d / "lc.parquet"), "--model", "fakecls", "--metadata", str(d / "meta.csv"),
                     "--spectra", str(d / "spec.parquet"), "--out", str(d / out)]) == 0
    got = pd.read_parquet(d / "p.parquet")
    pd.testing.assert_frame_equal(got, pd.read_csv(d / "p.csv"), check_dtype=False)
    assert list(got.columns) == ["object_id", "Ia", "II", "Ibc", "predicted_class"]
    assert got["object_id"].tolist() == [f"o{i}" for i in range(7)]
    # what the model received: metadata rows aligned by id (default columns present; 'type' not passed), None
    # for objects without a row; spectra aligned by id with their redshift
    rec = loaded[-1].received
    assert rec["metadata"][3] == {"host_absmag": -21.0, "host_color": 0.5} and rec["metadata"][2] is None
    assert rec["metadata"][1]["host_absmag"] is None  # a missing value stays missing
    assert [s is not None for s in rec["spectra"]] == [False, False, True, False, True, False, False]
    assert rec["spectra"][4].redshift == pytest.approx(0.1)
    lcs = list(lightcurves_from_table(lc_long, "object_id"))
    ref = fake_classifier.predict_proba(lcs, metadata=rec["metadata"], spectra=rec["spectra"])
    np.testing.assert_allclose(got[["Ia", "II", "Ibc"]], ref.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(got[["Ia", "II", "Ibc"]].sum(axis=1), 1.0, atol=1e-6)
    assert got["predicted_class"].tolist() == ref.idxmax(axis=1).tolist()
    # --horizon-days: only observations up to first detection + D days reach the model
    assert main(["classify", str(d / "lc.parquet"), "--model", "fakecls", "--horizon-days", "20",
                 "--out", str(d / "h.csv")]) == 0
    short = loaded[-1].received["lightcurves"]
    for lc, full in zip(short, lcs):
        assert lc.time.max() <= full.time.min() + 20 and len(lc) == int((full.time <= full.time.min() + 20).sum())


def test_classify_with_a_model_without_predict_proba_names_the_classifiers(fake_classifier, classify_inputs,
                                                                           capsys):
    d = classify_inputs
    assert main(["classify", str(d / "lc.parquet"), "--model", "tiny", "--out", str(d / "p.csv")]) == 2
    err = capsys.readouterr().err
    assert "MavenModel" in err and "no predict_proba" in err and "'fakecls'" in err and "'tiny'" not in err.split(
        "classify:")[-1], err
    assert "Traceback" not in err and not (d / "p.csv").exists()


@pytest.mark.parametrize("case, expect", [
    ("unknown_meta_id", ["meta.csv", "'o9'", "'object_id'", "--allow-extra-rows"]),
    ("missing_meta_column", ["meta.csv", "['redshift']", "--metadata-columns"]),
    ("duplicate_meta_id", ["meta.csv", "'o1'", "2 metadata rows"]),
    ("empty_lightcurves", ["empty.csv", "empty"]),
    ("missing_id_column", ["lc.parquet", "'ztfid'"]),
    ("bad_band", ["lc.parquet", "'o4'", "data row"]),
    ("one_point", ["lc.parquet", "'o6'", "at least 2 points"]),
    ("model_rejects_metadata", ["meta.csv", "'o0'", "unknown key"]),
    ("two_spectra", ["spec.parquet", "'o2'", "2 spectra"]),
])
def test_classify_bad_input_is_one_line_naming_file_column_and_object(fake_classifier, lc_long, classify_inputs,
                                                                       case, expect, capsys):
    d = classify_inputs
    lc, extra = d / "lc.parquet", []
    meta = pd.read_csv(d / "meta.csv")
    if case == "unknown_meta_id":
        pd.concat([meta, pd.DataFrame({"object_id": ["o9"], "host_absmag": [-20.0]})]).to_csv(d / "meta.csv")
        extra = ["--metadata", str(d / "meta.csv")]
    elif case == "missing_meta_column":
        extra = ["--metadata", str(d / "meta.csv"), "--metadata-columns", "host_absmag,redshift"]
    elif case == "duplicate_meta_id":
        pd.concat([meta, meta.iloc[[2]]]).to_csv(d / "meta.csv", index=False)
        extra = ["--metadata", str(d / "meta.csv")]
    elif case == "empty_lightcurves":
        lc = d / "empty.csv"
        lc_long.iloc[:0].to_csv(lc, index=False)
    elif case == "missing_id_column":
        extra = ["--id-column", "ztfid"]
    elif case == "bad_band":
        df = lc_long.copy()
        df.loc[np.flatnonzero(df["object_id"] == "o4")[1], "band"] = "nosuchband"
        df.to_parquet(lc)
    elif case == "one_point":
        df = lc_long[(lc_long["object_id"] != "o6") | ~lc_long["object_id"].duplicated()]
        df.to_parquet(lc)
    elif case == "model_rejects_metadata":
        extra = ["--metadata", str(d / "meta.csv"), "--metadata-columns", "host_absmag,type"]
    elif case == "two_spectra":
        s = pd.read_parquet(d / "spec.parquet")
        pd.concat([s, s.iloc[[0]]]).to_parquet(d / "spec.parquet")
        extra = ["--spectra", str(d / "spec.parquet")]
    assert main(["classify", str(lc), "--model", "fakecls", *extra, "--out", str(d / "p.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for text in expect:
        assert text in err, (text, err)


def test_classify_errors_coerce_gives_nan_rows_only_for_rejected_objects(fake_classifier, lc_long, classify_inputs,
                                                                         capsys):
    from astroembed.data.io import lightcurves_from_table

    d = classify_inputs
    df = lc_long[(lc_long["object_id"] != "o6") | ~lc_long["object_id"].duplicated()]  # o6: one point
    df.to_parquet(d / "lc.parquet")
    assert main(["classify", str(d / "lc.parquet"), "--model", "fakecls", "--errors", "coerce",
                 "--out", str(d / "p.parquet")]) == 0
    got = pd.read_parquet(d / "p.parquet")
    assert got["object_id"].tolist() == [f"o{i}" for i in range(7)]
    assert got.loc[6, ["Ia", "II", "Ibc"]].isna().all() and pd.isna(got.loc[6, "predicted_class"])
    ref = fake_classifier.predict_proba(list(lightcurves_from_table(df[df["object_id"] != "o6"], "object_id")))
    np.testing.assert_allclose(got.loc[:5, ["Ia", "II", "Ibc"]], ref.to_numpy(), atol=1e-6)
    err = capsys.readouterr().err
    assert "1 of 7 objects could not be classified" in err and "'o6'" in err


def test_classify_spectra_in_long_format_are_grouped_per_object(fake_classifier, classify_inputs, monkeypatch):
    import astroembed.models.pretrained as pretrained

    d = classify_inputs
    s = pd.read_parquet(d / "spec.parquet")
    long = pd.concat([pd.DataFrame({"object_id": o, "wave": w, "flux": f, "z": z})
                      for o, w, f, z in zip(s["object_id"], s["wavelength"], s["flux"], s["redshift"])])
    long.to_csv(d / "spec_long.csv", index=False)
    loaded = []
    real = pretrained.load_pretrained
    monkeypatch.setattr(pretrained, "load_pretrained", lambda *a, **k: loaded.append(real(*a, **k)) or loaded[-1])
    assert main(["classify", str(d / "lc.parquet"), "--model", "fakecls", "--spectra", str(d / "spec_long.csv"),
                 "--out", str(d / "p.csv")]) == 0
    got = loaded[-1].received["spectra"]
    assert [x is not None for x in got] == [False, False, True, False, True, False, False]
    np.testing.assert_allclose(got[2].wavelength, s["wavelength"][0])
    assert got[2].redshift == pytest.approx(0.05) and got[4].redshift == pytest.approx(0.1)
