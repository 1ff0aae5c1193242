"""Scale-out of embedding on Dask (extra ``astroembed[distributed]``): :func:`embed_dask` for a Dask
DataFrame of light curves (long format) or spectra, and :func:`embed_nested` / :func:`embed_catalog`
for nested-pandas frames and LSDB/HATS catalogs whose light curves are a nested column.

Imports dask only when used.  See ``docs/distributed.md``.
"""

from __future__ import annotations

import importlib

__all__ = ["embed_dask", "embed_nested", "embed_catalog", "worker_model"]

_LAZY = {"embed_dask": ".dask", "worker_model": ".dask", "embed_nested": ".nested", "embed_catalog": ".nested"}


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'astroembed.distributed' has no attribute {name!r}")
