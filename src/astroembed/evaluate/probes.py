"""Probes on frozen embeddings (scikit-learn): kNN, SVC, linear / ridge regression.

The zero-shot kNN redshift is :func:`astroembed.tasks.zero_shot_redshift` (one implementation).

Hyper-parameter grids are fixed here, in advance; :mod:`astroembed.evaluate.crossval` either uses
:data:`FIXED_PARAMS` or selects from :data:`PARAM_GRIDS` by an inner CV on the training fold only.
"""

from __future__ import annotations

__all__ = ["make_probe", "CLASSIFICATION_PROBES", "REGRESSION_PROBES", "PARAM_GRIDS", "FIXED_PARAMS"]

CLASSIFICATION_PROBES = ("knn", "svc")
REGRESSION_PROBES = ("knn", "linear", "ridge")

#: Candidate hyper-parameters for nested selection, per (task, probe).
PARAM_GRIDS: dict[tuple[str, str], list[dict]] = {
    ("classification", "knn"): [{"n_neighbors": k} for k in (5, 10, 20, 50)],
    ("classification", "svc"): [{"C": c} for c in (0.1, 1.0, 10.0, 100.0)],
    ("regression", "knn"): [{"n_neighbors": k} for k in (5, 10, 20, 50)],
    ("regression", "linear"): [{}],
    ("regression", "ridge"): [{"alpha": a} for a in (0.01, 0.1, 1.0, 10.0)],
}
#: Hyper-parameters used when ``hyperparams="fixed"`` (chosen before looking at any data).
FIXED_PARAMS: dict[tuple[str, str], dict] = {
    ("classification", "knn"): {"n_neighbors": 10},
    ("classification", "svc"): {"C": 1.0},
    ("regression", "knn"): {"n_neighbors": 10},
    ("regression", "linear"): {},
    ("regression", "ridge"): {"alpha": 1.0},
}


def make_probe(task: str, name: str, **params):
    """A fresh, unfitted scikit-learn estimator.

    ``classification``: ``knn`` (cosine, uniform vote), ``svc`` (RBF, ``class_weight="balanced"``).
    ``regression``: ``knn`` (cosine, distance-weighted), ``linear`` (ordinary least squares), ``ridge``.
    A ``n_neighbors`` larger than the training set is clipped at fit time.
    """
    from sklearn.linear_model import LinearRegression, Ridge
    from sklearn.svm import SVC

    if task == "classification":
        if name == "knn":
            return _ClippedKNN(classifier=True, **params)
        if name == "svc":
            return SVC(kernel="rbf", class_weight="balanced", **params)
    elif task == "regression":
        if name == "knn":
            return _ClippedKNN(classifier=False, weights="distance", **params)
        if name == "linear":
            return LinearRegression(**params)
        if name == "ridge":
            return Ridge(**params)
    else:
        raise ValueError(f"make_probe.task: 'classification' or 'regression', got {task!r}")
    known = CLASSIFICATION_PROBES if task == "classification" else REGRESSION_PROBES
    raise ValueError(f"make_probe: unknown {task} probe {name!r}; known: {list(known)}")


class _ClippedKNN:
    """kNN (cosine metric, brute force) whose k is clipped to the training-set size."""

    def __init__(self, classifier=True, n_neighbors=10, weights="uniform"):
        self.classifier, self.n_neighbors, self.weights = classifier, n_neighbors, weights

    def get_params(self, deep=True):
        return {"classifier": self.classifier, "n_neighbors": self.n_neighbors, "weights": self.weights}

    def set_params(self, **p):
        for k, v in p.items():
            setattr(self, k, v)
        return self

    def fit(self, X, y):
        from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

        cls = KNeighborsClassifier if self.classifier else KNeighborsRegressor
        k = int(min(self.n_neighbors, len(X)))
        self.model_ = cls(n_neighbors=k, weights=self.weights, metric="cosine", algorithm="brute").fit(X, y)
        return self

    def predict(self, X):
        return self.model_.predict(X)
