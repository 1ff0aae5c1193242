"""Transceiver latent-usage terms: free bits (KL floor), the paired InfoNCE alignment, their config keys,
and loading configs written before those keys existed.  Tiny tensors / models; fast."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from astroembed.errors import ConfigError
from astroembed.models.transceiver import TransceiverConfig, TransceiverModel
from astroembed.models.transceiver.config import LEGACY_DEFAULTS, config_sha256
from astroembed.models.transceiver.objective import (
    free_bits_penalty,
    laplace_kl,
    laplace_logpdf,
    laplace_sample,
    paired_infonce,
    same_object,
)
from astroembed.models.transceiver.training import _grid_of, prepare_pairs

from .test_transceiver import lcs_and_specs, model_of, tiny_config


def test_laplace_kl_matches_monte_carlo_and_is_zero_at_prior():
    torch.manual_seed(0)
    loc, scale = torch.tensor([0.0, 0.7, -1.5]), torch.tensor([1.0, 0.3, 2.0])
    z = laplace_sample(loc, scale, 200_000)
    mc = (laplace_logpdf(z, loc, scale) - laplace_logpdf(z, torch.zeros(()), torch.tensor(1.0))).mean(0)
    kl = laplace_kl(loc, scale, 1.0)
    assert kl[0] == pytest.approx(0.0, abs=1e-6)
    assert torch.allclose(kl, mc, atol=0.02), (kl, mc)


def test_free_bits_floor_only_acts_below_the_floor():
    collapsed = (torch.zeros(8, 4), torch.ones(8, 4))                       # KL = 0 in every dimension
    informative = (3.0 * torch.randn(8, 4), torch.full((8, 4), 0.1))        # KL >> 1 nat
    assert float(free_bits_penalty([collapsed], 1.0, 0.0)) == 0.0
    assert float(free_bits_penalty([collapsed], 1.0, 0.25)) == pytest.approx(4 * 0.25)
    assert float(free_bits_penalty([informative], 1.0, 0.25)) == 0.0
    # below the floor its gradient pushes the KL up (loc away from 0, scale down)
    loc = torch.full((8, 4), 0.05, requires_grad=True)
    scale = torch.full((8, 4), 0.9, requires_grad=True)
    free_bits_penalty([(loc, scale)], 1.0, 0.5).backward()
    assert (loc.grad < 0).all() and (scale.grad > 0).all()


def test_infonce_lower_when_paired_latents_align():
    torch.manual_seed(0)
    a = torch.randn(16, 8)
    aligned = paired_infonce(a, a + 0.05 * torch.randn(16, 8), 0.1)
    shuffled = paired_infonce(a, a[torch.randperm(16)], 0.1)
    random = paired_infonce(a, torch.randn(16, 8), 0.1)
    assert aligned < 0.1 < np.log(16) / 2 < random and aligned < shuffled
    # same-object positives: two identical rows are not each other's negatives
    b = a.clone()
    b[1] = b[0]
    a2 = a.clone()
    a2[1] = a2[0]
    pos = torch.zeros(16, 16, dtype=torch.bool)
    pos[0, 1] = pos[1, 0] = True
    assert paired_infonce(a2, b, 0.1, pos) < paired_infonce(a2, b, 0.1) - 0.05


def test_same_object_finds_repeated_light_curves(rng):
    cfg = tiny_config()
    lcs, specs = lcs_and_specs(rng)
    arr, _ = prepare_pairs([lcs[0], lcs[1], lcs[0]], [specs[0], specs[1], specs[2]], cfg)
    arr._grid = _grid_of(cfg)
    lc, _, _ = arr.batch(np.arange(3))
    s = same_object(lc).numpy()
    assert s.tolist() == [[True, False, True], [False, True, False], [True, False, True]]


def _loss_and_stats(cfg, rng, seed=0):
    lcs, specs = lcs_and_specs(rng)
    arr, _ = prepare_pairs(lcs, specs, cfg)
    arr._grid = _grid_of(cfg)
    lc, sp, ph = arr.batch(np.arange(len(arr)))
    m = model_of(cfg)
    m.train()
    torch.manual_seed(seed)
    return m.loss(lc, sp, ph)


@pytest.mark.parametrize("field,value,stat", [("free_bits", 0.5, "free_bits_penalty"),
                                              ("contrastive_weight", 0.3, "infonce")])
def test_new_keys_change_the_loss_by_their_term(field, value, stat, rng):
    base = tiny_config()
    l0, s0 = _loss_and_stats(base, np.random.default_rng(1))
    l1, s1 = _loss_and_stats(dataclasses.replace(base, **{field: value}), np.random.default_rng(1))
    assert stat not in s0 and stat in s1 and s1[stat] > 0
    assert s1["bound_loss"] == pytest.approx(s0["bound_loss"], rel=1e-6)   # same bound, same noise
    scale = value if field == "contrastive_weight" else 0.5 * 1 / 32         # beta / n_bins for free bits
    assert float(l1.detach()) - float(l0.detach()) == pytest.approx(scale * s1[stat], rel=1e-4, abs=1e-7)


def test_contrastive_temperature_is_used(rng):
    base = tiny_config(contrastive_weight=1.0)
    _, s0 = _loss_and_stats(base, np.random.default_rng(1))
    _, s1 = _loss_and_stats(dataclasses.replace(base, contrastive_temperature=1.0), np.random.default_rng(1))
    assert abs(s0["infonce"] - s1["infonce"]) > 1e-4


def test_config_without_new_keys_loads_with_legacy_values_and_same_hash(rng, tmp_path):
    cfg = tiny_config()
    d = cfg.to_dict()
    assert not set(LEGACY_DEFAULTS) & set(d)            # legacy-valued: written exactly as before the keys existed
    old = TransceiverConfig.from_dict(d)
    assert all(getattr(old, k) == v for k, v in LEGACY_DEFAULTS.items()) and old == cfg
    new = tiny_config(contrastive_weight=0.2, free_bits=0.1)
    nd = new.to_dict()
    assert {k: nd[k] for k in LEGACY_DEFAULTS} == {"free_bits": 0.1, "contrastive_weight": 0.2,
                                                   "contrastive_temperature": 0.1}
    assert TransceiverConfig.from_dict(nd) == new and config_sha256(new) != config_sha256(cfg)
    with pytest.raises(ConfigError, match="contrastive_temperature"):
        tiny_config(contrastive_temperature=0.0)
    with pytest.raises(ConfigError, match="free_bits"):
        tiny_config(free_bits=-1.0)
    # a model directory written with an old-style config.json (no new keys) loads, and so does a new one
    lcs, _ = lcs_and_specs(rng)
    for c in (cfg, new):
        m = model_of(c)
        m.save_pretrained(tmp_path / str(c.contrastive_weight))
        doc = json.loads((tmp_path / str(c.contrastive_weight) / "config.json").read_text())
        assert ("contrastive_weight" in doc["config"]) == (c is new)
        m2 = TransceiverModel.from_pretrained(tmp_path / str(c.contrastive_weight))
        assert m2.config == c
        assert np.allclose(m2.embed_lightcurve(lcs), m.embed_lightcurve(lcs), atol=1e-6)


def test_embeddings_are_normalised_posterior_means_of_the_right_expert(rng):
    m = model_of()
    lcs, specs = lcs_and_specs(rng)
    e_lc, e_sp = m.embed_lightcurve(lcs, normalize=False), m.embed_spectrum(specs, phase=3.0, normalize=False)
    lc_b = m.collate_lightcurves([m.preprocess_lightcurve(x) for x in lcs])
    sp_b = m.collate_phased([(m.preprocess_spectrum(s), 3.0) for s in specs])
    with torch.no_grad():
        assert np.allclose(e_lc, m.posterior_lightcurve(lc_b)[0].numpy(), atol=1e-5)
        assert np.allclose(e_sp, m.posterior_spectrum(sp_b.spectrum, sp_b.phase)[0].numpy(), atol=1e-5)
    u = m.embed_lightcurve(lcs)
    assert np.allclose(u, e_lc / np.linalg.norm(e_lc, axis=1, keepdims=True), atol=1e-5)

