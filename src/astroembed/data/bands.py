"""Registry of photometric bands and their effective wavelengths (Å).

Models encode a band by its effective wavelength, so a light curve in any registered band can be
embedded.  Canonical names follow sncosmo (``ztfg``, ``lsstr``, ``ps1i``, ``bessellv`` …).

Sources of the wavelengths (photon-weighted mean wavelength of the total system throughput):

* LSST (2023 baseline), SDSS (2010), Bessell, Pan-STARRS, GALEX, 2MASS: computed from the filter
  curves shipped by ``speclite`` (BSD-3) with ``FilterResponse.effective_wavelength``.
* ZTF g/r/i (P48): the same photon-weighted mean, computed from the ZTF total bandpasses shipped in
  ``astroembed/_package_data/filters`` (see :mod:`astroembed.simulate.filters`).  astroembed 0.1 used
  the SVO ``lambda_eff`` values (4746.5, 6366.4, 7867.6 Å), a Vega-weighted wavelength, which
  disagreed with those curves by up to 78 Å.
* Swift UVOT, ATLAS c/o, PTF R: SVO Filter Profile Service ``lambda_eff`` values (their filter curves
  are in neither speclite nor this package).

Each saved model records the table it was trained with (``band_wavelengths`` in its ``config.json``)
and encodes bands with that table (:func:`pinned_band_wavelengths`), so a change of this registry never
changes the embeddings of a model already trained; a model saved without the record (astroembed 0.1)
uses :data:`LEGACY_BAND_WAVELENGTHS`.

>>> import astroembed as ae
>>> ae.register_band("myR", 6400.0, aliases=("R_mine",))
>>> ae.bands.resolve_band("R_mine")
'myr'
"""

from __future__ import annotations

import difflib
import math
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np

__all__ = ["Band", "register_band", "resolve_band", "resolve_bands", "band_wavelength", "list_bands",
           "band_wavelength_table", "pinned_band_wavelengths", "validate_band_table", "LEGACY_BAND_WAVELENGTHS"]


@dataclass(frozen=True)
class Band:
    """A registered band: canonical lower-case ``name``, effective ``wavelength`` in Å, ``survey``."""

    name: str
    wavelength: float
    survey: str | None = None


_BANDS: dict[str, Band] = {}
_ALIASES: dict[str, str] = {}  # lower-case alias -> canonical name
# survey-specific aliases: (survey, lower-case alias) -> canonical name
_SURVEY_ALIASES: dict[tuple[str, str], str] = {}

_BUILTIN: list[tuple[str, float, str]] = [
    # ZTF P48 (photon-weighted mean of the shipped total bandpasses; tests/test_bands.py recomputes them)
    ("ztfg", 4824.6, "ztf"), ("ztfr", 6420.7, "ztf"), ("ztfi", 7863.1, "ztf"),
    # LSST 2023 (speclite)
    ("lsstu", 3745.7, "lsst"), ("lsstg", 4846.2, "lsst"), ("lsstr", 6249.0, "lsst"),
    ("lssti", 7579.0, "lsst"), ("lsstz", 8691.1, "lsst"), ("lssty", 9766.9, "lsst"),
    # Pan-STARRS1 (speclite panstarrs-*)
    ("ps1g", 4900.1, "ps1"), ("ps1r", 6241.3, "ps1"), ("ps1i", 7563.8, "ps1"),
    ("ps1z", 8690.1, "ps1"), ("ps1y", 9644.6, "ps1"), ("ps1w", 6579.3, "ps1"),
    # SDSS 2010 (speclite)
    ("sdssu", 3614.4, "sdss"), ("sdssg", 4749.2, "sdss"), ("sdssr", 6205.8, "sdss"),
    ("sdssi", 7525.6, "sdss"), ("sdssz", 8947.4, "sdss"),
    # Bessell (speclite); ux is the U band of Bessell (1990), same curve here
    ("bessellux", 3618.4, "bessell"), ("bessellb", 4442.2, "bessell"), ("bessellv", 5536.1, "bessell"),
    ("bessellr", 6648.3, "bessell"), ("besselli", 8086.4, "bessell"),
    # Swift UVOT (SVO lambda_eff)
    ("uvw2", 2054.6, "swift"), ("uvm2", 2246.4, "swift"), ("uvw1", 2580.7, "swift"),
    ("uvotu", 3467.1, "swift"), ("uvotb", 4349.6, "swift"), ("uvotv", 5425.3, "swift"),
    # ATLAS (SVO lambda_eff)
    ("atlasc", 5182.4, "atlas"), ("atlaso", 6629.8, "atlas"),
    # others seen in the Open Supernova Catalog
    ("ptf48r", 6436.9, "ptf"), ("galexnuv", 2342.7, "galex"), ("galexfuv", 1546.9, "galex"),
    ("2massj", 12408.0, "2mass"), ("2massh", 16513.7, "2mass"), ("2massks", 21656.2, "2mass"),
]

_BUILTIN_ALIASES: dict[str, str] = {
    # survey-qualified spellings
    **{f"ztf_{b}": f"ztf{b}" for b in "gri"}, **{f"ztf::{b}": f"ztf{b}" for b in "gri"},
    **{f"p48{b}": f"ztf{b}" for b in "gri"},
    **{f"lsst::{b}": f"lsst{b}" for b in "ugrizy"}, **{f"lsst_{b}": f"lsst{b}" for b in "ugrizy"},
    **{f"ps1::{b}": f"ps1{b}" for b in "grizyw"}, **{f"{b}p1": f"ps1{b}" for b in "grizyw"},
    **{f"sdss{b}'": f"sdss{b}" for b in "ugriz"}, **{f"{b}'": f"sdss{b}" for b in "ugriz"},
    "bessellu": "bessellux", "johnsonu": "bessellux", "johnsonb": "bessellb", "johnsonv": "bessellv",
    "cousinsr": "bessellr", "cousinsi": "besselli", "r_c": "bessellr", "i_c": "besselli",
    "uvotw2": "uvw2", "uvotm2": "uvm2", "uvotw1": "uvw1", "w2": "uvw2", "m2": "uvm2", "w1": "uvw1",
    "swift::uvw2": "uvw2", "swift::uvm2": "uvm2", "swift::uvw1": "uvw1",
    "nuv": "galexnuv", "fuv": "galexfuv", "j": "2massj", "h": "2massh", "ks": "2massks", "k": "2massks",
    "c": "atlasc", "o": "atlaso", "cyan": "atlasc", "orange": "atlaso",
}

# With a survey hint, bare letters (and ZTF fid numbers) map into that survey.
_SURVEY_LETTERS: dict[str, dict[str, str]] = {
    "ztf": {"g": "ztfg", "r": "ztfr", "i": "ztfi", "1": "ztfg", "2": "ztfr", "3": "ztfi"},
    "lsst": {b: f"lsst{b}" for b in "ugrizy"},
    "ps1": {b: f"ps1{b}" for b in "grizyw"},
    "sdss": {b: f"sdss{b}" for b in "ugriz"},
    "bessell": {"u": "bessellux", "b": "bessellb", "v": "bessellv", "r": "bessellr", "i": "besselli"},
    "swift": {"u": "uvotu", "b": "uvotb", "v": "uvotv"},
    "atlas": {"c": "atlasc", "o": "atlaso"},
}

# Without a hint, these bare names resolve by convention: lower-case ugriz(y) -> SDSS/PS1 style,
# upper-case UBVRI -> Bessell (case matters only for this fallback).
_DEFAULT_UPPER = {"U": "bessellux", "B": "bessellb", "V": "bessellv", "R": "bessellr", "I": "besselli"}
_DEFAULT_LOWER = {"u": "sdssu", "g": "sdssg", "r": "sdssr", "i": "sdssi", "z": "sdssz", "y": "ps1y"}


def register_band(name: str, wavelength: float, aliases: Iterable[str] = (), *, survey: str | None = None,
                  overwrite: bool = False) -> Band:
    """Register a photometric band so that light curves in it can be embedded.

    Parameters
    ----------
    name : str
        Canonical name (stored lower-case), e.g. ``"myR"``.
    wavelength : float
        Effective wavelength in Å (or an astropy length Quantity).  Must be finite and in 500–60000 Å.
    aliases : iterable of str
        Other spellings resolving to this band (case-insensitive).
    survey : str, optional
        Survey label, informative only.
    overwrite : bool
        Allow replacing an existing band with a different wavelength.

    Examples
    --------
    >>> import astroembed as ae
    >>> ae.register_band("myR", 6400.0).wavelength
    6400.0
    """
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"register_band: name must be a non-empty string, got {name!r}")
    key = name.strip().lower()
    wl = _to_angstrom(wavelength)
    if not np.isfinite(wl) or not (500.0 <= wl <= 60000.0):
        raise ValueError(
            f"register_band: wavelength for {name!r} must be a finite effective wavelength in Å "
            f"between 500 and 60000, got {wavelength!r}"
        )
    old = _BANDS.get(key)
    if old is not None and not overwrite and abs(old.wavelength - wl) > 1e-6:
        raise ValueError(
            f"register_band: band {key!r} is already registered at {old.wavelength} Å; "
            "pass overwrite=True to replace it"
        )
    band = Band(key, float(wl), survey)
    _BANDS[key] = band
    for alias in aliases:
        _ALIASES[str(alias).strip().lower()] = key
    return band


def _to_angstrom(value) -> float:
    if hasattr(value, "unit"):
        from astropy import units as u

        return float(value.to_value(u.AA, equivalencies=u.spectral()))
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"wavelength must be a number in Å or an astropy Quantity, got {value!r}") from None


def list_bands(survey: str | None = None) -> list[str]:
    """Canonical names of all registered bands (optionally only those of one ``survey``)."""
    return sorted(k for k, b in _BANDS.items() if survey is None or b.survey == survey)


_WARNED_LETTERS: set[str] = set()


def _warn_ambiguous_letter(letter: str, canon: str) -> None:
    """Warn (once per letter and session) that a bare letter was resolved by convention."""
    if letter in _WARNED_LETTERS:
        return
    _WARNED_LETTERS.add(letter)
    surveys = sorted(s for s, table in _SURVEY_LETTERS.items() if letter.lower() in table)
    warnings.warn(
        f"band {letter!r} is ambiguous without a survey: taken as {canon!r} ({_BANDS[canon].wavelength:.0f} Å) by "
        f"convention. Pass survey=... ({', '.join(repr(s) for s in surveys)}) or a full band name "
        f"(e.g. 'ztf{letter.lower()}') if these are not {_BANDS[canon].survey} bands.", UserWarning, stacklevel=4)


def resolve_band(name, survey: str | None = None) -> str:
    """Return the canonical band name for ``name`` (case-insensitive, aliases allowed).

    ``survey`` (e.g. ``"ztf"``, ``"lsst"``) lets bare letters like ``"g"`` or ZTF ``fid`` numbers
    (1, 2, 3) resolve into that survey.  Without it a bare letter resolves by convention (lower-case
    ugriz → SDSS, y → PS1, upper-case UBVRI → Bessell) with a one-time ``UserWarning``, since ZTF, LSST
    and PS1 share those letters.  Raises ``ValueError`` listing the known names otherwise.
    """
    if isinstance(name, (bytes, np.bytes_)):
        name = name.decode()
    if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
        name = str(int(name))
    if not isinstance(name, str):
        raise TypeError(f"band: expected a band name string, got {type(name).__name__} {name!r}")
    raw = name.strip()
    key = raw.lower()
    if key in _BANDS:
        return key
    if key in _ALIASES:
        return _ALIASES[key]
    if survey is not None:
        s = survey.lower()
        if s not in _SURVEY_LETTERS:
            raise ValueError(f"survey hint {survey!r} unknown; use one of {sorted(_SURVEY_LETTERS)}")
        if key in _SURVEY_LETTERS[s]:
            return _SURVEY_LETTERS[s][key]
        if f"{s}{key}" in _BANDS:
            return f"{s}{key}"
    if raw in _DEFAULT_UPPER or raw in _DEFAULT_LOWER:
        canon = _DEFAULT_UPPER.get(raw) or _DEFAULT_LOWER[raw]
        _warn_ambiguous_letter(raw, canon)
        return canon
    known = sorted(_BANDS)
    close = difflib.get_close_matches(key, known + sorted(_ALIASES), n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise ValueError(
        f"band: unknown band {name!r}.{hint} Known bands: {', '.join(known)}. "
        f"Pass survey='ztf'/'lsst'/... for bare letters, or add yours with "
        f"astroembed.register_band({raw!r}, wavelength_in_angstrom)."
    )


def resolve_bands(names, survey: str | None = None) -> np.ndarray:
    """Vectorised :func:`resolve_band` over an array of names; returns an array of canonical names."""
    arr = np.asarray(names)
    if arr.ndim != 1:
        raise ValueError(f"band: expected a 1-D array of band names, got shape {arr.shape}")
    uniq, inv = np.unique(arr.astype(str) if arr.dtype.kind not in "iu" else arr, return_inverse=True)
    canon = np.array([resolve_band(u, survey) for u in uniq.tolist()], dtype=object)
    return canon[inv].astype(str) if len(arr) else np.array([], dtype=str)


#: band -> Å pinned by the model that is encoding right now (None: the live registry)
_PINNED: ContextVar[Mapping[str, float] | None] = ContextVar("astroembed_pinned_band_wavelengths", default=None)


def band_wavelength(names) -> np.ndarray:
    """Effective wavelengths (Å, float64) of band names (scalar or array).

    Inside :func:`pinned_band_wavelengths` (every model method that encodes bands enters it with the
    table the model was trained with) the pinned values win over the registry.
    """
    arr = np.asarray(names)
    uniq, inv = np.unique(arr.ravel(), return_inverse=True)
    pin = _PINNED.get() or {}
    wl = []
    for u in uniq.tolist():
        canon = resolve_band(u)
        wl.append(pin[canon] if canon in pin else _BANDS[canon].wavelength)
    return np.asarray(wl, dtype=np.float64)[inv].reshape(arr.shape)


def band_wavelength_table() -> dict[str, float]:
    """``{canonical band: Å}`` for every registered band, as :func:`band_wavelength` sees it now (pin included)."""
    pin = _PINNED.get() or {}
    return {k: float(pin.get(k, b.wavelength)) for k, b in sorted(_BANDS.items())}


class _CheckedTable(dict):
    """A ``{band: Å}`` table returned by :func:`validate_band_table`: pinned again without re-checking."""


def validate_band_table(table, where: str = "band_wavelengths") -> dict[str, float]:
    """Check a ``{band name: Å}`` mapping (as stored in a model's ``config.json``); returns a clean copy."""
    if not isinstance(table, Mapping) or not table:
        raise ValueError(f"{where}: expected a non-empty mapping of band name -> effective wavelength in Å, "
                         f"got {type(table).__name__}")
    out = {}
    for k, v in table.items():
        if not isinstance(k, str) or not k.strip():
            raise ValueError(f"{where}: band names must be non-empty strings, got {k!r}")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 500 <= v <= 60000:
            raise ValueError(f"{where}[{k!r}]: expected an effective wavelength in Å between 500 and 60000, "
                             f"got {v!r}")
        out[k.strip().lower()] = float(v)
    return _CheckedTable(out)


@contextmanager
def pinned_band_wavelengths(table: Mapping[str, float] | None) -> Iterator[None]:
    """Encode bands with ``table`` (``{canonical band: Å}``) inside the block; ``None`` = the live registry.

    Bands missing from ``table`` (e.g. registered after the model was saved) keep their registry value.
    The pin is a :class:`contextvars.ContextVar`: it does not leak into other threads or async tasks.

    >>> from astroembed.data.bands import band_wavelength, pinned_band_wavelengths, LEGACY_BAND_WAVELENGTHS
    >>> with pinned_band_wavelengths(LEGACY_BAND_WAVELENGTHS):
    ...     float(band_wavelength("ztfg"))
    4746.5
    """
    if table is not None and not isinstance(table, _CheckedTable):
        table = validate_band_table(table)
    if table is not None and _PINNED.get() is table:  # already in force (a model method calling another)
        yield
        return
    token = _PINNED.set(table)
    try:
        yield
    finally:
        _PINNED.reset(token)


for _n, _w, _s in _BUILTIN:
    register_band(_n, _w, survey=_s)
_ALIASES.update(_BUILTIN_ALIASES)

#: The band table of astroembed 0.1, used by models saved without a ``band_wavelengths`` record: the
#: built-in table above except ZTF g/r/i, which 0.1 took from SVO (``lambda_eff``, Vega-weighted).
LEGACY_BAND_WAVELENGTHS: Mapping[str, float] = {n: w for n, w, _ in _BUILTIN} | {
    "ztfg": 4746.5, "ztfr": 6366.4, "ztfi": 7867.6}
