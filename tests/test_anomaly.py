"""AnomalyDetector: higher = more anomalous, permutation invariance, min over classes, errors."""

import numpy as np
import pytest

import astroembed as ae
from astroembed.anomaly import METHODS, AnomalyDetector

from .conftest import make_lightcurve


class ToyEmbedder:
    """Embeds a light curve by (peak flux / 100, time span / 100, number of points / 20)."""

    model_type = "toy"
    modalities = ("lightcurve",)

    def embed_lightcurve(self, lcs, batch_size=256):
        return np.array([[lc.flux.max() / 100, np.ptp(lc.time) / 100, len(lc) / 20] for lc in lcs], np.float32)


def _normal(n=40, seed=0):
    rng = np.random.default_rng(seed)
    lcs = [make_lightcurve(rng, n=20, object_id=f"n{i}") for i in range(n)]
    labels = ["A" if i % 2 else "B" for i in range(n)]
    return lcs, labels


def _outlier():
    t = 59000.0 + np.linspace(0, 900, 60)
    return ae.LightCurve(time=t, band=["ztfg"] * 60, flux=np.full(60, 5000.0), flux_err=np.full(60, 10.0),
                         object_id="weird")


@pytest.mark.parametrize("method", METHODS)
def test_obvious_outlier_scores_above_every_training_object(method):
    lcs, labels = _normal()
    det = AnomalyDetector(ToyEmbedder(), method=method, n_estimators=50).fit(lcs, labels)
    train_scores = det.score(lcs)
    out = det.score([_outlier()])
    assert out.shape == (1,) and train_scores.shape == (40,) and train_scores.dtype == np.float64
    assert out[0] > train_scores.max()


@pytest.mark.parametrize("method", METHODS)
def test_scores_are_permutation_invariant(method):
    lcs, labels = _normal()
    test = _normal(15, seed=5)[0] + [_outlier()]
    det = AnomalyDetector(ToyEmbedder(), method=method, n_estimators=50).fit(lcs, labels)
    s = det.score(test)
    perm = np.random.default_rng(1).permutation(len(test))
    assert np.allclose(det.score([test[i] for i in perm]), s[perm])
    assert np.allclose(det.score(test[:3]), s[:3])  # independent of the other objects scored with it


@pytest.mark.parametrize("method", METHODS)
def test_score_is_min_over_classes(method):
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (60, 4)) + 6, rng.normal(0, 1, (60, 4)) - 6]
    y = ["A"] * 60 + ["B"] * 60
    det = AnomalyDetector(None, method=method, n_estimators=50).fit_embeddings(X, y)
    q = np.r_[X[:5], X[-5:]]
    per = det.class_scores(q)
    assert np.allclose(det.score_embeddings(q), np.minimum(per["A"], per["B"]))
    # objects of class A look normal to A's model and anomalous to B's
    assert (per["A"][:5] < per["B"][:5]).all() and (per["B"][5:] < per["A"][5:]).all()


def test_knn_score_by_hand():
    X = np.array([[1.0, 0], [0.8, 0.6], [0, 1.0], [-0.6, 0.8]])
    det = AnomalyDetector(None, method="knn", n_neighbors=2).fit_embeddings(X, ["a", "a", "b", "b"])
    q = np.array([[1.0, 0.0]])
    # class a: cosine distances 0 and 0.2 -> 0.1; class b: 1.0 and 1.6 -> 1.3; min = 0.1
    assert det.score_embeddings(q)[0] == pytest.approx(0.1)


def test_errors():
    lcs, labels = _normal(6)
    det = AnomalyDetector(ToyEmbedder())
    with pytest.raises(RuntimeError, match="fit"):
        det.score(lcs)
    with pytest.raises(ValueError, match="one class"):
        det.fit(lcs, ["A"] * 6)
    with pytest.raises(ValueError, match="6 light curves but 5 labels"):
        det.fit(lcs, labels[:5])
    with pytest.raises(ValueError, match="method"):
        AnomalyDetector(ToyEmbedder(), method="ocsvm")
    with pytest.raises(TypeError, match="embed_lightcurve"):
        AnomalyDetector(object())
    det.fit(lcs, labels)
    with pytest.raises(ValueError, match="dimensions"):
        det.score_embeddings(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="NaN"):
        det.score_embeddings(np.full((2, 3), np.nan))
    with pytest.raises(ValueError, match="no model"):
        AnomalyDetector(None).fit(lcs, labels)


def test_public_api_and_any_embedder():
    from astroembed.models.simfm import SimFMConfig, SimFMModel

    assert ae.AnomalyDetector is AnomalyDetector
    lcs, labels = _normal(20)
    det = ae.AnomalyDetector(SimFMModel(SimFMConfig()), method="mcif", n_estimators=20).fit(lcs, labels)
    s = det.score(lcs[:4])
    assert s.shape == (4,) and np.isfinite(s).all()
    assert "fitted on ['A', 'B']" in repr(det)


def test_plain_mcif_cannot_rank_beyond_range_but_extrapolation_does():
    """Why extrapolation exists: the plain forest scores a far point like an extreme training point."""
    lcs, labels = _normal()
    plain = AnomalyDetector(ToyEmbedder(), extrapolation=False, n_estimators=50).fit(lcs, labels)
    assert plain.score([_outlier()])[0] <= plain.score(lcs).max() + 1e-12
    ext = AnomalyDetector(ToyEmbedder(), n_estimators=50).fit(lcs, labels)
    X = ToyEmbedder().embed_lightcurve(lcs)
    a = np.array(labels) == "A"
    # zero extra term inside a class's box: the class's own members keep their forest score
    assert np.allclose(ext.class_scores(X[a])["A"], plain.class_scores(X[a])["A"])
    assert ext.score([_outlier()])[0] > plain.score([_outlier()])[0] + 10


def test_mahalanobis_by_hand():
    """Squared distance to each class mean under the shared Ledoit-Wolf precision of the centred data."""
    from sklearn.covariance import ledoit_wolf

    rng = np.random.default_rng(3)
    X = np.r_[rng.normal(0, [1, 3, 0.5], (30, 3)) + 4, rng.normal(0, [1, 3, 0.5], (20, 3)) - 4]
    y = ["A"] * 30 + ["B"] * 20
    det = AnomalyDetector(None, method="mahalanobis").fit_embeddings(X, y)
    mA, mB = X[:30].mean(0), X[30:].mean(0)
    cov, _ = ledoit_wolf(np.r_[X[:30] - mA, X[30:] - mB], assume_centered=True)
    P = np.linalg.inv(cov)
    q = np.array([[0.0, 0, 0], [4, 4, 4], mA])
    per = det.class_scores(q)
    assert np.allclose(per["A"], [(v - mA) @ P @ (v - mA) for v in q])
    assert np.allclose(per["B"], [(v - mB) @ P @ (v - mB) for v in q])
    assert det.score_embeddings(q)[2] == pytest.approx(0.0, abs=1e-12)  # the class mean itself
    # unlike a Euclidean distance, the same step costs less along the wide within-class axis (sd 3) than
    # along the narrow one (sd 0.5)
    wide, narrow = det.score_embeddings(np.array([mA + [0, 9, 0], mA + [0, 0, 9]]))
    assert wide * 5 < narrow


def test_ensemble_is_mean_of_standardised_mcif_and_mahalanobis():
    rng = np.random.default_rng(4)
    X = np.r_[rng.normal(0, 1, (40, 4)) + 3, rng.normal(0, 1, (40, 4)) - 3]
    y = ["A"] * 40 + ["B"] * 40
    q = rng.normal(0, 3, (7, 4))
    ens = AnomalyDetector(None, method="ensemble", n_estimators=30).fit_embeddings(X, y)
    parts = []
    for m in ("mcif", "mahalanobis"):
        d = AnomalyDetector(None, method=m, n_estimators=30).fit_embeddings(X, y)
        s = d.score_embeddings(X)
        parts.append({c: (v - s.mean()) / s.std() for c, v in d.class_scores(q).items()})
    want = np.minimum((parts[0]["A"] + parts[1]["A"]) / 2, (parts[0]["B"] + parts[1]["B"]) / 2)
    assert np.allclose(ens.score_embeddings(q), want)
    # standardised on the fitted objects: their scores are centred
    assert abs(ens.score_embeddings(X).mean()) < 0.5


def test_lof_is_about_one_inside_a_class_and_larger_outside():
    rng = np.random.default_rng(5)
    X = np.r_[rng.normal(0, 0.05, (50, 3)) + [1, 0, 0], rng.normal(0, 0.05, (50, 3)) + [0, 1, 0]]
    det = AnomalyDetector(None, method="lof", n_neighbors=10).fit_embeddings(X, ["A"] * 50 + ["B"] * 50)
    inside = det.score_embeddings(rng.normal(0, 0.02, (5, 3)) + [1, 0, 0])
    outside = det.score_embeddings(np.array([[0, 0, 1.0], [-1, 0, 0]]))
    assert np.all(np.abs(inside - 1) < 0.5) and np.all(outside > 3)


@pytest.mark.parametrize("method", ["mahalanobis", "lof", "ensemble"])
def test_new_methods_errors(method):
    lcs, labels = _normal(6)
    det = AnomalyDetector(ToyEmbedder(), method=method, n_estimators=20)
    with pytest.raises(RuntimeError, match="fit"):
        det.score(lcs)
    with pytest.raises(ValueError, match="one class"):
        det.fit(lcs, ["A"] * 6)
    with pytest.raises(ValueError, match=r"at least 2 objects per class.*\['C'\]"):
        det.fit(lcs, labels[:5] + ["C"])
    det.fit(lcs, labels)
    with pytest.raises(ValueError, match="dimensions"):
        det.score_embeddings(np.zeros((2, 5)))
