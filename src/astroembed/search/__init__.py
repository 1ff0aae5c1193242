"""Vector search over embeddings.

* :class:`EmbeddingIndex` (``index.py``): exact or approximate (faiss) nearest-neighbour search with
  user ids and metadata, ``save`` / ``load``, and ``index_factory="auto"`` (exact when small, else an
  IVF index tuned on the data to recall@10 ≥ 0.95; ``_auto.py``);
* :class:`SearchResult` (``result.py``);
* :func:`write_embeddings` / :func:`read_embeddings` (``files.py``): embedding tables as Parquet.

Backends (private): ``_faiss.py`` (faiss, GPU when ``faiss.get_num_gpus() > 0``) and ``_torch.py``
(exact torch top-k when faiss is absent).  Importing this package imports neither faiss nor torch.
"""

from __future__ import annotations

#: set to True to silence the one-time "faiss is not installed" hint
_hint_shown = False

from ._auto import AUTO_EXACT_MAX_VECTORS, AUTO_MIN_SPEEDUP, AUTO_TARGET_RECALL, AUTO_TUNE_QUERIES  # noqa: E402
from ._inputs import CHUNK_ROWS, RESERVED_COLUMNS, as_vectors, check_k  # noqa: E402
from ._store import FORMAT_NAME, FORMAT_VERSION  # noqa: E402
from .files import read_embeddings, write_embeddings  # noqa: E402
from .index import BACKENDS, METRICS, EmbeddingIndex  # noqa: E402
from .result import SearchResult  # noqa: E402

__all__ = [
    "EmbeddingIndex", "SearchResult", "write_embeddings", "read_embeddings", "as_vectors", "check_k",
    "METRICS", "BACKENDS", "RESERVED_COLUMNS", "CHUNK_ROWS", "FORMAT_NAME", "FORMAT_VERSION",
    "AUTO_EXACT_MAX_VECTORS", "AUTO_TARGET_RECALL", "AUTO_MIN_SPEEDUP", "AUTO_TUNE_QUERIES",
]
