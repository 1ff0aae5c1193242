"""Plots of the evaluation harness (matplotlib, Agg backend; files are PNG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_confusion_matrix", "plot_embedding_map", "plot_retrieval_examples", "embedding_2d"]


def _plt():
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover
        raise ImportError("astroembed.evaluate plots need matplotlib: pip install 'astroembed[train]' "
                          "(or pip install matplotlib)") from e
    return plt


def plot_confusion_matrix(matrix, labels, path, *, title: str = "", normalised: str = "recall") -> Path:
    """Save a confusion matrix (rows = true, columns = predicted) with the value in each cell."""
    plt = _plt()
    m = np.asarray(matrix, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(1.1 * len(labels) + 2.2, 1.0 * len(labels) + 1.8))
    im = ax.imshow(m, cmap="Blues", vmin=0, vmax=1 if normalised in ("recall", "precision") else None)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    thr = 0.5 * (np.nanmax(m) if m.size else 1)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(j, i, f"{m[i, j]:.2f}" if normalised else f"{int(m[i, j])}", ha="center", va="center",
                    color="white" if m[i, j] > thr else "black", fontsize=8)
    ax.set_title(title or f"{normalised}-normalised", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def embedding_2d(emb, *, method: str = "auto", seed: int = 0) -> tuple[np.ndarray, str]:
    """2-D map of embeddings: UMAP (cosine) if ``umap-learn`` is installed, else t-SNE (cosine)."""
    x = np.asarray(emb, dtype=np.float64)
    if method in ("auto", "umap"):
        try:
            import umap  # type: ignore

            return umap.UMAP(n_components=2, metric="cosine", random_state=seed).fit_transform(x), "UMAP"
        except ImportError:
            if method == "umap":
                raise ImportError("method='umap' needs umap-learn: pip install umap-learn") from None
    from sklearn.manifold import TSNE

    perp = float(min(30.0, max(2.0, (len(x) - 1) / 3.0)))
    return TSNE(n_components=2, metric="cosine", init="pca", random_state=seed, perplexity=perp).fit_transform(x), "t-SNE"


def plot_embedding_map(emb, path, *, labels=None, redshift=None, title: str = "", max_points: int = 2000,
                       seed: int = 0, method: str = "auto") -> Path:
    """Two panels: the 2-D map coloured by class and by redshift (Maven fig. 2 style)."""
    plt = _plt()
    emb = np.asarray(emb)
    idx = np.arange(len(emb))
    if len(idx) > max_points:
        idx = np.sort(np.random.default_rng(seed).choice(len(emb), max_points, replace=False))
    xy, name = embedding_2d(emb[idx], method=method, seed=seed)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    ax = axes[0]
    if labels is not None:
        lab = np.asarray(labels, dtype=object)[idx]
        lab = np.array(["unknown" if v is None else str(v) for v in lab])
        for c in sorted(set(lab.tolist()), key=lambda c: -np.sum(lab == c)):
            sel = lab == c
            ax.scatter(xy[sel, 0], xy[sel, 1], s=6, label=f"{c} ({sel.sum()})", alpha=0.7)
        ax.legend(fontsize=7, markerscale=2, loc="best")
    else:
        ax.scatter(xy[:, 0], xy[:, 1], s=6, alpha=0.7)
    ax.set_title(f"{name} by class", fontsize=9)
    ax = axes[1]
    if redshift is not None:
        z = np.asarray(redshift, dtype=np.float64)[idx]
        ok = np.isfinite(z)
        ax.scatter(xy[~ok, 0], xy[~ok, 1], s=4, c="lightgrey")
        sc = ax.scatter(xy[ok, 0], xy[ok, 1], s=6, c=z[ok], cmap="viridis", alpha=0.8)
        fig.colorbar(sc, ax=ax, label="redshift")
    ax.set_title(f"{name} by redshift", fontsize=9)
    for a in axes:
        a.set_xticks([])
        a.set_yticks([])
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_retrieval_examples(lightcurves, spectra, emb_lc, emb_spec, path, *, n_queries: int = 4, top: int = 3,
                            seed: int = 0) -> Path:
    """Light-curve queries (left) and their top spectra by cosine similarity (AstroCLIP fig. 3 style);
    the true partner is drawn in black, retrieved spectra in colour with their rank and similarity."""
    plt = _plt()
    q = np.asarray(emb_lc, dtype=np.float64)
    g = np.asarray(emb_spec, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    g = g / np.linalg.norm(g, axis=1, keepdims=True)
    n_queries = min(n_queries, len(q))
    rows = np.random.default_rng(seed).choice(len(q), n_queries, replace=False)
    fig, axes = plt.subplots(n_queries, 2, figsize=(10, 2.3 * n_queries), squeeze=False)
    for r, i in enumerate(rows):
        lc = lightcurves[i]
        ax = axes[r, 0]
        for b in lc.bands:
            sel = lc.band == b
            ax.errorbar(lc.time[sel] - lc.time.min(), lc.flux[sel], lc.flux_err[sel], fmt=".", ms=3, label=b)
        ax.set_title(f"query LC {lc.object_id} ({lc.label}, z={lc.redshift})", fontsize=8)
        ax.legend(fontsize=6)
        ax.set_xlabel("days", fontsize=7)
        sims = g @ q[i]
        order = np.argsort(-sims)[:top]
        ax = axes[r, 1]
        s = spectra[i]
        ax.plot(s.wavelength, s.flux / np.nanmedian(np.abs(s.flux)), color="k", lw=0.8,
                label=f"true {s.object_id} (rank {1 + int(np.sum(sims > sims[i]))})")
        for rank, j in enumerate(order, 1):
            sj = spectra[j]
            ax.plot(sj.wavelength, sj.flux / np.nanmedian(np.abs(sj.flux)) + 3 * rank, lw=0.7,
                    label=f"#{rank} {sj.object_id} ({sj.label}) s={sims[j]:.2f}")
        ax.legend(fontsize=6)
        ax.set_xlabel("observed wavelength (Å)", fontsize=7)
        ax.set_yticks([])
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
