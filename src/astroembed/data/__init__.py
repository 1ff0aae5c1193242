"""Data containers, band registry, I/O converters, preprocessing and batching."""

from .bands import band_wavelength, list_bands, register_band, resolve_band
from .containers import LightCurve, Spectrum

__all__ = ["LightCurve", "Spectrum", "register_band", "resolve_band", "list_bands", "band_wavelength"]
