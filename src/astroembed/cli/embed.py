"""``astroembed embed | search | redshift``: embed a table of objects, search an embedding file, and
zero-shot redshifts from a reference embedding file."""

from __future__ import annotations

import argparse

from ._common import CLIError, add_out_arguments, check_out, table_format

__all__ = ["register", "run_embed", "run_search", "run_redshift", "read_table"]


def register(sub) -> None:
    fmt = argparse.ArgumentDefaultsHelpFormatter
    p = sub.add_parser("embed", formatter_class=fmt,
                       help="embed a table of light curves or spectra into a Parquet file of embeddings",
                       description="Embed every object of a long-format table (one row per observation or "
                                   "spectrum pixel) and write one embedding per object to Parquet.")
    p.add_argument("input", help="CSV, Parquet, FITS or ECSV table, long format (one row per observation/pixel)")
    p.add_argument("--kind", choices=("lightcurve", "spectrum"), required=True,
                   help="what the rows of the table are")
    p.add_argument("--id-column", default="object_id", help="column naming the object of each row")
    p.add_argument("--keep-columns", default="", metavar="COL[,COL...]",
                   help="per-object columns (constant within an object, e.g. redshift,type) copied into the "
                        "output, e.g. for 'astroembed redshift --reference'")
    p.add_argument("--survey", default=None, help="band hint for bare band letters, e.g. ztf or lsst")
    p.add_argument("--model", default="maven", help="registered model name, local model directory or Hub repo id")
    p.add_argument("--device", default="auto", help="torch device: auto, cpu, cuda or cuda:N")
    p.add_argument("--batch-size", type=int, default=256, help="objects per forward pass")
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
    from pathlib import Path

    import pandas as pd

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{path}: no such file")
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt"):
        return pd.read_csv(p)
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(p)
    if suffix in (".fits", ".fit", ".ecsv", ".hdf5", ".vot", ".xml"):
        from astropy.table import Table

        return Table.read(p).to_pandas()
    raise CLIError(f"{path}: unsupported table format {suffix!r}; use CSV, Parquet, FITS or ECSV")


def _rows(idx) -> str:
    idx = list(idx)
    text = f"{idx[0]}-{idx[-1]}" if idx == list(range(idx[0], idx[-1] + 1)) else ", ".join(map(str, idx[:8]))
    return text + (" ..." if len(idx) > 8 and "-" not in text else "")


def _group_objects(df, args, keep: list[str]):
    """One container per object; ``(objects, {object_id: data-row indices}, {column: per-object values})``."""
    from ..data.io import lightcurve_from_table, spectrum_from_table

    idc = args.id_column
    if idc not in df.columns:
        raise CLIError(f"--id-column {idc!r} is not a column of {args.input} (columns: {list(df.columns)})")
    missing = [c for c in keep if c not in df.columns]
    if missing:
        raise CLIError(f"--keep-columns {missing} not in {args.input} (columns: {list(df.columns)})")
    if df[idc].isna().any():
        bad = df.index[df[idc].isna()][:5].tolist()
        raise CLIError(f"{args.input}: empty {idc!r} in data rows {bad} (0-based, header not counted)")
    df = df.reset_index(drop=True)
    objs, rows_of, kept = [], {}, {c: [] for c in keep}
    for oid, sub in df.groupby(idc, sort=True):
        oid = oid.item() if hasattr(oid, "item") else oid
        where = f"{args.input}: object {oid!r} (data rows {_rows(sub.index)}, 0-based, header not counted)"
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
                objs.append(lightcurve_from_table(body, survey=args.survey, object_id=oid))
            else:
                objs.append(spectrum_from_table(body, object_id=oid))
        except (ValueError, TypeError) as exc:
            raise CLIError(f"{where}: {exc}") from None
    return objs, rows_of, kept


def run_embed(args) -> int:
    if table_format(args.out) != "parquet":
        raise CLIError(f"--out {args.out}: embeddings are written as Parquet; use a .parquet file name")
    check_out(args.out, args.overwrite)
    from ..evaluate.embedding import find_unusable
    from ..models.pretrained import load_pretrained

    keep = [c.strip() for c in args.keep_columns.split(",") if c.strip()]
    objs, rows_of, kept = _group_objects(read_table(args.input), args, keep)
    model = load_pretrained(args.model, device=args.device)
    method = model.embed_lightcurve if args.kind == "lightcurve" else model.embed_spectrum
    try:
        E = method(objs, batch_size=args.batch_size)
    except (ValueError, TypeError):
        bad = find_unusable(model, args.kind, objs)  # only on failure: name the object and its rows
        if not bad:
            raise
        i, reason = next(iter(bad.items()))
        oid = objs[i].object_id
        raise CLIError(f"{args.input}: {len(bad)} of {len(objs)} objects cannot be embedded; first: object "
                       f"{oid!r} (data rows {_rows(rows_of[oid])}, 0-based, header not counted): {reason}") from None
    _files().write_embeddings(args.out, E, [o.object_id for o in objs], columns=kept or None,
                              metadata={"model": args.model, "kind": args.kind, "input": str(args.input)})
    extra = f" with columns {keep}" if keep else ""
    print(f"wrote {len(objs)} {args.kind} embeddings of dimension {E.shape[1]}{extra} to {args.out}")
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
