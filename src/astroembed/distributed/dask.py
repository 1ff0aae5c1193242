"""``embed_dask``: embed a Dask DataFrame partition by partition on a Dask cluster.

Light curves (long format, one row per observation) are first shuffled by object id so that all rows
of an object are in one partition (skip with ``shuffle=False`` when the data are already partitioned
by id).  Each partition goes through :func:`astroembed.embed_table` (the vectorised path).

The model is **not** shipped with every task: given by name or directory (``"maven"``,
``"/shared/models/my-run"``) each worker process loads it once and keeps it (:func:`worker_model`);
given as an object, it is put in the graph once as a single key, so each worker receives it once.
"""

from __future__ import annotations

import os
import threading
import uuid

import numpy as np

__all__ = ["embed_dask", "worker_model"]

_CACHE: dict = {}
_LOCK = threading.Lock()


def worker_model(spec, threads: int | None = None):
    """The model ``spec`` (name or directory) loaded once per process and cached; ``threads`` sets
    ``torch.set_num_threads`` in that process (``None``: leave it)."""
    key = str(spec)
    with _LOCK:
        model = _CACHE.get(key)
        if model is None:
            from ..models.pretrained import load_pretrained

            model = _CACHE[key] = load_pretrained(spec)
    if threads is not None:
        import torch

        torch.set_num_threads(int(threads))
    return model


def _columns_meta(dim: int, id_column: str, id_dtype):
    import pandas as pd

    return pd.DataFrame({f"e{i}": np.zeros(0, dtype=np.float32) for i in range(dim)},
                        index=pd.Index([], dtype=id_dtype, name=id_column))


def _embed_partition(pdf, model, kind, id_column, dim, id_dtype, threads, kwargs):
    import pandas as pd

    from ..table import embed_table

    if isinstance(model, (str, os.PathLike)):
        model = worker_model(model, threads)
    elif threads is not None:
        import torch

        torch.set_num_threads(int(threads))
    if len(pdf) == 0:
        return _columns_meta(dim, id_column, id_dtype)
    if kind == "spectrum" and id_column not in pdf.columns:
        pdf = pdf.reset_index()
    ids, E = embed_table(pdf, model, kind, id_column=id_column, progress=False, **kwargs)
    return pd.DataFrame(E, index=pd.Index(ids, name=id_column).astype(id_dtype),
                        columns=[f"e{i}" for i in range(dim)])


def embed_dask(ddf, model="maven", kind: str = "lightcurve", id_column: str = "object_id", *,
               shuffle: bool | None = None, threads_per_task: int | None = None, **kwargs):
    """Embed a Dask DataFrame; returns a lazy Dask DataFrame indexed by object id with float32 columns
    ``e0 … e{D-1}`` (call ``.compute()`` or ``.to_parquet(...)``).

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        ``kind="lightcurve"``: long format as for :func:`astroembed.embed_table` (``id_column`` a column;
        if it is the index it is reset first).  ``kind="spectrum"``: one row per spectrum.
    model : str, path or model
        Name/directory (loaded once per worker process) or a model object (sent once per worker).
    shuffle : bool, optional
        Shuffle light-curve rows by ``id_column`` so an object split across partitions is embedded
        whole (default True for light curves; ``False`` when the partitions already hold whole objects).
    threads_per_task : int, optional
        ``torch.set_num_threads`` inside each task (e.g. the cores per worker / threads per worker).
    kwargs
        ``errors``, ``batch_size``, ``survey``, ``dropna``, ``duplicates``, ``normalize`` for
        :func:`astroembed.embed_table`.

    Each object id appears once in the result (light curves).  Row order across partitions is not
    defined; sort or join on the index.
    """
    import dask
    import pandas as pd

    if kind not in ("lightcurve", "spectrum"):
        raise ValueError(f"kind: must be 'lightcurve' or 'spectrum', got {kind!r}")
    if id_column not in ddf.columns:
        if ddf.index.name == id_column:
            ddf = ddf.reset_index()
        elif kind == "lightcurve":
            raise ValueError(f"embed_dask: id_column {id_column!r} is neither a column nor the index; got columns "
                             f"{list(ddf.columns)}")
    if shuffle is None:
        shuffle = kind == "lightcurve"
    if shuffle:
        ddf = ddf.shuffle(on=id_column)
    local = worker_model(model) if isinstance(model, (str, os.PathLike)) else model
    dim = int(local.embed_dim)
    id_dtype = ddf.dtypes[id_column] if id_column in ddf.columns else ddf.index.dtype
    if isinstance(id_dtype, pd.CategoricalDtype):
        id_dtype = id_dtype.categories.dtype
    model_arg = model if isinstance(model, (str, os.PathLike)) else dask.delayed(
        model, name=f"astroembed-model-{uuid.uuid4().hex}", traverse=False)  # one key: sent once per worker
    meta = _columns_meta(dim, id_column, id_dtype)
    return ddf.map_partitions(_embed_partition, model_arg, kind, id_column, dim, id_dtype, threads_per_task,
                              kwargs, meta=meta, enforce_metadata=False, align_dataframes=False)
