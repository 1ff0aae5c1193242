"""Class labels: the Maven class sets and the one label-cleaning rule used by loaders, training and evaluation."""

from __future__ import annotations

import numpy as np

__all__ = ["MAVEN5", "MAVEN3", "CLASS_SETS", "clean_label", "clean_labels"]

#: the five Maven classes (also the metadata encoder's default ``class_names``)
MAVEN5 = ("Ia", "II", "Ibc", "IIn", "SLSN-I")
#: the three-way subset
MAVEN3 = ("Ia", "II", "Ibc")
#: named class sets (``--classes maven5`` etc.)
CLASS_SETS = {"maven5": MAVEN5, "maven3": MAVEN3}


def clean_label(x) -> str | None:
    """A label as ``str``, or ``None`` when missing (``None``, NaN, ``pandas.NA`` / ``NaT``)."""
    if x is None:
        return None
    if isinstance(x, (float, np.floating)):
        return None if np.isnan(x) else str(x)
    if isinstance(x, str):
        return x
    try:
        import pandas as pd

        if pd.isna(x):
            return None
    except (ImportError, TypeError, ValueError):
        pass
    return str(x)


def clean_labels(values) -> np.ndarray:
    """:func:`clean_label` of each value, as an object array."""
    return np.array([clean_label(v) for v in values], dtype=object)
