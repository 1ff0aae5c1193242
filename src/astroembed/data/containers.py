"""Validated containers for one object's light curve (:class:`LightCurve`) and spectrum (:class:`Spectrum`).

Containers validate on construction and fail with a message that names the field and the fix.
Nothing is dropped silently: non-finite rows raise unless ``dropna=True`` is passed explicitly.
The two classes live in :mod:`astroembed.data.lightcurve` and :mod:`astroembed.data.spectrum`; this module
is where the rest of the package (and users) import them from.
"""

from __future__ import annotations

from .lightcurve import LightCurve
from .spectrum import Spectrum

__all__ = ["LightCurve", "Spectrum"]
