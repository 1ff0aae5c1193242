"""The supervised light-curve baseline, trained in the same harness as Maven.

(Maven-lite, the other baseline, is the Maven CLIP model trained on real data only: a
:class:`~astroembed.train.config.TrainConfig` with ``init_from: null``.)

* **Supervised light-curve model** (:class:`SupervisedLightCurveModel`): the light-curve encoder of
  Maven plus a classification head (cross-entropy) and a redshift head (MSE), trained end to end.
  Its ``embed_lightcurve`` returns the unit-norm encoder output, so the same kNN evaluation applies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ...config import StrictConfig
from ...errors import ConfigError
from ..maven.config import MavenConfig
from ..maven.model import MavenModel
from ..persistence import (
    PretrainedMixin,
    encodes_bands,
)

__all__ = ["SupervisedModelConfig", "SupervisedLightCurveModel"]


@dataclass(frozen=True)
class SupervisedModelConfig(StrictConfig):
    """``encoder``: a light-curve-only :class:`MavenConfig`; heads of ``head_hidden_dim`` units predict
    ``class_names`` and the redshift."""

    encoder: MavenConfig
    class_names: tuple
    head_hidden_dim: int = 64

    def __post_init__(self):
        if not isinstance(self.encoder, MavenConfig) or self.encoder.modalities != ("lightcurve",):
            raise ConfigError("SupervisedModelConfig.encoder: a MavenConfig with only a light-curve encoder")
        if not isinstance(self.class_names, tuple):
            object.__setattr__(self, "class_names", tuple(self.class_names))
        if len(self.class_names) < 2:
            raise ConfigError("SupervisedModelConfig.class_names: at least two classes")
        if not isinstance(self.head_hidden_dim, int) or self.head_hidden_dim < 1:
            raise ConfigError("SupervisedModelConfig.head_hidden_dim: an int >= 1")


class SupervisedLightCurveModel(PretrainedMixin, nn.Module):
    """Light-curve encoder + class and redshift heads (the supervised baseline)."""

    model_type = "supervised-lightcurve"
    config_class = SupervisedModelConfig

    def __init__(self, config: SupervisedModelConfig):
        super().__init__()
        self.config = config
        self.encoder = MavenModel(config.encoder)
        d, h = config.encoder.embed_dim, config.head_hidden_dim
        self.class_head = nn.Sequential(nn.Linear(d, h), nn.GELU(), nn.Linear(h, len(config.class_names)))
        self.redshift_head = nn.Sequential(nn.Linear(d, h), nn.GELU(), nn.Linear(h, 1))
        self._class_index = {n: i for i, n in enumerate(config.class_names)}
        self.eval()

    @property
    def device(self) -> torch.device:
        return self.encoder.device

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def class_targets(self, labels) -> np.ndarray:
        """Class index per label; -100 (ignored by the loss) for unknown / other classes."""
        return np.array([self._class_index.get(lab, -100) if lab is not None else -100 for lab in labels],
                        dtype=np.int64)

    def forward(self, batch) -> tuple[torch.Tensor, torch.Tensor]:
        """(class logits (B, C), redshift (B,))."""
        h = self.encoder.encode_lightcurves(batch, normalize=False)
        return self.class_head(h), self.redshift_head(h).squeeze(-1)

    @encodes_bands
    def embed_lightcurve(self, objs, **kwargs) -> np.ndarray:
        """Unit-norm encoder outputs (N, D); see :meth:`MavenModel.embed_lightcurve`."""
        return self.encoder.embed_lightcurve(objs, **kwargs)

    @encodes_bands
    def predict(self, objs, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """(class probabilities (N, C), redshift (N,)) for light curves."""
        from ...data.collate import length_buckets
        from ...data.containers import LightCurve
        from ..embedding import as_container_list

        items = [self.encoder.preprocess_lightcurve(lc) for lc in as_container_list(objs, LightCurve)]
        probs = np.zeros((len(items), len(self.config.class_names)), dtype=np.float32)
        z = np.zeros(len(items), dtype=np.float32)
        was = self.training
        self.eval()
        try:
            with torch.inference_mode():
                for idx in length_buckets([len(p) for p in items], batch_size):
                    b = self.encoder.collate_lightcurves([items[i] for i in idx]).to(self.device)
                    logits, zp = self(b)
                    probs[idx] = torch.softmax(logits.float(), -1).cpu().numpy()
                    z[idx] = zp.float().cpu().numpy()
        finally:
            self.train(was)
        return probs, z
