"""Input validation for :mod:`astroembed.search`: vectors, ``k``, ids and metadata.

Vectors are checked and normalised in row chunks (:data:`CHUNK_ROWS`) in float32, so that adding
10^6 vectors never makes a float64 copy or a full-size boolean temporary of the input.
"""

from __future__ import annotations

import numbers

import numpy as np

RESERVED_COLUMNS = ("query", "rank", "id", "score")
#: rows per chunk when checking, normalising and adding vectors (bounds temporaries to ~CHUNK_ROWS x D)
CHUNK_ROWS = 1 << 14


def check_k(k, name: str = "k") -> int:
    """Return ``k`` as a positive int, or raise TypeError/ValueError naming ``name``."""
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (numbers.Integral, np.integer)):
        raise TypeError(f"{name}: expected a positive integer, got {type(k).__name__} {k!r}")
    if k <= 0:
        raise ValueError(f"{name}: must be a positive integer (>= 1), got {k}")
    return int(k)


def check_vectors(name: str, x, dim: int | None = None, *, allow_1d: bool = False) -> np.ndarray:
    """Check the shape and dtype of ``x`` and return it as a 2-D numpy array **without copying** when
    possible (dtype not yet converted, values not yet checked; see :func:`iter_checked_chunks`).

    Accepts numpy arrays, nested lists and torch tensors.  A 1-D input is one vector when
    ``allow_1d``.  The error messages name ``name`` and the expected/given dimensions.
    """
    if x is None:
        raise TypeError(f"{name}: expected a 2-D array of embeddings, got None")
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch tensor
        x = x.detach().cpu().numpy()
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name}: expected a 2-D array of embeddings, got a string")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists
        raise ValueError(f"{name}: cannot convert to a 2-D array of numbers ({exc})") from None
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{name}: expected a float array of embeddings, got dtype {arr.dtype}")
    if arr.ndim == 1 and allow_1d:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2:
        extra = " (a single (D,) vector is accepted for queries)" if allow_1d else ""
        raise ValueError(f"{name}: expected a 2-D array of shape (n, D){extra}, got shape {arr.shape}")
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(f"{name}: dimension mismatch, the index holds {dim}-D vectors but {name} has "
                         f"{arr.shape[1]} columns (shape {arr.shape}); embed with the same model as the index")
    if arr.shape[1] == 0:
        raise ValueError(f"{name}: vectors must have at least one dimension, got shape {arr.shape}")
    return arr


def _raise_non_finite(name: str, bad_rows: np.ndarray) -> None:
    raise ValueError(f"{name}: {len(bad_rows)} row(s) contain NaN/inf (or overflow float32), first at rows "
                     f"{bad_rows[:5].tolist()}; drop or fix them")


def _raise_zero(name: str, zero_rows: np.ndarray) -> None:
    raise ValueError(f"{name}: {len(zero_rows)} zero-length vector(s) at rows {zero_rows[:5].tolist()}"
                     "; cosine similarity is undefined for them (use metric='ip' or 'l2', or drop them)")


def row_norms(x: np.ndarray) -> np.ndarray:
    """Euclidean norms (float64) of the rows of a float32 array; callers pass chunks, so the float64
    accumulation never holds more than a chunk."""
    return np.sqrt(np.einsum("ij,ij->i", x, x, dtype=np.float64))


def validate_rows(name: str, arr: np.ndarray, *, need_norms: bool) -> np.ndarray | None:
    """Check every row of the (n, D) array is finite in float32 (and non-zero when ``need_norms``),
    one chunk at a time; return the float64 row norms when ``need_norms`` (else ``None``)."""
    n = len(arr)
    norms = np.empty(n, dtype=np.float64) if need_norms else None
    bad, zero = [], []
    for s in range(0, n, CHUNK_ROWS):
        with np.errstate(over="ignore"):  # float64 beyond float32 range becomes inf: reported below
            c = np.asarray(arr[s:s + CHUNK_ROWS], dtype=np.float32)
        finite = np.isfinite(c).all(axis=1)
        if not finite.all():
            bad.append(np.flatnonzero(~finite) + s)
        if need_norms:
            nrm = row_norms(c if finite.all() else np.where(finite[:, None], c, np.float32(0)))
            norms[s:s + CHUNK_ROWS] = nrm
            z = (nrm == 0) & finite
            if z.any():
                zero.append(np.flatnonzero(z) + s)
    if bad:
        _raise_non_finite(name, np.concatenate(bad))
    if zero:
        _raise_zero(name, np.concatenate(zero))
    return norms


def iter_checked_chunks(arr: np.ndarray, norms: np.ndarray | None, rows: int | None = None):
    """Yield ``(start, float32 C-contiguous chunk)``, each chunk divided by its row ``norms`` when
    given.  A chunk is a fresh array (never a view of the caller's data) whenever it is normalised
    or converted, so it may be modified in place."""
    rows = rows or CHUNK_ROWS
    for s in range(0, len(arr), rows):
        c = np.ascontiguousarray(arr[s:s + rows], dtype=np.float32)
        if norms is not None:
            c = c * (1.0 / norms[s:s + rows, None]).astype(np.float32)
        yield s, c


def as_vectors(name: str, x, dim: int | None = None, *, allow_1d: bool = False) -> np.ndarray:
    """Turn ``x`` into a C-contiguous float32 (n, dim) array of finite numbers, or raise.

    Accepts numpy arrays, nested lists and torch tensors.  A 1-D input is one vector when
    ``allow_1d``.  The error messages name ``name`` and the expected/given dimensions.
    """
    with np.errstate(over="ignore"):  # float64 beyond float32 range becomes inf: reported below
        arr = np.ascontiguousarray(check_vectors(name, x, dim, allow_1d=allow_1d), dtype=np.float32)
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        _raise_non_finite(name, np.flatnonzero(bad))
    return arr


def normalise(name: str, x: np.ndarray) -> np.ndarray:
    """Rows of the float32 array ``x`` scaled to unit length (a new float32 array).  For query-sized
    arrays; :meth:`EmbeddingIndex.add` normalises in chunks (:func:`iter_checked_chunks`)."""
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))  # float32: fast path for ordinary magnitudes
    if not (norms.min() > 1e-18 and np.isfinite(norms.max())):  # tiny/huge rows: redo in float64
        norms = row_norms(x)
        zero = norms == 0
        if zero.any():
            _raise_zero(name, np.flatnonzero(zero))
        return (x / norms[:, None]).astype(np.float32)
    return x / norms[:, None]


def as_ids(ids, n: int) -> np.ndarray:
    if isinstance(ids, (str, bytes)):
        raise TypeError("ids: expected one id per vector (a 1-D array), got a single string")
    if hasattr(ids, "to_numpy"):
        ids = ids.to_numpy()
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise ValueError(f"ids: expected a 1-D array, got shape {arr.shape}")
    if len(arr) != n:
        raise ValueError(f"ids: length mismatch, {len(arr)} ids for {n} vectors")
    if arr.dtype.kind == "O" and n and all(isinstance(v, str) for v in arr):
        arr = arr.astype(str)
    elif arr.dtype.kind == "O" and n and all(isinstance(v, (numbers.Integral, np.integer))
                                             and not isinstance(v, (bool, np.bool_)) for v in arr):
        arr = arr.astype(np.int64)
    if arr.dtype.kind == "U":
        return arr
    if arr.dtype.kind in "iu":
        if arr.dtype.kind == "u" and n and arr.max() > np.iinfo(np.int64).max:
            raise ValueError("ids: unsigned ids larger than int64 max are not supported")
        return arr.astype(np.int64)
    if n == 0:
        return arr.astype(np.int64)
    raise TypeError(f"ids: expected integers or strings, got dtype {arr.dtype} (e.g. {arr[:1].tolist()}); "
                    "convert them, e.g. ids.astype(str)")


def new_row_ids(ids, n: int, existing: np.ndarray) -> np.ndarray:
    """The ids of ``n`` vectors about to join an index holding ``existing`` ids, checked: unique, of
    the same kind (int / str) as ``existing`` and not among them.  ``ids=None``: continue the row
    positions (integer ids only)."""
    n_old = len(existing)
    str_index = existing.dtype.kind == "U"
    if ids is None:
        if str_index and n:
            raise ValueError("ids: this index has string ids, so ids are required when adding vectors")
        new = np.arange(n_old, n_old + n, dtype=np.int64)  # unique; may only clash with user-given ids
        check = not str_index and n_old and n and existing.max() >= n_old
    else:
        new = as_ids(ids, n)
        check = True
    if n_old and n and (new.dtype.kind == "U") != str_index:
        have = "string" if str_index else "integer"
        raise TypeError(f"ids: cannot mix string and integer ids; this index has {have} ids")
    if n and check:
        if ids is not None and len(np.unique(new)) != n:
            vals, counts = np.unique(new, return_counts=True)
            raise ValueError(f"ids: duplicate ids are not allowed, e.g. {vals[counts > 1][:5].tolist()}")
        if n_old:
            dup = np.isin(new, existing)
            if dup.any():
                raise ValueError(f"ids: already in the index: {new[dup][:5].tolist()}")
    return new


def append_metadata(old, new, n_old: int, n: int):
    """``old`` (rows of ``n_old`` vectors, or None) followed by ``new`` (``n`` rows, or None); None
    when both are None, else a DataFrame with NaN where a side lacks a column."""
    if new is None and old is None:
        return None
    import pandas as pd

    old = old if old is not None else pd.DataFrame(index=range(n_old))
    new = new if new is not None else pd.DataFrame(index=range(n))
    return pd.concat([old, new], axis=0, ignore_index=True)


def as_metadata(metadata, n: int):
    import pandas as pd

    if hasattr(metadata, "to_pandas") and not isinstance(metadata, pd.DataFrame):  # astropy Table
        try:
            metadata = metadata.to_pandas(index=False)
        except TypeError:
            metadata = metadata.to_pandas()
    if isinstance(metadata, pd.Series):
        metadata = metadata.to_frame()
    try:
        df = pd.DataFrame(metadata)
    except Exception as exc:
        raise TypeError(f"metadata: expected a pandas DataFrame, an astropy Table or a dict of columns ({exc})") from None
    if len(df) != n:
        raise ValueError(f"metadata: length mismatch, {len(df)} rows for {n} vectors")
    df.columns = [str(c) for c in df.columns]
    clash = sorted(set(df.columns) & set(RESERVED_COLUMNS))
    if clash:
        raise ValueError(f"metadata: column(s) {clash} clash with the columns SearchResult.metadata adds "
                         f"{list(RESERVED_COLUMNS)}; rename them (e.g. df.rename(columns={{'id': 'object_id'}}))")
    return df.reset_index(drop=True)
