"""The real-data sample bundled in the wheel (``astroembed/_sample_data``) and its object ids.

The demo objects are excluded from the shipped model's fine-tuning (the training sources drop them), so
``astroembed demo`` shows numbers on objects the model never saw.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

__all__ = ["sample_data_dir", "demo_object_ids"]


def sample_data_dir() -> Path:
    """The folder of the bundled sample data."""
    return Path(str(resources.files("astroembed") / "_sample_data"))


def demo_object_ids() -> dict[str, list[str]]:
    """Object ids of the bundled sample, per data set (``{"ztf_bts": [...], "osc": [...]}``)."""
    return json.loads((sample_data_dir() / "demo_ids.json").read_text())
