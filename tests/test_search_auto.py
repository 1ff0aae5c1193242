"""index_factory="auto": exact when small, a tuned IVF index on clustered data, the exact fallback
on structureless data or without faiss, persistence of the tuning, and the chunked add path."""

import tracemalloc
import warnings

import numpy as np
import pytest

from astroembed import _optional, search
from astroembed.search import EmbeddingIndex, _auto, _inputs

faiss = _optional.import_faiss()
needs_faiss = pytest.mark.skipif(faiss is None, reason="faiss not installed")


def clustered(n, d, seed, n_clusters=300, latent=8):
    """Embedding-like vectors: Gaussian clusters in a low-dimensional latent space, mapped to d-D."""
    g = np.random.default_rng(1234)  # the same space for every seed (data and queries)
    proj = g.normal(size=(latent, d)) / np.sqrt(latent)
    centres = g.normal(size=(n_clusters, latent))
    rng = np.random.default_rng(seed)
    z = centres[rng.integers(0, n_clusters, n)] + 0.35 * rng.normal(size=(n, latent))
    return (z @ proj + 0.05 * rng.normal(size=(n, d))).astype(np.float32)


def recall(got, truth):
    return float(np.mean([len(set(a) & set(b)) / truth.shape[1] for a, b in zip(got, truth, strict=True)]))


def test_auto_is_exact_below_threshold():
    x = np.random.default_rng(0).normal(size=(500, 16)).astype(np.float32)
    index = EmbeddingIndex(x, index_factory="auto")
    assert index.index_factory == "Flat" and index.estimated_recall == 1.0
    assert index.tuning["chosen"] == "Flat" and "AUTO_EXACT_MAX_VECTORS" in index.tuning["reason"]
    np.testing.assert_array_equal(index.search(x[:20], 7).indices, EmbeddingIndex(x).search(x[:20], 7).indices)
    with pytest.raises(ValueError, match="nprobe.*IVF"):
        index.nprobe = 3


@pytest.fixture(scope="module")
def clustered_auto():
    x = clustered(30_000, 32, 0)
    return x, EmbeddingIndex(x, ids=np.arange(30_000) * 3, index_factory="auto", device="cpu")


@needs_faiss
def test_auto_builds_tuned_ivf_on_clustered_data(clustered_auto):
    x, index = clustered_auto
    assert index.index_factory.startswith("IVF") and index.nprobe == index.tuning["nprobe"]
    assert index.tuning["nlist"] == _auto.choose_nlist(30_000) and index.tuning["reason"] is None
    assert index.tuning["speedup"] >= search.AUTO_MIN_SPEEDUP
    # fresh queries from the same distribution (never seen in tuning): recall against exact search
    q = clustered(1000, 32, 99)
    truth = EmbeddingIndex(x).search(q, 10).indices
    measured = recall(index.search(q, 10).indices, truth)
    assert measured >= 0.95, index.tuning
    assert abs(measured - index.estimated_recall) <= 0.03
    # the tuning really chose the smallest nprobe: one step lower is below target (else no tuning happened)
    curve = index.tuning["curve"]
    assert curve[-1][0] == index.nprobe and (len(curve) == 1 or curve[-2][1] < 0.95 + 0.02)
    assert index.ids[:3].tolist() == [0, 3, 6]


@needs_faiss
def test_auto_round_trip_keeps_kind_params_and_recall(clustered_auto, tmp_path):
    x, index = clustered_auto
    before = index.search(x[:50], 5)
    loaded = EmbeddingIndex.load(index.save(tmp_path / "auto"))
    assert loaded.index_factory == index.index_factory and loaded.nprobe == index.nprobe
    assert loaded.estimated_recall == index.estimated_recall and loaded.tuning == index.tuning
    np.testing.assert_array_equal(loaded.search(x[:50], 5).ids, before.ids)
    loaded.nprobe = 1  # a hand-set nprobe invalidates the estimate
    assert loaded.estimated_recall is None


@needs_faiss
def test_auto_keeps_exact_when_approximate_is_not_faster(monkeypatch):
    monkeypatch.setattr(_auto, "AUTO_EXACT_MAX_VECTORS", 1000)
    monkeypatch.setattr(_auto, "AUTO_MIN_SPEEDUP", 1e9)  # no IVF can be that fast: the fallback must run
    x = np.random.default_rng(1).normal(size=(3000, 16)).astype(np.float32)
    index = EmbeddingIndex(x, index_factory="auto")
    assert index.index_factory == "Flat" and index.estimated_recall == 1.0 and len(index) == 3000
    assert "exact search kept" in index.tuning["reason"] and index.tuning["nlist"] == _auto.choose_nlist(3000)
    np.testing.assert_array_equal(index.search(x[:10], 5).indices, EmbeddingIndex(x).search(x[:10], 5).indices)


@needs_faiss
def test_auto_tuning_reaches_target_on_hard_data(monkeypatch):
    """Structureless data with the speed guard off: nprobe climbs until the target is met."""
    monkeypatch.setattr(_auto, "AUTO_EXACT_MAX_VECTORS", 1000)
    monkeypatch.setattr(_auto, "AUTO_MIN_SPEEDUP", 0.0)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4000, 16)).astype(np.float32)
    index = EmbeddingIndex(x, index_factory="auto", metric="l2")
    assert index.index_factory == "IVF63,Flat" and len(index.tuning["curve"]) >= 4  # many steps needed
    assert index.tuning["curve"][0][1] < 0.8  # nprobe=1 really is approximate here
    q = rng.normal(size=(500, 16)).astype(np.float32)
    truth = EmbeddingIndex(x, metric="l2").search(q, 10).indices
    measured = recall(index.search(q, 10).indices, truth)
    assert measured >= 0.93 and abs(measured - index.estimated_recall) <= 0.04


def test_auto_without_faiss_is_exact_torch(monkeypatch, tmp_path):
    monkeypatch.setattr(_optional, "import_faiss", lambda: None)
    monkeypatch.setattr(search, "_hint_shown", False)
    monkeypatch.setattr(_auto, "AUTO_EXACT_MAX_VECTORS", 100)
    x = clustered(400, 8, 0)
    with pytest.warns(UserWarning, match=r"'auto'.*exact.*estimated_recall = 1\.0"):
        index = EmbeddingIndex(x, index_factory="auto")
    assert index.backend == "torch" and index.index_factory == "Flat" and index.estimated_recall == 1.0
    assert "faiss not available" in index.tuning["reason"]
    loaded = EmbeddingIndex.load(index.save(tmp_path / "t"))
    assert loaded.estimated_recall == 1.0 and loaded.tuning == index.tuning
    np.testing.assert_array_equal(loaded.search(x[:5], 3).ids, index.search(x[:5], 3).ids)


def test_auto_torch_backend_and_search_params_before_build():
    with pytest.raises(ValueError, match="nprobe.*auto"):
        EmbeddingIndex(index_factory="auto", dim=4).nprobe = 2
    idx = EmbeddingIndex(np.eye(4), index_factory="auto", backend="torch")
    assert idx.backend == "torch" and idx.estimated_recall == 1.0


# --------------------------------------------------------------------------- building blocks
def test_nprobe_candidates_and_nlist():
    assert _auto.nprobe_candidates(1) == [1]
    c = _auto.nprobe_candidates(100)
    assert c[:5] == [1, 2, 3, 4, 6] and c[-1] == 100 and c == sorted(set(c))
    assert _auto.choose_nlist(10**6) == 1000 and _auto.choose_nlist(10) == 16 and _auto.choose_nlist(10**9) == 4096


@pytest.mark.parametrize("metric", ["cosine", "ip", "l2"])
def test_exact_topk_matches_brute_force(metric):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(1000, 12)).astype(np.float32)
    q = rng.normal(size=(30, 12)).astype(np.float32)
    chunks = lambda: ((s, x[s:s + 128]) for s in range(0, 1000, 128))  # noqa: E731
    full = -((q[:, None] - x[None]) ** 2).sum(-1) if metric == "l2" else q @ x.T
    expected = np.argsort(-full, axis=1)[:, :8]
    np.testing.assert_array_equal(_auto.exact_topk(q, chunks(), 8, metric), expected)
    if faiss is not None:
        from astroembed.search._faiss import FaissBackend

        knn = FaissBackend(faiss, 12, metric, "Flat", use_gpu=False).knn
        np.testing.assert_array_equal(_auto.exact_topk(q, chunks(), 8, metric, knn), expected)


def test_drop_self_and_recall():
    nbr = np.array([[5, 1, 2], [0, 7, 9], [3, 4, 6]])
    np.testing.assert_array_equal(_auto.drop_self(nbr, np.array([5, 7, 8]), 2), [[1, 2], [0, 9], [3, 4]])
    assert _auto.recall_at_k(np.array([[1, 2], [3, -1]]), np.array([[2, 1], [3, 4]])) == 0.75


# --------------------------------------------------------------------------- the chunked add path
def test_chunked_validation_names_global_rows(monkeypatch):
    monkeypatch.setattr(_inputs, "CHUNK_ROWS", 7)
    x = np.ones((30, 3))
    x[22, 1] = np.nan
    x[25] = 0.0
    with pytest.raises(ValueError, match=r"vectors: 1 row\(s\) contain NaN.*rows \[22\]"):
        EmbeddingIndex(x, backend="torch")
    x[22, 1] = 1.0
    with pytest.raises(ValueError, match=r"zero-length.*rows \[25\]"):
        EmbeddingIndex(x, backend="torch")
    with pytest.raises(ValueError, match=r"overflow float32"):
        EmbeddingIndex(np.full((2, 3), 1e300), metric="l2", backend="torch")
    x[25] = 2.0
    small = EmbeddingIndex(x, backend="torch")
    monkeypatch.setattr(_inputs, "CHUNK_ROWS", 1 << 14)
    np.testing.assert_array_equal(small.search(x, 4).indices, EmbeddingIndex(x, backend="torch").search(x, 4).indices)


@needs_faiss
def test_add_makes_no_full_size_copy():
    x = np.random.default_rng(3).normal(size=(400_000, 32)).astype(np.float32)  # 51 MB
    tracemalloc.start()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        EmbeddingIndex(x, device="cpu")  # faiss keeps its own copy (C++, not traced)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # the old path made a float64 copy (102 MB) and a normalised float32 copy (51 MB); now: chunk-sized
    # temporaries plus 16 bytes per row (ids, norms)
    assert peak < 0.5 * x.nbytes, f"peak numpy temporaries {peak / 1e6:.1f} MB"


def test_search_package_imports_neither_torch_nor_faiss():
    """``astroembed.search`` itself is light (the parent package's imports are tested elsewhere)."""
    import subprocess
    import sys
    from pathlib import Path

    src = Path(search.__file__).resolve().parents[1]
    code = (f"import sys, types; pkg = types.ModuleType('astroembed'); pkg.__path__ = [{str(src)!r}]; "
            "sys.modules['astroembed'] = pkg; import astroembed.search as s; "
            "from astroembed.search import EmbeddingIndex, SearchResult, read_embeddings; "
            "print(sorted(m for m in ('torch', 'faiss', 'pandas', 'pyarrow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_version_1_directories_still_load(tmp_path):
    import json

    x = np.random.default_rng(5).normal(size=(50, 6)).astype(np.float32)
    path = EmbeddingIndex(x, index_factory="auto", backend="torch").save(tmp_path / "v1")
    man = json.loads((path / "manifest.json").read_text())
    assert man["format_version"] == search.FORMAT_VERSION == 2 and man["estimated_recall"] == 1.0
    for key in ("estimated_recall", "tuning"):
        del man[key]
    man["format_version"] = 1
    (path / "manifest.json").write_text(json.dumps(man))
    old = EmbeddingIndex.load(path, backend="torch")
    assert old.estimated_recall == 1.0 and old.tuning is None and len(old) == 50
    man["format_version"] = 3
    (path / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(ValueError, match="format version"):
        EmbeddingIndex.load(path)
