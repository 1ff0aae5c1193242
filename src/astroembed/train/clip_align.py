"""Maven v2: join separately pre-trained encoders into one model and align them with a label-free CLIP loss.

:func:`assemble` builds a :class:`~astroembed.models.maven.MavenModel` whose light-curve encoder (and its
preprocessing / band vocabulary) comes from one pre-trained model directory and whose spectrum encoder
(and preprocessing) comes from another; the weights are copied exactly.  :func:`clip_align` then trains
the pair on light curve ↔ spectrum pairs of the *same* object (simulated pairs need no label) with the
symmetric InfoNCE of :func:`~astroembed.models.maven.losses.info_nce`, the logit scale fixed or learned as
the model config says.  This is the label-free ``maven-ssl`` recipe: masked pre-training of each
encoder, then contrastive alignment, no class or redshift anywhere.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import StrictConfig, check_int, check_positive
from .pretrain_masked import optimizer_step

__all__ = ["assemble", "AlignConfig", "clip_align"]


def assemble(lc_dir, spec_dir, *, embed_dim: int | None = None, learn_logit_scale: bool = True,
             logit_scale_init: float | None = None):
    """A light-curve + spectrum MavenModel from two pre-trained directories (encoder weights copied; the
    projections come along, so the two towers start unaligned)."""
    import math

    from ..models.maven import MavenConfig, MavenModel

    lc = MavenModel.from_pretrained(lc_dir)
    sp = MavenModel.from_pretrained(spec_dir)
    if lc.config.lightcurve is None or sp.config.spectrum is None:
        raise ValueError("assemble: lc_dir needs a light-curve encoder and spec_dir a spectrum encoder")
    dim = embed_dim or lc.config.embed_dim
    if lc.config.embed_dim != dim or sp.config.embed_dim != dim:
        raise ValueError(f"assemble: embed_dim differs ({lc.config.embed_dim} vs {sp.config.embed_dim})")
    cfg = MavenConfig(embed_dim=dim, lightcurve=lc.config.lightcurve,
                      lightcurve_preprocess=lc.config.lightcurve_preprocess, band_vocab=lc.config.band_vocab,
                      spectrum=sp.config.spectrum, spectrum_preprocess=sp.config.spectrum_preprocess,
                      metadata=None, learn_logit_scale=learn_logit_scale,
                      logit_scale_init=math.log(20.0) if logit_scale_init is None else logit_scale_init)
    model = MavenModel(cfg)
    model.lightcurve_encoder.load_state_dict(lc.lightcurve_encoder.state_dict())
    model.spectrum_encoder.load_state_dict(sp.spectrum_encoder.state_dict())
    model.pin_band_wavelengths(lc.band_wavelengths)  # the light-curve tower's bands, as it was pre-trained
    return model.eval()


@dataclass(frozen=True)
class AlignConfig(StrictConfig):
    """CLIP alignment: batch size, AdamW, warm-up + cosine over ``max_steps``, wall-clock ``minutes``,
    validation fraction / period, seed."""

    batch_size: int = 128
    lr: float = 3e-4
    weight_decay: float = 0.05
    warmup_steps: int = 50
    max_steps: int = 3000
    minutes: float = 10.0
    val_fraction: float = 0.05
    val_every: int = 100
    seed: int = 0

    def __post_init__(self):
        for k in ("batch_size", "max_steps", "val_every"):
            check_int(f"AlignConfig.{k}", getattr(self, k), lo=1)
        check_positive("AlignConfig.lr", self.lr)
        check_positive("AlignConfig.minutes", self.minutes)
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"AlignConfig.val_fraction: must be in (0, 1), got {self.val_fraction!r}")


def clip_align(model, lightcurves, spectra, cfg: AlignConfig, out_dir, *, device="cpu", log=print,
               extra_metadata=None, deadline: float | None = None):
    """Train ``model`` (light curve + spectrum) on aligned lists of pairs; saves the best validation loss
    to ``out_dir``; returns the history.  Pairs whose preprocessing fails are dropped."""
    import torch

    from ..data.collate import collate_spectra
    from ..models.maven.losses import info_nce, pair_name
    from .pretrain_masked import _lr_lambda

    if len(lightcurves) != len(spectra):
        raise ValueError(f"clip_align: {len(lightcurves)} light curves but {len(spectra)} spectra")
    lcs, sps = [], []
    for lc, sp in zip(lightcurves, spectra):
        try:
            a, b = model.preprocess_lightcurve(lc), model.preprocess_spectrum(sp)
        except ValueError:
            continue
        lcs.append(a)
        sps.append(b)
    rng = np.random.default_rng(cfg.seed)
    perm = rng.permutation(len(lcs))
    n_val = max(2, int(cfg.val_fraction * len(lcs)))
    val, tr = perm[:n_val], perm[n_val:]
    log(f"pairs: {len(tr)} training / {len(val)} validation")
    torch.manual_seed(cfg.seed)
    model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(cfg.warmup_steps, cfg.max_steps))
    name = pair_name("lightcurve", "spectrum")

    def loss_of(idx):
        lb = model.collate_lightcurves([lcs[i] for i in idx]).to(device)
        sb = collate_spectra([sps[i] for i in idx]).to(device)
        return info_nce(model.encode_lightcurves(lb), model.encode_spectra(sb), model.logit_scales.scales()[name])

    t0, hist, best, step = time.time(), [], float("inf"), 0
    stop_at = t0 + 60 * cfg.minutes if deadline is None else min(t0 + 60 * cfg.minutes, deadline)
    out_dir = Path(out_dir)
    while step < cfg.max_steps and time.time() < stop_at:
        loss = loss_of(rng.choice(tr, size=min(cfg.batch_size, len(tr)), replace=False))
        optimizer_step(loss, opt, sched, params)
        model.logit_scales.clamp_()
        step += 1
        if step % cfg.val_every == 0 or step == cfg.max_steps:
            model.eval()
            with torch.no_grad():
                chunks = [val[s:s + 256] for s in range(0, len(val), 256)]
                vl = float(np.mean([float(loss_of(c)) for c in chunks if len(c) > 1]))
            model.train()
            row = {"step": step, "minutes": (time.time() - t0) / 60, "train_loss": float(loss.detach()),
                   "val_loss": vl, "logit_scale": float(model.logit_scales.scales()[name].detach())}
            hist.append(row)
            log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
            if vl < best:
                best = vl
                model.eval()
                model.save_pretrained(out_dir, extra_metadata={"training": {"stage": "clip_align", **cfg.to_dict(),
                                      "step": step, "val_loss": best}, **(extra_metadata or {})})
                model.train()
    model.eval()
    if not hist:
        model.save_pretrained(out_dir, extra_metadata={"training": {"stage": "clip_align", **cfg.to_dict(),
                              "step": step}, **(extra_metadata or {})})
    return hist
