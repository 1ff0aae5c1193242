"""A non-learned reference embedder: hand-made features → fixed random projection → unit norm.

It has no notion of a shared space (light-curve and spectrum features are projected independently), so
its cross-modal retrieval is at chance by construction; its probes show what simple summary statistics
already achieve.  Used by ``astroembed evaluate --model features`` and as a stand-in before a trained
model exists.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FeatureEmbedder", "lightcurve_features", "spectrum_features"]

_WL_EDGES = (0.0, 4000.0, 5500.0, 7000.0, 1e9)  # blue/green/red/infrared band groups (Å)
_SPEC_EDGES = np.geomspace(3500.0, 9500.0, 25)


def lightcurve_features(lc) -> np.ndarray:
    """Per band group (λ < 4000, 4000–5500, 5500–7000, > 7000 Å): peak mag, median mag, log n,
    rise and fade (days from first point to peak, peak to last), decline slope over 30 d; plus overall
    duration, peak mag, colour at peak of the two best-sampled groups."""
    mag = lc.mag
    wl = lc.wavelength
    t = lc.time - lc.time.min()
    feats = []
    peaks = []
    for lo, hi in zip(_WL_EDGES[:-1], _WL_EDGES[1:]):
        sel = (wl >= lo) & (wl < hi) & np.isfinite(mag)
        if sel.sum() == 0:
            feats += [0.0] * 6 + [1.0]
            peaks.append(np.nan)
            continue
        tm, m = t[sel], mag[sel]
        i = int(np.argmin(m))
        post = (tm > tm[i]) & (tm < tm[i] + 30)
        slope = 0.0
        if post.sum() >= 2 and np.ptp(tm[post]) > 0:
            dt = tm[post] - tm[i]
            slope = float(np.sum((dt - dt.mean()) * (m[post] - m[post].mean())) / np.sum((dt - dt.mean()) ** 2))
        feats += [(m[i] - 19) / 2, (np.median(m) - 19) / 2, np.log1p(sel.sum()) / 3, np.log1p(tm[i] - tm.min()) / 3,
                  np.log1p(tm.max() - tm[i]) / 3, float(np.clip(slope * 10, -3, 3)), 0.0]
        peaks.append(m[i])
    peaks = np.array(peaks)
    ok = np.isfinite(peaks)
    colour = float(peaks[ok][0] - peaks[ok][1]) if ok.sum() >= 2 else 0.0
    feats += [np.log1p(t.max()) / 3, (np.nanmin(mag) - 19) / 2 if np.isfinite(mag).any() else 0.0, colour]
    return np.asarray(feats, dtype=np.float64)


def spectrum_features(spec) -> np.ndarray:
    """Median flux in 24 log-spaced bins over 3500–9500 Å (observed frame), normalised by the median
    |flux| of the spectrum; 0 where not covered, plus a coverage mask."""
    w, f = spec.wavelength, spec.flux
    norm = np.nanmedian(np.abs(f)) or 1.0
    vals, mask = [], []
    for lo, hi in zip(_SPEC_EDGES[:-1], _SPEC_EDGES[1:]):
        sel = (w >= lo) & (w < hi)
        vals.append(float(np.clip(np.median(f[sel]) / norm, -5, 5)) if sel.any() else 0.0)
        mask.append(1.0 if sel.any() else 0.0)
    return np.asarray(vals + mask, dtype=np.float64)


class FeatureEmbedder:
    """``embed_lightcurve`` / ``embed_spectrum`` from hand-made features and a seeded random projection.

    Parameters
    ----------
    dim : int
        Output dimension.
    seed : int
        Seed of the projection matrices (one per modality).
    """

    def __init__(self, dim: int = 64, seed: int = 0):
        self.dim, self.seed = int(dim), int(seed)
        rng = np.random.default_rng(seed)
        n_lc = len(lightcurve_features(_DummyLC()))
        self._p_lc = rng.normal(size=(n_lc + 1, self.dim))
        self._p_sp = rng.normal(size=(2 * (len(_SPEC_EDGES) - 1) + 1, self.dim))

    def _project(self, F, P):
        if len(F) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        F = np.hstack([F, np.ones((len(F), 1))])
        E = np.tanh(F @ P / np.sqrt(P.shape[0]))
        E /= np.linalg.norm(E, axis=1, keepdims=True)
        return np.ascontiguousarray(E, dtype=np.float32)

    def embed_lightcurve(self, lightcurves) -> np.ndarray:
        F = np.array([lightcurve_features(lc) for lc in lightcurves]).reshape(len(lightcurves), -1)
        return self._project(F, self._p_lc)

    def embed_spectrum(self, spectra) -> np.ndarray:
        F = np.array([spectrum_features(s) for s in spectra]).reshape(len(spectra), -1)
        return self._project(F, self._p_sp)


class _DummyLC:
    mag = np.array([19.0, 18.5])
    wavelength = np.array([4800.0, 6400.0])
    time = np.array([0.0, 10.0])
