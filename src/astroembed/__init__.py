"""astroembed: multimodal (light curve + spectrum) foundation models for supernovae."""

from __future__ import annotations

__version__ = "0.1.0"

from .data import bands
from .data.bands import list_bands, register_band
from .data.containers import LightCurve, Spectrum

__all__ = ["__version__", "LightCurve", "Spectrum", "register_band", "list_bands", "bands"]
