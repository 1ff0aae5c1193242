"""Maven: CLIP-style light-curve + spectrum (+ metadata) model (typed config, encoders, loss, model)."""

from .config import (
    MODALITIES,
    LightCurveEncoderConfig,
    MavenConfig,
    MetadataEncoderConfig,
    SpectrumEncoderConfig,
)
from .encoders import LightCurveEncoder, MetadataEncoder, SpectrumEncoder
from .losses import LogitScales, clip_loss, info_nce
from .model import Embeddings, MavenModel, MetadataBatch

__all__ = [
    "MODALITIES", "LightCurveEncoderConfig", "SpectrumEncoderConfig", "MetadataEncoderConfig", "MavenConfig",
    "LightCurveEncoder", "SpectrumEncoder", "MetadataEncoder", "LogitScales", "clip_loss", "info_nce",
    "MavenModel", "MetadataBatch", "Embeddings",
]
