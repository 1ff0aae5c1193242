"""``astroembed classify``: class probabilities of every object of a light-curve table, with optional
metadata and spectra tables, from any loaded model that has ``predict_proba`` (no family is special-cased)."""

from __future__ import annotations

import argparse
import sys

from ._common import CLIError, add_out_arguments, check_out, table_format

__all__ = ["register", "run_classify", "DEFAULT_METADATA_COLUMNS"]

#: alert-time metadata columns read by default (the ZTF BTS names; those absent from the table are skipped)
DEFAULT_METADATA_COLUMNS = ("host_absmag", "host_color", "gal_b_deg", "mw_av")


def register(sub) -> None:
    p = sub.add_parser("classify", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                       help="class probabilities of every object of a light-curve table",
                       description="Classify every object of a light-curve table (one row per observation), "
                                   "optionally with a metadata table (one row per object) and a spectra table "
                                   "(one spectrum per object), with a model that has predict_proba. Writes "
                                   "object_id, one probability column per class and predicted_class (the most "
                                   "probable class), in order of first appearance in the light-curve table.")
    p.add_argument("lightcurves", help="light-curve table (CSV, Parquet, FITS or ECSV), one row per observation")
    p.add_argument("--metadata", default=None,
                   help="table of per-object metadata, one row per object (objects without a row: missing)")
    p.add_argument("--metadata-columns", default=None, metavar="COL[,COL...]",
                   help="metadata columns given to the model (default: those of "
                        f"{','.join(DEFAULT_METADATA_COLUMNS)} present in --metadata)")
    p.add_argument("--spectra", default=None,
                   help="table of spectra, one per object: one row per spectrum (list columns wavelength, flux, "
                        "flux_err, optional redshift) or one row per pixel (objects without one: missing)")
    p.add_argument("--allow-extra-rows", action="store_true",
                   help="ignore rows of --metadata or --spectra whose object has no light curve (default: an error, "
                        "usually a wrong --id-column or a different sample)")
    p.add_argument("--id-column", default="object_id", help="column naming the object in every table")
    p.add_argument("--horizon-days", type=float, default=None,
                   help="use only observations up to this many days after the first detection (flux > 0)")
    p.add_argument("--survey", default=None, help="band hint for bare band letters, e.g. ztf or lsst")
    p.add_argument("--duplicates", choices=("error", "keep", "mean"), default="error",
                   help="light-curve rows repeating a (time, band) of the same object: an error, kept, or merged")
    p.add_argument("--dropna", action="store_true",
                   help="drop light-curve rows with non-finite values or non-positive errors instead of failing")
    p.add_argument("--errors", choices=("raise", "coerce"), default="raise",
                   help="an object the model rejects stops the run (raise) or gets NaN probabilities (coerce)")
    p.add_argument("--model", default="applecider",
                   help="registered model name, local model directory or Hub repo id (needs predict_proba)")
    p.add_argument("--device", default="auto", help="torch device: auto, cpu, cuda or cuda:N")
    p.add_argument("--batch-size", type=int, default=256, help="objects per forward pass (if the model takes it)")
    add_out_arguments(p, "output table; the format follows the extension (.csv or .parquet)", required=True)
    p.set_defaults(func=run_classify)


def classifying_models() -> tuple[list[str], list[str]]:
    """(registered bundled model names, model types) whose class has ``predict_proba``."""
    from ..models.base import MODEL_TYPES, model_class
    from ..models.persistence import read_model_type
    from ..models.registry import bundled_weights_dir, get_model_spec, list_models

    types = []
    for t in sorted(MODEL_TYPES):
        try:
            if callable(getattr(model_class(t), "predict_proba", None)):
                types.append(t)
        except Exception:  # noqa: BLE001 - a family that cannot be imported here cannot classify here
            continue
    names = []
    for n in list_models():
        try:
            if get_model_spec(n).bundled and read_model_type(bundled_weights_dir() / n) in types:
                names.append(n)
        except Exception:  # noqa: BLE001 - an unreadable entry is not a classifier
            continue
    return names, types


def _predict(model, sel, lcs, meta, specs, args):
    """``(P (len(sel), K) float64, class names)`` of the objects ``sel`` (positions)."""
    import inspect

    import numpy as np

    kwargs = {}
    if meta is not None:
        kwargs["metadata"] = [meta[i] for i in sel]
    if specs is not None:
        kwargs["spectra"] = [specs[i] for i in sel]
    try:
        if "batch_size" in inspect.signature(model.predict_proba).parameters:
            kwargs["batch_size"] = args.batch_size
    except (TypeError, ValueError):
        pass
    probs = model.predict_proba([lcs[i] for i in sel], **kwargs)
    classes = [str(c) for c in getattr(probs, "columns", getattr(model, "classes", []))]
    P = np.asarray(probs, dtype=np.float64)
    if P.ndim != 2 or P.shape[0] != len(sel) or P.shape[1] != len(classes) or not classes:
        raise CLIError(f"{type(model).__name__}.predict_proba returned shape {P.shape} for {len(sel)} objects; "
                       "expected a DataFrame with one row per object and one column per class")
    return P, classes


def _explain(exc, sel, ids, model, args) -> str:
    """The model's error with the file and object id of the input it names (``lightcurves[i]`` …)."""
    import re

    msg = str(exc).strip("'\"")
    files = {"lightcurves": args.lightcurves, "metadata": args.metadata, "spectra": args.spectra}
    m = re.search(r"\b(lightcurves|metadata|spectra|lightcurve|spectrum)\[(\d+)\]", msg)
    if m and int(m.group(2)) < len(sel):
        key = {"lightcurve": "lightcurves", "spectrum": "spectra"}.get(m.group(1), m.group(1))
        return f"{files[key]}: object {ids[sel[int(m.group(2))]]!r}: {msg}"
    if len(sel) == 1:
        return f"{args.lightcurves}: object {ids[sel[0]]!r}: {msg}"
    return f"{args.lightcurves}: {type(model).__name__}.predict_proba failed: {msg}"


def _classify(model, ids, lcs, meta, specs, args):
    """``(P, classes, {position: reason})``: with ``--errors coerce`` the objects the model rejects (found one
    by one, only after a failure) get NaN rows."""
    import numpy as np

    every = list(range(len(ids)))
    try:
        P, classes = _predict(model, every, lcs, meta, specs, args)
        return P, classes, {}
    except (ValueError, TypeError, KeyError) as exc:
        if args.errors == "raise":
            raise CLIError(_explain(exc, every, ids, model, args) + " (--errors coerce: NaN probabilities for the "
                           "objects the model rejects)") from None
        first = exc
    bad = {}
    for i in every:
        try:
            _predict(model, [i], lcs, meta, specs, args)
        except (ValueError, TypeError, KeyError) as exc:
            bad[i] = _explain(exc, [i], ids, model, args)
    good = [i for i in every if i not in bad]
    if not bad or not good:
        what = "none of the objects can be classified; first: " if good == [] else ""
        raise CLIError(what + (bad[min(bad)] if bad else _explain(first, every, ids, model, args))) from None
    Pg, classes = _predict(model, good, lcs, meta, specs, args)
    P = np.full((len(ids), len(classes)), np.nan)
    P[good] = Pg
    return P, classes, bad


def run_classify(args) -> int:
    fmt = table_format(args.out)
    check_out(args.out, args.overwrite)
    if args.batch_size < 1:
        raise CLIError(f"--batch-size must be a positive integer, got {args.batch_size}")
    if args.metadata_columns is not None and args.metadata is None:
        raise CLIError("--metadata-columns needs --metadata (the table holding those columns)")
    import numpy as np
    import pandas as pd

    from . import _inputs

    ids, lcs = _inputs.read_lightcurves(args)
    meta = _inputs.read_metadata(args, ids) if args.metadata else None
    specs = _inputs.read_spectra(args, ids) if args.spectra else None
    from ..models.pretrained import load_pretrained

    model = load_pretrained(args.model, device=args.device)
    if not callable(getattr(model, "predict_proba", None)):
        names, types = classifying_models()
        raise CLIError(f"--model {args.model!r} is a {type(model).__name__} (model_type "
                       f"{getattr(model, 'model_type', '?')!r}), which has no predict_proba: it embeds but does not "
                       f"classify. Registered models that classify: {names or 'none in this installation'} "
                       f"(model types with predict_proba: {types or 'none'}); or embed with 'astroembed embed' and "
                       "train a classifier on the embeddings")
    P, classes, bad = _classify(model, ids, lcs, meta, specs, args)
    clash = {"object_id", "predicted_class"} & set(classes)
    if clash:
        raise CLIError(f"the model has a class named {sorted(clash)[0]!r}, which is also an output column name")
    out = pd.DataFrame(P, columns=classes)
    out.insert(0, "object_id", list(ids))
    ok = np.isfinite(P).all(axis=1)
    out["predicted_class"] = [classes[j] if k else None for j, k in zip(P.argmax(axis=1) if len(P) else [], ok)]
    if fmt == "parquet":
        out.to_parquet(args.out, index=False)
    else:
        out.to_csv(args.out, index=False)
    print(f"wrote class probabilities of {len(out)} objects over {len(classes)} classes ({', '.join(classes)}) "
          f"to {args.out}")
    if bad:
        print(f"astroembed classify: warning: {len(bad)} of {len(ids)} objects could not be classified (NaN "
              f"probabilities, empty predicted_class); first: {bad[min(bad)]}", file=sys.stderr)
    return 0
