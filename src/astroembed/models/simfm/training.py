"""Pre-training and fine-tuning of SimFM: class-balanced cross-entropy (+ redshift MSE), and the variants'
extra losses — a gradient-reversal survey discriminator (``adversarial``) and a supervised contrastive
loss pairing same-class objects of different surveys (``contrastive``); ``both`` uses the two.  With
``pair_weight > 0`` and pair ids (the same physical event simulated by two surveys,
:mod:`astroembed.simulate.paired`), an InfoNCE loss pulls the two members' latents together (any variant).

Used by ``tools/train_simfm.py`` (pre-training on simulations) and ``benchmarks/eval_simfm.py``
(fine-tuning on real BTS folds).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ...config import StrictConfig, check_choice, check_positive
from ...errors import ConfigError
from .model import SimFMModel

__all__ = ["SimFMTrainConfig", "VARIANTS", "supervised_contrastive_loss", "pair_contrastive_loss", "fit_simfm",
           "balanced_class_weights"]

VARIANTS = ("classifier", "adversarial", "contrastive", "both")
#: the redshift head regresses log10(max(z, REDSHIFT_FLOOR))
REDSHIFT_FLOOR = 1e-3


@dataclass(frozen=True)
class SimFMTrainConfig(StrictConfig):
    """Optimisation settings (AdamW, cosine schedule); the loss is
    ``CE_balanced + redshift_weight · MSE(log10 z) [+ CE(survey) through gradient reversal × adversarial_weight]
    [+ contrastive_weight · SupCon(τ = temperature)]`` depending on ``variant``
    ``[+ pair_weight · InfoNCE(same event, two surveys; τ = temperature)]`` when pairs are given.
    Training stops after ``epochs`` or ``max_minutes`` (wall clock), keeping the weights with the lowest
    validation loss (``val_fraction`` of the objects, drawn with ``seed``)."""

    variant: str = "classifier"
    epochs: int = 20
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-4
    redshift_weight: float = 1.0
    adversarial_weight: float = 0.3
    contrastive_weight: float = 0.5
    temperature: float = 0.1
    pair_weight: float = 0.0
    max_minutes: float = 10.0
    val_fraction: float = 0.1
    seed: int = 0

    def __post_init__(self):
        w = "SimFMTrainConfig"
        check_choice(f"{w}.variant", self.variant, VARIANTS)
        for name in ("epochs", "batch_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ConfigError(f"{w}.{name}: an int >= 1, got {v!r}")
        for name in ("lr", "temperature", "max_minutes"):
            check_positive(f"{w}.{name}", getattr(self, name))
        for name in ("weight_decay", "redshift_weight", "adversarial_weight", "contrastive_weight",
                     "pair_weight"):
            check_positive(f"{w}.{name}", getattr(self, name), allow_zero=True)
        if not isinstance(self.val_fraction, (int, float)) or not 0.0 <= self.val_fraction < 0.5:
            raise ConfigError(f"{w}.val_fraction: a number in [0, 0.5), got {self.val_fraction!r}")


def balanced_class_weights(y: np.ndarray, n_classes: int) -> torch.Tensor:
    """``n / (C · n_c)`` per class (0 for an absent class); labels < 0 are ignored."""
    y = y[y >= 0]
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    w = np.where(counts > 0, len(y) / (max((counts > 0).sum(), 1) * np.maximum(counts, 1)), 0.0)
    return torch.tensor(w, dtype=torch.float32)


def supervised_contrastive_loss(z: torch.Tensor, y: torch.Tensor, survey: torch.Tensor,
                                temperature: float) -> torch.Tensor:
    """SupCon on unit-normalised ``z`` (B, D): positives of an anchor are the objects of the same class
    from a *different* survey; the denominator runs over every other object.  Anchors without a
    positive are skipped (0 when none has one)."""
    pos = (y[:, None] == y[None, :]) & (survey[:, None] != survey[None, :]) & (y[:, None] >= 0)
    return _contrastive_with_positives(z, pos, temperature)


def pair_contrastive_loss(z: torch.Tensor, pair: torch.Tensor, temperature: float) -> torch.Tensor:
    """InfoNCE on unit-normalised ``z`` (B, D): an anchor's positive is the other member of its pair
    (``pair`` id >= 0, the same id in the batch); every other object of the batch is a negative.  Anchors
    whose partner is not in the batch are skipped (0 when none has one)."""
    pos = (pair[:, None] == pair[None, :]) & (pair[:, None] >= 0)
    pos.fill_diagonal_(False)
    return _contrastive_with_positives(z, pos, temperature)


def _contrastive_with_positives(z: torch.Tensor, pos: torch.Tensor, temperature: float) -> torch.Tensor:
    """Mean over anchors with a positive of −mean log softmax (cosine / ``temperature``, self excluded) of
    their positives ``pos`` (B, B bool, diagonal False); 0 (with a gradient path) when no anchor has one."""
    z = nn.functional.normalize(z.float(), dim=-1)
    sim = (z @ z.T / temperature).masked_fill(torch.eye(len(z), dtype=torch.bool, device=z.device), -1e9)
    n_pos = pos.sum(1)
    has = n_pos > 0
    if not bool(has.any()):
        return z.sum() * 0.0
    logp = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    return (-(logp * pos).sum(1)[has] / n_pos[has]).mean()


def _unit_batches(units: list[np.ndarray], lengths: np.ndarray, batch_size: int,
                  rng: np.random.Generator) -> list[np.ndarray]:
    """As :func:`_batches`, over units (a pair's two items stay in one batch)."""
    order = rng.permutation(len(units))
    ulen = np.array([lengths[u].max() for u in units])
    out, chunk = [], max(batch_size * 10, 1)
    for a in range(0, len(order), chunk):
        part = order[a:a + chunk]
        cur: list[np.ndarray] = []
        n_cur = 0
        for k in part[np.argsort(ulen[part], kind="stable")]:
            if cur and n_cur + len(units[k]) > batch_size:
                out.append(np.concatenate(cur))
                cur, n_cur = [], 0
            cur.append(units[k])
            n_cur += len(units[k])
        if cur:
            out.append(np.concatenate(cur))
    rng.shuffle(out)
    return out


def _batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of similar length (sort within chunks of 20 batches, then shuffle the batches)."""
    order = rng.permutation(len(lengths))
    out = []
    chunk = batch_size * 20
    for a in range(0, len(order), chunk):
        part = order[a:a + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        out.extend(part[i:i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(out)
    return out


def _losses(model: SimFMModel, out: dict, y, z, s, cfg: SimFMTrainConfig, class_w, pair=None) -> dict[str, torch.Tensor]:
    parts = {"class": nn.functional.cross_entropy(out["logits"], y, weight=class_w, ignore_index=-100)
             if bool((y >= 0).any()) else out["logits"].sum() * 0.0}
    if "redshift" in out and cfg.redshift_weight > 0:
        ok = torch.isfinite(z)
        if bool(ok.any()):
            target = torch.log10(z[ok].clamp_min(REDSHIFT_FLOOR))
            parts["redshift"] = cfg.redshift_weight * nn.functional.mse_loss(out["redshift"][ok], target)
    if cfg.variant in ("adversarial", "both"):
        parts["survey"] = nn.functional.cross_entropy(out["survey_logits"], s)
    if cfg.variant in ("contrastive", "both") and cfg.contrastive_weight > 0:
        parts["contrastive"] = cfg.contrastive_weight * supervised_contrastive_loss(
            out["latent"], y, s, cfg.temperature)
    if pair is not None and cfg.pair_weight > 0:
        parts["pair"] = cfg.pair_weight * pair_contrastive_loss(out["latent"], pair, cfg.temperature)
    return parts


def fit_simfm(model: SimFMModel, items: list, y: np.ndarray, z: np.ndarray, survey: np.ndarray,
              cfg: SimFMTrainConfig, *, device: str | torch.device = "cpu", params=None, log=print,
              pair: np.ndarray | None = None) -> dict:
    """Train ``model`` in place on preprocessed ``items`` (from ``model.preprocess_lightcurve``).

    ``y``: class index per item into ``model.class_names`` (-100 = unlabelled); ``z``: redshift (NaN =
    unknown); ``survey``: survey index (int) per item.  ``params``: the parameters to optimise (default:
    all).  ``pair``: pair id per item (-1 = unpaired; the two members of a pair share an id); with it the
    validation split and the batches keep pairs together (used by ``pair_weight``).  Returns the history (per-epoch losses, best epoch, seconds).
    """
    if cfg.variant in ("adversarial", "both") and model.survey_head is None:
        raise ConfigError(f"variant {cfg.variant!r} needs a survey discriminator: set n_surveys >= 2 in the "
                          "model config")
    device = torch.device(device)
    model.to(device)
    rng = np.random.default_rng(cfg.seed)
    torch.manual_seed(cfg.seed)
    y, z, survey = np.asarray(y, np.int64), np.asarray(z, np.float32), np.asarray(survey, np.int64)
    n = len(items)
    if pair is None:
        n_val = int(round(cfg.val_fraction * n)) if n >= 20 else 0
        perm = rng.permutation(n)
        val, tr = perm[:n_val], perm[n_val:]
    else:
        pair = np.asarray(pair, np.int64)
        if len(pair) != n:
            raise ValueError(f"pair: one id per item ({n}), got {len(pair)}")
        uid = np.where(pair >= 0, pair, pair.max(initial=0) + 1 + np.arange(n))
        _, inv = np.unique(uid, return_inverse=True)
        groups = np.split(np.argsort(inv, kind="stable"), np.cumsum(np.bincount(inv))[:-1])
        uperm = rng.permutation(len(groups))
        n_uval = int(round(cfg.val_fraction * len(groups))) if n >= 20 else 0
        val = np.concatenate([groups[k] for k in uperm[:n_uval]]) if n_uval else np.array([], np.int64)
        tr_units = [groups[k] for k in uperm[n_uval:]]
        tr = np.concatenate(tr_units)
        n_val = len(val)
    lengths = np.array([len(it) for it in items])
    class_w = balanced_class_weights(y[tr], len(model.class_names)).to(device)
    params = list(model.parameters()) if params is None else list(params)
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * math.ceil(len(tr) / cfg.batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 0.5 * (1 + math.cos(math.pi * min(k / max(steps, 1), 1))))
    hist = {"epochs": [], "best_epoch": None, "stopped": "epochs"}
    best, best_state, t0 = np.inf, None, time.time()

    def run(idx, train: bool):
        b = model.collate([items[i] for i in idx]).to(device)
        tt = lambda a, dt=torch.long: torch.as_tensor(a[idx], dtype=dt, device=device)  # noqa: E731
        yy, zz, ss = tt(y), tt(z, torch.float32), tt(survey)
        out = model(b, reverse_weight=cfg.adversarial_weight)
        return _losses(model, out, yy, zz, ss, cfg, class_w, None if pair is None else tt(pair))

    for ep in range(cfg.epochs):
        model.train()
        sums: dict[str, float] = {}
        batches = (_batches(lengths[tr], cfg.batch_size, rng) if pair is None
                   else [np.asarray(b) for b in _unit_batches(tr_units, lengths, cfg.batch_size, rng)])
        for idx in batches:
            parts = run(tr[idx] if pair is None else idx, True)
            loss = sum(parts.values())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(params, 5.0)
            opt.step()
            sched.step()
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + v.item() * len(idx) / len(tr)
        rec = {"epoch": ep, "train": sums, "seconds": round(time.time() - t0, 1)}
        if n_val:
            model.eval()
            vs: dict[str, float] = {}
            with torch.no_grad():
                for a in range(0, n_val, 512):
                    idx = val[np.argsort(lengths[val], kind="stable")][a:a + 512]
                    for k, v in run(idx, False).items():
                        vs[k] = vs.get(k, 0.0) + v.item() * len(idx) / n_val
            rec["val"] = vs
            score = vs["class"] + vs.get("redshift", 0.0)
            if score < best:
                best, hist["best_epoch"] = score, ep
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        log(f"epoch {ep}: " + " ".join(f"{k}={v:.4f}" for k, v in sums.items())
            + ("" if not n_val else " | val " + " ".join(f"{k}={v:.4f}" for k, v in rec["val"].items()))
            + f" ({rec['seconds']} s)")
        hist["epochs"].append(rec)
        if time.time() - t0 > 60 * cfg.max_minutes:
            hist["stopped"] = f"max_minutes={cfg.max_minutes}"
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    hist["seconds"] = round(time.time() - t0, 1)
    return hist
