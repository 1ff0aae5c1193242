"""scikit-learn estimators that embed containers, for pipelines such as
``make_pipeline(LightCurveEmbedder(model), KNeighborsClassifier())``."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = ["LightCurveEmbedder", "SpectrumEmbedder"]


class _Embedder(TransformerMixin, BaseEstimator):
    _method = ""

    def __init__(self, model, batch_size: int = 256, normalize: bool = True):
        self.model = model
        self.batch_size = batch_size
        self.normalize = normalize

    def fit(self, X=None, y=None):
        """No-op (the model is pretrained); returns self."""
        self.n_features_in_ = 1
        return self

    def transform(self, X) -> np.ndarray:
        """Embed a list of containers → float32 array (n_samples, embed_dim)."""
        objs = list(X.ravel()) if isinstance(X, np.ndarray) else list(X)
        return getattr(self.model, self._method)(objs, batch_size=self.batch_size, normalize=self.normalize)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags


class LightCurveEmbedder(_Embedder):
    """Transformer mapping a list of :class:`astroembed.LightCurve` to embeddings (N, D).

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> import astroembed as ae
    >>> clf = make_pipeline(ae.LightCurveEmbedder(ae.load_pretrained()), KNeighborsClassifier(15))
    """

    _method = "embed_lightcurve"


class SpectrumEmbedder(_Embedder):
    """Transformer mapping a list of :class:`astroembed.Spectrum` to embeddings (N, D)."""

    _method = "embed_spectrum"
