"""Maven v2 pre-training loops: masked-chunk spectrum pre-training (+ optional spectrum ↔ metadata CLIP)
on template spectra redshifted on the fly, and masked light-curve pre-training (AppleCiDEr MPT).

Both loops are wall-clock bounded (``minutes``) and step bounded (``max_steps``), deterministic for a
given ``seed`` on one device, and write the model with ``save_pretrained`` when done.  They are
deliberately small (no resume): a run is minutes on a CPU.

:class:`SpecPretrainConfig` is the strict training config of :func:`pretrain_spectra`:
``mask_weight`` × masked-chunk MSE + ``clip_weight`` × symmetric InfoNCE(spectrum, metadata) (the
metadata = Maven-5 class + redshift of the redshifted template; ``clip_weight = 0`` is the label-free
variant).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._config import StrictConfig, check_positive

__all__ = ["SpecPretrainConfig", "pretrain_spectra"]


@dataclass(frozen=True)
class SpecPretrainConfig(StrictConfig):
    """Spectrum pre-training: batch size, AdamW (lr, weight decay), warm-up then cosine over ``max_steps``,
    the loss weights, validation size and period (in steps), class-balance power of the template draw and
    ``pool_size``: how many augmented, redshifted, preprocessed spectra are drawn once before training
    (batches are drawn from that pool; each template appears at many redshifts)."""

    batch_size: int = 128
    lr: float = 5e-4
    weight_decay: float = 0.05
    warmup_steps: int = 100
    max_steps: int = 4000
    minutes: float = 12.0
    mask_weight: float = 1.0
    clip_weight: float = 1.0
    val_fraction: float = 0.1
    n_val: int = 512
    val_every: int = 200
    balance_power: float = 0.5
    pool_size: int = 20000
    seed: int = 0

    def __post_init__(self):
        w = "SpecPretrainConfig"
        for k in ("batch_size", "max_steps", "n_val", "val_every", "pool_size"):
            if not isinstance(getattr(self, k), int) or getattr(self, k) < 1:
                raise ValueError(f"{w}.{k}: must be an int >= 1, got {getattr(self, k)!r}")
        for k in ("lr", "minutes"):
            check_positive(f"{w}.{k}", getattr(self, k))
        for k in ("mask_weight", "clip_weight", "weight_decay", "balance_power"):
            check_positive(f"{w}.{k}", getattr(self, k), allow_zero=True)
        if self.mask_weight == 0 and self.clip_weight == 0:
            raise ValueError(f"{w}: mask_weight and clip_weight are both 0; nothing to train")
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"{w}.val_fraction: must be in (0, 1), got {self.val_fraction!r}")


def _lr_lambda(warmup: int, total: int):
    def f(step):
        if step < warmup:
            return (step + 1) / warmup
        p = min(1.0, (step - warmup) / max(1, total - warmup))
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * p))
    return f


_POOL: dict = {}


def _draw_chunk(args):
    """Worker: ``n`` preprocessed samples from the sampler in ``_POOL`` (seeded)."""
    seed, n = args
    sampler, pcfg = _POOL["sampler"], _POOL["pcfg"]
    from ..data.preprocess import preprocess_spectrum

    rng = np.random.default_rng(seed)
    idx = rng.choice(len(sampler), size=n, p=sampler.weights)
    items, labels, zs = [], [], []
    for i in idx:
        spec, lab, z = sampler.sample(int(i), rng)
        try:
            items.append(preprocess_spectrum(spec, pcfg))
        except ValueError:
            continue
        labels.append(lab)
        zs.append(z)
    return items, labels, zs


def build_pool(sampler, pcfg, n: int, seed: int, workers: int = 1, chunk: int = 2000):
    """``n`` (at most; failed preprocessing dropped) preprocessed spectra, their labels and redshifts.
    Deterministic for a given ``seed`` and ``chunk`` whatever ``workers``."""
    _POOL.update(sampler=sampler, pcfg=pcfg)
    jobs = [(seed * 100003 + j, min(chunk, n - s)) for j, s in enumerate(range(0, n, chunk))]
    if workers > 1:
        import multiprocessing as mp

        with mp.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_draw_chunk, jobs)
    else:
        parts = [_draw_chunk(j) for j in jobs]
    items = [x for p in parts for x in p[0]]
    labels = [x for p in parts for x in p[1]]
    zs = [x for p in parts for x in p[2]]
    return items, labels, zs


def _split_by_name(records, frac, seed):
    names = sorted({r.name for r in records})
    rng = np.random.default_rng(seed)
    val_names = set(rng.choice(names, size=max(1, int(round(frac * len(names)))), replace=False).tolist())
    tr = [r for r in records if r.name not in val_names]
    va = [r for r in records if r.name in val_names]
    return tr, va


def pretrain_spectra(model, records, cfg: SpecPretrainConfig, out_dir, *, device="cpu", log=print,
                     extra_metadata=None, workers: int = 1):
    """Train ``model``'s SpecFormer spectrum encoder (and metadata encoder when ``clip_weight > 0``) on
    ``records`` (:func:`~astroembed.train.spectrum_templates.load_template_bank`); validation on 10 %
    of the SN names.  One chunk-masked pass per step gives the reconstruction loss and the embedding for
    the CLIP loss.  Writes ``out_dir`` (best validation loss) and returns the history (list of dicts).
    ``workers`` > 1 builds the sample pool with that many processes."""
    import torch

    from ..models.maven.losses import info_nce, pair_name
    from ..models.maven.specformer import SpecFormerEncoder
    from .spectrum_templates import TemplateSampler

    enc = model.spectrum_encoder
    if not isinstance(enc, SpecFormerEncoder):
        raise ValueError("pretrain_spectra: the model's spectrum encoder is not a SpecFormer (set "
                         "MavenConfig.spectrum to a SpecFormerConfig)")
    use_clip = cfg.clip_weight > 0
    if use_clip and model.metadata_encoder is None:
        raise ValueError("pretrain_spectra: clip_weight > 0 needs a metadata encoder in the model config")
    torch.manual_seed(cfg.seed)
    from ..data.collate import collate_spectra

    tr, va = _split_by_name(records, cfg.val_fraction, cfg.seed)
    s_tr, s_va = TemplateSampler(tr, cfg.balance_power), TemplateSampler(va, cfg.balance_power)
    pcfg = model.config.spectrum_preprocess
    t0 = time.time()
    v_items, val_lab, val_z = build_pool(s_va, pcfg, cfg.n_val, cfg.seed + 1, workers, chunk=cfg.n_val)
    val_batch = collate_spectra(v_items)
    items, labels, zs = build_pool(s_tr, pcfg, cfg.pool_size, cfg.seed, workers)
    log(f"pool: {len(items)} training / {len(v_items)} validation spectra in {time.time() - t0:.0f} s")
    gen = torch.Generator().manual_seed(cfg.seed + 2)
    model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(cfg.warmup_steps, cfg.max_steps))
    rng = np.random.default_rng(cfg.seed)
    t0, hist, best = time.time(), [], float("inf")
    out_dir = Path(out_dir)
    scale_name = pair_name("spectrum", "metadata")

    def losses(batch, labels, zs, g):
        emb, mse = enc.masked_forward(batch, generator=g)
        parts = {"masked_mse": mse}
        if use_clip:
            meta = model.collate_metadata(labels, zs).to(device)
            parts["clip"] = info_nce(torch.nn.functional.normalize(emb.float(), dim=-1),
                                     model.encode_metadata(meta), model.logit_scales.scales()[scale_name])
        total = cfg.mask_weight * parts["masked_mse"] + cfg.clip_weight * parts.get("clip", 0.0)
        return total, parts

    step = 0
    while step < cfg.max_steps and (time.time() - t0) < 60 * cfg.minutes:
        idx = rng.choice(len(items), size=min(cfg.batch_size, len(items)), replace=False)
        batch = collate_spectra([items[i] for i in idx]).to(device)
        total, parts = losses(batch, [labels[i] for i in idx], [zs[i] for i in idx], gen)
        opt.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        model.logit_scales.clamp_()
        step += 1
        if step % cfg.val_every == 0 or step == cfg.max_steps:
            model.eval()
            with torch.no_grad():
                vt, vp = losses(val_batch.to(device), val_lab, val_z, torch.Generator().manual_seed(cfg.seed + 3))
            model.train()
            row = {"step": step, "minutes": (time.time() - t0) / 60, "train_loss": float(total.detach()),
                   "val_loss": float(vt), **{f"val_{k}": float(v) for k, v in vp.items()}}
            hist.append(row)
            log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
            if row["val_loss"] < best:
                best = row["val_loss"]
                model.eval()
                model.save_pretrained(out_dir, extra_metadata={"training": {"pretrain": "spectra", **cfg.to_dict(),
                                      "step": step, "val_loss": best}, **(extra_metadata or {})})
                model.train()
    model.eval()
    if not hist:  # ran out of time before the first validation: save what there is
        model.save_pretrained(out_dir, extra_metadata={"training": {"pretrain": "spectra", **cfg.to_dict(),
                              "step": step}, **(extra_metadata or {})})
    return hist

