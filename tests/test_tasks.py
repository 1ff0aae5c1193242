"""cross_modal_search, zero_shot_redshift, knn_classify."""

import warnings

import numpy as np
import pytest

import astroembed as ae
from astroembed import _optional, search
from astroembed.search import EmbeddingIndex
from astroembed.tasks import KNNClassification, cross_modal_search, knn_classify, zero_shot_redshift

faiss = _optional.import_faiss()
BACKENDS = ["torch", pytest.param("faiss", marks=pytest.mark.skipif(faiss is None, reason="no faiss"))]


def cosine_neighbours(q, ref, k):
    """Brute-force numpy kNN on cosine similarity (float64): (indices, similarities)."""
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    rn = ref / np.linalg.norm(ref, axis=1, keepdims=True)
    sim = qn @ rn.T
    idx = np.argsort(-sim, axis=1)[:, :k]
    return idx, np.take_along_axis(sim, idx, axis=1)


def redshift_embeddings(z, rng, d=16, noise=0.01):
    """Unit vectors that encode z smoothly: a curve through a random rotation of harmonics of z."""
    feats = np.stack([np.cos(3 * z), np.sin(3 * z), np.cos(5 * z), np.sin(5 * z)], axis=1)
    rot = np.linalg.qr(np.random.default_rng(99).normal(size=(d, d)))[0][:4]
    emb = feats @ rot + noise * rng.normal(size=(len(z), d))
    return (emb / np.linalg.norm(emb, axis=1, keepdims=True)).astype(np.float32)


def make_lc(seed=0):
    rng = np.random.default_rng(seed)
    t = 59000 + np.sort(rng.uniform(0, 50, 10))
    return ae.LightCurve(time=t, band=["ztfg", "ztfr"] * 5, mag=rng.uniform(18, 19, 10), mag_err=np.full(10, 0.05))


def make_spec(seed=0):
    rng = np.random.default_rng(seed)
    w = np.linspace(4000, 9000, 50)
    return ae.Spectrum(wavelength=w, flux=1 + rng.normal(0, 0.01, 50))


class FakeModel:
    """Duck-typed model: returns rows of fixed matrices and records which method was called."""

    def __init__(self, d=8):
        rng = np.random.default_rng(5)
        self.lc_emb = rng.normal(size=(10, d)).astype(np.float32)
        self.spec_emb = rng.normal(size=(10, d)).astype(np.float32)
        self.calls = []

    def embed_lightcurve(self, objs):
        self.calls.append(("lightcurve", len(objs)))
        return self.lc_emb[: len(objs)]

    def embed_spectrum(self, objs):
        self.calls.append(("spectrum", len(objs)))
        return self.spec_emb[: len(objs)]


# --------------------------------------------------------------------------- cross_modal_search
@pytest.mark.parametrize("backend", BACKENDS)
def test_cross_modal_search_with_vectors(backend):
    rng = np.random.default_rng(0)
    spectra = rng.normal(size=(40, 8)).astype(np.float32)
    index = EmbeddingIndex(spectra, ids=[f"spec{i}" for i in range(40)], backend=backend)
    lc = spectra[[3, 17]] + 0.05 * rng.normal(size=(2, 8))  # paired light-curve embeddings
    res = cross_modal_search(lc, index, k=5)
    scores, ids = res
    assert ids[:, 0].tolist() == ["spec3", "spec17"]
    np.testing.assert_array_equal(ids, index.search(lc, 5).ids)
    assert cross_modal_search(lc[0], index, k=2).ids.shape == (1, 2)  # a single (D,) vector
    raw = cross_modal_search(lc, spectra, k=5)  # plain array as the index
    np.testing.assert_array_equal(raw.indices, res.indices)


@pytest.mark.parametrize("query_kind", ["lightcurve", "spectrum"])
def test_cross_modal_search_embeds_objects(query_kind):
    model = FakeModel()
    target = model.spec_emb if query_kind == "lightcurve" else model.lc_emb  # index of the other modality
    index = EmbeddingIndex(np.concatenate([target, np.random.default_rng(1).normal(size=(20, 8))]), backend="torch")
    make = make_lc if query_kind == "lightcurve" else make_spec
    objs = [make(i) for i in range(3)]
    res = cross_modal_search(objs, index, model=model, k=4)
    assert model.calls == [(query_kind, 3)]
    query_emb = model.lc_emb if query_kind == "lightcurve" else model.spec_emb
    np.testing.assert_array_equal(res.ids, index.search(query_emb[:3], 4).ids)
    one = cross_modal_search(objs[0], index, model=model, k=4)  # a single object
    np.testing.assert_array_equal(one.ids, res.ids[:1])
    assert model.calls[-1] == (query_kind, 1)


def test_cross_modal_search_same_modality():
    model = FakeModel()
    index = EmbeddingIndex(model.lc_emb, ids=np.arange(10) + 100, backend="torch")
    res = cross_modal_search([make_lc(0), make_lc(1)], index, model=model, k=1)
    assert res.ids.ravel().tolist() == [100, 101]  # each light curve finds itself


def test_cross_modal_search_bad_input():
    model = FakeModel()
    index = EmbeddingIndex(model.spec_emb, backend="torch")
    with pytest.raises(TypeError, match="model: required"):
        cross_modal_search([make_lc()], index, k=3)
    with pytest.raises(TypeError, match="query: a list must hold only LightCurve or only Spectrum"):
        cross_modal_search([make_lc(), make_spec()], index, model=model)
    with pytest.raises(ValueError, match="query: empty list"):
        cross_modal_search([], index, model=model)
    with pytest.raises(TypeError, match="model: .*no embed_lightcurve"):
        cross_modal_search(make_lc(), index, model=object())
    with pytest.raises(TypeError, match="index: expected an EmbeddingIndex"):
        cross_modal_search(model.lc_emb, {"not": "an index"})
    with pytest.raises(ValueError, match=r"query: dimension mismatch.*8-D.*5 columns"):
        cross_modal_search(np.ones((2, 5)), index)
    with pytest.raises(ValueError, match="k: must be a positive"):
        cross_modal_search(model.lc_emb, index, k=0)
    with pytest.raises(ValueError, match="index.*empty"):
        cross_modal_search(np.ones((1, 8)), EmbeddingIndex(dim=8, backend="torch"))


# --------------------------------------------------------------------------- zero_shot_redshift
def test_zero_shot_redshift_recovers_smooth_redshift():
    rng = np.random.default_rng(0)
    z_ref = rng.uniform(0.01, 0.5, 1500)
    emb = redshift_embeddings(z_ref, rng)
    z, z_err = zero_shot_redshift(emb, emb, z_ref, k=20, exclude_self=True)
    assert z.dtype == z_err.dtype == np.float64 and z.shape == z_err.shape == (1500,)
    inner = (z_ref > 0.05) & (z_ref < 0.46)  # away from the edges of the range
    assert np.median(np.abs(z - z_ref)[inner]) < 0.005
    assert np.median(z_err[inner]) < 0.02 and (z_err >= 0).all()
    # control: the same procedure with shuffled reference redshifts fails, so the test can fail
    z_bad, _ = zero_shot_redshift(emb, emb, rng.permutation(z_ref), k=20, exclude_self=True)
    assert np.median(np.abs(z_bad - z_ref)[inner]) > 0.05
    # new queries (not in the reference set)
    zq = np.array([0.1, 0.2, 0.35])
    zq_hat, _ = zero_shot_redshift(redshift_embeddings(zq, rng), emb, z_ref)  # default k = 100
    np.testing.assert_allclose(zq_hat, zq, atol=0.02)


def test_uniform_weights_equal_plain_mean_and_std():
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(200, 12))
    q = rng.normal(size=(15, 12))
    z_ref = rng.uniform(0, 1, 200)
    z, z_err = zero_shot_redshift(q, ref, z_ref, k=9, weights="uniform")
    idx, _ = cosine_neighbours(q, ref, 9)
    np.testing.assert_allclose(z, z_ref[idx].mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(z_err, z_ref[idx].std(axis=1), rtol=1e-9)


def test_distance_weights_match_formula():
    rng = np.random.default_rng(2)
    ref = rng.normal(size=(100, 6))
    q = rng.normal(size=(10, 6))
    z_ref = rng.uniform(0, 1, 100)
    z, z_err = zero_shot_redshift(q, ref, z_ref, k=7)
    idx, sim = cosine_neighbours(q, ref, 7)
    w = 1.0 / (1.0 - sim + 1e-6)
    zn = z_ref[idx]
    mean = (w * zn).sum(1) / w.sum(1)
    np.testing.assert_allclose(z, mean, rtol=1e-5)
    np.testing.assert_allclose(z_err, np.sqrt((w * (zn - mean[:, None]) ** 2).sum(1) / w.sum(1)), rtol=1e-4)
    # distance weighting differs from uniform on this data (the weights matter)
    assert not np.allclose(z, zero_shot_redshift(q, ref, z_ref, k=7, weights="uniform")[0])
    # an identical reference dominates the estimate
    z_same, _ = zero_shot_redshift(ref[:1], ref, z_ref, k=7)
    assert abs(z_same[0] - z_ref[0]) < 1e-3


def test_exclude_self_is_leave_one_out():
    rng = np.random.default_rng(3)
    ref = rng.normal(size=(60, 5))
    z_ref = rng.uniform(0, 1, 60)
    z, z_err = zero_shot_redshift(ref, ref, z_ref, k=4, weights="uniform", exclude_self=True)
    for i in range(60):
        keep = np.arange(60) != i
        idx, _ = cosine_neighbours(ref[i : i + 1], ref[keep], 4)
        assert z[i] == pytest.approx(z_ref[keep][idx[0]].mean(), rel=1e-12)
    with pytest.warns(UserWarning, match="60 of 60 queries have an identical embedding"):
        z_in, _ = zero_shot_redshift(ref, ref, z_ref, k=4, weights="uniform")
    assert not np.allclose(z, z_in)  # without exclude_self each point sees itself


def test_self_match_leak_is_detected_and_excluded_at_object_level():
    """Regression: queries that are also references returned their own label (R² = 1.000)."""
    rng = np.random.default_rng(11)
    n = 300
    z_true = rng.uniform(0.01, 0.2, n)
    emb = rng.normal(size=(n, 8))  # embeddings that carry no redshift information
    with pytest.warns(UserWarning, match="identical embedding"):
        z_leak, _ = zero_shot_redshift(emb, emb, z_true, k=5)
    assert np.corrcoef(z_leak, z_true)[0, 1] > 0.9  # the leak: a distance-weighted self match dominates
    z_loo, _ = zero_shot_redshift(emb, emb, z_true, k=5, exclude_self=True)
    assert abs(np.corrcoef(z_loo, z_true)[0, 1]) < 0.25
    # two spectra of one object: the other spectrum of the same object is excluded too (object level)
    ids = np.repeat(np.arange(n // 2), 2)
    emb2 = np.repeat(rng.normal(size=(n // 2, 8)), 2, axis=0) + 1e-2 * rng.normal(size=(n, 8))
    z2 = np.repeat(z_true[: n // 2], 2)
    with pytest.warns(UserWarning, match="same object id"):
        zero_shot_redshift(emb2[::2], emb2, z2, k=3, query_ids=ids[::2], reference_ids=ids)
    S_obj = knn_classify(emb2, emb2, ids.astype(str), k=3, exclude_self=True, query_ids=ids, reference_ids=ids)
    assert not np.any(S_obj.labels == ids.astype(str))  # never its own object
    S_row = knn_classify(emb2, emb2, ids.astype(str), k=3, exclude_self=True)  # rows only: sibling leaks
    assert np.mean(S_row.labels == ids.astype(str)) > 0.9
    with pytest.raises(ValueError, match="give both"):
        knn_classify(emb2, emb2, ids, k=3, query_ids=ids)


@pytest.mark.parametrize("backend", BACKENDS)
def test_prebuilt_index_reference(backend):
    rng = np.random.default_rng(4)
    ref = rng.normal(size=(80, 6)).astype(np.float32)
    q = rng.normal(size=(5, 6)).astype(np.float32)
    z_ref = rng.uniform(0, 1, 80)
    expected = zero_shot_redshift(q, ref, z_ref, k=10)
    got = zero_shot_redshift(q, EmbeddingIndex(ref, ids=[f"r{i}" for i in range(80)], backend=backend), z_ref, k=10)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-5)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-4)
    # an l2 index weights by Euclidean distance
    l2 = EmbeddingIndex(ref, metric="l2", backend=backend)
    z_l2, _ = zero_shot_redshift(q, l2, z_ref, k=10)
    d = np.sqrt(((q[:, None, :].astype(float) - ref[None].astype(float)) ** 2).sum(-1))
    idx = np.argsort(d, axis=1)[:, :10]
    w = 1 / (np.take_along_axis(d, idx, 1) + 1e-6)
    np.testing.assert_allclose(z_l2, (w * z_ref[idx]).sum(1) / w.sum(1), rtol=1e-4)
    ip = EmbeddingIndex(ref, metric="ip", backend=backend)
    with pytest.raises(ValueError, match="weights: 'distance' needs a cosine or l2 index"):
        zero_shot_redshift(q, ip, z_ref, k=10)
    assert zero_shot_redshift(q, ip, z_ref, k=10, weights="uniform")[0].shape == (5,)


def test_k_larger_than_reference_uses_all_with_warning():
    rng = np.random.default_rng(5)
    ref, q, z_ref = rng.normal(size=(12, 4)), rng.normal(size=(3, 4)), rng.uniform(0, 1, 12)
    with pytest.warns(UserWarning, match="k=100 is larger than the 12 available"):
        z, z_err = zero_shot_redshift(q, ref, z_ref)  # default k = 100
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z12, err12 = zero_shot_redshift(q, ref, z_ref, k=12)
    np.testing.assert_array_equal(z, z12)
    np.testing.assert_array_equal(z_err, err12)
    with pytest.warns(UserWarning, match="only 11 neighbours are available"):
        zero_shot_redshift(ref, ref, z_ref, k=12, exclude_self=True)


def test_zero_shot_redshift_empty_query_and_one_vector():
    ref, z_ref = np.eye(3), np.array([0.1, 0.2, 0.3])
    z, z_err = zero_shot_redshift(np.zeros((0, 3)), ref, z_ref, k=2)
    assert z.shape == z_err.shape == (0,)
    z1, _ = zero_shot_redshift(np.array([0.0, 1.0, 0.0]), ref, z_ref, k=1)
    assert z1.tolist() == [0.2]


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(reference_redshift=np.ones(9)), ValueError, "reference_redshift: length mismatch, 9 redshifts for 10"),
    (dict(reference_redshift=np.r_[np.ones(9), np.nan]), ValueError, r"reference_redshift: 1 NaN/inf.*\[9\]"),
    (dict(reference_redshift=np.ones((10, 1))), ValueError, "reference_redshift: expected a 1-D"),
    (dict(reference_redshift=["a"] * 10), TypeError, "reference_redshift: expected numbers"),
    (dict(reference_redshift=None), TypeError, "reference_redshift"),
    (dict(query=np.ones((2, 5))), ValueError, r"query: dimension mismatch.*4-D.*5 columns"),
    (dict(query=np.full((1, 4), np.nan)), ValueError, "query.*NaN"),
    (dict(k=0), ValueError, "k: must be a positive integer"),
    (dict(k=-5), ValueError, "k: must be a positive integer"),
    (dict(k=2.5), TypeError, "k: expected a positive integer"),
    (dict(reference=np.zeros((0, 4)), reference_redshift=np.zeros(0)), ValueError, "reference: empty"),
    (dict(reference=np.ones(4)), ValueError, "reference: expected a 2-D"),
    (dict(reference=EmbeddingIndex(dim=4, backend="torch")), ValueError, "reference: the index is empty"),
    (dict(weights="gaussian"), ValueError, "weights: must be one of"),
    (dict(eps=0.0), ValueError, "eps: must be a positive"),
    (dict(query_ids=np.arange(3), reference_ids=np.arange(10)), ValueError, "query_ids: expected 2 object ids"),
])
def test_zero_shot_redshift_bad_input(kwargs, exc, match):
    rng = np.random.default_rng(6)
    args = dict(query=rng.normal(size=(2, 4)), reference=rng.normal(size=(10, 4)),
                reference_redshift=rng.uniform(0, 1, 10), k=3)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        zero_shot_redshift(args.pop("query"), args.pop("reference"), args.pop("reference_redshift"), **args)


def test_fallback_without_faiss_gives_same_redshifts(monkeypatch):
    rng = np.random.default_rng(7)
    ref, q, z_ref = rng.normal(size=(300, 8)), rng.normal(size=(20, 8)), rng.uniform(0, 1, 300)
    expected = zero_shot_redshift(q, ref, z_ref, k=25)
    monkeypatch.setattr(_optional, "import_faiss", lambda: None)
    monkeypatch.setattr(search, "_hint_shown", True)
    got = zero_shot_redshift(q, ref, z_ref, k=25)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-5)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-4)


# --------------------------------------------------------------------------- knn_classify
def _clusters(rng, n_per=40, d=10):
    centres = np.eye(d)[:3] * 5
    x = np.concatenate([c + rng.normal(size=(n_per, d)) for c in centres])
    y = np.repeat(np.array(["II", "Ia", "Ibc"]), n_per)
    return x, y


def test_knn_classify_separable_clusters():
    rng = np.random.default_rng(8)
    x, y = _clusters(rng)
    res = knn_classify(x, x, y, k=10, exclude_self=True)
    assert isinstance(res, KNNClassification)
    labels, proba, classes = res
    assert classes.tolist() == ["II", "Ia", "Ibc"]
    assert proba.shape == (120, 3) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (labels == y).mean() > 0.95
    frame = res.to_frame()
    assert list(frame.columns) == ["label", "II", "Ia", "Ibc"] and len(frame) == 120
    # shuffled labels give chance-level accuracy: the test can fail
    bad = knn_classify(x, x, rng.permutation(y), k=10, exclude_self=True)
    assert (bad.labels == y).mean() < 0.6


def test_knn_uniform_proba_are_vote_fractions():
    rng = np.random.default_rng(9)
    ref, q = rng.normal(size=(50, 6)), rng.normal(size=(8, 6))
    y = rng.integers(0, 4, 50)
    res = knn_classify(q, ref, y, k=5, weights="uniform")
    idx, _ = cosine_neighbours(q, ref, 5)
    for i in range(8):
        counts = np.array([(y[idx[i]] == c).sum() for c in res.classes]) / 5
        np.testing.assert_allclose(res.proba[i], counts)
        assert res.labels[i] == res.classes[np.argmax(counts)]
    assert res.labels.dtype.kind == "i"
    dist = knn_classify(q, ref, y, k=5)
    assert not np.allclose(dist.proba, res.proba)


def test_knn_classify_bad_input():
    rng = np.random.default_rng(10)
    ref, q = rng.normal(size=(6, 3)), rng.normal(size=(2, 3))
    with pytest.raises(ValueError, match="reference_labels: length mismatch, 5 labels for 6"):
        knn_classify(q, ref, ["a"] * 5)
    with pytest.raises(ValueError, match=r"reference_labels: 1 missing label.*\[2\]"):
        knn_classify(q, ref, ["a", "b", None, "a", "b", "a"])
    with pytest.raises(ValueError, match="reference_labels: 1 missing"):
        knn_classify(q, ref, [0.0, 1.0, np.nan, 1.0, 0.0, 1.0])
    with pytest.raises(TypeError, match="reference_labels: mixed label types"):
        knn_classify(q, ref, np.array(["a", 1, "b", 2, "a", 1], dtype=object))
    with pytest.raises(TypeError, match="reference_labels"):
        knn_classify(q, ref, "abcdef")
    with pytest.raises(ValueError, match="k: must be a positive"):
        knn_classify(q, ref, list("abcabc"), k=0)
    with pytest.raises(ValueError, match="query: dimension mismatch"):
        knn_classify(np.ones((1, 4)), ref, list("abcabc"))
    with pytest.raises(ValueError, match="weights"):
        knn_classify(q, ref, list("abcabc"), weights="inverse")
    with pytest.warns(UserWarning, match="k=15 is larger than the 6"):
        assert knn_classify(q, ref, list("abcabc")).proba.shape == (2, 3)
    empty = knn_classify(np.zeros((0, 3)), ref, list("abcabc"), k=2)
    assert empty.labels.shape == (0,) and empty.proba.shape == (0, 3)
