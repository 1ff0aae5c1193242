"""Case-insensitive column aliases for reading tables (the same table is rendered in docs/data.md).

Modelled on sncosmo's photometric-data aliases.  The first alias found in a table wins, in the order
listed here.
"""

from __future__ import annotations

LIGHTCURVE_COLUMNS: dict[str, tuple[str, ...]] = {
    "time": ("time", "mjd", "date", "jd", "mjd_obs", "obsmjd", "t"),
    "band": ("band", "filter", "passband", "flt", "bandpass", "fid", "filtername"),
    "flux": ("flux", "fluxcal", "f", "flux_ujy"),
    "flux_err": ("flux_err", "fluxerr", "fluxcalerr", "flux_error", "dflux", "e_flux", "fluxerror"),
    "mag": ("mag", "magpsf", "magnitude", "m"),
    "mag_err": ("mag_err", "magerr", "sigmapsf", "mag_error", "dmag", "e_mag", "magerror", "sigma_mag"),
    "zp": ("zp", "zpt", "zeropoint", "zero_point"),
    "zpsys": ("zpsys", "zpmagsys", "magsys"),
}

SPECTRUM_COLUMNS: dict[str, tuple[str, ...]] = {
    "wavelength": ("wavelength", "wave", "lambda", "lam", "wl", "wavelength_aa"),
    "flux": ("flux", "flux_density", "f_lambda", "flam", "fnu"),
    "flux_err": ("flux_err", "fluxerr", "error", "err", "sigma", "flux_error", "e_flux", "ivar_err"),
}


def find_column(names, field: str, table: dict[str, tuple[str, ...]]) -> str | None:
    """Return the actual column name in ``names`` that matches ``field``'s aliases (case-insensitive)."""
    lower = {str(n).lower(): n for n in names}
    for alias in table[field]:
        if alias in lower:
            return lower[alias]
    return None


def render_markdown() -> str:
    """The alias tables as Markdown (used to write docs/data.md)."""
    rows = ["| container | field | accepted column names (case-insensitive) |", "|---|---|---|"]
    for kind, table in (("LightCurve", LIGHTCURVE_COLUMNS), ("Spectrum", SPECTRUM_COLUMNS)):
        for field, names in table.items():
            rows.append(f"| {kind} | `{field}` | {', '.join(f'`{n}`' for n in names)} |")
    return "\n".join(rows)
