"""EmbeddingIndex / SearchResult: exactness against brute force, backends, persistence, bad input."""

import doctest
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import astroembed
from astroembed import _optional, search
from astroembed.search import EmbeddingIndex, SearchResult, _faiss, _inputs, _torch
from astroembed.search import index as index_module
from astroembed.search import result as result_module

faiss = _optional.import_faiss()
needs_faiss = pytest.mark.skipif(faiss is None, reason="faiss not installed")
BACKENDS = ["torch", pytest.param("faiss", marks=needs_faiss)]


def _gpu_available():
    return faiss is not None and hasattr(faiss, "get_num_gpus") and faiss.get_num_gpus() > 0


def brute_force(x, q, metric):
    """float64 numpy reference: (scores of every stored vector per query, higher-is-better flag)."""
    x, q = x.astype(np.float64), q.astype(np.float64)
    if metric == "cosine":
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
    if metric == "l2":
        return ((q[:, None, :] - x[None, :, :]) ** 2).sum(-1), False
    return q @ x.T, True


def check_against_brute_force(res, x, q, k, metric, ids):
    full, higher = brute_force(x, q, metric)
    n = len(x)
    kk = min(k, n)
    assert res.scores.shape == res.ids.shape == res.indices.shape == (len(q), kk)
    order = np.argsort(-full if higher else full, axis=1, kind="stable")[:, :kk]
    expected_scores = np.take_along_axis(full, order, axis=1)
    tol = 1e-4 * max(1.0, float(np.abs(full).max()))
    # the returned scores are the true top-k scores, in rank order ...
    np.testing.assert_allclose(res.scores, expected_scores, atol=tol)
    # ... each returned row really has the score reported (a valid top-k set even with near-ties) ...
    np.testing.assert_allclose(np.take_along_axis(full, res.indices, axis=1), res.scores, atol=tol)
    for row in res.indices:
        assert len(set(row.tolist())) == kk and row.min() >= 0 and row.max() < n
    # ... and ids are the user ids of those rows
    np.testing.assert_array_equal(res.ids, np.asarray(ids, dtype=object if isinstance(ids[0], str) else None)[res.indices])


# --------------------------------------------------------------------------- exactness
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60), d=st.integers(1, 12), nq=st.integers(1, 25),
       k=st.integers(1, 80), metric=st.sampled_from(["cosine", "ip", "l2"]),
       backend=st.sampled_from(["torch", "faiss"] if faiss is not None else ["torch"]),
       str_ids=st.booleans())
def test_matches_brute_force_property(seed, n, d, nq, k, metric, backend, str_ids):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32) * rng.uniform(0.1, 3, size=(n, 1)).astype(np.float32)
    q = rng.normal(size=(nq, d)).astype(np.float32)
    ids = [f"obj{i}" for i in rng.permutation(n)] if str_ids else rng.permutation(n) * 7 + 3
    index = EmbeddingIndex(x, ids=ids, metric=metric, backend=backend)
    check_against_brute_force(index.search(q, k), x, q, k, metric, ids)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("metric", ["cosine", "ip", "l2"])
def test_exact_ids_equal_numpy_argsort(backend, metric):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 24)).astype(np.float32)
    q = rng.normal(size=(40, 24)).astype(np.float32)
    res = EmbeddingIndex(x, metric=metric, backend=backend).search(q, 10)
    full, higher = brute_force(x, q, metric)
    expected = np.argsort(-full if higher else full, axis=1)[:, :10]
    np.testing.assert_array_equal(res.indices, expected)
    np.testing.assert_array_equal(res.ids, expected)  # default ids are row positions
    assert res.scores.dtype == np.float32 and res.ids.dtype == np.int64


@needs_faiss
def test_torch_and_faiss_agree_and_unpack():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 16)).astype(np.float32)
    q = rng.normal(size=(7, 16))
    rt = EmbeddingIndex(x, backend="torch").search(q, 12)
    rf = EmbeddingIndex(x, backend="faiss").search(q, 12)
    np.testing.assert_array_equal(rt.ids, rf.ids)
    np.testing.assert_allclose(rt.scores, rf.scores, atol=1e-5)
    scores, ids = rf
    assert scores is rf.scores and ids is rf.ids and rf[0] is scores and len(rf) == 2
    assert isinstance(rf, SearchResult) and "k=12" in repr(rf)


def test_torch_chunking_gives_same_results(monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 8)).astype(np.float32)
    q = rng.normal(size=(33, 8)).astype(np.float32)
    whole = EmbeddingIndex(x, backend="torch", metric="l2").search(q, 5)
    monkeypatch.setattr(_torch, "TORCH_CHUNK", 100)  # 2 queries per chunk
    chunked = EmbeddingIndex(x, backend="torch", metric="l2").search(q, 5)
    np.testing.assert_array_equal(whole.indices, chunked.indices)
    np.testing.assert_allclose(whole.scores, chunked.scores, rtol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_query_shapes(backend):
    x = np.eye(4, dtype=np.float32)
    index = EmbeddingIndex(x, ids=[5, 6, 7, 8], backend=backend)
    scores, ids = index.search(np.array([0, 0, 1.0, 0.1]), k=2)  # a single (D,) vector
    assert ids.shape == (1, 2) and ids[0, 0] == 7
    empty = index.search(np.zeros((0, 4)), k=3)
    assert empty.scores.shape == empty.ids.shape == (0, 3)
    assert len(empty.metadata) == 0
    import torch

    assert index.search(torch.eye(4)[:2], k=1).ids.ravel().tolist() == [5, 6]  # torch tensors accepted


# --------------------------------------------------------------------------- k > ntotal, -1 ids
@pytest.mark.parametrize("backend", BACKENDS)
def test_k_larger_than_ntotal(backend):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(5, 6)).astype(np.float32)
    index = EmbeddingIndex(x, ids=list("abcde"), backend=backend)
    res = index.search(x, k=50)
    assert res.scores.shape == (5, 5)
    assert sorted(res.ids[0].tolist()) == list("abcde")
    assert res.ids[:, 0].tolist() == list("abcde")
    assert (res.indices >= 0).all()


@needs_faiss
def test_ivf_low_nprobe_never_leaks_minus_one():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(400, 8)).astype(np.float32)
    index = EmbeddingIndex(x, index_factory="IVF40,Flat")
    index.nprobe = 1
    # precondition: raw faiss does return -1 here (lists hold ~10 vectors, k = 100)
    _, raw = index._backend.index.search(_inputs.normalise("q", x[:20]), 100)
    assert (raw < 0).any()
    res = index.search(x[:20], 100)
    assert (res.indices >= 0).all() and res.ids.min() >= 0
    check_against_brute_force(res, x, x[:20], 100, "cosine", np.arange(400))  # the retry is exhaustive
    assert index.nprobe == 1  # restored after the retry
    full = index.search(x[:3], 10_000)
    assert full.ids.shape == (3, 400) and (full.indices >= 0).all()


def test_empty_index_errors():
    index = EmbeddingIndex(dim=8, backend="torch")
    assert len(index) == 0 and index.dim == 8
    with pytest.raises(ValueError, match="empty"):
        index.search(np.ones((1, 8)), 3)
    with pytest.raises(ValueError, match="empty"):
        EmbeddingIndex().search(np.ones((25, 8)), 3)  # faiss would return label 0 for >= 20 rows
    with pytest.raises(ValueError, match="index.*nothing to save"):
        EmbeddingIndex().save("/nonexistent/never/written")


# --------------------------------------------------------------------------- add, ids, metadata
@pytest.mark.parametrize("backend", BACKENDS)
def test_incremental_add_equals_bulk(backend):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(90, 10)).astype(np.float32)
    bulk = EmbeddingIndex(x, backend=backend)
    inc = EmbeddingIndex(dim=10, backend=backend)
    inc.add(x[:30]).add(x[30:31]).add(x[31:31]).add(x[31:])
    assert len(inc) == inc.ntotal == 90 and inc.dim == 10
    np.testing.assert_array_equal(inc.ids, np.arange(90))
    np.testing.assert_array_equal(inc.search(x[:9], 4).ids, bulk.search(x[:9], 4).ids)


def test_metadata_rows_follow_hits():
    from astropy.table import Table

    x = np.eye(3, dtype=np.float32)
    meta = Table({"z": [0.1, 0.2, 0.3], "type": ["Ia", "II", "Ibc"]})
    index = EmbeddingIndex(x, ids=["a", "b", "c"], metadata=meta, backend="torch")
    index.add([[0, 1.0, 0.01]], ids=["d"])  # no metadata for this row -> NaN
    index.add([[0.01, 0, 1.0]], ids=["e"], metadata=pd.DataFrame({"z": [0.5], "host": ["NGC 1"]}))
    res = index.search(np.array([[0, 1.0, 0], [0, 0, 1.0]]), k=2)
    md = res.metadata
    assert isinstance(md, pd.DataFrame)
    assert list(md.columns) == ["query", "rank", "id", "score", "z", "type", "host"]
    assert md["query"].tolist() == [0, 0, 1, 1] and md["rank"].tolist() == [0, 1, 0, 1]
    assert md["id"].tolist() == ["b", "d", "c", "e"]
    np.testing.assert_allclose(md["score"], res.scores.ravel())
    assert md["z"].tolist()[0] == 0.2 and np.isnan(md["z"].tolist()[1]) and md["z"].tolist()[3] == 0.5
    assert md["type"][0] == "II" and pd.isna(md["type"][1]) and md["type"][2] == "Ibc" and pd.isna(md["type"][3])
    assert md["host"].isna().tolist() == [True, True, True, False] and md["host"][3] == "NGC 1"
    assert res.ids.dtype == object and isinstance(res.ids[0, 0], str)


def test_metadata_without_metadata_has_core_columns():
    res = EmbeddingIndex(np.eye(2), backend="torch").search(np.eye(2), 1)
    assert list(res.metadata.columns) == ["query", "rank", "id", "score"]


# --------------------------------------------------------------------------- approximate indexes
@needs_faiss
def test_ivf_recall_grows_with_nprobe_and_is_exact_at_nlist():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3000, 32)).astype(np.float32)
    q = rng.normal(size=(100, 32)).astype(np.float32)
    truth = EmbeddingIndex(x, backend="torch").search(q, 10).indices
    index = EmbeddingIndex(x, index_factory="IVF32,Flat")
    assert index.backend == "faiss-cpu" and index.nprobe == 1
    recalls = {}
    for nprobe in (1, 4, 32):
        index.nprobe = nprobe
        got = index.search(q, 10).indices
        recalls[nprobe] = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, truth, strict=True)])
    assert recalls[1] < recalls[4] < recalls[32] == 1.0
    assert recalls[1] < 0.9  # the approximation is real on random data
    index.nprobe = 10_000  # clipped to nlist
    assert index.nprobe == 32


@needs_faiss
def test_hnsw_recall():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(2000, 16)).astype(np.float32)
    q = rng.normal(size=(100, 16)).astype(np.float32)
    truth = EmbeddingIndex(x, backend="torch").search(q, 10).indices
    index = EmbeddingIndex(x, index_factory="HNSW32")
    index.ef_search = 128
    assert index.ef_search == 128
    got = index.search(q, 10).indices
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, truth, strict=True)])
    assert recall > 0.95


@needs_faiss
def test_approximate_index_errors():
    rng = np.random.default_rng(9)
    with pytest.raises(ValueError, match=r"IVF64.*at least 64 vectors.*got 20"):
        EmbeddingIndex(rng.normal(size=(20, 8)), index_factory="IVF64,Flat")
    with pytest.raises(ValueError, match="index_factory.*not a valid faiss factory"):
        EmbeddingIndex(rng.normal(size=(20, 8)), index_factory="Bogus99")
    with pytest.raises(ValueError, match="IDMap"):
        EmbeddingIndex(rng.normal(size=(20, 8)), index_factory="IDMap,Flat")
    flat = EmbeddingIndex(rng.normal(size=(20, 8)))
    with pytest.raises(ValueError, match="nprobe.*IVF"):
        flat.nprobe = 4
    with pytest.raises(ValueError, match="ef_search.*HNSW"):
        flat.ef_search = 4
    with pytest.raises(ValueError, match="nprobe"):
        flat.nprobe = 0
    # a failed first add leaves the index empty and usable
    ivf = EmbeddingIndex(index_factory="IVF16,Flat", dim=8)
    ivf.nprobe = 4
    with pytest.raises(ValueError, match="at least 16"):
        ivf.add(rng.normal(size=(5, 8)))
    assert len(ivf) == 0 and len(ivf.ids) == 0
    ivf.add(rng.normal(size=(200, 8)))
    assert len(ivf) == 200 and ivf.nprobe == 4


def test_pending_search_parameters_apply_after_first_add():
    if faiss is None:
        pytest.skip("faiss not installed")
    index = EmbeddingIndex(index_factory="HNSW16")
    index.ef_search = 77
    index.add(np.random.default_rng(0).normal(size=(50, 4)))
    assert index.ef_search == 77


# --------------------------------------------------------------------------- persistence
@pytest.mark.parametrize("backend,factory", [("torch", "Flat"),
                                             pytest.param("faiss", "Flat", marks=needs_faiss),
                                             pytest.param("faiss", "IVF8,Flat", marks=needs_faiss),
                                             pytest.param("faiss", "HNSW16", marks=needs_faiss)])
def test_save_load_round_trip(tmp_path, backend, factory):
    rng = np.random.default_rng(10)
    x = rng.normal(size=(120, 12)).astype(np.float32)
    ids = [f"ZTF21{'abc'[i % 3]}{i:04d}" for i in range(120)]
    meta = pd.DataFrame({"z": rng.uniform(0, 0.3, 120), "type": rng.choice(["Ia", "II"], 120),
                         "n_obs": rng.integers(5, 50, 120)})
    index = EmbeddingIndex(x, ids=ids, metadata=meta, index_factory=factory, backend=backend)
    if factory.startswith("IVF"):
        index.nprobe = 3
    if factory.startswith("HNSW"):
        index.ef_search = 33
    before = index.search(x[:15], 7)
    path = index.save(tmp_path / "idx")
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["dim"] == 12 and manifest["metric"] == "cosine" and manifest["index_factory"] == factory
    assert manifest["astroembed_version"] == astroembed.__version__ and manifest["ntotal"] == 120
    # every array loads without pickle
    assert np.load(path / "ids.npy", allow_pickle=False).dtype.kind == "U"
    loaded = EmbeddingIndex.load(path, backend=backend if factory == "Flat" else "auto")
    assert (len(loaded), loaded.dim, loaded.metric, loaded.index_factory) == (120, 12, "cosine", factory)
    assert loaded.nprobe == index.nprobe and loaded.ef_search == index.ef_search
    after = loaded.search(x[:15], 7)
    np.testing.assert_array_equal(before.ids, after.ids)
    np.testing.assert_allclose(before.scores, after.scores, atol=1e-6)
    pd.testing.assert_frame_equal(before.metadata, after.metadata)
    assert loaded.ids.tolist() == ids
    loaded.add(x[:1], ids=["new"])  # still usable
    assert len(loaded) == 121


def test_saved_flat_index_is_portable_and_int_ids(tmp_path, monkeypatch):
    x = np.random.default_rng(11).normal(size=(30, 5)).astype(np.float32)
    index = EmbeddingIndex(x, ids=np.arange(30) * 11, metric="l2")
    before = index.search(x[:4], 3)
    index.save(tmp_path / "flat")
    monkeypatch.setattr(_optional, "import_faiss", lambda: None)  # load where faiss is absent
    monkeypatch.setattr(search, "_hint_shown", True)
    loaded = EmbeddingIndex.load(tmp_path / "flat")
    assert loaded.backend == "torch" and loaded.metric == "l2" and loaded.ids.dtype == np.int64
    np.testing.assert_array_equal(loaded.search(x[:4], 3).ids, before.ids)
    assert not (tmp_path / "flat" / "metadata.parquet").exists()


def test_save_load_errors(tmp_path, monkeypatch):
    index = EmbeddingIndex(np.eye(3), backend="torch")
    index.save(tmp_path / "a")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        index.save(tmp_path / "a")
    index.add(np.ones((1, 3)))
    index.save(tmp_path / "a", overwrite=True)
    assert len(EmbeddingIndex.load(tmp_path / "a", backend="torch")) == 4
    with pytest.raises(FileNotFoundError, match="manifest.json"):
        EmbeddingIndex.load(tmp_path / "nothing-here")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "manifest.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ValueError, match="format"):
        EmbeddingIndex.load(tmp_path / "bad")
    if faiss is not None:
        rng = np.random.default_rng(0)
        EmbeddingIndex(rng.normal(size=(100, 4)), index_factory="IVF4,Flat").save(tmp_path / "ivf")
        monkeypatch.setattr(_optional, "import_faiss", lambda: None)
        with pytest.raises(ImportError, match=r"astroembed\[faiss\]"):
            EmbeddingIndex.load(tmp_path / "ivf")


# --------------------------------------------------------------------------- torch fallback
def test_fallback_when_faiss_missing_warns_once(monkeypatch):
    monkeypatch.setattr(_optional, "import_faiss", lambda: None)
    monkeypatch.setattr(search, "_hint_shown", False)
    rng = np.random.default_rng(12)
    x = rng.normal(size=(64, 8)).astype(np.float32)
    with pytest.warns(UserWarning, match=r"pip install 'astroembed\[faiss\]'"):
        index = EmbeddingIndex(x)
    assert index.backend == "torch" and index.device == "cpu"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        EmbeddingIndex(x)  # no second hint
    check_against_brute_force(index.search(x[:5], 6), x, x[:5], 6, "cosine", np.arange(64))
    with pytest.raises(ImportError, match=r"astroembed\[faiss\]"):
        EmbeddingIndex(x, backend="faiss")
    # an approximate factory falls back to exact search (never worse recall), with the hint
    monkeypatch.setattr(search, "_hint_shown", False)
    with pytest.warns(UserWarning, match="IVF4,Flat.*exact search"):
        approx = EmbeddingIndex(x, index_factory="IVF4,Flat")
    assert approx.backend == "torch"


@needs_faiss
def test_auto_backend_picks_faiss_cpu_here():
    index = EmbeddingIndex(np.eye(3), device="cpu")
    assert index.backend == "faiss-cpu" and index.device == "cpu"
    if not _gpu_available():
        with pytest.raises(ValueError, match="device.*cuda"):
            EmbeddingIndex(np.eye(3), device="cuda")


@pytest.mark.gpu
@pytest.mark.skipif(not _gpu_available(), reason="faiss without GPU support")
def test_faiss_gpu_matches_torch():
    rng = np.random.default_rng(13)
    x = rng.normal(size=(5000, 32)).astype(np.float32)
    q = rng.normal(size=(50, 32)).astype(np.float32)
    gpu = EmbeddingIndex(x, device="auto")
    assert gpu.backend == "faiss-gpu"
    res = gpu.search(q, 3000)  # k above the GPU limit of 2048 goes through a CPU copy
    check_against_brute_force(res, x, q, 3000, "cosine", np.arange(5000))
    np.testing.assert_array_equal(gpu.search(q, 10).ids, EmbeddingIndex(x, backend="torch").search(q, 10).ids)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("bad,exc,match", [
    (np.ones(8), ValueError, r"vectors.*2-D.*\(8,\)"),
    (np.ones((2, 3, 4)), ValueError, "vectors.*2-D"),
    ([["a", "b"]], TypeError, "vectors.*dtype"),
    (np.array([[1.0, np.nan]]), ValueError, r"vectors.*NaN.*rows \[0\]"),
    (np.array([[1.0, np.inf], [1, 2]]), ValueError, "vectors.*NaN/inf"),
    ("abc", TypeError, "vectors.*string"),
    ([[1.0, 2.0], [3.0]], ValueError, "vectors"),
    (np.array([[True, False]]), TypeError, "vectors"),
    (np.zeros((1, 3)), ValueError, "vectors.*zero-length"),
    (np.zeros((2, 0)), ValueError, "vectors.*at least one dimension"),
])
def test_bad_vectors(bad, exc, match):
    with pytest.raises(exc, match=match):
        EmbeddingIndex(bad, backend="torch")


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_queries_and_k(backend):
    index = EmbeddingIndex(np.random.default_rng(0).normal(size=(10, 6)), backend=backend)
    with pytest.raises(ValueError, match=r"q: dimension mismatch.*6-D.*5 columns"):
        index.search(np.ones((2, 5)), 3)
    with pytest.raises(ValueError, match="q.*NaN"):
        index.search(np.full((1, 6), np.nan), 3)
    with pytest.raises(ValueError, match="q.*zero-length"):
        index.search(np.zeros(6), 3)
    for k in (0, -3):
        with pytest.raises(ValueError, match="k: must be a positive integer"):
            index.search(np.ones(6), k)
    for k in (2.0, "3", True, None):
        with pytest.raises(TypeError, match="k: expected a positive integer"):
            index.search(np.ones(6), k)
    with pytest.raises(ValueError, match=r"vectors: dimension mismatch.*6-D.*7 columns"):
        index.add(np.ones((1, 7)))
    assert index.search(np.ones(6), np.int64(2)).ids.shape == (1, 2)


def test_bad_ids_and_metadata():
    x = np.random.default_rng(0).normal(size=(4, 3))
    with pytest.raises(ValueError, match="ids: length mismatch, 3 ids for 4 vectors"):
        EmbeddingIndex(x, ids=[1, 2, 3], backend="torch")
    with pytest.raises(ValueError, match=r"ids: duplicate.*\['a'\]"):
        EmbeddingIndex(x, ids=["a", "a", "b", "c"], backend="torch")
    with pytest.raises(TypeError, match="ids: expected integers or strings"):
        EmbeddingIndex(x, ids=[0.5, 1.5, 2.5, 3.5], backend="torch")
    with pytest.raises(TypeError, match="ids.*single string"):
        EmbeddingIndex(x, ids="abcd", backend="torch")
    index = EmbeddingIndex(x, ids=["a", "b", "c", "d"], backend="torch")
    with pytest.raises(ValueError, match="ids: already in the index: \\['b'\\]"):
        index.add(x[:1], ids=["b"])
    with pytest.raises(ValueError, match="ids.*string ids.*required"):
        index.add(x[:1])
    with pytest.raises(TypeError, match="ids: cannot mix"):
        index.add(x[:1], ids=[9])
    assert len(index) == 4  # failed adds changed nothing
    ints = EmbeddingIndex(x, backend="torch")
    with pytest.raises(ValueError, match=r"ids: already in the index: \[3\]"):
        ints.add(x[:1], ids=[3])
    with pytest.raises(ValueError, match="metadata: length mismatch, 2 rows for 4 vectors"):
        EmbeddingIndex(x, metadata={"z": [1, 2]}, backend="torch")
    with pytest.raises(ValueError, match=r"metadata: column\(s\) \['id'\] clash"):
        EmbeddingIndex(x, metadata={"id": [1, 2, 3, 4]}, backend="torch")
    with pytest.raises(ValueError, match="ids/metadata: given without vectors"):
        EmbeddingIndex(ids=[1, 2])


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="metric: must be one of"):
        EmbeddingIndex(np.eye(2), metric="cos")
    with pytest.raises(ValueError, match="backend: must be one of"):
        EmbeddingIndex(np.eye(2), backend="annoy")
    with pytest.raises(ValueError, match="device"):
        EmbeddingIndex(np.eye(2), device="tpu")
    with pytest.raises(TypeError, match="index_factory"):
        EmbeddingIndex(np.eye(2), index_factory=3)
    with pytest.raises(ValueError, match="index_factory: the torch backend only does exact search"):
        EmbeddingIndex(np.eye(2), index_factory="HNSW32", backend="torch")
    with pytest.raises(ValueError, match="dim: must be a positive integer"):
        EmbeddingIndex(dim=0)


def test_docstring_examples(monkeypatch):
    # the examples use the public names (ae.EmbeddingIndex ...); expose them if __init__ does not yet
    from astroembed import tasks

    for name in ("EmbeddingIndex", "SearchResult"):
        monkeypatch.setattr(astroembed, name, getattr(search, name), raising=False)
    for name in ("cross_modal_search", "zero_shot_redshift", "knn_classify", "KNNClassification"):
        monkeypatch.setattr(astroembed, name, getattr(tasks, name), raising=False)
    monkeypatch.setattr(search, "_hint_shown", True)
    for mod in (index_module, result_module, tasks, _optional, _faiss):
        result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, f"{mod.__name__}: {result.failed} doctest failure(s)"
    assert doctest.testmod(index_module).attempted > 5
