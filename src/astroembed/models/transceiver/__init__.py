"""Transceiver: a multimodal mixture-of-experts VAE that generates a spectrum from a light curve (and back).

Shen & Gagliano's design (Perceiver-style encoders/decoders, MoE-MMVAE objective, Laplace distributions),
trained here on simulated pairs of every class and fine-tuned on real OSC pairs.  See
``docs/models/transceiver.md``.
"""

from .config import TransceiverConfig
from .generation import (
    GeneratedLightCurve,
    GeneratedSpectrum,
    calibrate_temperature,
    generate_lightcurve,
    generate_spectrum,
    interval_coverage,
)
from .model import TransceiverModel

__all__ = ["TransceiverConfig", "TransceiverModel", "GeneratedSpectrum", "GeneratedLightCurve", "generate_spectrum",
           "generate_lightcurve", "calibrate_temperature", "interval_coverage"]
