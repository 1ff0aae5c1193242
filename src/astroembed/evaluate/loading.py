"""What ``astroembed evaluate`` evaluates: the model (:func:`load_model`), the data set
(:func:`load_dataset`) and the guard against scoring a shipped model on its own fine-tuning objects
(:func:`check_unseen`)."""

from __future__ import annotations

import importlib
import sys
import warnings
from pathlib import Path

import numpy as np

__all__ = ["load_model", "load_dataset", "training_objects", "check_unseen", "DATASETS", "USED_SPLITS"]

DATASETS = ("ztf_bts", "osc", "foundation", "sim")
#: ``release_split`` values in a model's ``folds.csv`` that mark objects the weights were fitted on
#: (``val`` chose the early-stopping epoch, so it was seen too)
USED_SPLITS = ("train", "val")


def load_model(name: str):
    """Resolve ``--model``: ``features``, ``module:attr``, a trained run directory (any registered model
    type, e.g. a CLIP run or the supervised baseline), or ``astroembed.load_pretrained(name)``."""
    if name == "features":
        from .features import FeatureEmbedder

        return FeatureEmbedder()
    if ":" in name and not Path(name).exists():
        mod, attr = name.split(":", 1)
        obj = getattr(importlib.import_module(mod), attr)
        if not hasattr(obj, "embed_lightcurve") and callable(obj):
            obj = obj()
        if not hasattr(obj, "embed_lightcurve"):
            raise TypeError(f"--model {name}: {obj!r} has no embed_lightcurve method")
        return obj
    from ..models.pretrained import load_pretrained

    return load_pretrained(name, device="auto")


def load_dataset(name: str, *, data_dir=None, classes="maven5", seed=0, sim_n=2000, sim_survey="ztf",
                 sim_dir=None, sim_selection: dict | None = None):
    """Build the :class:`~astroembed.datasets.SupernovaDataset` for ``--data``.

    ``sim_selection``: keyword arguments of :func:`astroembed.simulate.simulate` for a set simulated here
    (e.g. ``{"classes": "rates", "peak_mag_max": 18.5, "min_detections": 5}`` for BTS-like references);
    an error with ``sim_dir``, whose set was already selected when it was written.
    """
    from ..datasets import SupernovaDataset, load_foundation, load_osc_pairs, load_ztf_bts

    if name == "ztf_bts":
        return load_ztf_bts(data_dir, classes=classes)
    if name == "osc":
        return load_osc_pairs(data_dir, classes=None if classes == "broad" else classes)
    if name == "foundation":
        return load_foundation(data_dir)
    if name != "sim":
        raise ValueError(f"unknown data set {name!r}; choose from {DATASETS}")
    import pandas as pd

    from ..simulate import read_parquet, simulate

    if sim_dir is not None and sim_selection:
        raise ValueError(f"sim selection {sorted(sim_selection)} applies only to a set simulated here; the set "
                         f"in sim_dir={sim_dir!r} was selected when it was written (drop one of the two)")
    sim = read_parquet(sim_dir) if sim_dir is not None else simulate(sim_n, survey=sim_survey, seed=seed,
                                                                      **(sim_selection or {}))
    truth = sim.truth.reset_index(drop=True)
    ids = truth["object_id"].tolist() if "object_id" in truth else list(range(len(truth)))
    objects = pd.DataFrame({"object_id": ids, "label": truth["class"].astype(object).tolist(),
                            "redshift": truth["redshift"].to_numpy(np.float64)})
    return SupernovaDataset(name=f"sim-{sim_survey}", lightcurves=list(sim.lightcurves),
                            spectra=None if getattr(sim, "spectra", None) is None else list(sim.spectra),
                            objects=objects, info={"n": sim_n, "survey": sim_survey, "seed": seed})


def _model_dir(model, name: str) -> Path | None:
    src = getattr(model, "source", None)
    if isinstance(src, dict) and src.get("path"):
        return Path(src["path"])
    p = Path(name)
    return p if p.is_dir() else None


def training_objects(model_dir, dataset: str) -> set[str] | None:
    """Object ids of ``dataset`` that the weights in ``model_dir`` were fine-tuned on, from the
    ``folds.csv`` shipped beside them (``dataset, object_id, ..., release_split``); ``None`` when the
    directory has no such file."""
    path = None if model_dir is None else Path(model_dir) / "folds.csv"
    if path is None or not path.is_file():
        return None
    import pandas as pd

    t = pd.read_csv(path, dtype={"dataset": str, "object_id": str})
    if not {"dataset", "object_id", "release_split"} <= set(t.columns):
        return None
    used = t[(t["dataset"] == dataset) & t["release_split"].isin(USED_SPLITS)]
    return set(used["object_id"].tolist())


def check_unseen(model, dataset, data_name: str, *, name: str = "", allow: bool = False):
    """Drop from ``dataset`` the objects the model was fine-tuned on (listed in the ``folds.csv`` beside
    its weights), saying so on stderr; with ``allow`` keep them and warn that the scores are optimistic.

    Raises ``ValueError`` when no unseen object is left.
    """
    used = training_objects(_model_dir(model, name), data_name)
    if not used:
        return dataset
    seen = np.isin(np.asarray(dataset.object_ids).astype(str), list(used))
    if not seen.any():
        return dataset
    n, k = len(dataset), int(seen.sum())
    if allow:
        warnings.warn(f"--model {name}: {k} of {n} {data_name} objects were used to fine-tune these weights; "
                      "their scores are optimistic (--allow-training-objects)", stacklevel=2)
        return dataset
    if k == n:
        raise ValueError(f"--model {name}: all {n} {data_name} objects were used to fine-tune these weights "
                         "(folds.csv beside the weights); scoring them would be optimistic. Use the cross-fitted "
                         "evaluation ('astroembed crossfit') or pass --allow-training-objects")
    print(f"astroembed evaluate: --model {name} was fine-tuned on {k} of the {n} {data_name} objects "
          f"(folds.csv beside the weights); evaluating only the {n - k} unseen ones. For all objects use "
          "'astroembed crossfit' (cross-fitted) or --allow-training-objects (optimistic).", file=sys.stderr)
    sub = dataset.subset(np.flatnonzero(~seen))
    sub.info = {**sub.info, "excluded_training_objects": k}
    return sub
