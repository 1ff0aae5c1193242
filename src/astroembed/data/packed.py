"""Vectorised light-curve preprocessing and padding over one concatenated table (many objects at once).

Objects are stored back to back (:class:`PackedObservations`: ``offsets[i]:offsets[i+1]`` are the rows
of object ``i``); bands are integer codes into a sorted array of canonical band names, so the band →
wavelength / vocabulary lookup runs once per distinct band, not per object.  :func:`preprocess_packed`
applies a :class:`~astroembed.data.preprocess.LightCurvePreprocessConfig` with segment operations
(``reduceat``, ``bincount``, ``lexsort``) and gives the same numbers as
:func:`~astroembed.data.preprocess.preprocess_lightcurve` on each object; :func:`collate_packed` pads
a subset of the objects straight into the batch tensors.

Both ``model.embed_lightcurve`` (containers) and :func:`astroembed.embed_table` (tables) run on this
kernel.  Units: time in days (MJD in, relative days out), flux in µJy in, scaled out, wavelength in Å.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .preprocess import LightCurvePreprocessConfig

__all__ = ["PackedObservations", "PackedLightCurves", "pack_lightcurves", "preprocess_packed", "collate_packed",
           "factorize_bands"]


@dataclass
class PackedObservations:
    """Observations of many objects, concatenated: ``time`` (MJD), ``flux``/``flux_err`` (µJy, errors > 0),
    ``band_code`` (int, index into ``band_names``: sorted canonical band names), ``offsets`` (n + 1,
    every object at least one row; rows of an object sorted as a :class:`LightCurve` sorts them)."""

    time: np.ndarray
    flux: np.ndarray
    flux_err: np.ndarray
    band_code: np.ndarray
    band_names: np.ndarray
    offsets: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1


@dataclass
class PackedLightCurves:
    """Model-ready light curves, concatenated (the packed form of
    :class:`~astroembed.data.preprocess.ProcessedLightCurve`): ``time`` (days since the reference),
    ``flux``/``flux_err`` (scaled), ``band_code``, ``band_names``, ``band_wavelength`` (Å, one per
    band name), ``offsets`` and ``log_scale`` (n,)."""

    time: np.ndarray
    flux: np.ndarray
    flux_err: np.ndarray
    band_code: np.ndarray
    band_names: np.ndarray
    band_wavelength: np.ndarray
    offsets: np.ndarray
    log_scale: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1


def factorize_bands(bands) -> tuple[np.ndarray, np.ndarray]:
    """(codes int64, sorted unique names) of an array of band names (hash-based, one pass)."""
    import pandas as pd

    codes, names = pd.factorize(np.asarray(bands, dtype=object), sort=True)
    return codes.astype(np.int64), np.asarray(names, dtype=str)


def _offsets(lengths) -> np.ndarray:
    off = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=off[1:])
    return off


def pack_lightcurves(lcs) -> PackedObservations:
    """Concatenate :class:`~astroembed.data.containers.LightCurve` objects (no copies per object)."""
    if len(lcs) == 0:
        z = np.zeros(0)
        return PackedObservations(z, z, z, np.zeros(0, np.int64), np.zeros(0, str), np.zeros(1, np.int64))
    codes, names = factorize_bands(np.concatenate([lc.band for lc in lcs]))
    return PackedObservations(
        time=np.concatenate([lc.time for lc in lcs]), flux=np.concatenate([lc.flux for lc in lcs]),
        flux_err=np.concatenate([lc.flux_err for lc in lcs]), band_code=codes, band_names=names,
        offsets=_offsets([len(lc) for lc in lcs]))


def _merge_same_night(t, b, f, fe, seg, lens, window):
    order = np.lexsort((t, b, seg))
    t, b, f, fe, seg = t[order], b[order], f[order], fe[order], seg[order]
    new = np.ones(len(t), dtype=bool)
    new[1:] = (seg[1:] != seg[:-1]) | (b[1:] != b[:-1]) | (np.diff(t) > window)
    g = np.cumsum(new) - 1
    n = int(g[-1]) + 1
    w = 1.0 / fe**2
    wsum = np.bincount(g, w, n)
    tm = np.bincount(g, w * t, n) / wsum
    fm = np.bincount(g, w * f, n) / wsum
    fem = 1.0 / np.sqrt(wsum)
    single = lens[seg] == 1  # one-point objects are not merged (as in preprocess_lightcurve)
    tm[g[single]], fm[g[single]], fem[g[single]] = t[single], f[single], fe[single]
    bm, sm = b[new], seg[new]
    o = np.lexsort((bm, tm, sm))
    return tm[o], bm[o], fm[o], fem[o], sm[o]


def _truncate(t, b, f, fe, seg, off, cfg):
    lens = np.diff(off)
    long = lens > cfg.max_length
    n_rows = len(t)
    if cfg.truncate == "snr":
        order = np.lexsort((-(f / fe), seg))  # stable: ties keep their row order, as argsort(kind="stable")
        rank = np.empty(n_rows, dtype=np.int64)
        rank[order] = np.arange(n_rows) - off[seg[order]]
        keep = (rank < cfg.max_length) | ~long[seg]
    else:
        keep = ~long[seg]
        for i in np.flatnonzero(long):
            local = np.unique(np.round(np.linspace(0, lens[i] - 1, cfg.max_length)).astype(int))
            keep[off[i] + local] = True
    return t[keep], b[keep], f[keep], fe[keep], seg[keep]


def preprocess_packed(obs: PackedObservations, cfg: LightCurvePreprocessConfig) -> PackedLightCurves:
    """Apply ``cfg`` to every object of ``obs`` at once (same steps and numbers as
    :func:`~astroembed.data.preprocess.preprocess_lightcurve`)."""
    from .bands import band_wavelength

    n = len(obs)
    t, b, f, fe, off = obs.time, obs.band_code, obs.flux, obs.flux_err, obs.offsets
    lens = np.diff(off)
    if n and (lens < 1).any():
        i = int(np.flatnonzero(lens < 1)[0])
        raise ValueError(f"object {i}: no observations")
    seg = np.repeat(np.arange(n), lens)
    if cfg.merge_same_night and len(t):
        t, b, f, fe, seg = _merge_same_night(t, b, f, fe, seg, lens, cfg.night_window)
        off = _offsets(np.bincount(seg, minlength=n))
    if n and (np.diff(off) > cfg.max_length).any():
        t, b, f, fe, seg = _truncate(t, b, f, fe, seg, off, cfg)
        off = _offsets(np.bincount(seg, minlength=n))
    wl = (band_wavelength(obs.band_names) if len(obs.band_names) else np.zeros(0)).astype(np.float64)
    if n == 0:
        return PackedLightCurves(t, f, fe, b, obs.band_names, wl, off, np.zeros(0))
    starts = off[:-1]
    idx = np.arange(len(t))
    fmax = np.maximum.reduceat(f, starts)
    if cfg.time_reference == "peak":
        first = np.minimum.reduceat(np.where(f == fmax[seg], idx, len(t)), starts)
    else:
        first = np.minimum.reduceat(np.where(f / fe >= cfg.detection_snr, idx, len(t)), starts)
        first = np.where(first == len(t), starts, first)
    t0 = t[first]
    scale = np.where(fmax > 0, fmax, np.maximum.reduceat(fe, starts))
    scale = np.where((scale > 0) & np.isfinite(scale), scale, 1.0)
    s = scale[seg]
    return PackedLightCurves(time=t - t0[seg], flux=f / s, flux_err=fe / s, band_code=b, band_names=obs.band_names,
                             band_wavelength=wl, offsets=off, log_scale=np.log10(scale))


def collate_packed(p: PackedLightCurves, positions, band_vocab=(), pad_to: int | None = None):
    """A :class:`~astroembed.data.collate.LightCurveBatch` of objects ``positions`` of ``p``, padded
    straight into the batch tensors (same result as ``collate_lightcurves`` on the per-object items)."""
    import torch

    from .collate import LightCurveBatch

    pos = np.asarray(positions, dtype=np.int64)
    if len(pos) == 0:
        raise ValueError("collate_packed: empty list of light curves")
    lens = np.diff(p.offsets)[pos]
    B = len(pos)
    L = int(lens.max()) if pad_to is None else int(pad_to)
    if L < lens.max():
        raise ValueError(f"collate_packed: pad_to={pad_to} is shorter than the longest light curve ({lens.max()})")
    total = int(lens.sum())
    batch_start = np.repeat(_offsets(lens)[:-1], lens)
    cols = np.arange(total) - batch_start
    src = np.repeat(p.offsets[pos], lens) + cols
    flat = np.repeat(np.arange(B) * L, lens) + cols
    vocab = {name: i + 1 for i, name in enumerate(band_vocab)}
    code_to_id = np.array([vocab.get(name, 0) for name in p.band_names.tolist()], dtype=np.int64)
    codes = p.band_code[src]
    out = {}
    for name, values in (("time", p.time[src]), ("flux", p.flux[src]), ("flux_err", p.flux_err[src]),
                         ("wavelength", p.band_wavelength[codes])):
        ten = torch.zeros((B, L), dtype=torch.float32)
        ten.view(-1).numpy()[flat] = values
        out[name] = ten
    band_id = torch.zeros((B, L), dtype=torch.int64)
    band_id.view(-1).numpy()[flat] = code_to_id[codes] if len(code_to_id) else 0
    mask = torch.from_numpy(np.arange(L)[None, :] < lens[:, None])
    return LightCurveBatch(**out, band_id=band_id, mask=mask,
                           log_scale=torch.from_numpy(p.log_scale[pos].astype(np.float32)))
