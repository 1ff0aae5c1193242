"""AnomalyDetector: higher = more anomalous, permutation invariance, min over classes, errors."""

import numpy as np
import pytest

import astroembed as ae
from astroembed.anomaly import AnomalyDetector

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


@pytest.mark.parametrize("method", ["mcif", "knn"])
def test_obvious_outlier_scores_above_every_training_object(method):
    lcs, labels = _normal()
    det = AnomalyDetector(ToyEmbedder(), method=method, n_estimators=50).fit(lcs, labels)
    train_scores = det.score(lcs)
    out = det.score([_outlier()])
    assert out.shape == (1,) and train_scores.shape == (40,) and train_scores.dtype == np.float64
    assert out[0] > train_scores.max()


@pytest.mark.parametrize("method", ["mcif", "knn"])
def test_scores_are_permutation_invariant(method):
    lcs, labels = _normal()
    test = _normal(15, seed=5)[0] + [_outlier()]
    det = AnomalyDetector(ToyEmbedder(), method=method, n_estimators=50).fit(lcs, labels)
    s = det.score(test)
    perm = np.random.default_rng(1).permutation(len(test))
    assert np.allclose(det.score([test[i] for i in perm]), s[perm])
    assert np.allclose(det.score(test[:3]), s[:3])  # independent of the other objects scored with it


@pytest.mark.parametrize("method", ["mcif", "knn"])
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
        AnomalyDetector(ToyEmbedder(), method="lof")
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
