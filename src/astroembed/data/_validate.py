"""Shared input checks for the data containers: one place that turns user input into clean arrays."""

from __future__ import annotations

import numbers

import numpy as np

MAX_POINTS = 10_000_000  # hard sanity cap on one object's length


def as_float_array(field: str, value, *, unit=None, equivalencies=None) -> np.ndarray:
    """Return ``value`` as a 1-D float64 array, converting an astropy Quantity to ``unit`` first.

    Raises ``TypeError`` for strings/objects/booleans and ``ValueError`` for wrong shapes, with the
    field name in the message.
    """
    if value is None:
        raise TypeError(f"{field}: a value is required, got None")
    if hasattr(value, "unit") and hasattr(value, "to_value"):
        if unit is None:
            value = value.value
        else:
            try:
                value = value.to_value(unit, equivalencies=equivalencies or [])
            except Exception as exc:  # astropy UnitConversionError
                raise ValueError(f"{field}: cannot convert {value.unit} to {unit}: {exc}") from None
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{field}: expected a 1-D array of numbers, got a string {value!r}")
    if hasattr(value, "filled") and hasattr(value, "mask"):  # masked array / masked column
        value = np.ma.filled(np.ma.asarray(value, dtype=np.float64), np.nan)
    try:
        arr = np.asarray(value)
    except Exception as exc:
        raise TypeError(f"{field}: cannot convert to an array of numbers: {exc}") from None
    if arr.dtype.kind in "US" or arr.dtype.kind == "O":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"{field}: expected numbers, got values of type {arr.dtype} (e.g. {arr.ravel()[:1].tolist()}); "
                "convert the column to float first"
            ) from None
    if arr.dtype.kind == "b":
        raise TypeError(f"{field}: expected numbers, got booleans")
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{field}: expected numbers, got dtype {arr.dtype}")
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{field}: expected a 1-D array, got shape {arr.shape}; pass one object at a time "
                         "or flatten the array")
    if arr.size > MAX_POINTS:
        raise ValueError(f"{field}: {arr.size} points exceeds the limit of {MAX_POINTS} for one object")
    return arr.astype(np.float64, copy=True)


def as_optional_float(field: str, value, *, lo: float | None = None, hi: float | None = None) -> float | None:
    """Validate an optional finite scalar (e.g. redshift, ra) and return it as float or None."""
    if value is None:
        return None
    if hasattr(value, "unit") and hasattr(value, "value"):
        value = value.value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{field}: expected a number or None, got {type(value).__name__} {value!r}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{field}: must be finite or None, got {value!r}")
    if lo is not None and v < lo:
        raise ValueError(f"{field}: must be >= {lo}, got {v}")
    if hi is not None and v > hi:
        raise ValueError(f"{field}: must be <= {hi}, got {v}")
    return v


def check_lengths(**arrays) -> int:
    """All given arrays must have the same length; return it."""
    lengths = {k: len(v) for k, v in arrays.items() if v is not None}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{k}={n}" for k, n in lengths.items())
        raise ValueError(f"arrays must have equal lengths, got {desc}")
    return next(iter(lengths.values()))


def finite_rows(field_arrays: dict[str, np.ndarray], dropna: bool, what: str) -> np.ndarray:
    """Boolean mask of rows where every array is finite.  Raise (naming the field) unless ``dropna``."""
    n = len(next(iter(field_arrays.values())))
    ok = np.ones(n, dtype=bool)
    for name, arr in field_arrays.items():
        bad = ~np.isfinite(arr)
        if bad.any() and not dropna:
            idx = np.flatnonzero(bad)[:5].tolist()
            raise ValueError(
                f"{what}.{name}: {int(bad.sum())} non-finite value(s) (NaN/inf) at rows {idx}; "
                f"clean them or pass dropna=True to drop those rows"
            )
        ok &= ~bad
    return ok
