"""SimFM: simulation-pretrained light-curve classifier whose latent is the embedding (GRU or transformer)."""

from .config import SimFMConfig, TransformerConfig
from .model import SimFMBatch, SimFMModel, grad_reverse

__all__ = ["SimFMConfig", "TransformerConfig", "SimFMModel", "SimFMBatch", "grad_reverse"]
