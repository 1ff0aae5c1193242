"""Two-stage training of :class:`~.model.AppleCiderModel`: masked light-curve pre-training, then
supervised fine-tuning (focal loss, class-balanced weights, modality dropout, random-horizon
augmentation, EMA weights).  See :class:`~.config.AppleCiderTrainConfig` for every setting."""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from .batch import collate
from .config import AppleCiderTrainConfig
from .features import metadata_matrix, photometry_tokens, spectrum_on_grid
from .losses import EMA, MaskedLightCurveHead, class_balanced_weights, focal_loss, random_token_mask
from .model import AppleCiderModel

__all__ = ["train_applecider", "cut_tokens", "init_photometry_from"]


def init_photometry_from(model: AppleCiderModel, directory) -> None:
    """Copy the photometry tower and embedding head of the saved model in ``directory`` into ``model``
    (in place).  Raises ``ConfigError`` naming ``init_from`` when the two photometry configs or
    ``embed_dim`` differ (the weights would not fit)."""
    from ...errors import ConfigError

    src = AppleCiderModel.from_pretrained(directory)
    a, b = src.config, model.config
    if a.photometry != b.photometry or a.embed_dim != b.embed_dim:
        raise ConfigError(f"AppleCiderTrainConfig.init_from: {str(directory)!r} has photometry {a.photometry} and "
                          f"embed_dim {a.embed_dim}, this model photometry {b.photometry} and embed_dim {b.embed_dim}; "
                          "they must be equal")
    model.photometry.load_state_dict(src.photometry.state_dict())
    model.embed_head.load_state_dict(src.embed_head.state_dict())


def cut_tokens(item, horizon: float, min_points: int):
    """Tokens of a precomputed light curve up to ``horizon`` days after first detection (>= min_points);
    the brightness-relative-to-peak feature is recomputed over the visible tokens only (as at inference)."""
    tok, dt = item
    n = max(int(np.searchsorted(dt, horizon, side="right")), min(min_points, len(dt)))
    if n == len(dt):
        return tok, dt
    tok = tok[:n].copy()
    tok[:, 5] = tok[:, 2] - tok[:, 2].max()
    return tok, dt[:n]


def train_applecider(cfg: AppleCiderTrainConfig, lightcurves, labels, metadata=None, spectra=None,
                     spectrum_labels=None, *, device="cpu", log=print) -> tuple[AppleCiderModel, dict]:
    """Train a model; returns (EMA model in eval mode on CPU, history).

    ``lightcurves`` with ``labels`` (class names of ``cfg.model.classes`` or ``None`` = unlabelled, used
    in pre-training only) and aligned ``metadata`` (DataFrame / list of dicts / None); optional
    spectrum-only examples ``spectra`` with ``spectrum_labels``.  Light curves with too few detections
    are skipped (counted in the history).  With ``cfg.init_from`` the bands are encoded with the band
    table of the model it starts from, during training and in the returned model (as its tower learned
    them); otherwise with the live registry.
    """
    from contextlib import nullcontext
    from pathlib import Path

    from ...data.bands import pinned_band_wavelengths
    from ..persistence import CONFIG_NAME, read_band_table

    table = read_band_table(Path(cfg.init_from) / CONFIG_NAME) if cfg.init_from is not None else None
    with pinned_band_wavelengths(table) if table is not None else nullcontext():
        model, hist = _train(cfg, lightcurves, labels, metadata, spectra, spectrum_labels, device, log)
    if table is not None:
        model.pin_band_wavelengths(table)
    return model, hist


def _train(cfg, lightcurves, labels, metadata, spectra, spectrum_labels, device, log):
    mc = cfg.model
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    t_end = time.monotonic() + 60.0 * cfg.max_minutes
    cidx = {c: i for i, c in enumerate(mc.classes)}
    fields = mc.metadata.fields if mc.metadata is not None else ()
    nb = mc.spectrum.n_bins if mc.spectrum is not None else 1
    mv, mm = metadata_matrix(metadata if mc.metadata is not None else None, fields, len(lightcurves))
    items, y, keep = [], [], []
    for i, lc in enumerate(lightcurves):
        try:
            items.append(photometry_tokens(lc, mc.photometry))
        except ValueError:
            continue
        keep.append(i)
        lab = labels[i]
        if lab is not None and lab not in cidx:
            raise ValueError(f"labels[{i}]: {lab!r} is not one of the model classes {list(mc.classes)}")
        y.append(-1 if lab is None else cidx[lab])
    y = np.asarray(y, np.int64)
    mv, mm = mv[keep], mm[keep]
    spec_items, sy = [], []
    if spectra is not None and mc.spectrum is not None:
        for s, lab in zip(spectra, spectrum_labels):
            if lab not in cidx:
                continue
            try:
                spec_items.append(spectrum_on_grid(s, mc.spectrum))
                sy.append(cidx[lab])
            except ValueError:
                pass
    sy = np.asarray(sy, np.int64)
    hist = {"n_lightcurves": len(items), "n_skipped": len(lightcurves) - len(items),
            "n_labelled": int((y >= 0).sum()), "n_spectra": len(spec_items), "pretrain": [], "finetune": []}
    log(f"[applecider] {len(items)} light curves ({hist['n_labelled']} labelled, {hist['n_skipped']} skipped), "
        f"{len(spec_items)} spectra")

    model = AppleCiderModel(mc)
    if cfg.init_from is not None:
        init_photometry_from(model, cfg.init_from)
        log(f"[applecider] photometry tower + embedding head initialised from {cfg.init_from}")
    hist["init_from"] = cfg.init_from
    # the initialised photometry tower + embedding head learn at lr * init_lr_scale (1 without init_from)
    init_scale = cfg.init_lr_scale if cfg.init_from is not None else 1.0
    model = model.to(device)
    d = mc.photometry.d_model
    pc = mc.photometry
    dev = torch.device(device)

    def lc_batch(idx, horizons=None):
        lcs = [items[i] if horizons is None else cut_tokens(items[i], horizons[k], pc.min_points)
               for k, i in enumerate(idx)]
        return collate(lcs, mv[idx], mm[idx], [None] * len(idx), len(fields), nb).to(dev)

    # stage 1: masked light-curve pre-training (every light curve, labelled or not)
    if cfg.pretrain_epochs:
        head = MaskedLightCurveHead(d).to(dev)
        opt = torch.optim.AdamW([{"params": list(model.photometry.parameters()), "lr": cfg.lr * init_scale},
                                 {"params": list(head.parameters()), "lr": cfg.lr}], weight_decay=cfg.weight_decay)
        t_pre = time.monotonic() + 0.3 * 60.0 * cfg.max_minutes
        model.train()
        for ep in range(cfg.pretrain_epochs):
            order, tot, nbt = rng.permutation(len(items)), 0.0, 0
            for s in range(0, len(order), cfg.batch_size):
                b = lc_batch(order[s:s + cfg.batch_size])
                hide = random_token_mask(b.mask, cfg.mask_frac)
                _, states = model.photometry(b.tokens, b.dt, b.mask, hide)
                loss = head.loss(states, b.tokens, hide)
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                tot, nbt = tot + loss.item(), nbt + 1
            hist["pretrain"].append(tot / max(nbt, 1))
            log(f"[applecider] pretrain epoch {ep + 1}/{cfg.pretrain_epochs} masked-flux MSE {tot / max(nbt, 1):.4f}")
            if time.monotonic() > t_pre:
                log("[applecider] pre-training time budget reached")
                break

    # stage 2: supervised fine-tuning
    lab_idx = np.flatnonzero(y >= 0)
    counts = np.bincount(np.concatenate([y[lab_idx], sy]), minlength=len(mc.classes))
    alpha = torch.from_numpy(class_balanced_weights(counts, cfg.cb_beta)).to(dev)
    hist["class_counts"] = dict(zip(mc.classes, counts.tolist()))
    pre = set(model.photometry.parameters()) | set(model.embed_head.parameters())
    groups = [[q for q in model.parameters() if q in pre], [q for q in model.parameters() if q not in pre]]
    opt = torch.optim.AdamW([{"params": g} for g in groups], lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(lab_idx) / cfg.batch_size) + math.ceil(len(sy) / cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[cfg.lr * init_scale, cfg.lr], total_steps=cfg.epochs * steps_per_epoch + 1,
                                                pct_start=0.1)
    ema = EMA(model, cfg.ema_decay)
    lo, hi = math.log(cfg.horizon_min), math.log(cfg.horizon_max or pc.horizon_days)
    for ep in range(cfg.epochs):
        model.train()
        batches = []
        order = rng.permutation(lab_idx)
        batches += [("lc", order[s:s + cfg.batch_size]) for s in range(0, len(order), cfg.batch_size)]
        sorder = rng.permutation(len(sy))
        batches += [("sp", sorder[s:s + cfg.batch_size]) for s in range(0, len(sorder), cfg.batch_size)]
        rng.shuffle(batches)
        tot, nbt = 0.0, 0
        for kind, idx in batches:
            if kind == "lc":
                h = np.where(rng.random(len(idx)) < cfg.p_truncate, np.exp(rng.uniform(lo, hi, len(idx))), np.inf)
                b, target = lc_batch(idx, h), y[idx]
            else:
                b = collate([None] * len(idx), np.zeros((len(idx), len(fields))), np.ones((len(idx), len(fields))),
                            [spec_items[i] for i in idx], len(fields), nb).to(dev)
                target = sy[idx]
            loss = focal_loss(model(b), torch.from_numpy(target).to(dev), alpha, cfg.focal_gamma)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            ema.update(model)
            tot, nbt = tot + loss.item(), nbt + 1
        hist["finetune"].append(tot / max(nbt, 1))
        log(f"[applecider] epoch {ep + 1}/{cfg.epochs} focal loss {tot / max(nbt, 1):.4f}")
        if time.monotonic() > t_end:
            log("[applecider] time budget reached; stopping")
            break
    hist["epochs_done"] = len(hist["finetune"])
    out = ema.shadow.cpu().eval()
    return out, hist
