"""SimFM pair-contrastive training: the loss, pair-preserving batches and validation split."""

import numpy as np
import torch

import astroembed as ae
from astroembed.models.simfm import SimFMConfig, SimFMModel
from astroembed.models.simfm.training import SimFMTrainConfig, _unit_batches, fit_simfm, pair_contrastive_loss


def test_pair_loss_prefers_aligned_partners():
    pair = torch.tensor([0, 0, 1, 1, -1])
    aligned = torch.tensor([[1.0, 0], [1, 0], [0, 1], [0, 1], [-1, 0]])
    crossed = torch.tensor([[1.0, 0], [0, 1], [0, 1], [1, 0], [-1, 0]])
    assert pair_contrastive_loss(aligned, pair, 0.1) < pair_contrastive_loss(crossed, pair, 0.1) - 1.0
    # no partner in the batch (unpaired, or the other member absent): zero loss, still differentiable
    z = torch.randn(3, 2, requires_grad=True)
    loss = pair_contrastive_loss(z, torch.tensor([-1, 4, 5]), 0.1)
    assert float(loss.detach()) == 0.0
    loss.backward()


def test_unit_batches_keep_pairs_together_and_cover_everything():
    rng = np.random.default_rng(0)
    units = [np.array([i]) for i in range(37)] + [np.array([37 + 2 * k, 38 + 2 * k]) for k in range(20)]
    lengths = rng.integers(3, 50, 77)
    batches = _unit_batches(units, lengths, 8, rng)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(77))
    where = {int(i): b for b, idx in enumerate(batches) for i in idx}
    assert all(where[37 + 2 * k] == where[38 + 2 * k] for k in range(20))
    assert max(len(b) for b in batches) <= 8


def test_fit_with_pairs_aligns_members():
    """Two 'surveys' see the same 30 events with different noise; pair training must make partners closer
    than random cross-survey objects (the pair split keeps members together)."""
    rng = np.random.default_rng(1)
    lcs, y, s, pid = [], [], [], []
    for k in range(30):
        w, t = rng.uniform(5, 40), 59000 + np.sort(rng.uniform(0, 120, 20))
        for sv, band in ((0, "ztfg"), (1, "lsstr")):
            f = 100 * np.exp(-0.5 * ((t - 59060) / w) ** 2) + 3 + rng.normal(0, 2, 20)
            lcs.append(ae.LightCurve(time=t, band=[band] * 20, flux=f, flux_err=np.full(20, 2.0)))
            y.append(int(w > 20)), s.append(sv), pid.append(k)
    torch.manual_seed(0)
    model = SimFMModel(SimFMConfig(hidden_dim=16, dense_dim=12, latent_dim=8, class_names=("a", "b")))
    items = [model.preprocess_lightcurve(lc) for lc in lcs]
    cfg = SimFMTrainConfig(epochs=25, batch_size=12, lr=1e-2, val_fraction=0.2, pair_weight=1.0, max_minutes=1.0)
    seen = {}
    hist = fit_simfm(model, items, np.array(y), np.full(60, 0.05, np.float32), np.array(s), cfg,
                     log=lambda m: seen.setdefault("log", m), pair=np.array(pid))
    assert "pair" in hist["epochs"][-1]["train"]
    e = model.embed_lightcurve(lcs)
    partner = np.sum(e[0::2] * e[1::2], 1).mean()
    other = np.mean(e[0::2] @ e[1::2].T)
    assert partner > other + 0.1, (partner, other)
