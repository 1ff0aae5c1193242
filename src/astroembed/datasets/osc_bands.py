"""Map the heterogeneous band strings of the Open Supernova Catalog (OSC) to the band registry.

OSC photometry rows carry a free-text ``band`` plus ``system``, ``telescope``, ``instrument`` and
``survey``.  :func:`map_osc_band` turns one such combination into ``(registry band, AB offset, rule)``;
``band`` is ``None`` when the point cannot be mapped honestly (it is then dropped and recorded).

Rules, in order (first match wins; ``tel``/``inst`` are compared case-insensitively):

==========================  ==========================================  =============  ================
OSC band (+ context)        registry band                               default system AB offset source
==========================  ==========================================  =============  ================
R1pg B1pg R2pg Ipg          dropped (photographic plates)
UVW2/W2, UVM2/M2, UVW1/W1   ``uvw2``, ``uvm2``, ``uvw1``                Vega           Breeveld+2011
U B V u b v on Swift/UVOT   ``uvotu``, ``uvotb``, ``uvotv``             Vega           Breeveld+2011
NUV, FUV                    ``galexnuv``, ``galexfuv``                  AB
g r i z y w on PS1 / GPC,   ``ps1g`` … ``ps1w``                         AB
bare y / w / iP1
g r i z on DECam / DES      ``decamg`` … ``decamz`` (registered here)   AB
R (and r) on P48 / PTF48    ``ptf48r`` (Mould R, calibrated to AB)      AB             Ofek+2012
g on P48                    ``sdssg`` (PTF g' is an SDSS g' filter)     AB
C (Catalina, unfiltered)    ``bessellv`` (CSS mags are V-calibrated)    Vega           Drake+2009
clear / CLEAR (KAIT)        ``bessellr`` (unfiltered, R-calibrated)     Vega           Li+2003
G on Gaia                   ``gaiag`` (registered here)                 Vega (+0.105)  Gaia DR2 ZPs
G / Z on NTT-EFOSC          ``sdssg`` / ``sdssz`` (Gunn g, z filters)   AB
U B V R I, R_c, I_c         ``bessellux`` … ``besselli``                Vega           Blanton & Roweis 2007
u g r i z (+ primes)        ``sdssu`` … ``sdssz``                       AB
J H K Ks KS                 ``2massj``, ``2massh``, ``2massks``         Vega           Blanton & Roweis 2007
gr, LSQGR, I1, I2, Y, ii,   dropped (no registered band: LSQ broad gr,
empty                       Spitzer IRAC, Y, unknown)
==========================  ==========================================  =============  ================

An explicit ``system == "AB"`` (or ``"SDSS"``) means the magnitude is already AB (offset 0); an explicit
``"Vega"`` applies the band's Vega→AB offset; anything else (``NaN``, ``Swope``, ``Natural``,
``WHIRC``, ``Swift``) uses the family default above.  ``m_AB = m + offset``.  The offsets are the usual
published constants (accurate to a few hundredths of a magnitude), not synthetic photometry.

Effective wavelengths of the bands registered here (photon-weighted mean of the speclite curves
``decam2014-*`` and ``gaiadr2-G``, the same definition as :mod:`astroembed.data.bands`): DECam
g 4890.0, r 6469.6, i 7847.8, z 9196.5 Å; Gaia G 6773.5 Å.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.bands import list_bands, register_band

__all__ = ["map_osc_band", "map_osc_photometry", "osc_band_table", "VEGA_TO_AB"]

_EXTRA_BANDS = [("decamg", 4890.0, "decam"), ("decamr", 6469.6, "decam"), ("decami", 7847.8, "decam"),
                ("decamz", 9196.5, "decam"), ("gaiag", 6773.5, "gaia")]
for _name, _wl, _survey in _EXTRA_BANDS:
    if _name not in list_bands():
        register_band(_name, _wl, survey=_survey)

#: m_AB - m_Vega per registry band (Blanton & Roweis 2007; Breeveld+2011 for UVOT; Gaia DR2 zero points).
VEGA_TO_AB = {
    "bessellux": 0.79, "bessellb": -0.09, "bessellv": 0.02, "bessellr": 0.21, "besselli": 0.45,
    "uvw2": 1.73, "uvm2": 1.69, "uvw1": 1.51, "uvotu": 1.02, "uvotb": -0.13, "uvotv": -0.01,
    "2massj": 0.91, "2massh": 1.39, "2massks": 1.85, "gaiag": 0.105,
}

_PHOTOGRAPHIC = {"r1pg", "b1pg", "r2pg", "ipg"}
_UV = {"uvw2": "uvw2", "w2": "uvw2", "uvm2": "uvm2", "m2": "uvm2", "uvw1": "uvw1", "w1": "uvw1"}
_UNMAPPABLE = {"gr": "LSQ broad gr filter: no registered band", "lsqgr": "LSQ broad gr filter: no registered band",
               "i1": "Spitzer IRAC: no registered band", "i2": "Spitzer IRAC: no registered band",
               "y": "Y band: no registered band", "ii": "unknown filter 'ii'", "": "empty band string"}


def _s(x) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)) or x is pd.NA:
        return ""
    return str(x).strip()


def map_osc_band(band, system=None, telescope=None, instrument=None, survey=None):
    """Map one OSC (band, system, telescope, instrument, survey) combination.

    Returns
    -------
    (band, ab_offset, rule) : (str or None, float, str)
        Registry band name (``None`` if unmappable), the offset to add to the magnitude to make it AB,
        and a short rule name (or the reason for dropping).

    Examples
    --------
    >>> map_osc_band("R", None, "P48")
    ('ptf48r', 0.0, 'P48 R -> ptf48r (AB)')
    >>> map_osc_band("V", "Vega", "Swift", "UVOT")[:2]
    ('uvotv', -0.01)
    """
    raw = _s(band)
    b = raw.replace("\u2032", "'")
    low = b.lower()
    sysn = _s(system).lower()
    tel, inst, surv = _s(telescope).lower(), _s(instrument).lower(), _s(survey).lower()
    ctx = " ".join((tel, inst))
    swift = "swift" in ctx or "uvot" in ctx
    ps1 = tel in ("ps1", "pan-starrs1", "pan-starrs") or "pan-starrs" in surv or inst.startswith("gpc")
    decam = tel in ("decam", "des") or inst == "decam"
    p48 = tel in ("p48", "ptf48", "palomar 48", "palomar 48-in") or inst in ("p48", "ptf48")

    def done(name, default_system, rule):
        if sysn in ("ab", "sdss"):
            off, used = 0.0, "AB"
        elif sysn == "vega":
            off, used = VEGA_TO_AB.get(name, 0.0), "Vega"
        else:
            used = default_system
            off = VEGA_TO_AB.get(name, 0.0) if default_system == "Vega" else 0.0
        return name, float(off), f"{rule} ({used})"

    if low in _PHOTOGRAPHIC:
        return None, 0.0, "photographic plate magnitude"
    if low in _UV:
        return done(_UV[low], "Vega", f"Swift {raw} -> {_UV[low]}")
    if swift and low in ("u", "b", "v"):
        return done(f"uvot{low}", "Vega", f"Swift {raw} -> uvot{low}")
    if low in ("nuv", "fuv"):
        return done(f"galex{low}", "AB", f"GALEX {raw}")
    if low == "ip1":
        return done("ps1i", "AB", "iP1 -> ps1i")
    if b in ("y", "w") or (ps1 and b in ("g", "r", "i", "z")):
        return done(f"ps1{b}", "AB", f"PS1 {b} -> ps1{b}")
    if decam and b in ("g", "r", "i", "z"):
        return done(f"decam{b}", "AB", f"DECam {b} -> decam{b}")
    if p48 and low == "r":
        return done("ptf48r", "AB", f"P48 {raw} -> ptf48r")
    if p48 and b == "g":
        return done("sdssg", "AB", "P48 g -> sdssg")
    if b == "C":
        return done("bessellv", "Vega", "Catalina C (V-calibrated) -> bessellv")
    if low == "clear":
        return done("bessellr", "Vega", "unfiltered (R-calibrated) -> bessellr")
    if b == "G" and "gaia" in ctx:
        return done("gaiag", "Vega", "Gaia G -> gaiag")
    if b in ("G", "Z") and ("efosc" in ctx or tel == "ntt"):
        return done(f"sdss{low}", "AB", f"EFOSC Gunn {b} -> sdss{low}")
    bessell = {"U": "bessellux", "B": "bessellb", "V": "bessellv", "R": "bessellr", "I": "besselli",
               "R_c": "bessellr", "I_c": "besselli", "Rc": "bessellr", "Ic": "besselli"}
    if b in bessell:
        return done(bessell[b], "Vega", f"Johnson-Cousins {b} -> {bessell[b]}")
    base = low.rstrip("'")
    if base in ("u", "g", "r", "i", "z") and b.rstrip("'") == base:
        return done(f"sdss{base}", "AB", f"Sloan {raw} -> sdss{base}")
    nir = {"j": "2massj", "h": "2massh", "k": "2massks", "ks": "2massks"}
    if low in nir:
        return done(nir[low], "Vega", f"NIR {raw} -> {nir[low]}")
    if low in _UNMAPPABLE:
        return None, 0.0, _UNMAPPABLE[low]
    return None, 0.0, f"unmapped OSC band {raw!r}"


_KEYS = ["band", "system", "telescope", "instrument", "survey"]


def map_osc_photometry(phot: pd.DataFrame) -> pd.DataFrame:
    """Add ``reg_band``, ``ab_offset``, ``mag_ab`` and ``map_rule`` columns to OSC photometry rows.

    Rows whose band cannot be mapped get ``reg_band = None`` and ``mag_ab = NaN``; the input is not
    modified.
    """
    out = phot.copy()
    for k in _KEYS:
        if k not in out:
            out[k] = None
    keys = out[_KEYS].astype(object).where(out[_KEYS].notna(), None)
    combos = keys.drop_duplicates()
    mapped = {tuple(r): map_osc_band(*r) for r in combos.itertuples(index=False, name=None)}
    res = [mapped[tuple(r)] for r in keys.itertuples(index=False, name=None)]
    out["reg_band"] = [r[0] for r in res]
    out["ab_offset"] = np.array([r[1] for r in res], dtype=np.float64)
    out["map_rule"] = [r[2] for r in res]
    ok = out["reg_band"].notna().to_numpy()
    out["mag_ab"] = np.where(ok, out["mag"].to_numpy(np.float64) + out["ab_offset"].to_numpy(), np.nan)
    return out


def osc_band_table(phot: pd.DataFrame) -> pd.DataFrame:
    """Summary of how each (band, system, telescope, instrument, survey) combination maps, with counts."""
    m = map_osc_photometry(phot)
    g = m.groupby(_KEYS + ["reg_band", "ab_offset", "map_rule"], dropna=False).size().rename("n_points")
    return g.reset_index().sort_values("n_points", ascending=False).reset_index(drop=True)
