"""Transceiver ``finetune_overrides``: training-only model settings replaced on a pre-trained model before
fine-tuning (tools/train_transceiver.py, benchmarks/eval_transceiver.py --part osc).  Tiny models; fast."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from astroembed.errors import ConfigError
from astroembed.models.transceiver import TransceiverModel
from astroembed.models.transceiver.training import (
    TRAINING_ONLY_KEYS,
    _grid_of,
    apply_training_overrides,
    prepare_pairs,
)

from .test_transceiver import lcs_and_specs, model_of, tiny_config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from train_transceiver import load_config  # noqa: E402


def test_empty_or_absent_overrides_change_nothing():
    for ov in (None, {}):
        m = model_of()
        cfg, sd = m.config, {k: v.clone() for k, v in m.state_dict().items()}
        assert apply_training_overrides(m, ov) is m
        assert m.config is cfg                                   # the very same object: old behaviour exactly
        assert all(torch.equal(sd[k], v) for k, v in m.state_dict().items())


def test_override_replaces_only_the_given_keys_and_keeps_weights():
    m = model_of(tiny_config(contrastive_weight=0.5, free_bits=0.25))
    before = m.config
    sd = {k: v.clone() for k, v in m.state_dict().items()}
    apply_training_overrides(m, {"contrastive_weight": 4.0, "beta": 0.2})
    assert m.config.contrastive_weight == 4.0 and m.config.beta == 0.2
    assert m.config == before.replace(contrastive_weight=4.0, beta=0.2)   # nothing else moved
    assert all(torch.equal(sd[k], v) for k, v in m.state_dict().items())


def test_the_objective_reads_the_overridden_weight(rng):
    """The loss of the overridden model differs from the original by exactly Δw × InfoNCE (same noise)."""
    cfg = tiny_config(contrastive_weight=0.5)
    lcs, specs = lcs_and_specs(rng)
    arr, _ = prepare_pairs(lcs, specs, cfg)
    arr._grid = _grid_of(cfg)
    lc, sp, ph = arr.batch(np.arange(len(arr)))
    out = []
    for ov in ({}, {"contrastive_weight": 4.0}):
        m = model_of(cfg)
        apply_training_overrides(m, ov)
        m.train()
        torch.manual_seed(0)
        loss, stats = m.loss(lc, sp, ph)
        out.append((float(loss.detach()), stats))
    (l0, s0), (l1, s1) = out
    assert s1["infonce"] == pytest.approx(s0["infonce"], rel=1e-6) and s1["infonce"] > 0
    assert l1 - l0 == pytest.approx(3.5 * s1["infonce"], rel=1e-4)


@pytest.mark.parametrize("ov,match", [
    ({"latent_dim": 8}, "latent_dim"),                    # changes shapes
    ({"d_model": 32}, "d_model"),
    ({"dropout": 0.1}, "dropout"),                        # baked into modules at construction
    ({"phase_range": [-10, 50]}, "phase_range"),          # generation check, not training
    ({"contrastive_wieght": 4.0}, "contrastive_wieght"),  # typo: named, not ignored
    ({"contrastive_weight": -1.0}, "contrastive_weight"),  # validated by the config
    ({"contrastive_temperature": 0.0}, "contrastive_temperature"),
    ({"iwae_samples": 2.5}, "iwae_samples"),
    ({"beta": True}, "beta"),
])
def test_bad_overrides_are_refused_naming_the_key(ov, match):
    m = model_of()
    cfg = m.config
    with pytest.raises(ConfigError, match=match):
        apply_training_overrides(m, ov)
    assert m.config is cfg                                # nothing half-applied


def test_non_mapping_refused():
    with pytest.raises(ConfigError, match="finetune_overrides"):
        apply_training_overrides(model_of(), [("contrastive_weight", 4.0)])


def test_every_training_only_key_is_accepted_and_kept_through_save(tmp_path):
    values = {"beta": 0.3, "free_bits": 0.1, "contrastive_weight": 2.0, "contrastive_temperature": 0.2,
              "lc_likelihood_weight": 1.0, "iwae_samples": 3, "obs_dropout_max": 0.5, "min_obs": 2,
              "phase_dropout": 0.1}
    assert set(values) == set(TRAINING_ONLY_KEYS)
    m = apply_training_overrides(model_of(), values)
    assert all(getattr(m.config, k) == v for k, v in values.items())
    m.save_pretrained(tmp_path / "m")
    assert TransceiverModel.from_pretrained(tmp_path / "m").config == m.config


def test_load_config_optional_key(tmp_path):
    old = json.loads((ROOT / "configs" / "transceiver_osc.json").read_text())
    assert "finetune_overrides" not in old
    assert load_config(ROOT / "configs" / "transceiver_osc.json")["finetune_overrides"] == {}
    for p in sorted((ROOT / "configs").glob("transceiver_*.json")):   # every shipped config still loads
        doc = load_config(p)
        if doc["finetune_overrides"]:
            apply_training_overrides(model_of(), doc["finetune_overrides"])
    bad = dict(old, finetune_overrides=[1])
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(ConfigError, match="finetune_overrides"):
        load_config(tmp_path / "bad.json")
    (tmp_path / "typo.json").write_text(json.dumps(dict(old, finetune_override={})))
    with pytest.raises(ConfigError, match="finetune_override"):
        load_config(tmp_path / "typo.json")
