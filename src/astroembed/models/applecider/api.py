"""Table in, class probabilities out: the library function behind a ``classify`` CLI command.

Proposed CLI: ``astroembed classify PHOT.(csv|parquet) [--metadata META.(csv|parquet)] [--model applecider]
[--id-column object_id] [--horizon-days D] --out probs.(csv|parquet)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["classify_table"]


def classify_table(photometry, metadata=None, *, model="applecider", id_column: str = "object_id",
                   time_column: str = "mjd", band_column: str = "band", mag_column: str = "mag",
                   mag_err_column: str = "magerr", survey: str | None = "ztf", horizon_days: float | None = None):
    """Classify every object of a long photometry table.

    Parameters
    ----------
    photometry : pandas.DataFrame
        One row per detection: ``id_column``, ``time_column`` (MJD), ``band_column``, ``mag_column`` and
        ``mag_err_column`` (AB mag).
    metadata : pandas.DataFrame, optional
        One row per object: ``id_column`` plus any of the model's metadata fields (missing objects or
        values = missing metadata).  Other columns are an error (named).
    model : str or AppleCiderModel
        Registered name / directory, or a loaded model.
    horizon_days : float, optional
        Use only photometry up to first detection + this many days (what was known then).

    Returns
    -------
    pandas.DataFrame
        Index ``object_id`` (first-appearance order of the table), one probability column per class
        (rows sum to 1) and ``predicted_class``.
    """
    import pandas as pd

    from ...data.containers import LightCurve
    from .features import truncate_lightcurve

    if isinstance(model, str):
        from ..pretrained import load_pretrained

        model = load_pretrained(model)
    need = [id_column, time_column, band_column, mag_column, mag_err_column]
    missing = [c for c in need if c not in photometry.columns]
    if missing:
        raise ValueError(f"photometry: missing column(s) {missing}; it has {list(photometry.columns)}")
    ids = pd.unique(photometry[id_column])
    lcs = []
    for oid, g in photometry.groupby(id_column, sort=False):
        lc = LightCurve(time=g[time_column].to_numpy(np.float64), band=g[band_column].astype(str).to_numpy(),
                        mag=g[mag_column].to_numpy(np.float64), mag_err=g[mag_err_column].to_numpy(np.float64),
                        object_id=oid, survey=survey, duplicates="mean")
        lcs.append(truncate_lightcurve(lc, horizon_days) if horizon_days is not None else lc)
    by_id = dict(zip([lc.object_id for lc in lcs], lcs))
    lcs = [by_id[i] for i in ids]
    meta = None
    if metadata is not None:
        if id_column not in metadata.columns:
            raise ValueError(f"metadata: missing the id column {id_column!r}")
        m = metadata.drop_duplicates(id_column).set_index(id_column)
        meta = [None if i not in m.index else {k: v for k, v in m.loc[i].to_dict().items()} for i in ids]
    out = model.predict_proba(lcs, metadata=meta)
    out["predicted_class"] = out[list(model.classes)].idxmax(axis=1)
    return out
