"""astroembed: multimodal (light curve + spectrum) foundation models for supernovae.

>>> import astroembed as ae
>>> model = ae.load_pretrained("maven")                       # doctest: +SKIP
>>> E = model.embed_lightcurve(lightcurves)                   # doctest: +SKIP
>>> S = model.embed_spectrum(spectra)                         # doctest: +SKIP
>>> hits = ae.cross_modal_search(E[:1], ae.EmbeddingIndex(S), k=10)   # doctest: +SKIP

The public names are resolved lazily (module ``__getattr__``): ``import astroembed`` and building a
``LightCurve`` import neither torch nor scikit-learn; they load on the first call that needs them.
"""

from __future__ import annotations

import importlib

__version__ = "0.2.0.dev0"

#: public name -> module that defines it (relative to this package)
_LAZY = {
    "LightCurve": ".data.containers", "Spectrum": ".data.containers",
    "register_band": ".data.bands", "list_bands": ".data.bands",
    "load_pretrained": ".models.pretrained", "list_models": ".models.registry",
    "Embedder": ".models.base",
    "EmbeddingIndex": ".search", "SearchResult": ".search",
    "cross_modal_search": ".tasks", "zero_shot_redshift": ".tasks", "knn_classify": ".tasks",
    "KNNClassification": ".tasks",
    "AnomalyDetector": ".anomaly",
    "LightCurveEmbedder": ".sklearn", "SpectrumEmbedder": ".sklearn",
    "embed_table": ".table",
}
#: sub-packages reachable as attributes (``ae.simulate``) without importing them eagerly
_SUBMODULES = ("bands", "data", "models", "search", "tasks", "simulate", "datasets", "evaluate", "errors",
               "sklearn")

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    if name == "bands":
        return importlib.import_module(".data.bands", __name__)
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'astroembed' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))
