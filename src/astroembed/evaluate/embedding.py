"""Embed a data set without letting one unusable item abort the batch.

A model whose ``embed_lightcurve`` / ``embed_spectrum`` accepts ``errors="coerce"`` returns a NaN row
for an item it cannot embed; for other models the items are checked first with the model's
``preprocess_lightcurve`` / ``preprocess_spectrum`` (when it has one) and only the usable ones are
embedded.  Either way the result keeps the input order, with NaN rows for the dropped items, and says
which items were dropped and why.
"""

from __future__ import annotations

import inspect

import numpy as np

__all__ = ["find_unusable", "embed_items", "embed_dataset_robust", "accepts_errors"]


def accepts_errors(fn) -> bool:
    """Whether the embedding method ``fn`` takes an explicit ``errors=`` keyword."""
    try:
        return "errors" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _preprocessor(model, modality: str):
    """The model's own preprocessing of ``modality`` (or its ``encoder``'s, e.g. the supervised baseline)."""
    return (getattr(model, f"preprocess_{modality}", None)
            or getattr(getattr(model, "encoder", None), f"preprocess_{modality}", None))


def find_unusable(model, modality: str, items) -> dict[int, str]:
    """``{item index: reason}`` for the items the model's preprocessing rejects (empty when the model has
    no preprocessing method to ask)."""
    prep = _preprocessor(model, modality)
    if prep is None:
        return {}
    bad = {}
    for i, o in enumerate(items):
        try:
            prep(o)
        except (ValueError, TypeError) as exc:
            bad[i] = str(exc)
    return bad


def _call(fn, items, **kw):
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        params = {}
    kw = {k: v for k, v in kw.items() if v is not None and (k in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()))}
    return np.asarray(fn(items, **kw), dtype=np.float64)


def embed_items(model, modality: str, items, *, batch_size: int | None = None):
    """Embed ``items`` with ``model.embed_<modality>``; returns ``(E, dropped)``.

    ``E`` is float64 (N, D) in input order with NaN rows for the items that could not be embedded;
    ``dropped`` maps their index to the reason.
    """
    items = list(items)
    fn = getattr(model, f"embed_{modality}")
    if accepts_errors(fn):
        E = _call(fn, items, errors="coerce", batch_size=batch_size, progress=False)
        bad = np.flatnonzero(~np.isfinite(E).all(axis=1))
        reasons = find_unusable(model, modality, [items[i] for i in bad]) if len(bad) else {}
        return E, {int(i): reasons.get(j, "could not be embedded (errors='coerce')") for j, i in enumerate(bad)}
    dropped = find_unusable(model, modality, items)
    keep = [i for i in range(len(items)) if i not in dropped]
    if not keep:
        return np.full((len(items), 0), np.nan), dropped
    part = _call(fn, [items[i] for i in keep], batch_size=batch_size, progress=False)
    if part.ndim != 2 or len(part) != len(keep):
        raise ValueError(f"model.embed_{modality}: expected ({len(keep)}, D), got shape {part.shape}")
    E = np.full((len(items), part.shape[1]), np.nan)
    E[keep] = part
    return E, dropped


def embed_dataset_robust(model, dataset, *, modalities=None, batch_size: int | None = None):
    """Embed every modality of ``dataset`` the model has; returns ``(emb, ok, dropped)``.

    ``emb``: ``{modality: (n_ok, D) float64}`` for the rows ``ok`` (bool, len(dataset)) that every
    modality could embed; ``dropped``: list of ``{"row", "object_id", "modality", "reason"}``.
    """
    from ..models.base import has_modality

    mods = ["lightcurve"]
    if getattr(dataset, "spectra", None) is not None:
        mods.append("spectrum")
    mods = [m for m in (modalities or mods) if has_modality(model, m)]
    if not mods:
        raise ValueError(f"the model embeds none of the data set's modalities ({mods or ['lightcurve']})")
    ids = np.asarray(dataset.object_ids, dtype=object)
    full, dropped = {}, []
    ok = np.ones(len(dataset), dtype=bool)
    for m in mods:
        items = dataset.lightcurves if m == "lightcurve" else dataset.spectra
        E, bad = embed_items(model, m, items, batch_size=batch_size)
        if E.shape[0] != len(dataset):
            raise ValueError(f"model.embed_{m}: expected ({len(dataset)}, D), got shape {E.shape}")
        full[m] = E
        for i, reason in sorted(bad.items()):
            ok[i] = False
            dropped.append({"row": int(i), "object_id": str(ids[i]), "modality": m, "reason": reason})
    return {m: E[ok] for m, E in full.items()}, ok, dropped
