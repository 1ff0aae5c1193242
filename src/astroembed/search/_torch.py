"""Exact top-k search with torch matrix products: the backend of :class:`EmbeddingIndex` when faiss
is not installed (or with ``backend="torch"``).  torch is imported when the backend is created,
never at import time of :mod:`astroembed.search`."""

from __future__ import annotations

import numpy as np

#: scores are computed per chunk of queries: at most this many floats at once
TORCH_CHUNK = 1 << 24


class TorchBackend:
    """Brute-force top-k (chunked over queries), on CUDA when asked and available.

    Parameters
    ----------
    dim : int
        Vector dimension.
    metric : {"cosine", "ip", "l2"}
        Cosine inputs are already unit length (the index normalises them).
    device : str
        ``"auto"`` (CUDA if available, else CPU), ``"cpu"`` or ``"cuda[:i]"``.
    """

    name = "torch"
    index_factory = "Flat"
    nprobe = ef_search = nlist = None
    is_trained = True
    on_gpu = False

    def __init__(self, dim: int, metric: str, device: str):
        import torch

        self.torch = torch
        self.dim, self.metric = dim, metric
        self._device = torch.device("cuda" if device == "auto" and torch.cuda.is_available()
                                    else "cpu" if device == "auto" else device)
        self._parts: list = []  # added blocks, concatenated lazily on the next search
        self._x = torch.zeros((0, dim), dtype=torch.float32, device=self._device)

    @property
    def device(self) -> str:
        return str(self._device)

    @property
    def ntotal(self) -> int:
        return int(self._x.shape[0]) + sum(int(p.shape[0]) for p in self._parts)

    def add(self, x: np.ndarray) -> None:
        """Store ``x`` (float32, (n, dim)); the array is taken over, not copied, on the CPU."""
        self._parts.append(self.torch.from_numpy(x).to(self._device))

    def _stored(self):
        if self._parts:
            blocks = ([self._x] if len(self._x) else []) + self._parts
            self._x = blocks[0] if len(blocks) == 1 else self.torch.cat(blocks, dim=0)
            self._parts = []
        return self._x

    def reconstruct_all(self) -> np.ndarray:
        return np.ascontiguousarray(self._stored().cpu().numpy(), dtype=np.float32)

    def search(self, q: np.ndarray, k: int):
        torch = self.torch
        x = self._stored()
        n = len(x)
        step = max(1, TORCH_CHUNK // max(n, 1))
        D = np.empty((len(q), k), dtype=np.float32)
        nbr = np.empty((len(q), k), dtype=np.int64)
        with torch.inference_mode():
            sq = (x * x).sum(1) if self.metric == "l2" else None
            for s in range(0, len(q), step):
                qt = torch.from_numpy(q[s:s + step]).to(self._device)
                sim = qt @ x.T
                if self.metric == "l2":
                    dist = ((qt * qt).sum(1, keepdim=True) - 2 * sim + sq[None, :]).clamp_min_(0)
                    vals, idx = torch.topk(dist, k, dim=1, largest=False, sorted=True)
                else:
                    vals, idx = torch.topk(sim, k, dim=1, largest=True, sorted=True)
                D[s:s + step] = vals.cpu().numpy()
                nbr[s:s + step] = idx.cpu().numpy()
        return D, nbr
