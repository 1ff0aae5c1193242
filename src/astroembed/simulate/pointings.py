"""Real survey pointing histories: the visits that covered an event's sky position, with their depths.

A *pointing history* is an ``.npz`` (format ``astroembed-pointings-1``) made by
``tools/build_pointing_tables.py`` from a survey's exposure table (ZTF exposures or a Rubin OpSim
run, as shipped by ``redback``; not packaged, see docs/simulation.md for provenance and licence):

=============  ==========  ================================================================
key            dtype       meaning
=============  ==========  ================================================================
``format``     str         ``"astroembed-pointings-1"``
``survey``     str         ``"ztf"`` or ``"lsst"`` (must match the simulated survey)
``bands``      str (k,)    band names; ``band`` indexes into them
``mjd_ref``    float64     reference MJD (days)
``dt``         float32     visit time − ``mjd_ref`` (days)
``ra``/``dec`` float32     pointing centre (degrees, ICRS)
``band``       uint8       band code of the visit
``m5_cmag``    uint16      5σ limiting AB magnitude of the visit × 100
``fov_shape``  str         ``"square"`` (half-width ``fov_deg`` on the tangent plane) or ``"circle"``
``fov_deg``    float64     half-width (square) or radius (circle) of the field of view, degrees
=============  ==========  ================================================================

:meth:`PointingHistory.visits` returns, for an event at (ra, dec) and a time window, the visits whose
field of view contains the position (exact tangent-plane / great-circle test), found through a grid
of sky cells holding the pointing centres (sorted by cell then time: two ``searchsorted`` per cell).
No chip gaps: the field is taken as fully sensitive.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from .surveys import observe_at_depth  # re-exported: the noise model at given per-visit depths

__all__ = ["FORMAT", "PointingHistory", "load_pointings", "write_pointings", "default_pointings_path",
           "observe_at_depth", "check_pointings", "pointing_schedule", "BUILD_HINT"]

FORMAT = "astroembed-pointings-1"
_KEYS = ("format", "survey", "bands", "mjd_ref", "dt", "ra", "dec", "band", "m5_cmag", "fov_shape", "fov_deg")
_SPAN = 8192.0  # days: > any table's time span; cell key = cell * _SPAN + dt
BUILD_HINT = ("build one with `python tools/build_pointing_tables.py --survey {survey} --table <redback table> "
              "--out PATH` (docs/simulation.md, 'Real pointings')")


def default_pointings_path(survey: str) -> Path:
    """Where ``tools/build_pointing_tables.py`` writes by default: ``$XDG_CACHE_HOME/astroembed/pointings``
    (``~/.cache`` when unset), one file per survey."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "astroembed" / "pointings" / f"{survey}.npz"


def write_pointings(path, *, survey, bands, mjd, ra, dec, band, m5, fov_shape, fov_deg, provenance=""):
    """Quantise and write a pointing history (see the module docstring); returns the path.

    ``mjd`` days, ``ra``/``dec`` degrees, ``band`` integer codes into ``bands``, ``m5`` AB mag."""
    mjd = np.asarray(mjd, float)
    order = np.argsort(mjd, kind="stable")
    ref = float(np.floor(mjd.min())) if len(mjd) else 0.0
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path, format=np.array(FORMAT), survey=np.array(str(survey)), bands=np.array([str(b) for b in bands]),
        mjd_ref=np.float64(ref), dt=(mjd[order] - ref).astype(np.float32),
        ra=(np.asarray(ra, float)[order] % 360.0).astype(np.float32),
        dec=np.asarray(dec, float)[order].astype(np.float32), band=np.asarray(band)[order].astype(np.uint8),
        m5_cmag=np.clip(np.round(np.asarray(m5, float)[order] * 100.0), 0, 65535).astype(np.uint16),
        fov_shape=np.array(str(fov_shape)), fov_deg=np.float64(fov_deg), provenance=np.array(str(provenance)))
    return path


@dataclass(frozen=True, eq=False)
class PointingHistory:
    """Visits sorted by (sky cell, time), with the cell grid used to find them (see :func:`load_pointings`)."""

    path: str
    survey: str
    bands: tuple[str, ...]
    mjd: np.ndarray        # (n,) float64 days
    ra: np.ndarray         # (n,) float64 degrees
    dec: np.ndarray        # (n,) float64 degrees
    band: np.ndarray       # (n,) int64 codes into ``bands``
    m5: np.ndarray         # (n,) float64 AB mag
    fov_shape: str
    fov_deg: float
    cell_deg: float
    strip_start: np.ndarray  # (n_strip + 1,) first cell id of each declination strip
    key: np.ndarray        # (n,) cell * _SPAN + (mjd - mjd_ref), ascending
    mjd_ref: float
    trig: np.ndarray       # (4, n) sin ra, cos ra, sin dec, cos dec of the pointing centres

    @property
    def mjd_span(self) -> tuple[float, float]:
        return float(self.mjd.min()), float(self.mjd.max())

    @property
    def reach_deg(self) -> float:
        """Largest centre-to-position distance at which a pointing can contain the position."""
        if self.fov_shape == "circle":
            return self.fov_deg
        t = np.tan(np.radians(self.fov_deg))
        return float(np.degrees(np.arctan(np.sqrt(2.0) * t))) + 1e-6

    def _cells(self, ra: float, dec: float) -> np.ndarray:
        """Ids of the cells that can hold a pointing within ``reach_deg`` of (ra, dec)."""
        r = self.reach_deg
        h = self.cell_deg
        n_strip = len(self.strip_start) - 1
        j0 = max(int(np.floor((dec - r + 90.0) / h)), 0)
        j1 = min(int(np.floor((dec + r + 90.0) / h)), n_strip - 1)
        cosd = np.cos(np.radians(dec))
        sinr = np.sin(np.radians(r))
        dra = 180.0 if cosd <= sinr else float(np.degrees(np.arcsin(sinr / cosd)))
        out = []
        for j in range(j0, j1 + 1):
            n_ra = int(self.strip_start[j + 1] - self.strip_start[j])
            w = 360.0 / n_ra
            if dra >= 180.0 or 2.0 * dra + 2.0 * w >= 360.0:
                bins = np.arange(n_ra)
            else:
                bins = np.arange(int(np.floor((ra - dra) / w)), int(np.floor((ra + dra) / w)) + 1) % n_ra
            out.append(self.strip_start[j] + bins)
        return np.concatenate(out) if out else np.zeros(0, np.int64)

    def visits(self, ra: float, dec: float, t0: float, t1: float) -> np.ndarray:
        """Indices of the visits in [t0, t1] (MJD) whose field of view contains (ra, dec) (deg), by time."""
        cells = self._cells(float(ra) % 360.0, float(dec)).astype(np.float64)
        lo = np.searchsorted(self.key, cells * _SPAN + (t0 - self.mjd_ref), side="left")
        hi = np.searchsorted(self.key, cells * _SPAN + (t1 - self.mjd_ref), side="right")
        n = hi - lo
        tot = int(n.sum())
        if tot == 0:
            return np.zeros(0, np.int64)
        idx = np.arange(tot) + np.repeat(lo - np.concatenate([[0], np.cumsum(n)[:-1]]), n)
        idx = idx[self._inside(idx, float(ra), float(dec))]
        return idx[np.argsort(self.mjd[idx], kind="stable")]

    def _inside(self, idx, ra, dec) -> np.ndarray:
        sa0, ca0, sd0, cd0 = self.trig[:, idx]
        a, d = np.radians(ra), np.radians(dec)
        sa, ca, sd, cd = np.sin(a), np.cos(a), np.sin(d), np.cos(d)
        cda = ca * ca0 + sa * sa0          # cos(a - a0)
        cosc = sd0 * sd + cd0 * cd * cda
        if self.fov_shape == "circle":
            return cosc >= np.cos(np.radians(self.fov_deg))
        sda = sa * ca0 - ca * sa0          # sin(a - a0)
        t = np.tan(np.radians(self.fov_deg)) * np.maximum(cosc, 0.0)
        x = cd * sda                        # tangent-plane coordinates times cosc (no division)
        y = cd0 * sd - sd0 * cd * cda
        return (cosc > 0) & (np.abs(x) <= t) & (np.abs(y) <= t)


def _bad(path, what):
    return ValueError(f"pointings: {path} is not a valid pointing history ({what}); rebuild it with "
                      "`python tools/build_pointing_tables.py` (docs/simulation.md, 'Real pointings')")


@lru_cache(maxsize=4)
def load_pointings(path: str) -> PointingHistory:
    """Read and check a pointing history ``.npz``; errors name the ``pointings`` key and the fix."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"pointings: {path} does not exist; " + BUILD_HINT.format(survey="ztf|lsst"))
    try:
        with np.load(p, allow_pickle=False) as f:
            files = list(getattr(f, "files", []))
            d = {k: f[k] for k in _KEYS if k in files}
    except Exception as e:  # not a zip / not an npz / corrupt member
        raise _bad(path, f"cannot be read as .npz: {type(e).__name__}: {e}") from None
    missing = [k for k in _KEYS if k not in d]
    if missing:
        raise _bad(path, f"missing keys {missing}")
    if str(d["format"]) != FORMAT:
        raise _bad(path, f"format {str(d['format'])!r}, expected {FORMAT!r}")
    bands = tuple(str(b) for b in np.atleast_1d(d["bands"]))
    n = len(d["dt"])
    if n == 0:
        raise _bad(path, "no visits")
    if any(len(d[k]) != n for k in ("ra", "dec", "band", "m5_cmag")) or any(np.ndim(d[k]) != 1 for k in
                                                                             ("dt", "ra", "dec", "band", "m5_cmag")):
        raise _bad(path, "dt, ra, dec, band and m5_cmag must be 1-d arrays of one length")
    mjd = float(d["mjd_ref"]) + d["dt"].astype(np.float64)
    ra, dec = d["ra"].astype(np.float64) % 360.0, d["dec"].astype(np.float64)
    band = d["band"].astype(np.int64)
    m5 = d["m5_cmag"].astype(np.float64) / 100.0
    if not (np.all(np.isfinite(mjd)) and np.all(np.isfinite(ra)) and np.all(np.abs(dec) <= 90.0)):
        raise _bad(path, "non-finite times or positions, or |dec| > 90")
    if band.min() < 0 or band.max() >= len(bands):
        raise _bad(path, f"band codes outside 0..{len(bands) - 1}")
    if np.ptp(mjd) >= _SPAN:
        raise _bad(path, f"time span {np.ptp(mjd):.0f} d exceeds {_SPAN:.0f} d")
    shape, fov = str(d["fov_shape"]), float(d["fov_deg"])
    if shape not in ("square", "circle") or not (0.0 < fov < 30.0):
        raise _bad(path, f"fov_shape {shape!r} / fov_deg {fov} (need 'square' or 'circle', 0 < fov_deg < 30)")
    cell = float(np.clip(fov, 0.5, 5.0))
    n_strip = int(np.ceil(180.0 / cell))
    centre = -90.0 + (np.arange(n_strip) + 0.5) * cell
    n_ra = np.maximum(1, np.floor(360.0 * np.cos(np.radians(centre)) / cell)).astype(np.int64)
    strip_start = np.concatenate([[0], np.cumsum(n_ra)])
    j = np.clip(np.floor((dec + 90.0) / cell).astype(np.int64), 0, n_strip - 1)
    cid = strip_start[j] + np.minimum(np.floor(ra / (360.0 / n_ra[j])).astype(np.int64), n_ra[j] - 1)
    ref = float(mjd.min())
    key = cid.astype(np.float64) * _SPAN + (mjd - ref)
    o = np.argsort(key, kind="stable")
    ar, dr = np.radians(ra[o]), np.radians(dec[o])
    trig = np.stack([np.sin(ar), np.cos(ar), np.sin(dr), np.cos(dr)])
    return PointingHistory(str(path), str(d["survey"]), bands, mjd[o], ra[o], dec[o], band[o], m5[o], shape, fov,
                           cell, strip_start, key[o], ref, trig)


def check_pointings(pointings, sv):
    """Validate the ``pointings`` option for survey ``sv``: returns (path as str, survey whose peak-time
    range is cut to the history's time span).  Errors name ``pointings``."""
    if not isinstance(pointings, (str, os.PathLike)):
        raise TypeError(f"pointings: expected a path to a pointing history .npz, got {type(pointings).__name__}")
    path = str(pointings)
    ph = load_pointings(path)
    if ph.survey != sv.name:
        raise ValueError(f"pointings: {path} holds {ph.survey!r} pointings but survey={sv.name!r}; "
                         + BUILD_HINT.format(survey=sv.name))
    if not set(ph.bands) & set(sv.bands):
        raise ValueError(f"pointings: {path} has bands {list(ph.bands)}, none of the simulated bands {list(sv.bands)}")
    lo, hi = max(sv.mjd_range[0], ph.mjd_span[0]), min(sv.mjd_range[1], ph.mjd_span[1])
    if lo >= hi:
        lo, hi = ph.mjd_span  # the history lies outside the survey's default epoch: peaks follow the history
    return path, replace(sv, mjd_range=(float(lo), float(hi)))


def pointing_schedule(ph: PointingHistory, sv, t0: float, t1: float, ra: float, dec: float):
    """Times (MJD), band indices (into ``sv.bands``) and 5σ depths (AB mag) of the real visits covering
    (ra, dec) in [t0, t1]; visits in bands the run does not simulate are dropped."""
    idx = ph.visits(ra, dec, t0, t1)
    to_sv = np.array([sv.bands.index(b) if b in sv.bands else -1 for b in ph.bands], np.int64)
    col = to_sv[ph.band[idx]]
    keep = col >= 0
    idx, col = idx[keep], col[keep]
    t = ph.mjd[idx]
    if len(t) > 1:  # one observation per (time, band): a table listing an exposure twice keeps the first
        o = np.lexsort((col, t))
        dup = np.zeros(len(t), bool)
        dup[o[1:]] = (t[o[1:]] == t[o[:-1]]) & (col[o[1:]] == col[o[:-1]])
        if dup.any():
            idx, col, t = idx[~dup], col[~dup], t[~dup]
    return t, col, ph.m5[idx]


