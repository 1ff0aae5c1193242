"""Anomaly detection on the embedding of any model (``ae.AnomalyDetector``).

Methods
-------
``"mcif"`` (multi-class isolation forest, as ``astromcad``): one scikit-learn ``IsolationForest`` per
normal class, fitted on that class's embeddings; the anomaly score of an object is the **minimum over
classes** of the forest's anomaly score (``-score_samples``), so an object is normal when it looks
like at least one normal class.

``"knn"``: per class, the mean cosine distance to the ``n_neighbors`` nearest fitted objects of that
class; the score is the minimum over classes.

``"mahalanobis"`` (class-conditional Gaussians with a shared covariance; Lee, Lee, Lee & Shin 2018, "A
Simple Unified Framework for Detecting Out-of-Distribution Samples and Adversarial Attacks", NeurIPS):
one mean per normal class and one covariance shared by all classes, estimated on the class-centred
embeddings with Ledoit–Wolf shrinkage (Ledoit & Wolf 2004, J. Multivariate Anal. 88, 365) so that it is
well conditioned for D ~ N/10; the per-class score is the squared Mahalanobis distance to the class mean,
the score the minimum over classes (Lee et al.'s confidence score, sign flipped).

``"lof"`` (local outlier factor; Breunig, Kriegel, Ng & Sander 2000, SIGMOD): per class, scikit-learn's
``LocalOutlierFactor(novelty=True)`` with ``n_neighbors`` neighbours on the L2-normalised embedding — a
kNN distance *normalised by the local density* of the neighbours, so dense and sparse classes are
comparable; the per-class score is the LOF (≈ 1 inside the class, larger outside), the score the minimum.

``"ensemble"`` (score averaging after standardisation; Kriegel, Kröger, Schubert & Zimek 2011,
"Interpreting and Unifying Outlier Scores", SDM; Aggarwal & Sathe 2017, "Outlier Ensembles", Springer):
the ``"mcif"`` and ``"mahalanobis"`` detectors are fitted; each one's per-class scores are standardised
with the mean and standard deviation of that detector's (min-over-class) scores on the fitted objects, and
averaged; the score is the minimum over classes of that average.  (A z-score average rather than a rank
average so that objects beyond every fitted object keep being ordered.)

Scores: float64 array, **higher = more anomalous**; the score of an object depends only on the fitted
data and on that object (not on the other objects scored with it).

Examples
--------
>>> import astroembed as ae                                    # doctest: +SKIP
>>> det = ae.AnomalyDetector(ae.load_pretrained("simfm")).fit(normal_lcs, normal_labels)  # doctest: +SKIP
>>> scores = det.score(new_lcs)                                 # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

__all__ = ["AnomalyDetector", "METHODS"]

METHODS = ("mcif", "knn", "mahalanobis", "lof", "ensemble")
ENSEMBLE_OF = ("mcif", "mahalanobis")


class AnomalyDetector:
    """Anomaly scores from a model's light-curve embedding, fitted on labelled normal objects.

    Parameters
    ----------
    model : Embedder
        Any model with ``embed_lightcurve`` (``simfm``, ``maven``, …).  ``None`` is allowed when only
        :meth:`fit_embeddings` / :meth:`score_embeddings` are used.
    method : {"mcif", "knn", "mahalanobis", "lof", "ensemble"}
        See the module docstring.
    n_estimators : int
        Trees per isolation forest (``mcif``).
    max_samples : int or "auto"
        Sub-sample size per tree (``mcif``; scikit-learn's default ``"auto"`` = min(256, n)).
    n_neighbors : int
        Neighbours per class (``knn``, ``lof``; clipped to the class size minus one for ``lof``).
    extrapolation : bool
        Add the out-of-box distance to the forest scores (``mcif``; see the module docstring).
    seed : int
        Random state of the forests (deterministic scores).
    batch_size : int
        Passed to ``model.embed_lightcurve``.
    """

    def __init__(self, model=None, method: str = "mcif", *, n_estimators: int = 200, max_samples="auto",
                 n_neighbors: int = 10, extrapolation: bool = True, seed: int = 0, batch_size: int = 256):
        if method not in METHODS:
            raise ValueError(f"AnomalyDetector.method: one of {list(METHODS)}, got {method!r}")
        if model is not None and not callable(getattr(model, "embed_lightcurve", None)):
            raise TypeError(f"AnomalyDetector.model: needs an embed_lightcurve method (an astroembed model), got "
                            f"{type(model).__name__}")
        for name, v in (("n_estimators", n_estimators), ("n_neighbors", n_neighbors), ("batch_size", batch_size)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ValueError(f"AnomalyDetector.{name}: a positive integer, got {v!r}")
        self.model, self.method = model, method
        self.n_estimators, self.max_samples, self.n_neighbors = int(n_estimators), max_samples, int(n_neighbors)
        self.seed, self.batch_size, self.extrapolation = int(seed), int(batch_size), bool(extrapolation)
        self.classes_: list | None = None
        self._fitted: dict = {}

    def __repr__(self) -> str:
        state = f"fitted on {self.classes_}" if self.classes_ is not None else "not fitted"
        return f"AnomalyDetector(method={self.method!r}, {state})"

    # -- embeddings ---------------------------------------------------------------------------
    def _embed(self, lightcurves) -> np.ndarray:
        if self.model is None:
            raise ValueError("AnomalyDetector: no model given; pass AnomalyDetector(model, ...) or use "
                             "fit_embeddings / score_embeddings with precomputed embeddings")
        return self.model.embed_lightcurve(lightcurves, batch_size=self.batch_size)

    @staticmethod
    def _check_x(X, what: str) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or len(X) == 0:
            raise ValueError(f"AnomalyDetector.{what}: expected a non-empty (N, D) array, got shape {X.shape}")
        if not np.isfinite(X).all():
            raise ValueError(f"AnomalyDetector.{what}: embeddings contain NaN/inf (rows "
                             f"{np.flatnonzero(~np.isfinite(X).all(1))[:5].tolist()}); drop those objects first")
        return X

    # -- fit ----------------------------------------------------------------------------------
    def fit(self, lightcurves, labels) -> AnomalyDetector:
        """Embed ``lightcurves`` (normal objects only) and fit one model per class of ``labels``."""
        labels = list(labels)
        lcs = list(lightcurves) if not hasattr(lightcurves, "time") else [lightcurves]
        if len(lcs) != len(labels):
            raise ValueError(f"AnomalyDetector.fit: {len(lcs)} light curves but {len(labels)} labels")
        return self.fit_embeddings(self._embed(lcs), labels)

    def fit_embeddings(self, X, labels) -> AnomalyDetector:
        """Fit on precomputed (N, D) embeddings of normal objects and their class labels."""
        X = self._check_x(X, "fit_embeddings")
        y = np.asarray(list(labels), dtype=object)
        if len(y) != len(X):
            raise ValueError(f"AnomalyDetector.fit: {len(X)} objects but {len(y)} labels")
        if any(lab is None or (isinstance(lab, float) and np.isnan(lab)) for lab in y):
            raise ValueError("AnomalyDetector.fit: missing labels (None/NaN); give every normal object its class")
        classes = sorted(set(y.tolist()), key=str)
        if len(classes) < 2:
            raise ValueError(f"AnomalyDetector.fit: labels have one class ({classes}); the detector models several "
                             "normal classes (an object is normal if it resembles any of them) — give at least two")
        small = [c for c in classes if (y == c).sum() < 2]
        if self.method in ("mahalanobis", "lof", "ensemble") and small:
            raise ValueError(f"AnomalyDetector.fit: method {self.method!r} needs at least 2 objects per class; "
                             f"classes {small} have one — drop them or merge them into another class")
        self.classes_, self.n_features_in_ = classes, X.shape[1]
        if self.method == "ensemble":
            self._fitted = {}
            for m in ENSEMBLE_OF:
                sub = AnomalyDetector(None, m, n_estimators=self.n_estimators, max_samples=self.max_samples,
                                      n_neighbors=self.n_neighbors, extrapolation=self.extrapolation, seed=self.seed)
                sub.fit_embeddings(X, y)
                s = sub.score_embeddings(X)
                self._fitted[m] = (sub, float(s.mean()), float(max(s.std(), 1e-12)))
            return self
        if self.method == "mahalanobis":
            self._fitted = self._fit_mahalanobis(X, y, classes)
            return self
        self._fitted = {c: self._fit_class(X[y == c]) for c in classes}
        return self

    def _fit_class(self, Xc: np.ndarray):
        if self.method == "mcif":
            from sklearn.ensemble import IsolationForest

            forest = IsolationForest(n_estimators=self.n_estimators, max_samples=self.max_samples,
                                     random_state=self.seed).fit(Xc)
            return forest, Xc.min(0), Xc.max(0), np.maximum(Xc.std(0), 1e-6)
        Xn = _unit_rows(Xc)
        if self.method == "lof":
            from sklearn.neighbors import LocalOutlierFactor

            return LocalOutlierFactor(n_neighbors=min(self.n_neighbors, len(Xn) - 1), novelty=True).fit(Xn)
        return Xn

    @staticmethod
    def _fit_mahalanobis(X: np.ndarray, y: np.ndarray, classes: list) -> dict:
        """Class means and the shared Ledoit–Wolf precision of the class-centred embeddings."""
        from sklearn.covariance import LedoitWolf

        means = {c: X[y == c].mean(0) for c in classes}
        centred = X - np.stack([means[c] for c in y])
        precision = LedoitWolf(assume_centered=True).fit(centred).precision_
        return {c: (means[c], precision) for c in classes}

    # -- score --------------------------------------------------------------------------------
    def score(self, lightcurves) -> np.ndarray:
        """Anomaly scores (N,) float64 of ``lightcurves``: higher = more anomalous."""
        self._require_fit()
        lcs = list(lightcurves) if not hasattr(lightcurves, "time") else [lightcurves]
        return self.score_embeddings(self._embed(lcs))

    def score_embeddings(self, X) -> np.ndarray:
        """Anomaly scores of precomputed (N, D) embeddings: higher = more anomalous."""
        self._require_fit()
        X = self._check_x(X, "score_embeddings")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"AnomalyDetector.score: embeddings have {X.shape[1]} dimensions, the detector was "
                             f"fitted on {self.n_features_in_}; use the same model for fit and score")
        per_class = self._per_class(X)
        return np.stack([per_class[c] for c in self.classes_], axis=1).min(axis=1)

    def class_scores(self, X) -> dict:
        """Per-class anomaly scores of precomputed embeddings (the minimum over them is the score)."""
        self._require_fit()
        return self._per_class(self._check_x(X, "class_scores"))

    def _per_class(self, X: np.ndarray) -> dict:
        if self.method == "ensemble":
            parts = [{c: (v - mu) / sd for c, v in sub.class_scores(X).items()}
                     for sub, mu, sd in self._fitted.values()]
            return {c: np.mean([p[c] for p in parts], axis=0) for c in self.classes_}
        if self.method in ("knn", "lof"):  # both work on the L2-normalised embedding: normalise once
            X = _unit_rows(X)
        return {c: self._class_score(self._fitted[c], X) for c in self.classes_}

    def _class_score(self, fitted, X) -> np.ndarray:
        """Per-class score of ``X`` (already L2-normalised for ``knn`` / ``lof``)."""
        if self.method == "mahalanobis":
            mean, precision = fitted
            d = X - mean
            return np.einsum("ij,jk,ik->i", d, precision, d)
        if self.method == "lof":
            return -fitted.score_samples(X)
        if self.method == "mcif":
            forest, lo, hi, sd = fitted
            score = -forest.score_samples(X)
            if self.extrapolation:
                excess = (np.maximum(X - hi, 0.0) + np.maximum(lo - X, 0.0)) / sd
                score = score + np.sqrt((excess ** 2).sum(axis=1))
            return score
        dist = 1.0 - X @ fitted.T
        k = min(self.n_neighbors, fitted.shape[0])
        return np.sort(np.partition(dist, k - 1, axis=1)[:, :k], axis=1).mean(axis=1)

    def _require_fit(self) -> None:
        if self.classes_ is None:
            raise RuntimeError("AnomalyDetector: call fit(lightcurves, labels) on normal objects before score()")


def _unit_rows(X: np.ndarray) -> np.ndarray:
    """Rows of ``X`` scaled to unit L2 norm (zero rows stay zero)."""
    return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
