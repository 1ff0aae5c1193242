"""Maven v2 pre-training loops: masked-chunk spectrum pre-training (+ optional spectrum ↔ metadata CLIP)
on template spectra redshifted on the fly, and masked light-curve pre-training (AppleCiDEr MPT).

Both loops are wall-clock bounded (``minutes``) and step bounded (``max_steps``), deterministic for a
given ``seed`` on one device, and write the model with ``save_pretrained`` when done.  They are
deliberately small (no resume): a run is minutes on a CPU.

:class:`SpecPretrainConfig` is the strict training config of :func:`pretrain_spectra`:
``mask_weight`` × masked-chunk MSE + ``clip_weight`` × symmetric InfoNCE(spectrum, metadata) (the
metadata = Maven-5 class + redshift of the redshifted template; ``clip_weight = 0`` is the label-free
variant) + ``aux_weight`` × (MSE of ``log(1 + z)`` + cross-entropy of the class, from linear heads on the
normalised embedding; the heads are not part of the saved model).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import StrictConfig, check_int, check_positive

__all__ = ["optimizer_step", "SpecPretrainConfig", "pretrain_spectra", "build_pool", "LCPretrainConfig",
           "pretrain_lightcurves"]


def optimizer_step(loss, opt, sched, params, clip: float = 1.0) -> None:
    """One training step of the pre-training loops: zero the gradients, back-propagate ``loss``, clip the
    gradient norm of ``params`` to ``clip``, step the optimiser and the learning-rate schedule."""
    import torch

    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, clip)
    opt.step()
    sched.step()


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
    aux_weight: float = 0.0
    val_fraction: float = 0.1
    n_val: int = 512
    val_every: int = 200
    balance_power: float = 0.5
    pool_size: int = 20000
    seed: int = 0

    def __post_init__(self):
        w = "SpecPretrainConfig"
        for k in ("batch_size", "max_steps", "n_val", "val_every", "pool_size"):
            check_int(f"{w}.{k}", getattr(self, k), lo=1)
        for k in ("lr", "minutes"):
            check_positive(f"{w}.{k}", getattr(self, k))
        for k in ("mask_weight", "clip_weight", "aux_weight", "weight_decay", "balance_power"):
            check_positive(f"{w}.{k}", getattr(self, k), allow_zero=True)
        if self.mask_weight == 0 and self.clip_weight == 0 and self.aux_weight == 0:
            raise ValueError(f"{w}: mask_weight, clip_weight and aux_weight are all 0; nothing to train")
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
                     extra_metadata=None, workers: int = 1, deadline: float | None = None):
    """Train ``model``'s SpecFormer spectrum encoder (and metadata encoder when ``clip_weight > 0``) on
    ``records`` (:func:`~astroembed.train.spectrum_templates.load_template_bank`); validation on 10 %
    of the SN names.  One chunk-masked pass per step gives the reconstruction loss and the embedding for
    the CLIP loss.  Writes ``out_dir`` (best validation loss) and returns the history (list of dicts).
    ``workers`` > 1 builds the sample pool with that many processes; ``deadline`` (``time.time()`` value)
    stops training early whatever ``cfg.minutes`` says."""
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
    from ..data.collate import SpectrumBatch, collate_spectra

    tr, va = _split_by_name(records, cfg.val_fraction, cfg.seed)
    s_tr, s_va = TemplateSampler(tr, cfg.balance_power), TemplateSampler(va, cfg.balance_power)
    pcfg = model.config.spectrum_preprocess
    t0 = time.time()
    v_items, val_lab, val_z = build_pool(s_va, pcfg, cfg.n_val, cfg.seed + 1, workers, chunk=cfg.n_val)
    val_batch = collate_spectra(v_items)
    items, labels, zs = build_pool(s_tr, pcfg, cfg.pool_size, cfg.seed, workers)
    log(f"pool: {len(items)} training / {len(v_items)} validation spectra in {time.time() - t0:.0f} s")
    pool = collate_spectra(items).to(device)  # one tensor per field; batches are index views
    del items
    gen = torch.Generator().manual_seed(cfg.seed + 2)
    model.to(device).train()
    rng = np.random.default_rng(cfg.seed)
    t0, hist, best = time.time(), [], float("inf")
    out_dir = Path(out_dir)
    scale_name = pair_name("spectrum", "metadata")

    classes = list(model.config.metadata.class_names) if model.config.metadata is not None else []
    heads = torch.nn.Linear(model.embed_dim, 1 + len(classes) + 1).to(device)  # log1p z, classes, unknown

    def losses(batch, labels, zs, g):
        emb, mse = enc.masked_forward(batch, generator=g)
        parts = {"masked_mse": mse}
        if cfg.aux_weight > 0:
            out = heads(torch.nn.functional.normalize(emb.float(), dim=-1))
            zt = torch.log1p(torch.tensor(zs, dtype=torch.float32, device=device))
            ct = torch.tensor([classes.index(c) if c in classes else len(classes) for c in labels], device=device)
            parts["aux_z"] = torch.nn.functional.mse_loss(out[:, 0] * 0.1, zt)
            parts["aux_class"] = torch.nn.functional.cross_entropy(out[:, 1:], ct)
        if use_clip:
            meta = model.collate_metadata(labels, zs).to(device)
            parts["clip"] = info_nce(torch.nn.functional.normalize(emb.float(), dim=-1),
                                     model.encode_metadata(meta), model.logit_scales.scales()[scale_name])
        total = cfg.mask_weight * parts["masked_mse"] + cfg.clip_weight * parts.get("clip", 0.0)
        if cfg.aux_weight > 0:
            total = total + cfg.aux_weight * (100.0 * parts["aux_z"] + parts["aux_class"])
        return total, parts

    params = [p for p in list(model.parameters()) + list(heads.parameters()) if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(cfg.warmup_steps, cfg.max_steps))
    step = 0
    stop_at = t0 + 60 * cfg.minutes if deadline is None else min(t0 + 60 * cfg.minutes, deadline)
    while step < cfg.max_steps and time.time() < stop_at:
        idx = rng.choice(len(labels), size=min(cfg.batch_size, len(labels)), replace=False)
        ti = torch.from_numpy(idx).to(device)
        batch = SpectrumBatch(**{f: getattr(pool, f)[ti] for f in ("flux", "flux_err", "wavelength", "mask",
                                                                    "log_scale")})
        total, parts = losses(batch, [labels[i] for i in idx], [zs[i] for i in idx], gen)
        optimizer_step(total, opt, sched, params)
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



# -- masked light-curve pre-training (AppleCiDEr MPT) ----------------------------------------------------
@dataclass(frozen=True)
class LCPretrainConfig(StrictConfig):
    """Masked light-curve pre-training: batch size, AdamW, warm-up + cosine over ``max_steps``, wall-clock
    limit, the hidden fraction and (flux, band, Δt) weights, validation fraction / period, seed."""

    batch_size: int = 128
    lr: float = 5e-4
    weight_decay: float = 0.05
    warmup_steps: int = 100
    max_steps: int = 4000
    minutes: float = 12.0
    mask_frac: float = 0.3
    weights: tuple = (5.0, 3.0, 5.0)
    val_fraction: float = 0.05
    val_every: int = 100
    seed: int = 0

    def __post_init__(self):
        w = "LCPretrainConfig"
        for k in ("batch_size", "max_steps", "val_every"):
            check_int(f"{w}.{k}", getattr(self, k), lo=1)
        for k in ("lr", "minutes"):
            check_positive(f"{w}.{k}", getattr(self, k))
        if not 0 < self.mask_frac < 1 or not 0 < self.val_fraction < 1:
            raise ValueError(f"{w}.mask_frac / val_fraction: must be in (0, 1)")
        if not isinstance(self.weights, tuple):
            object.__setattr__(self, "weights", tuple(self.weights))
        if len(self.weights) != 3 or min(self.weights) < 0:
            raise ValueError(f"{w}.weights: three non-negative numbers (flux, band, dt), got {self.weights!r}")


def pretrain_lightcurves(model, lightcurves, cfg: LCPretrainConfig, out_dir, *, device="cpu", log=print,
                         extra_metadata=None):
    """Masked light-curve pre-training of ``model``'s light-curve encoder on ``lightcurves``
    (:class:`~astroembed.LightCurve` objects; those failing preprocessing are dropped).  The objective's
    heads are not saved (only the encoder matters downstream).  Writes ``out_dir`` at the best
    validation loss; returns the history."""
    import torch

    from ..models.maven.masked_lc import MaskedLightCurveObjective, maven_lc_adapter

    enc = model.encoder("lightcurve")
    items = []
    for lc in lightcurves:
        try:
            p = model.preprocess_lightcurve(lc)
        except ValueError:
            continue
        if len(p) >= 3:
            items.append(p)
    rng = np.random.default_rng(cfg.seed)
    perm = rng.permutation(len(items))
    n_val = max(1, int(cfg.val_fraction * len(items)))
    val = [items[i] for i in perm[:n_val]]
    train = [items[i] for i in perm[n_val:]]
    log(f"light curves: {len(train)} training / {len(val)} validation")
    torch.manual_seed(cfg.seed)
    obj = MaskedLightCurveObjective(enc.cfg.d_model, len(model.config.band_vocab), cfg.mask_frac, cfg.weights)
    tokens_fn, context_fn = maven_lc_adapter(enc)
    model.to(device).train()
    obj.to(device).train()
    params = [p for p in list(enc.parameters()) + list(obj.parameters()) if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(cfg.warmup_steps, cfg.max_steps))
    gen = torch.Generator().manual_seed(cfg.seed + 2)
    collate = model.collate_lightcurves
    t0, hist, best, step = time.time(), [], float("inf"), 0
    out_dir = Path(out_dir)
    while step < cfg.max_steps and (time.time() - t0) < 60 * cfg.minutes:
        idx = rng.choice(len(train), size=min(cfg.batch_size, len(train)), replace=False)
        batch = collate([train[i] for i in idx]).to(device)
        loss, parts = obj(batch, tokens_fn, context_fn, gen)
        optimizer_step(loss, opt, sched, params)
        step += 1
        if step % cfg.val_every == 0 or step == cfg.max_steps:
            model.eval()
            obj.eval()
            vg = torch.Generator().manual_seed(cfg.seed + 3)
            tot, acc = 0.0, {"flux": 0.0, "band": 0.0, "dt": 0.0}
            with torch.no_grad():
                for s in range(0, len(val), 256):
                    vl, vp = obj(collate(val[s:s + 256]).to(device), tokens_fn, context_fn, vg)
                    w = len(val[s:s + 256]) / len(val)
                    tot += float(vl) * w
                    for k in acc:
                        acc[k] += float(vp[k]) * w
            model.train()
            obj.train()
            row = {"step": step, "minutes": (time.time() - t0) / 60, "train_loss": float(loss.detach()),
                   "val_loss": tot, **{f"val_{k}": v for k, v in acc.items()}}
            hist.append(row)
            log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
            if tot < best:
                best = tot
                model.eval()
                model.save_pretrained(out_dir, extra_metadata={"training": {"pretrain": "masked_lightcurves",
                                      **cfg.to_dict(), "step": step, "val_loss": best}, **(extra_metadata or {})})
                model.train()
    model.eval()
    if not hist:
        model.save_pretrained(out_dir, extra_metadata={"training": {"pretrain": "masked_lightcurves",
                              **cfg.to_dict(), "step": step}, **(extra_metadata or {})})
    return hist
