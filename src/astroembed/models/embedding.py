"""The inference loop behind ``model.embed_lightcurve`` / ``embed_spectrum``: preprocess with the model's
config, sort by length into buckets, run under ``torch.inference_mode()`` in eval mode, move each batch
back to the CPU and restore the input order."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch

from ..data.collate import length_buckets

__all__ = ["as_container_list", "run_embedding", "PROGRESS_AUTO_THRESHOLD"]

#: ``progress=None`` shows a bar when more objects than this are embedded
PROGRESS_AUTO_THRESHOLD = 1000


def _is_table(obj) -> bool:
    return hasattr(obj, "colnames") or (hasattr(obj, "columns") and hasattr(obj, "iloc"))


def as_container_list(objs, cls) -> list:
    """One container, a table (through ``cls.from_table``) or an iterable of them → list of ``cls``."""
    if isinstance(objs, cls):
        return [objs]
    if _is_table(objs):
        return [cls.from_table(objs)]
    if isinstance(objs, (str, bytes)) or not isinstance(objs, Iterable):
        raise TypeError(f"expected an astroembed.{cls.__name__}, a table, or an iterable of them; got "
                        f"{type(objs).__name__}")
    out = []
    for i, o in enumerate(objs):
        if isinstance(o, cls):
            out.append(o)
        elif _is_table(o):
            out.append(cls.from_table(o))
        else:
            raise TypeError(f"item {i}: expected an astroembed.{cls.__name__} (or a table), got "
                            f"{type(o).__name__}")
    return out


def run_embedding(items: Sequence, *, preprocess: Callable, collate: Callable, encode: Callable,
                  length: Callable, dim: int, device: torch.device, batch_size: int, progress: bool | None,
                  normalize: bool, desc: str) -> np.ndarray:
    """Generic batched embedding loop; returns float32 C-contiguous (N, dim)."""
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size: must be a positive integer, got {batch_size!r}")
    n = len(items)
    out = np.zeros((n, dim), dtype=np.float32)
    if n == 0:
        return out
    processed = []
    for i, obj in enumerate(items):
        try:
            processed.append(preprocess(obj))
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"item {i} ({getattr(obj, 'object_id', None)!r}): {exc}") from exc
    buckets = length_buckets([length(p) for p in processed], int(batch_size))
    show = n > PROGRESS_AUTO_THRESHOLD if progress is None else bool(progress)
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc=desc, unit="obj")
    try:
        with torch.inference_mode():
            for idx in buckets:
                batch = collate([processed[i] for i in idx]).to(device)
                emb = encode(batch, normalize=normalize)
                out[idx] = emb.float().cpu().numpy()
                if bar is not None:
                    bar.update(len(idx))
    finally:
        if bar is not None:
            bar.close()
    return np.ascontiguousarray(out)
