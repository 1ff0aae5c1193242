"""The result of :meth:`astroembed.EmbeddingIndex.search`: :class:`SearchResult`."""

from __future__ import annotations

import numpy as np


class SearchResult:
    """Result of :meth:`EmbeddingIndex.search`: unpacks as ``scores, ids = result``.

    Attributes
    ----------
    scores : numpy.ndarray, float32, (n_queries, n_cols)
        Similarities (cosine / ip: higher is closer) or squared L2 distances (l2: lower is closer),
        best first.  ``n_cols = min(k, len(index))``.
    ids : numpy.ndarray, (n_queries, n_cols)
        The user ids of the neighbours in rank order: int64, or an object array of ``str``.
    indices : numpy.ndarray, int64, (n_queries, n_cols)
        Row positions of the neighbours in the index (order of ``add``).
    metadata : pandas.DataFrame
        One row per (query, neighbour) in long format: columns ``query`` (query row), ``rank``
        (0 = best), ``id``, ``score``, then the index's metadata columns.  Built on first access.

    Examples
    --------
    >>> import numpy as np, astroembed as ae
    >>> index = ae.EmbeddingIndex(np.eye(3), ids=["a", "b", "c"], metadata={"z": [0.1, 0.2, 0.3]})
    >>> scores, ids = index.search([1.0, 0.1, 0.0], k=2)
    >>> ids.tolist()
    [['a', 'b']]
    >>> index.search([1.0, 0.1, 0.0], k=2).metadata[["rank", "id", "z"]].to_dict("list")
    {'rank': [0, 1], 'id': ['a', 'b'], 'z': [0.1, 0.2]}
    """

    __slots__ = ("scores", "ids", "indices", "_meta_source", "_metadata")

    def __init__(self, scores: np.ndarray, ids: np.ndarray, indices: np.ndarray, meta_source=None):
        self.scores = scores
        self.ids = ids
        self.indices = indices
        self._meta_source = meta_source
        self._metadata = None

    def __iter__(self):
        yield self.scores
        yield self.ids

    def __len__(self) -> int:
        return 2

    def __getitem__(self, i):
        return (self.scores, self.ids)[i]

    @property
    def metadata(self):
        if self._metadata is None:
            import pandas as pd

            nq, nc = self.indices.shape
            cols = {"query": np.repeat(np.arange(nq, dtype=np.int64), nc),
                    "rank": np.tile(np.arange(nc, dtype=np.int64), nq),
                    "id": self.ids.ravel(),
                    "score": self.scores.ravel()}
            df = pd.DataFrame(cols)
            src = self._meta_source
            if src is not None and len(src.columns):
                extra = src.iloc[self.indices.ravel()].reset_index(drop=True)
                df = pd.concat([df, extra], axis=1)
            self._metadata = df
        return self._metadata

    def __repr__(self) -> str:
        return f"SearchResult(n_queries={self.scores.shape[0]}, k={self.scores.shape[1]})"
