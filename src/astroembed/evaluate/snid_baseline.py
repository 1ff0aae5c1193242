"""SNID-like template cross-correlation baseline for spectrum type + redshift (Blondin & Tonry 2007, simplified).

Everything lives on one log-λ grid (default: the SNID grid, 1024 bins, 2500–10000 Å, Δlnλ = ln 4 / 1024),
so a redshift is a shift of ``ln(1 + z) / Δlnλ`` bins.

* Templates (rest frame) are continuum-divided (the SNID ones already are; raw ones go through
  :func:`flatten`), zero-meaned and apodised; a query (observed frame) likewise.
* For every template and every integer shift in ``[0, ln(1 + z_max) / Δlnλ]`` the normalised correlation over
  the overlap, ``r = Σ a t / sqrt(Σ a² Σ t²)`` (sums over the overlapping valid bins), is computed with FFTs;
  the score is ``r × lap`` with ``lap`` = overlap / query coverage (SNID's rlap uses the same idea),
  shifts with ``lap < min_lap`` are ignored.
* Each template's best shift gives its (score, z).  Type = score-weighted vote of the ``n_vote`` best
  templates; redshift = median z of the ``n_z`` best (both fixed in advance, not tuned).

:func:`flatten`: divide by a Gaussian-smoothed continuum (σ = ``smooth_bins`` bins, masked normalised
convolution), subtract 1, clip to ±5, taper the first/last 5 % of the valid range with a cosine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SnidLikeClassifier", "flatten", "log_grid", "SnidResult"]


def log_grid(w0: float = 2500.0, w1: float = 10000.0, n: int = 1024) -> np.ndarray:
    """Bin centres (Å) of a log-λ grid (SNID: 2500–10000 Å, 1024 bins)."""
    dl = np.log(w1 / w0) / n
    return w0 * np.exp(dl * (np.arange(n) + 0.5))


def _rebin(wave, flux, grid):
    """Linear interpolation onto ``grid`` inside the spectrum's range; returns (flux, mask)."""
    wave, flux = np.asarray(wave, np.float64), np.asarray(flux, np.float64)
    ok = np.isfinite(wave) & np.isfinite(flux)
    wave, flux = wave[ok], flux[ok]
    o = np.argsort(wave)
    wave, flux = wave[o], flux[o]
    m = (grid >= wave[0]) & (grid <= wave[-1]) if len(wave) > 1 else np.zeros(len(grid), bool)
    out = np.zeros(len(grid))
    out[m] = np.interp(grid[m], wave, flux)
    return out, m


def flatten(flux: np.ndarray, mask: np.ndarray, smooth_bins: float = 60.0, taper: float = 0.05) -> np.ndarray:
    """Continuum-divided, zero-mean, apodised version of a spectrum on a log grid (0 outside ``mask``)."""
    from scipy.ndimage import gaussian_filter1d

    m = mask.astype(np.float64)
    if m.sum() < 10:
        return np.zeros_like(flux)
    num = gaussian_filter1d(flux * m, smooth_bins, mode="constant")
    den = gaussian_filter1d(m, smooth_bins, mode="constant")
    cont = num / np.maximum(den, 1e-12)
    floor = max(np.median(np.abs(cont[mask])) * 1e-2, 1e-30)
    cont = np.where(np.abs(cont) < floor, floor, cont)
    f = np.clip(np.where(mask, flux / cont - 1.0, 0.0), -5, 5)
    idx = np.flatnonzero(mask)
    f[idx] -= f[idx].mean()
    k = max(1, int(taper * len(idx)))
    ramp = 0.5 * (1 - np.cos(np.pi * (np.arange(k) + 0.5) / k))
    f[idx[:k]] *= ramp
    f[idx[-k:]] *= ramp[::-1]
    return np.where(mask, f, 0.0)


@dataclass
class SnidResult:
    """Predicted ``label`` and ``redshift`` per query, best score and the number of usable templates."""

    label: np.ndarray
    redshift: np.ndarray
    score: np.ndarray


class SnidLikeClassifier:
    """Cross-correlate observed spectra with rest-frame templates (see the module docstring).

    Parameters
    ----------
    template_flux : (T, G) flattened rest-frame templates on ``grid`` (0 = no data)
    template_label, template_name : (T,) labels and SN names
    grid : (G,) log-λ bin centres in Å
    """

    def __init__(self, template_flux, template_label, template_name, grid, *, z_max: float = 1.0,
                 min_lap: float = 0.4, n_vote: int = 10, n_z: int = 5):
        self.grid = np.asarray(grid, np.float64)
        self.dl = float(np.log(self.grid[1] / self.grid[0]))
        t = np.asarray(template_flux, np.float64)
        self.labels = np.asarray(template_label, dtype=object)
        self.names = np.asarray(template_name, dtype=object)
        self.G = t.shape[1]
        self.nfft = 1 << int(np.ceil(np.log2(2 * self.G)))
        self.max_shift = int(np.floor(np.log1p(z_max) / self.dl))
        self.min_lap, self.n_vote, self.n_z = float(min_lap), int(n_vote), int(n_z)
        tm = (t != 0).astype(np.float32)
        t = t.astype(np.float32)
        from scipy.fft import rfft as f

        self._T = np.conj(f(t, self.nfft)).astype(np.complex64)
        self._T2 = np.conj(f(t * t, self.nfft)).astype(np.complex64)
        self._M = np.conj(f(tm, self.nfft)).astype(np.complex64)

    @classmethod
    def from_template_bank(cls, records, grid=None, max_per_sn: int | None = 4, **kw):
        """Build from :func:`astroembed.train.spectrum_templates.load_template_bank` records, keeping at most
        ``max_per_sn`` spectra per SN (evenly spaced in the bank's order, which is by epoch; for speed)."""
        grid = log_grid() if grid is None else grid
        if max_per_sn is not None:
            by_name: dict = {}
            for r in records:
                by_name.setdefault(r.name, []).append(r)
            records = [g[int(i)] for g in by_name.values()
                       for i in np.unique(np.linspace(0, len(g) - 1, min(max_per_sn, len(g))).round())]
        rows, labels, names = [], [], []
        for r in records:
            fl, m = _rebin(r.wave, r.flux, grid)
            if m.sum() < 50:
                continue
            rows.append(flatten(fl, m))
            labels.append(r.label)
            names.append(r.name)
        return cls(np.array(rows), labels, names, grid, **kw)

    def _scores(self, a: np.ndarray, m: np.ndarray):
        """(T, S) score and z for shifts 0..max_shift of each template (observed = rest shifted right)."""
        from scipy.fft import irfft as inv
        from scipy.fft import rfft as f

        a = a.astype(np.float32)
        A, A2, MA = f(a, self.nfft), f(a * a, self.nfft), f(m.astype(np.float32), self.nfft)
        S = self.max_shift + 1
        num = inv(A[None] * self._T, self.nfft)[:, :S]
        saa = inv(A2[None] * self._M, self.nfft)[:, :S]
        stt = inv(MA[None] * self._T2, self.nfft)[:, :S]
        nov = inv(MA[None] * self._M, self.nfft)[:, :S]
        r = num / np.sqrt(np.maximum(saa * stt, 1e-6))
        lap = nov / max(m.sum(), 1)
        score = np.where(lap >= self.min_lap, r * lap, -np.inf)
        return score

    def predict_one(self, wave, flux, exclude_names=()):
        """(label, z, score) for one observed-frame spectrum."""
        fl, m = _rebin(wave, flux, self.grid)
        if m.sum() < 50:
            return None, np.nan, -np.inf
        a = flatten(fl, m)
        score = self._scores(a, m)
        if exclude_names:
            score[np.isin(self.names, list(exclude_names))] = -np.inf
        best_shift = np.argmax(score, axis=1)
        best = score[np.arange(len(score)), best_shift]
        order = np.argsort(-best)
        order = order[np.isfinite(best[order]) & np.array([lab is not None for lab in self.labels[order]])]
        if len(order) == 0:
            return None, np.nan, -np.inf
        z_t = np.expm1(best_shift * self.dl)
        votes: dict = {}
        for i in order[: self.n_vote]:
            votes[self.labels[i]] = votes.get(self.labels[i], 0.0) + max(best[i], 0.0) + 1e-9
        label = max(votes, key=votes.get)
        return label, float(np.median(z_t[order[: self.n_z]])), float(best[order[0]])

    def predict(self, spectra, exclude_names=None) -> SnidResult:
        """Predict every :class:`~astroembed.data.containers.Spectrum` of ``spectra`` (observed frame)."""
        out = [self.predict_one(s.wavelength, s.flux, () if exclude_names is None else exclude_names[i])
               for i, s in enumerate(spectra)]
        return SnidResult(np.array([o[0] for o in out], dtype=object), np.array([o[1] for o in out]),
                          np.array([o[2] for o in out]))
