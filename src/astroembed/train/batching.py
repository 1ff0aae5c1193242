"""Training and validation batches: which rows go together (:func:`epoch_batches`) and how rows become
model inputs and a loss (:class:`_Batcher`)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..models.supervised import SupervisedLightCurveModel
from .augment import augment_lightcurve, augment_spectrum
from .config import TrainConfig
from .data import PairedData
from .model_setup import _maven


def epoch_batches(n: int, lengths: np.ndarray, batch_size: int, seed: int, epoch: int, bucketing: bool
                  ) -> list[np.ndarray]:
    """Training batches of one epoch, a pure function of its arguments.

    Shuffled; with ``bucketing``, chunks of 50 batches are sorted by length before being cut (less
    padding) and the batch order is shuffled again.  The last incomplete batch is dropped when there is
    more than one batch (in-batch negatives need full batches).
    """
    rng = np.random.default_rng([seed, epoch, 1])
    perm = rng.permutation(n)
    if bucketing:
        chunk = batch_size * 50
        perm = np.concatenate([p[np.argsort(lengths[p], kind="stable")]
                               for p in (perm[i:i + chunk] for i in range(0, n, chunk))])
    batches = [perm[i:i + batch_size] for i in range(0, n, batch_size)]
    if len(batches) > 1 and len(batches[-1]) < batch_size:
        batches = batches[:-1]
    if bucketing:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def _eval_batches(n: int, batch_size: int, seed: int) -> list[np.ndarray]:
    perm = np.random.default_rng([seed, 99]).permutation(n)
    batches = [perm[i:i + batch_size] for i in range(0, n, batch_size)]
    if len(batches) > 1 and len(batches[-1]) < 2:
        batches[-2] = np.concatenate([batches[-2], batches[-1]])
        batches = batches[:-1]
    return batches


class _Batcher:
    """Turns row indices into model-ready batches (with or without augmentation)."""

    def __init__(self, cfg: TrainConfig, model: nn.Module, data: PairedData):
        self.cfg, self.data, self.maven = cfg, data, _maven(model)
        self.mods = cfg.data.modalities
        self.model = model
        if isinstance(model, SupervisedLightCurveModel):
            self.class_t = model.class_targets(data.labels)

    def __call__(self, idx: np.ndarray, rng: np.random.Generator | None, device) -> dict:
        d, aug = self.data, self.cfg.augment
        out = {}
        if "lightcurve" in self.mods:
            items = [d.lightcurves[i] for i in idx]
            if rng is not None:
                items = [augment_lightcurve(p, rng, aug) for p in items]
            out["lightcurve"] = self.maven.collate_lightcurves(items).to(device)
        if "spectrum" in self.mods:
            from ..data.collate import collate_spectra

            items = [d.spectra[i] for i in idx]
            if rng is not None:
                items = [augment_spectrum(p, rng, aug) for p in items]
            out["spectrum"] = collate_spectra(items).to(device)
        if "metadata" in self.mods:
            out["metadata"] = self.maven.collate_metadata(d.labels[idx], d.redshifts[idx]).to(device)
        if self.cfg.task == "supervised":
            out["class"] = torch.from_numpy(self.class_t[idx]).to(device)
            out["redshift"] = torch.from_numpy(d.redshifts[idx].astype(np.float32)).to(device)
        return out

    def loss(self, batch: dict) -> torch.Tensor:
        if self.cfg.task == "clip":
            embs = self.model(**{m: batch[m] for m in self.mods})
            return self.model.loss(embs)[0]
        logits, zp = self.model(batch["lightcurve"])
        y = batch["class"]
        ce = F.cross_entropy(logits.float(), y, ignore_index=-100) if bool((y >= 0).any()) else logits.sum() * 0
        z = batch["redshift"]
        ok = torch.isfinite(z)
        mse = ((zp.float()[ok] - z[ok]) ** 2).mean() if bool(ok.any()) else zp.sum() * 0
        return ce + self.cfg.supervised.redshift_weight * mse
