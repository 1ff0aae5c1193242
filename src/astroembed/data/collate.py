"""Batching: pad variable-length objects into tensors with boolean masks; length bucketing.

``mask`` is True for real observations / valid spectral bins and False for padding.  Models must use
it (key-padding masks, masked pooling) so that an object's embedding never depends on its batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import torch

from .preprocess import ProcessedLightCurve, ProcessedSpectrum

__all__ = ["LightCurveBatch", "SpectrumBatch", "collate_lightcurves", "collate_spectra", "uncollate_lightcurves",
           "length_buckets"]


class _BatchMixin:
    def to(self, device):
        """Move every tensor to ``device`` (returns a new batch)."""
        return type(self)(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})

    def __len__(self) -> int:
        return int(self.mask.shape[0])


@dataclass
class LightCurveBatch(_BatchMixin):
    """Padded light curves.  Shapes: (B, L) except ``log_scale`` (B,).

    ``time`` days since the reference epoch; ``flux``/``flux_err`` scaled by the object's scale;
    ``wavelength`` band effective wavelength (Å); ``band_id`` index into the model's band vocabulary
    (0 = not in the vocabulary, also used for padding); ``mask`` True on real observations.
    """

    time: torch.Tensor
    flux: torch.Tensor
    flux_err: torch.Tensor
    wavelength: torch.Tensor
    band_id: torch.Tensor
    mask: torch.Tensor
    log_scale: torch.Tensor


@dataclass
class SpectrumBatch(_BatchMixin):
    """Spectra on a common grid.  Shapes: (B, P) except ``log_scale`` (B,).  ``wavelength`` in Å."""

    flux: torch.Tensor
    flux_err: torch.Tensor
    wavelength: torch.Tensor
    mask: torch.Tensor
    log_scale: torch.Tensor


def collate_lightcurves(items: Sequence[ProcessedLightCurve], band_vocab: Sequence[str] = (),
                        pad_to: int | None = None) -> LightCurveBatch:
    """Pad processed light curves to the longest one (or ``pad_to``).

    ``band_vocab`` lists the bands that get ids 1..V (0 = unknown band or padding).
    """
    if len(items) == 0:
        raise ValueError("collate_lightcurves: empty list of light curves")
    lengths = np.array([len(x) for x in items])
    L = int(lengths.max()) if pad_to is None else int(pad_to)
    if L < lengths.max():
        raise ValueError(f"collate_lightcurves: pad_to={pad_to} is shorter than the longest light curve "
                         f"({lengths.max()})")
    B = len(items)
    vocab = {b: i + 1 for i, b in enumerate(band_vocab)}
    arr = {k: np.zeros((B, L), dtype=np.float32) for k in ("time", "flux", "flux_err", "wavelength")}
    band_id = np.zeros((B, L), dtype=np.int64)
    mask = np.arange(L)[None, :] < lengths[:, None]
    for i, x in enumerate(items):
        n = len(x)
        arr["time"][i, :n] = x.time
        arr["flux"][i, :n] = x.flux
        arr["flux_err"][i, :n] = x.flux_err
        arr["wavelength"][i, :n] = x.wavelength
        band_id[i, :n] = [vocab.get(b, 0) for b in x.band.tolist()]
    log_scale = np.array([x.log_scale for x in items], dtype=np.float32)
    return LightCurveBatch(**{k: torch.from_numpy(v) for k, v in arr.items()}, band_id=torch.from_numpy(band_id),
                           mask=torch.from_numpy(mask), log_scale=torch.from_numpy(log_scale))


def collate_spectra(items: Sequence[ProcessedSpectrum]) -> SpectrumBatch:
    """Stack processed spectra (all on the same grid)."""
    if len(items) == 0:
        raise ValueError("collate_spectra: empty list of spectra")
    P = len(items[0].flux)
    if any(len(x.flux) != P for x in items):
        raise ValueError("collate_spectra: spectra are on different grids; preprocess them with one config")
    stack = lambda name, dt=np.float32: torch.from_numpy(np.stack([getattr(x, name) for x in items]).astype(dt))  # noqa: E731
    return SpectrumBatch(flux=stack("flux"), flux_err=stack("flux_err"), wavelength=stack("wavelength"),
                         mask=stack("mask", bool),
                         log_scale=torch.tensor([x.log_scale for x in items], dtype=torch.float32))


def uncollate_lightcurves(batch: LightCurveBatch) -> list[dict[str, np.ndarray]]:
    """Inverse of padding: per-object dicts of the unpadded arrays (for checks and debugging)."""
    out = []
    for i in range(len(batch)):
        m = batch.mask[i].numpy()
        out.append({k: getattr(batch, k)[i].numpy()[m] for k in ("time", "flux", "flux_err", "wavelength",
                                                                   "band_id")}
                   | {"log_scale": float(batch.log_scale[i])})
    return out


def length_buckets(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Split indices into batches of similar length (sorted by length, stable) to minimise padding.

    Concatenating the returned index arrays gives a permutation of ``range(len(lengths))``; callers
    restore the input order with it.
    """
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size: must be a positive integer, got {batch_size!r}")
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
