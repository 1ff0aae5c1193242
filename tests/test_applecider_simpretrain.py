"""AppleCiDEr simulation pre-training: the sim loader, ``init_from`` (photometry tower + embedding head
copied, the rest fresh, mismatches refused), the shipped train configs, the pre-training tool's holdout."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from astroembed.errors import ConfigError
from astroembed.models.applecider import config as C
from astroembed.models.applecider.model import AppleCiderModel
from astroembed.models.applecider.sim_data import SIM_CLASS_MERGE, load_sim_lightcurves
from astroembed.models.applecider.training import init_photometry_from, train_applecider

ROOT = Path(__file__).resolve().parents[1]


def tiny(classes=C.DEFAULT_CLASSES, d_model=16, metadata=True):
    return C.AppleCiderConfig(
        classes=classes, embed_dim=8, spectrum=None,
        photometry=C.PhotometryConfig(d_model=d_model, n_layers=1, n_heads=2, ff_dim=16, time2vec_dim=4, max_length=16),
        metadata=C.MetadataConfig(hidden_dim=4) if metadata else None, fusion=C.FusionConfig(n_experts=2, hidden_dim=8))


def write_sim(root: Path, classes=("Ia", "II", "SLSN-I", "IIn")):
    """A two-shard fake `astroembed simulate` output: 3 detections + 1 non-detection per event."""
    r = np.random.default_rng(0)
    k = 0
    for s in range(2):
        truth, phot = [], []
        for c in classes:
            oid = f"ev{k}"
            k += 1
            truth.append({"object_id": oid, "class": c})
            for j, det in enumerate([False, True, True, True]):
                phot.append({"object_id": oid, "mjd": 59000.0 + 3 * j, "band": "ztfg" if j % 2 else "ztfr",
                             "flux": 50.0 + r.random() if det else 2.0, "flux_err": 5.0, "detected": det})
        for sub, rows in (("truth", truth), ("lightcurves", phot)):
            (root / sub).mkdir(parents=True, exist_ok=True)
            pd.DataFrame(rows).to_parquet(root / sub / f"part-{s:05d}.parquet")


def test_sim_loader_maps_classes_keeps_detections_filters(tmp_path):
    write_sim(tmp_path)
    lcs, y = load_sim_lightcurves(tmp_path)
    assert y == [SIM_CLASS_MERGE[c] for c in ("Ia", "II", "SLSN-I", "IIn")] * 2
    assert [lc.object_id for lc in lcs] == [f"ev{i}" for i in range(8)]
    assert all(len(lc) == 3 and (lc.flux > 40).all() for lc in lcs)        # the non-detection is dropped
    lcs, y = load_sim_lightcurves(tmp_path, classes=("SN Ia", "SN IIn"), n_max=3)
    assert y == ["SN Ia", "SN IIn", "SN Ia"]


def test_sim_loader_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="truth/ and lightcurves/"):
        load_sim_lightcurves(tmp_path)
    write_sim(tmp_path, classes=("Ia", "Quasar"))
    with pytest.raises(ValueError, match="Quasar"):
        load_sim_lightcurves(tmp_path)


def test_init_from_copies_photometry_and_embed_head_only(tmp_path):
    torch.manual_seed(0)
    src = AppleCiderModel(tiny(classes=("SN Ia", "SN II", "SLSN-I"), metadata=False))
    src.save_pretrained(tmp_path / "src")
    torch.manual_seed(1)
    dst = AppleCiderModel(tiny())
    fusion_before = {k: v.clone() for k, v in dst.fusion.state_dict().items()}
    assert not torch.equal(dst.photometry.proj.weight, src.photometry.proj.weight)
    init_photometry_from(dst, tmp_path / "src")
    for part in ("photometry", "embed_head"):
        a, b = getattr(src, part).state_dict(), getattr(dst, part).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a)
    assert all(torch.equal(v, dst.fusion.state_dict()[k]) for k, v in fusion_before.items())


def test_init_from_mismatch_names_the_field(tmp_path):
    AppleCiderModel(tiny(d_model=8)).save_pretrained(tmp_path / "small")
    with pytest.raises(ConfigError, match="init_from"):
        init_photometry_from(AppleCiderModel(tiny()), tmp_path / "small")
    with pytest.raises(ConfigError, match="init_from"):
        C.AppleCiderTrainConfig(model=tiny(), init_from="")


def test_train_with_init_from_starts_from_the_source(tmp_path):
    """With lr ~ 0 the trained photometry tower must still equal the source's (init was applied)."""
    torch.manual_seed(5)                 # train_applecider seeds 0: a fresh model would differ
    src = AppleCiderModel(tiny(classes=("SN Ia", "SLSN-I"), metadata=False))
    src.save_pretrained(tmp_path / "src")
    write_sim(tmp_path / "sim")
    lcs, y = load_sim_lightcurves(tmp_path / "sim", classes=("SN Ia", "SN II"))
    cfg = C.AppleCiderTrainConfig(model=tiny(), pretrain_epochs=0, epochs=1, batch_size=4, lr=1e-12,
                                  max_minutes=1.0, init_from=str(tmp_path / "src"))
    m, hist = train_applecider(cfg, lcs, y, None, log=lambda s: None)
    assert hist["init_from"] == str(tmp_path / "src")
    torch.testing.assert_close(m.photometry.proj.weight, src.photometry.proj.weight, atol=1e-6, rtol=0)
    m2, _ = train_applecider(cfg.replace(init_from=None), lcs, y, None, log=lambda s: None)
    assert not torch.allclose(m2.photometry.proj.weight, src.photometry.proj.weight, atol=1e-3)


@pytest.mark.parametrize("path", sorted((ROOT / "configs").glob("applecider_*.json")), ids=lambda p: p.name)
def test_shipped_train_configs_load(path):
    cfg = C.AppleCiderTrainConfig.from_dict(json.loads(path.read_text()))
    if path.name in ("applecider_crossfit_sim.json", "applecider_release_sim.json"):
        sim = C.AppleCiderTrainConfig.from_dict(json.loads((ROOT / "configs/applecider_simpretrain.json").read_text()))
        assert cfg.init_from and sim.model.photometry == cfg.model.photometry
        assert sim.model.embed_dim == cfg.model.embed_dim


def test_holdout_scores_counts_usable_objects(tmp_path):
    spec = importlib.util.spec_from_file_location("pretrain_sim", ROOT / "tools/pretrain_applecider_sim.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    write_sim(tmp_path)
    lcs, y = load_sim_lightcurves(tmp_path)
    model = AppleCiderModel(tiny(classes=("SN Ia", "SN II", "SN IIn", "SLSN-I"), metadata=False))
    s = mod.holdout_scores(model, lcs, y, horizons=(2, 5))
    assert s["2"] == {"n": 0}           # detections 3 d apart: one point within 2 d of the first -> unusable
    assert s["5"]["n"] == 8 and s["5"]["accuracy"] in (0.0, 0.25, 0.5, 0.75, 1.0)


def test_eval_embed_sources_label_equals_dir():
    spec = importlib.util.spec_from_file_location("eval_ac", ROOT / "benchmarks/eval_applecider.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.embed_sources(["maven-sim", "ac-sim=runs/x/applecider"]) == {"maven-sim": "maven-sim",
                                                                           "ac-sim": "runs/x/applecider"}
    for bad in (["=runs/x"], ["a="], ["maven", "maven"]):
        with pytest.raises(ValueError, match="embed-models"):
            mod.embed_sources(bad)


def test_pretrain_tool_end_to_end_and_score_only(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("pretrain_sim2", ROOT / "tools/pretrain_applecider_sim.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    write_sim(tmp_path / "sim")
    write_sim(tmp_path / "ho", classes=("II", "Ia"))
    cfg = C.AppleCiderTrainConfig(model=tiny(classes=("SN Ia", "SN II", "SN IIn", "SLSN-I"), metadata=False),
                                  pretrain_epochs=0, epochs=1, batch_size=4)
    (tmp_path / "cfg.json").write_text(json.dumps(cfg.to_dict()))
    common = ["--config", str(tmp_path / "cfg.json"), "--sim-dir", str(tmp_path / "sim"), "--out", str(tmp_path / "o"),
              "--holdout-dir", str(tmp_path / "ho"), "--n-holdout", "3", "--minutes", "1"]
    mod.main(common)
    saved = json.loads((tmp_path / "o/applecider/config.json").read_text())["metadata"]
    assert saved["epochs_done"] == 1 and "no real object" in saved["trained_on"]
    assert json.loads((tmp_path / "o/sim_holdout.json").read_text())["holdout"]["5"]["n"] == 3
    capsys.readouterr()
    mod.main(common + ["--score-only"])
    assert '"5": {"n": 3' in capsys.readouterr().out


def test_paired_per_fold_auroc_perfect_and_inverted():
    spec = importlib.util.spec_from_file_location("ac_paired", ROOT / "benchmarks/applecider_paired.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    classes = ["A", "B"]
    rows = []
    for k in range(2):
        for i, lab in enumerate(["A", "B", "A", "B"]):
            good = 0.9 if lab == "A" else 0.1
            for meth, pa in (("good", good), ("bad", 1 - good)):
                rows.append({"horizon": 5, "method": meth, "fold": k, "object_id": f"{k}-{i}", "label": lab,
                             "A": pa, "B": 1 - pa})
    t = mod.per_fold_auroc(pd.DataFrame(rows), classes)
    np.testing.assert_allclose(t.loc[(5, "good")].to_numpy(), [1.0, 1.0])
    np.testing.assert_allclose(t.loc[(5, "bad")].to_numpy(), [0.0, 0.0])


def test_train_config_from_file_overrides_and_names_the_file(tmp_path):
    import json

    from astroembed.errors import ConfigError
    from astroembed.models.applecider.config import AppleCiderTrainConfig

    p = tmp_path / "c.json"
    doc = AppleCiderTrainConfig(epochs=7, max_minutes=2.0).to_dict()
    p.write_text(json.dumps(doc))
    c = AppleCiderTrainConfig.from_file(p, max_minutes=5.0, epochs=None)
    assert (c.epochs, c.max_minutes) == (7, 5.0)
    p.write_text(json.dumps(doc | {"epochz": 7}))
    with pytest.raises(ConfigError, match="c.json"):
        AppleCiderTrainConfig.from_file(p)
