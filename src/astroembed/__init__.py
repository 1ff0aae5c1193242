"""astroembed: multimodal (light curve + spectrum) foundation models for supernovae.

>>> import astroembed as ae
>>> model = ae.load_pretrained("maven")                       # doctest: +SKIP
>>> E = model.embed_lightcurve(lightcurves)                   # doctest: +SKIP
>>> S = model.embed_spectrum(spectra)                         # doctest: +SKIP
>>> hits = ae.cross_modal_search(E[:1], ae.EmbeddingIndex(S), k=10)   # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

from .data import bands
from .data.bands import list_bands, register_band
from .data.containers import LightCurve, Spectrum
from .models.registry import list_models
from .pretrained import load_pretrained
from .search import EmbeddingIndex, SearchResult
from .sklearn import LightCurveEmbedder, SpectrumEmbedder
from .tasks import KNNClassification, cross_modal_search, knn_classify, zero_shot_redshift

__all__ = [
    "__version__", "LightCurve", "Spectrum", "register_band", "list_bands", "bands", "load_pretrained",
    "list_models", "EmbeddingIndex", "SearchResult", "cross_modal_search", "zero_shot_redshift", "knn_classify",
    "KNNClassification", "LightCurveEmbedder", "SpectrumEmbedder",
]


def __getattr__(name):  # lazy sub-packages with heavier imports
    if name in ("simulate", "datasets", "evaluate"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'astroembed' has no attribute {name!r}")
