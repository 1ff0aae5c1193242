"""The inference loop behind ``model.embed_lightcurve`` / ``embed_spectrum`` (every model family).

A family hands :func:`run_embedding` either

* a ``prepare(items) -> Prepared`` function that preprocesses all items at once (the vectorised path:
  one concatenated table, segment operations, padding straight into the batch tensors), or
* the per-item ``preprocess`` / ``collate`` / ``length`` functions (wrapped by :func:`prepare_per_item`).

The loop sorts the prepared items by length into buckets, runs ``encode`` under
``torch.inference_mode()``, moves each batch back to the CPU and restores the input order.

``errors="raise"`` (default) stops at the first item that cannot be preprocessed, naming its index and
``object_id``; ``errors="coerce"`` gives that item a row of NaN and keeps the output aligned with the
input (pandas convention).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ..data.collate import length_buckets

__all__ = ["as_container_list", "run_embedding", "default_batch_size", "CPU_BATCH_SIZE", "GPU_BATCH_SIZE", "Prepared", "prepare_per_item", "prepare_lightcurves",
           "prepare_packed_lightcurves", "check_errors",
           "item_error", "PROGRESS_AUTO_THRESHOLD", "ERRORS_CHOICES"]

#: ``progress=None`` shows a bar when more objects than this are embedded
PROGRESS_AUTO_THRESHOLD = 1000
#: accepted values of ``errors=``
ERRORS_CHOICES = ("raise", "coerce")
#: ``batch_size=None`` on a CPU: the fastest of 16-256 for the bundled model on the BTS table
#: (``benchmarks/bench_embed.py --batch-sweep``, docs/benchmarks.md); small batches keep the working set
#: in cache and waste less padding
CPU_BATCH_SIZE = 64
#: ``batch_size=None`` on a GPU: large batches amortise kernel launches
GPU_BATCH_SIZE = 4096


def default_batch_size(device) -> int:
    """The batch size used for ``batch_size=None`` on ``device``."""
    return GPU_BATCH_SIZE if getattr(device, "type", str(device)) == "cuda" else CPU_BATCH_SIZE


def check_errors(errors) -> str:
    """Validate an ``errors=`` argument."""
    if errors not in ERRORS_CHOICES:
        raise ValueError(f"errors: must be 'raise' or 'coerce', got {errors!r}")
    return errors


def item_error(i: int, obj, exc: Exception) -> Exception:
    """``exc`` re-raised with the item index and object id in front of its message."""
    oid = getattr(obj, "object_id", None)
    new = type(exc)(f"item {i} (object_id={oid!r}): {exc}") if isinstance(exc, (ValueError, TypeError)) else exc
    return new


def _is_table(obj) -> bool:
    return hasattr(obj, "colnames") or (hasattr(obj, "columns") and hasattr(obj, "iloc"))


def as_container_list(objs, cls, errors: str = "raise") -> list:
    """One container, a table (through ``cls.from_table``) or an iterable of them → list of ``cls``.

    With ``errors="coerce"`` an item that cannot be turned into a ``cls`` becomes ``None`` (its
    embedding will be a NaN row); with ``"raise"`` the error names the item index.
    """
    check_errors(errors)
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
            continue
        try:
            if not _is_table(o):
                raise TypeError(f"item {i}: expected an astroembed.{cls.__name__} (or a table), got "
                                f"{type(o).__name__}")
            try:
                out.append(cls.from_table(o))
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"item {i}: {exc}") from exc
        except (ValueError, TypeError):
            if errors == "raise":
                raise
            out.append(None)
    return out


@dataclass
class Prepared:
    """Items preprocessed for the encoder.

    ``index``: positions (ascending) in the input of the items that were prepared; ``lengths``: one per
    prepared item (for bucketing); ``collate(positions)``: a batch of the prepared items at
    ``positions`` (indices into ``index``); ``failures``: input position → exception (coerce mode).
    """

    index: np.ndarray
    lengths: np.ndarray
    collate: Callable[[np.ndarray], object]
    failures: dict[int, Exception] = field(default_factory=dict)


def prepare_per_item(items: Sequence, preprocess: Callable, collate: Callable, length: Callable,
                     errors: str = "raise") -> Prepared:
    """:class:`Prepared` from per-item functions (``None`` items count as failures)."""
    processed, index, failures = [], [], {}
    for i, obj in enumerate(items):
        try:
            if obj is None:
                raise ValueError("not a valid container (see the conversion error)")
            processed.append(preprocess(obj))
            index.append(i)
        except (ValueError, TypeError) as exc:
            if errors == "raise":
                raise item_error(i, obj, exc) from exc
            failures[i] = exc
    lengths = np.array([length(p) for p in processed], dtype=np.int64)
    return Prepared(index=np.asarray(index, dtype=np.int64), lengths=lengths,
                    collate=lambda pos: collate([processed[j] for j in pos]), failures=failures)


def prepare_packed_lightcurves(obs, cfg, band_vocab, index=None, failures=None) -> Prepared:
    """:class:`Prepared` from a :class:`~astroembed.data.packed.PackedObservations` (the vectorised kernel);
    ``index`` = input positions of its objects (default ``0..n-1``)."""
    from ..data.packed import collate_packed, preprocess_packed

    packed = preprocess_packed(obs, cfg)
    index = np.arange(len(obs), dtype=np.int64) if index is None else np.asarray(index, dtype=np.int64)
    return Prepared(index=index, lengths=packed.lengths,
                    collate=lambda pos: collate_packed(packed, pos, band_vocab), failures=dict(failures or {}))


def prepare_lightcurves(items: Sequence, cfg, band_vocab) -> Prepared:
    """:class:`Prepared` for :class:`~astroembed.data.containers.LightCurve` items (``None`` = failed
    conversion, coerce mode) through the vectorised kernel of :mod:`astroembed.data.packed`."""
    from ..data.packed import pack_lightcurves

    ok = [i for i, x in enumerate(items) if x is not None]
    failures = {i: ValueError("not a valid LightCurve") for i, x in enumerate(items) if x is None}
    return prepare_packed_lightcurves(pack_lightcurves([items[i] for i in ok]), cfg, band_vocab, ok, failures)


def run_embedding(items: Sequence, *, encode: Callable, dim: int, device: torch.device, batch_size: int | None,
                  progress: bool | None, normalize: bool, desc: str, errors: str = "raise",
                  prepare: Callable[[Sequence], Prepared] | None = None, preprocess: Callable | None = None,
                  collate: Callable | None = None, length: Callable | None = None) -> np.ndarray:
    """Generic batched embedding loop; returns float32 C-contiguous (N, dim).

    Give ``prepare`` (vectorised) or ``preprocess`` + ``collate`` + ``length`` (per item).  Rows of items
    that failed in ``errors="coerce"`` mode are NaN.  ``batch_size=None``: :func:`default_batch_size`.
    """
    check_errors(errors)
    if batch_size is None:
        batch_size = default_batch_size(device)
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size: must be a positive integer, got {batch_size!r}")
    n = len(items)
    out = np.zeros((n, dim), dtype=np.float32)
    if n == 0:
        return out
    if prepare is None:
        if preprocess is None or collate is None or length is None:
            raise TypeError("run_embedding: give prepare=... or preprocess=, collate= and length=")
        prep = prepare_per_item(items, preprocess, collate, length, errors)
    else:
        prep = prepare(items)
    if prep.failures:
        out[np.fromiter(prep.failures, dtype=np.int64)] = np.nan
    buckets = length_buckets(prep.lengths, int(batch_size)) if len(prep.index) else []
    show = n > PROGRESS_AUTO_THRESHOLD if progress is None else bool(progress)
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc=desc, unit="obj")
        bar.update(len(prep.failures))
    try:
        with torch.inference_mode():
            for pos in buckets:
                batch = prep.collate(pos).to(device)
                emb = encode(batch, normalize=normalize)
                out[prep.index[pos]] = emb.float().cpu().numpy()
                if bar is not None:
                    bar.update(len(pos))
    finally:
        if bar is not None:
            bar.close()
    return np.ascontiguousarray(out)
