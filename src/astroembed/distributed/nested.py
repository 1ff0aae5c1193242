"""Embeddings for nested-pandas frames and LSDB/HATS catalogs, whose light curves are a *nested column*
(one row per object, the photometry of each object in a nested sub-table — how LSDB and nested-pandas
hold ZTF and Rubin data).

:func:`embed_nested` adds float32 columns ``e0 … e{D-1}`` to a ``nested_pandas.NestedFrame``;
:func:`embed_catalog` does it partition by partition on an ``lsdb.Catalog`` (lazy, on its Dask
cluster), loading a named model once per worker process.  Needs ``pip install nested-pandas`` (and
``lsdb`` for catalogs).
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["embed_nested", "embed_catalog"]


def _prefix_columns(dim, prefix):
    return [f"{prefix}{i}" for i in range(dim)]


def embed_nested(nf, column: str = "lc", model="maven", *, kind: str = "lightcurve", prefix: str = "e",
                 errors: str = "raise", **kwargs):
    """Return ``nf`` with the embedding of each row's nested ``column`` as float32 columns
    ``{prefix}0 …``; rows whose nested table is empty or unusable raise or, with ``errors="coerce"``,
    get NaN.  The nested sub-columns follow the aliases of :func:`astroembed.embed_table`."""
    import pandas as pd

    from ..models.embedding import check_errors
    from ..table import embed_table
    from .dask import worker_model

    check_errors(errors)
    if kind != "lightcurve":
        raise ValueError("embed_nested: only kind='lightcurve' (nested photometry) is supported")
    if column not in nf.columns:
        raise ValueError(f"embed_nested: no nested column {column!r}; columns are {list(nf.columns)}")
    model = worker_model(model) if isinstance(model, (str, os.PathLike)) else model
    dim = int(model.embed_dim)
    out = np.full((len(nf), dim), np.nan, dtype=np.float32)
    if len(nf):
        flat = nf[column].nest.to_flat()
        # positional object ids (robust to a non-unique index): row i's observations are its list
        counts = np.asarray(nf[column].nest.len(), dtype=np.int64)
        flat = flat.reset_index(drop=True).assign(_astroembed_row=np.repeat(np.arange(len(nf)), counts))
        empty = np.flatnonzero(counts == 0)
        if len(empty) and errors == "raise":
            raise ValueError(f"embed_nested: row {int(empty[0])} (index {nf.index[empty[0]]!r}) has no "
                             f"observations in {column!r}; pass errors='coerce' for NaN")
        if len(flat):
            ids, E = embed_table(flat, model, kind, id_column="_astroembed_row", errors=errors, progress=False,
                                 **kwargs)
            out[np.asarray(ids, dtype=np.int64)] = E
    emb = pd.DataFrame(out, index=nf.index, columns=_prefix_columns(dim, prefix))
    return pd.concat([nf, emb], axis=1)  # one concat: no fragmented frame


def embed_catalog(catalog, column: str = "lc", model="maven", **kwargs):
    """Lazily add embedding columns to an ``lsdb.Catalog`` (``catalog.map_partitions`` of
    :func:`embed_nested`); ``.compute()`` it or write it with ``.to_hats(...)``.  ``model`` by name or
    directory is loaded once per worker process."""
    return catalog.map_partitions(embed_nested, column, model, **kwargs)
