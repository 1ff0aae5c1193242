"""``astroembed embed | search | redshift``: embed a table of objects, search an embedding file, and
zero-shot redshifts from a reference embedding file."""

from __future__ import annotations

import argparse
import sys

from ._common import CLIError, add_out_arguments, check_out, table_format

__all__ = ["register", "run_embed", "run_search", "run_redshift", "read_table"]


def register(sub) -> None:
    fmt = argparse.ArgumentDefaultsHelpFormatter
    p = sub.add_parser("embed", formatter_class=fmt,
                       help="embed a table of light curves or spectra into a Parquet file of embeddings",
                       description="Embed every object of a table and write one embedding per object to Parquet, "
                                   "chunk by chunk (a Parquet input sorted or grouped by object is streamed with "
                                   "bounded memory). Light curves: one row per observation. Spectra: one row per "
                                   "spectrum (list columns or one flux column per wavelength) or one row per pixel. "
                                   "Objects are written in order of first appearance in the input.")
    p.add_argument("input", help="CSV, Parquet, FITS or ECSV table")
    p.add_argument("--kind", choices=("lightcurve", "spectrum"), required=True,
                   help="what the rows of the table are")
    p.add_argument("--id-column", default="object_id", help="column naming the object of each row")
    p.add_argument("--keep-columns", default="", metavar="COL[,COL...]",
                   help="per-object columns (constant within an object, e.g. redshift,type) copied into the "
                        "output, e.g. for 'astroembed redshift --reference'")
    p.add_argument("--survey", default=None, help="band hint for bare band letters, e.g. ztf or lsst")
    p.add_argument("--duplicates", choices=("error", "keep", "mean"), default="error",
                   help="light-curve rows repeating a (time, band) of the same object: an error, kept, or "
                        "merged into their inverse-variance weighted mean")
    p.add_argument("--dropna", action="store_true",
                   help="drop rows with non-finite values or non-positive errors instead of failing")
    p.add_argument("--errors", choices=("raise", "coerce"), default="raise",
                   help="an object that cannot be embedded stops the run (raise) or gets a row of NaN (coerce)")
    p.add_argument("--model", default="maven", help="registered model name, local model directory or Hub repo id")
    p.add_argument("--device", default="auto", help="torch device: auto, cpu, cuda or cuda:N")
    p.add_argument("--batch-size", type=int, default=64,
                   help="objects per forward pass (64 is the fastest on a CPU in benchmarks/bench_embed.py; "
                        "use more on a GPU)")
    p.add_argument("--chunk-rows", type=int, default=200_000,
                   help="input rows read and embedded at a time (bounds the memory; an object is never cut)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (it is shown on a terminal)")
    add_out_arguments(p, "output Parquet file (.parquet)", required=True)
    p.set_defaults(func=run_embed)

    p = sub.add_parser("search", formatter_class=fmt,
                       help="nearest neighbours of query embeddings in an embedding file",
                       description="For each query embedding, the k most similar catalogue embeddings (cosine).")
    p.add_argument("--index", required=True, help="Parquet written by 'astroembed embed' (the catalogue)")
    p.add_argument("--query", required=True, help="Parquet written by 'astroembed embed' (the queries)")
    p.add_argument("-k", type=int, default=10, help="neighbours per query")
    add_out_arguments(p, "output table of (query_id, rank, id, score); the format follows the extension "
                         "(.csv or .parquet); printed when not given")
    p.set_defaults(func=run_search)

    p = sub.add_parser("redshift", formatter_class=fmt,
                       help="zero-shot kNN redshifts of query embeddings from a reference set",
                       description="Distance-weighted kNN redshift of each query from the reference embeddings "
                                   "with known redshift (astroembed.tasks.zero_shot_redshift).")
    p.add_argument("--reference", required=True,
                   help="Parquet of reference embeddings with a redshift column (e.g. 'astroembed embed "
                        "--keep-columns redshift')")
    p.add_argument("--redshift-column", default="redshift", help="column of --reference holding the redshift")
    p.add_argument("--query", required=True, help="Parquet of query embeddings")
    p.add_argument("-k", type=int, default=100, help="neighbours averaged per query")
    p.add_argument("--weights", choices=("distance", "uniform"), default="distance",
                   help="neighbour weighting")
    add_out_arguments(p, "output table of (object_id, z, z_err); the format follows the extension "
                         "(.csv or .parquet); printed when not given")
    p.set_defaults(func=run_redshift)


def _files():
    from ..search import files

    return files


def read_table(path: str):
    """Read CSV / Parquet / FITS / ECSV into a pandas DataFrame."""
    from ._tables import read_table as read

    return read(path)


def _group_objects(df, args, keep: list[str]):
    """Grouping path: one container per object (first-appearance order); ``(objects, {object_id: data-row
    indices}, {column: per-object values}, {position: reason} of the objects that failed with --errors coerce)``."""
    from ..data.io import lightcurve_from_table, spectrum_from_table
    from ._tables import HEADER, rows_text

    idc = args.id_column
    df = df.reset_index(drop=True)
    objs, rows_of, kept, failed = [], {}, {c: [] for c in keep}, {}
    for oid, sub in df.groupby(idc, sort=False):
        oid = oid.item() if hasattr(oid, "item") else oid
        where = f"{args.input}: object {oid!r} (data rows {rows_text(sub.index)}, {HEADER})"
        rows_of[oid] = sub.index
        for c in keep:
            vals = sub[c].dropna().unique()
            if len(vals) > 1:
                raise CLIError(f"{where}: --keep-columns {c!r} is not constant within the object "
                               f"({vals[:3].tolist()} ...); keep only per-object columns")
            kept[c].append(vals[0] if len(vals) else None)
        body = sub.drop(columns=[idc, *keep])
        try:
            if args.kind == "lightcurve":
                objs.append(lightcurve_from_table(body, survey=args.survey, object_id=oid,
                                                  duplicates=args.duplicates, dropna=args.dropna))
            else:
                objs.append(spectrum_from_table(body, object_id=oid, dropna=args.dropna))
        except (ValueError, TypeError) as exc:
            if args.errors == "raise":
                raise CLIError(f"{where}: {exc}") from None
            failed[len(objs)] = str(exc)
            objs.append(None)
    return objs, rows_of, kept, failed


def _embed_grouped(args, model, df, keep):
    """The grouping path (spectra in long format); returns (objects, dimension, failed, first failure)."""
    import numpy as np

    from ..evaluate.embedding import find_unusable
    from ._tables import HEADER, rows_text

    objs, rows_of, kept, failed = _group_objects(df, args, keep)
    ids = list(rows_of)
    method = model.embed_lightcurve if args.kind == "lightcurve" else model.embed_spectrum
    try:
        E = method(objs, batch_size=args.batch_size, errors=args.errors)
    except (ValueError, TypeError):
        bad = find_unusable(model, args.kind, objs)  # only on failure: name the object and its rows
        if not bad:
            raise
        i, reason = next(iter(bad.items()))
        raise CLIError(f"{args.input}: {len(bad)} of {len(objs)} objects cannot be embedded; first: object "
                       f"{ids[i]!r} (data rows {rows_text(rows_of[ids[i]])}, {HEADER}): {reason}") from None
    _files().write_embeddings(args.out, E, ids, columns=kept or None,
                              metadata={"model": args.model, "kind": args.kind, "input": str(args.input)})
    bad = np.flatnonzero(~np.isfinite(E).all(axis=1))
    first = None
    if len(bad):
        i = int(bad[0])
        reason = failed.get(i) or find_unusable(model, args.kind, [objs[i]]).get(0, "its embedding is not finite")
        first = f"object {ids[i]!r} (data rows {rows_text(rows_of[ids[i]])}, {HEADER}): {reason}"
    return len(ids), E.shape[1], len(bad), first


def run_embed(args) -> int:
    if table_format(args.out) != "parquet":
        raise CLIError(f"--out {args.out}: embeddings are written as Parquet; use a .parquet file name")
    check_out(args.out, args.overwrite)
    for name in ("batch_size", "chunk_rows"):
        if getattr(args, name) < 1:
            raise CLIError(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(args, name)}")
    from . import _tables as T
    from ._embedding import embed_file, spectrum_layout

    keep = [c.strip() for c in args.keep_columns.split(",") if c.strip()]
    df = None if T.is_parquet(args.input) else T.read_table(args.input)
    names, n_rows = T.table_info(args.input) if df is None else ([str(c) for c in df.columns], len(df))
    if args.id_column not in names:
        raise CLIError(f"{args.input}: --id-column {args.id_column!r} is not a column (columns: {names})")
    missing = [c for c in keep if c not in names]
    if missing:
        raise CLIError(f"{args.input}: --keep-columns {missing} not in the table (columns: {names})")
    clash = [c for c in keep if c in (args.id_column, "object_id", "embedding")]
    if clash:
        raise CLIError(f"--keep-columns {clash[0]!r}: the output already has object_id (the --id-column) and "
                       "embedding; keep other columns")
    if n_rows == 0:
        raise CLIError(f"{args.input}: the table is empty (no data rows)")
    layout = "rows" if args.kind == "lightcurve" else spectrum_layout(names, df, args.input, args.id_column)
    from ..models.pretrained import load_pretrained

    model = load_pretrained(args.model, device=args.device)
    if layout == "long":  # spectra one row per pixel: the table path reads one row per spectrum only
        if df is None:
            df = T.read_table(args.input)
        T.check_ids(df[args.id_column].to_numpy(), args.input, args.id_column)
        n, dim, n_bad, first_bad = _embed_grouped(args, model, df, keep)
    else:
        n, dim, n_bad, first_bad = embed_file(args, model, keep, df, n_rows)
    extra = f" with columns {keep}" if keep else ""
    print(f"wrote {n} {args.kind} embeddings of dimension {dim}{extra} to {args.out}")
    if n_bad:
        print(f"astroembed embed: warning: {n_bad} of {n} objects could not be embedded (NaN embedding rows in "
              f"{args.out}); first: {first_bad}", file=sys.stderr)
    return 0


def _read(path, what):
    import pandas as pd  # noqa: F401 (read_embeddings returns a DataFrame)

    E, cat, meta = _files().read_embeddings(path)
    if "object_id" not in cat.columns:
        raise CLIError(f"{what} {path}: no object_id column; write it with 'astroembed embed'")
    return E, cat, meta


def run_search(args) -> int:
    if args.out:
        table_format(args.out)
        check_out(args.out, args.overwrite)
    from ..search import EmbeddingIndex

    E, cat, _ = _read(args.index, "--index")
    Q, qcat, _ = _read(args.query, "--query")
    if E.shape[1] != Q.shape[1]:
        raise CLIError(f"--index has {E.shape[1]}-d embeddings but --query {Q.shape[1]}-d; embed both with the "
                       "same model")
    scores, ids = EmbeddingIndex(E, ids=cat["object_id"].to_numpy()).search(Q, args.k)
    rows = [(q, r + 1, i, float(s)) for q, srow, irow in zip(qcat["object_id"], scores, ids)
            for r, (s, i) in enumerate(zip(srow, irow))]
    _emit(rows, ("query_id", "rank", "id", "score"), args.out)
    return 0


def run_redshift(args) -> int:
    if args.out:
        table_format(args.out)
        check_out(args.out, args.overwrite)
    import numpy as np

    from ..tasks import zero_shot_redshift

    R, ref, _ = _read(args.reference, "--reference")
    if args.redshift_column not in ref.columns:
        raise CLIError(f"--redshift-column {args.redshift_column!r} is not a column of {args.reference} "
                       f"(columns: {list(ref.columns)}); embed the reference with "
                       f"'astroembed embed ... --keep-columns {args.redshift_column}'")
    z_ref = ref[args.redshift_column].to_numpy(dtype=np.float64)
    ok = np.isfinite(z_ref)
    if not ok.any():
        raise CLIError(f"--reference {args.reference}: no finite {args.redshift_column!r} values")
    Q, q, _ = _read(args.query, "--query")
    z, zerr = zero_shot_redshift(Q, R[ok], z_ref[ok], k=args.k, weights=args.weights)
    _emit(list(zip(q["object_id"], z.round(5), zerr.round(5))), ("object_id", "z", "z_err"), args.out)
    return 0


def _emit(rows, header, out) -> None:
    import pandas as pd

    df = pd.DataFrame(rows, columns=list(header))
    if out:
        if table_format(out) == "parquet":
            df.to_parquet(out, index=False)
        else:
            df.to_csv(out, index=False)
        print(f"wrote {len(df)} rows to {out}")
    else:
        print(df.to_string(index=False))
