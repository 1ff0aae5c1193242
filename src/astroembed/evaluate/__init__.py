"""Evaluation harness: probes on frozen embeddings, cross-validation, metrics, plots, reports.

>>> from astroembed.evaluate import evaluate_model, FeatureEmbedder        # doctest: +SKIP
>>> from astroembed.datasets import load_ztf_bts                           # doctest: +SKIP
>>> report = evaluate_model(FeatureEmbedder(), load_ztf_bts(), out="runs/eval")   # doctest: +SKIP
>>> print(report)                                                          # doctest: +SKIP
"""

from ..labels import MAVEN3, MAVEN5
from .crossval import CVResult, cross_validate_probe, limited_scenario, outer_splits, select_params
from .features import FeatureEmbedder
from .metrics import (
                      classification_metrics,
                      confusion_matrices,
                      redshift_metrics,
                      retrieval_metrics,
                      retrieval_ranks,
)
from .probes import FIXED_PARAMS, PARAM_GRIDS, make_probe
from .report import (
                      EvaluationReport,
                      embed_dataset,
                      evaluate_embeddings,
                      evaluate_model,
                      evaluate_zero_shot,
)

__all__ = ["evaluate_model", "evaluate_embeddings", "evaluate_zero_shot", "embed_dataset", "EvaluationReport",
           "cross_validate_probe", "limited_scenario", "outer_splits", "select_params", "CVResult",
           "classification_metrics", "confusion_matrices", "redshift_metrics", "retrieval_ranks",
           "retrieval_metrics", "make_probe", "PARAM_GRIDS", "FIXED_PARAMS", "FeatureEmbedder",
           "MAVEN5", "MAVEN3"]
