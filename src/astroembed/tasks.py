"""Tasks in the embedding space: cross-modal retrieval, zero-shot redshifts, kNN classification.

All three are nearest-neighbour queries against an :class:`~astroembed.search.EmbeddingIndex`
(cosine similarity on unit vectors unless a prebuilt index with another metric is given).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .knn import as_index, check_weights, neighbour_weights, neighbours
from .search import EmbeddingIndex, SearchResult, as_vectors, check_k

__all__ = ["cross_modal_search", "zero_shot_redshift", "knn_classify", "KNNClassification"]

# ---------------------------------------------------------------------------------------- helpers
def _query_objects(query):
    """The list of LightCurve/Spectrum objects in ``query``, or None when it is an array."""
    from .data.containers import LightCurve, Spectrum

    kinds = (LightCurve, Spectrum)
    if isinstance(query, kinds):
        return [query]
    if isinstance(query, (list, tuple)):
        if len(query) == 0:
            raise ValueError("query: empty list; give at least one LightCurve/Spectrum or embedding")
        if any(isinstance(o, kinds) for o in query):
            objs = list(query)
            if all(isinstance(o, LightCurve) for o in objs) or all(isinstance(o, Spectrum) for o in objs):
                return objs
            bad = sorted({type(o).__name__ for o in objs})
            raise TypeError(f"query: a list must hold only LightCurve or only Spectrum objects, got {bad}")
    return None


def _embed(objs, model) -> np.ndarray:
    from .data.containers import LightCurve

    kind = "lightcurve" if isinstance(objs[0], LightCurve) else "spectrum"
    if model is None:
        raise TypeError(f"model: required to embed {type(objs[0]).__name__} queries; pass "
                        "model=ae.load_pretrained('maven') (the model that built the index), or embed first")
    method = getattr(model, f"embed_{kind}", None)
    if not callable(method):
        raise TypeError(f"model: {type(model).__name__} has no embed_{kind}() method")
    return method(objs)


# ---------------------------------------------------------------------------------------- tasks
def cross_modal_search(query, index, *, model=None, k: int = 10) -> SearchResult:
    """Search an index with light curves, spectra or their embeddings (any modality pairing).

    Because the model maps light curves and spectra into one shared space, a light-curve embedding
    can be searched against an index of spectrum embeddings (and the reverse), or against an index of
    the same modality.

    Parameters
    ----------
    query : array_like (n, D) or (D,), LightCurve, Spectrum, or list of one of them
        Query embeddings, or objects to embed with ``model.embed_lightcurve`` /
        ``model.embed_spectrum`` (then ``model`` is required).
    index : EmbeddingIndex or array_like (N, D)
        The catalogue to search; a plain array is wrapped in an exact cosine index.
    model : astroembed model, optional
        The model that produced the index embeddings (needed for object queries only).
    k : int
        Neighbours per query (>= 1); results have ``min(k, len(index))`` columns.

    Returns
    -------
    SearchResult
        Unpacks as ``(scores, ids)``: cosine similarities (dimensionless, best first) and the
        index ids, both (n, min(k, N)); ``.metadata`` holds the hits' metadata.

    Raises
    ------
    TypeError
        Object queries without ``model``, mixed light curves and spectra, unsupported index type.
    ValueError
        Wrong query dimension, empty query list, ``k <= 0``, empty index.

    Examples
    --------
    >>> import numpy as np, astroembed as ae
    >>> rng = np.random.default_rng(1)
    >>> spectra_emb = rng.normal(size=(50, 8)).astype("float32")
    >>> index = ae.EmbeddingIndex(spectra_emb, ids=np.arange(100, 150))
    >>> lc_emb = spectra_emb[:2] + 0.01 * rng.normal(size=(2, 8))   # paired light-curve embeddings
    >>> scores, ids = ae.cross_modal_search(lc_emb, index, k=3)
    >>> ids[:, 0].tolist()
    [100, 101]

    With a model: ``ae.cross_modal_search(lightcurves, spectrum_index, model=model, k=10)``.
    """
    k = check_k(k)
    if not isinstance(index, EmbeddingIndex):
        if isinstance(index, (np.ndarray, list, tuple)) or hasattr(index, "__array__"):
            index = as_index(index, "index")
        else:
            raise TypeError(f"index: expected an EmbeddingIndex or an (N, D) array, got {type(index).__name__}")
    objs = _query_objects(query)
    vectors = _embed(objs, model) if objs is not None else query
    vectors = as_vectors("query", vectors, index.dim, allow_1d=True)
    return index.search(vectors, k)


def zero_shot_redshift(query, reference, reference_redshift, *, k: int = 100, weights: str = "distance",
                       exclude_self: bool = False, eps: float = 1e-6, query_ids=None,
                       reference_ids=None) -> tuple[np.ndarray, np.ndarray]:
    """Redshifts from the k nearest reference embeddings (no training).

    For each query, the ``k`` reference embeddings of highest cosine similarity are found and

    * ``weights="distance"``: ``w_j = 1 / (d_j + eps)`` with the cosine distance
      ``d_j = 1 - cos(query, ref_j)`` (clipped to [0, 2]), as in the simulation-pretrained
      foundation model paper (k = 100, distance weighting);
    * ``weights="uniform"``: ``w_j = 1``;

    ``z = Σ w_j z_j / Σ w_j`` and ``z_err = sqrt(Σ w_j (z_j - z)² / Σ w_j)`` (weighted standard
    deviation of the neighbours' redshifts, no Bessel correction).  ``z_err`` measures the spread
    of the neighbours, not a calibrated posterior width.

    Parameters
    ----------
    query : array_like, (n, D) or (D,)
        Query embeddings.  (0, D) gives empty outputs.
    reference : array_like (N, D) or EmbeddingIndex
        Reference embeddings with known redshifts, or a prebuilt index (rows in ``add`` order;
        a ``metric="l2"`` index uses Euclidean distances, ``"ip"`` only supports uniform weights).
    reference_redshift : array_like, (N,)
        Redshifts of the references (dimensionless), finite.
    k : int
        Number of neighbours (>= 1).  ``k`` larger than the reference set uses all references and
        warns.
    weights : {"distance", "uniform"}
        Neighbour weighting, see above.
    exclude_self : bool
        Leave-one-out at object level: every reference row that is the query itself (an identical
        embedding, or a row with the query's object id when ids are given) is excluded.  With
        ``False`` (default) such self-matches are detected and reported with a ``UserWarning``.
    eps : float
        Added to the distance before inverting (caps the weight of an identical embedding).
    query_ids, reference_ids : array_like, optional
        Object ids of the queries and of the references (both or neither; ids may repeat, e.g.
        several spectra of one object).  Used to detect and exclude self-matches.

    Returns
    -------
    z : numpy.ndarray, float64, (n,)
        Estimated redshifts.
    z_err : numpy.ndarray, float64, (n,)
        Weighted standard deviation of the neighbours' redshifts.

    Raises
    ------
    ValueError
        Unequal reference lengths, NaN/inf redshifts, dimension mismatch, ``k <= 0``, empty reference.
    TypeError
        Non-integer ``k``, non-numeric inputs.

    Examples
    --------
    >>> import numpy as np, astroembed as ae
    >>> z_ref = np.linspace(0.01, 0.5, 50)
    >>> emb = lambda z: np.stack([np.cos(3 * z), np.sin(3 * z)], axis=1)  # embeddings that encode z
    >>> z, z_err = ae.zero_shot_redshift(emb(np.array([0.2025, 0.3025])), emb(z_ref), z_ref, k=4)
    >>> np.round(z, 2).tolist(), bool((z_err < 0.02).all())
    ([0.2, 0.3], True)
    """
    eps = check_weights(weights, eps)
    check_k(k)
    z_ref = _as_redshift(reference_redshift)
    reference = as_index(reference)
    n_ref = reference.ntotal
    if len(z_ref) != n_ref:
        raise ValueError(f"reference_redshift: length mismatch, {len(z_ref)} redshifts for {n_ref} reference "
                         "embeddings")
    S, nbr, index = neighbours(query, reference, k, exclude_self, "zero_shot_redshift", query_ids, reference_ids)
    if nbr.shape[0] == 0:
        return np.zeros(0), np.zeros(0)
    w = neighbour_weights(S, index.metric, weights, eps)
    zn = z_ref[nbr]
    wsum = w.sum(axis=1)
    z = (w * zn).sum(axis=1) / wsum
    var = (w * (zn - z[:, None]) ** 2).sum(axis=1) / wsum
    return z, np.sqrt(np.clip(var, 0.0, None))


def _as_redshift(values) -> np.ndarray:
    if isinstance(values, (str, bytes)) or values is None:
        raise TypeError(f"reference_redshift: expected a 1-D array of numbers, got {type(values).__name__}")
    if hasattr(values, "filled") and hasattr(values, "mask"):
        values = np.ma.filled(np.ma.asarray(values, dtype=np.float64), np.nan)
    arr = np.asarray(values)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"reference_redshift: expected numbers, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"reference_redshift: expected a 1-D array, got shape {arr.shape}")
    arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"reference_redshift: {int(bad.sum())} NaN/inf value(s) at rows "
                         f"{np.flatnonzero(bad)[:5].tolist()}; drop those references first")
    return arr


class KNNClassification(NamedTuple):
    """Result of :func:`knn_classify`.

    Attributes
    ----------
    labels : numpy.ndarray, (n,)
        Predicted class of each query (the class of highest probability; ties go to the class that
        sorts first).
    proba : numpy.ndarray, float64, (n, n_classes)
        Class probabilities (weighted neighbour votes), rows sum to 1; columns follow ``classes``.
    classes : numpy.ndarray, (n_classes,)
        Sorted unique reference labels.
    """

    labels: np.ndarray
    proba: np.ndarray
    classes: np.ndarray

    def to_frame(self):
        """The probabilities as a pandas DataFrame (one column per class) with a ``label`` column first.

        Examples
        --------
        >>> import numpy as np, astroembed as ae
        >>> r = ae.knn_classify([[0.9, 0.1], [0.2, 0.8]], np.eye(2), ["Ia", "II"], k=1)
        >>> list(r.to_frame().columns)
        ['label', 'II', 'Ia']
        """
        import pandas as pd

        df = pd.DataFrame(self.proba, columns=[str(c) for c in self.classes])
        df.insert(0, "label", self.labels)
        return df


def knn_classify(query, reference, reference_labels, *, k: int = 15, weights: str = "distance",
                 exclude_self: bool = False, eps: float = 1e-6, query_ids=None,
                 reference_ids=None) -> KNNClassification:
    """Classify embeddings by a weighted vote of their k nearest reference embeddings.

    Weights as in :func:`zero_shot_redshift`: ``1 / (cosine distance + eps)`` or uniform.  The
    probability of class c is the summed weight of the neighbours of class c over the total weight.

    Parameters
    ----------
    query : array_like, (n, D) or (D,)
        Query embeddings.
    reference : array_like (N, D) or EmbeddingIndex
        Labelled reference embeddings (or a prebuilt index, rows in ``add`` order).
    reference_labels : array_like, (N,)
        Class of each reference (str or int; no None/NaN).
    k : int
        Number of neighbours (>= 1, default 15; clipped to the reference size with a warning).
        Choose it on training folds, never on the test set.
    weights : {"distance", "uniform"}
        Neighbour weighting.
    exclude_self : bool
        Object-level leave-one-out, as in :func:`zero_shot_redshift`.
    eps : float
        Added to the cosine distance before inverting.
    query_ids, reference_ids : array_like, optional
        Object ids for self-match detection/exclusion, as in :func:`zero_shot_redshift`.

    Returns
    -------
    KNNClassification
        ``(labels, proba, classes)``; ``.to_frame()`` gives a DataFrame.

    Raises
    ------
    ValueError
        Unequal lengths, missing labels, dimension mismatch, ``k <= 0``, empty reference.

    Examples
    --------
    >>> import numpy as np, astroembed as ae
    >>> ref = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]])
    >>> res = ae.knn_classify([[1, 0.05], [0.05, 1]], ref, ["Ia", "Ia", "II", "II"], k=2)
    >>> res.labels.tolist(), res.classes.tolist()
    (['Ia', 'II'], ['II', 'Ia'])
    """
    eps = check_weights(weights, eps)
    check_k(k)
    labels = _as_labels(reference_labels)
    reference = as_index(reference)
    if len(labels) != reference.ntotal:
        raise ValueError(f"reference_labels: length mismatch, {len(labels)} labels for {reference.ntotal} "
                         "reference embeddings")
    try:
        classes, codes = np.unique(labels, return_inverse=True)
    except TypeError:
        raise TypeError("reference_labels: mixed label types (e.g. str and int); convert them to one type") from None
    S, nbr, index = neighbours(query, reference, k, exclude_self, "knn_classify", query_ids, reference_ids)
    nq = nbr.shape[0]
    proba = np.zeros((nq, len(classes)), dtype=np.float64)
    if nq:
        w = neighbour_weights(S, index.metric, weights, eps)
        np.add.at(proba, (np.repeat(np.arange(nq), nbr.shape[1]), codes.ravel()[nbr].ravel()), w.ravel())
        proba /= proba.sum(axis=1, keepdims=True)
    return KNNClassification(classes[np.argmax(proba, axis=1)] if nq else classes[:0], proba, classes)


def _as_labels(values) -> np.ndarray:
    if isinstance(values, (str, bytes)) or values is None:
        raise TypeError(f"reference_labels: expected one label per reference (a 1-D array), got {type(values).__name__}")
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"reference_labels: expected a 1-D array, got shape {arr.shape}")
    if arr.dtype.kind == "O":
        missing = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in arr], dtype=bool)
    elif arr.dtype.kind == "f":
        missing = np.isnan(arr)
    else:
        missing = np.zeros(len(arr), dtype=bool)
    if missing.any():
        raise ValueError(f"reference_labels: {int(missing.sum())} missing label(s) (None/NaN) at rows "
                         f"{np.flatnonzero(missing)[:5].tolist()}; drop those references first")
    return arr
