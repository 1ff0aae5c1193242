"""tools/train_simfm.py: where each survey's simulated set is read from (the optional ``data.dirs`` key)."""

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("train_simfm", Path(__file__).parents[1] / "tools" / "train_simfm.py")
train_simfm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(train_simfm)


def _set_dir(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "manifest.json").write_text("{}")
    return path


def _data(root, **kw):
    return {"root": str(root), "surveys": ["ztf", "lsst"], "held_out_classes": [], "max_per_survey": 0, **kw}


def test_default_is_root_survey_train(tmp_path):
    _set_dir(tmp_path / "ztf_train"), _set_dir(tmp_path / "lsst_train")
    assert train_simfm.survey_dirs(_data(tmp_path)) == {"ztf": tmp_path / "ztf_train", "lsst": tmp_path / "lsst_train"}


def test_dirs_override_one_survey(tmp_path):
    _set_dir(tmp_path / "lsst_train")
    big = _set_dir(tmp_path / "elsewhere" / "ztf100k")
    got = train_simfm.survey_dirs(_data(tmp_path, dirs={"ztf": str(big)}))
    assert got == {"ztf": big, "lsst": tmp_path / "lsst_train"}


def test_dirs_errors_name_the_field(tmp_path):
    _set_dir(tmp_path / "ztf_train"), _set_dir(tmp_path / "lsst_train")
    with pytest.raises(SystemExit, match=r"data.dirs names surveys \['panstarrs'\]"):
        train_simfm.survey_dirs(_data(tmp_path, dirs={"panstarrs": str(tmp_path)}))
    with pytest.raises(SystemExit, match=r"survey 'ztf'.*set data.dirs.ztf"):
        train_simfm.survey_dirs(_data(tmp_path, dirs={"ztf": str(tmp_path / "missing")}))
    with pytest.raises(SystemExit, match="mapping"):
        train_simfm.survey_dirs(_data(tmp_path, dirs=["ztf"]))


def test_config_keys_checked(tmp_path, capsys):
    import json
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"model": {}, "train": {}, "data": {**_data(tmp_path), "bogus": 1}}))
    with pytest.raises(SystemExit, match="optional: \\['dirs', 'pairs'\\]"):
        train_simfm.main([str(cfg), "--out", str(tmp_path / "o")])
