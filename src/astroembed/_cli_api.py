"""CLI sub-commands of the public API: ``models``, ``embed``, ``search``, ``redshift``."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

__all__ = ["add_api_subparsers"]


def add_api_subparsers(sub) -> None:
    p = sub.add_parser("models", help="list the registered pretrained models")
    p.add_argument("filter", nargs="?", default="", help="glob pattern, e.g. 'maven*'")
    p.set_defaults(func=_cmd_models)

    p = sub.add_parser("embed", help="embed a table of light curves or spectra → Parquet of embeddings",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("input", help="CSV, Parquet, FITS or ECSV table, long format (one row per observation/pixel)")
    p.add_argument("--kind", choices=("lightcurve", "spectrum"), required=True)
    p.add_argument("--id-column", default="object_id", help="column naming the object of each row")
    p.add_argument("--survey", default=None, help="band hint for bare letters, e.g. ztf or lsst")
    p.add_argument("--model", default="maven", help="registered name, local directory or HF repo id")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--out", required=True, help="output Parquet file")
    p.set_defaults(func=_cmd_embed)

    p = sub.add_parser("search", help="nearest neighbours of query embeddings in an embedding file")
    p.add_argument("--index", required=True, help="Parquet written by `astroembed embed` (the catalogue)")
    p.add_argument("--query", required=True, help="Parquet written by `astroembed embed` (the queries)")
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--out", default=None, help="optional CSV of (query_id, rank, id, score)")
    p.set_defaults(func=_cmd_search)

    p = sub.add_parser("redshift", help="zero-shot kNN redshifts of query embeddings from a reference set")
    p.add_argument("--reference", required=True, help="Parquet of reference embeddings with a redshift column")
    p.add_argument("--redshift-column", default="redshift")
    p.add_argument("--query", required=True, help="Parquet of query embeddings")
    p.add_argument("-k", type=int, default=100)
    p.add_argument("--weights", choices=("distance", "uniform"), default="distance")
    p.add_argument("--out", default=None, help="optional CSV of (object_id, z, z_err)")
    p.set_defaults(func=_cmd_redshift)


def _cmd_models(args) -> int:
    from .models.registry import get_model_spec, list_models

    names = list_models(args.filter)
    width = max([len(n) for n in names] + [4])
    for n in names:
        spec = get_model_spec(n)
        where = "bundled" if spec.bundled else f"hub:{spec.repo_id}@{spec.revision}"
        print(f"{n:<{width}}  {where:<10}  {spec.description}")
    if not names:
        print("no registered models match")
    return 0


def read_table(path: str):
    """Read CSV / Parquet / FITS / ECSV into a pandas DataFrame."""
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
    raise ValueError(f"{path}: unsupported table format {suffix!r}; use CSV, Parquet, FITS or ECSV")


def _group_objects(df, kind: str, id_column: str, survey):
    from .data.io import lightcurves_from_table, spectrum_from_table

    if id_column not in df.columns:
        raise ValueError(f"--id-column {id_column!r} not in the table columns {list(df.columns)}")
    if kind == "lightcurve":
        return list(lightcurves_from_table(df, id_column, survey=survey, progress=len(df) > 100_000))
    objs = []
    for oid, sub in df.groupby(id_column, sort=True):
        objs.append(spectrum_from_table(sub.drop(columns=[id_column]), object_id=oid))
    return objs


def _cmd_embed(args) -> int:
    from .models.pretrained import load_pretrained
    from .search.files import write_embeddings

    df = read_table(args.input)
    objs = _group_objects(df, args.kind, args.id_column, args.survey)
    model = load_pretrained(args.model, device=args.device)
    method = model.embed_lightcurve if args.kind == "lightcurve" else model.embed_spectrum
    E = method(objs, batch_size=args.batch_size)
    write_embeddings(args.out, E, [o.object_id for o in objs],
                     metadata={"model": args.model, "kind": args.kind, "input": str(args.input)})
    print(f"wrote {len(objs)} {args.kind} embeddings of dimension {E.shape[1]} to {args.out}")
    return 0


def _cmd_search(args) -> int:
    from .search.files import read_embeddings
    from .search import EmbeddingIndex

    E, cat, _ = read_embeddings(args.index)
    Q, qcat, _ = read_embeddings(args.query)
    scores, ids = EmbeddingIndex(E, ids=cat["object_id"].to_numpy()).search(Q, args.k)
    rows = [(q, r + 1, i, float(s)) for q, srow, irow in zip(qcat["object_id"], scores, ids)
            for r, (s, i) in enumerate(zip(srow, irow))]
    _emit(rows, ("query_id", "rank", "id", "score"), args.out)
    return 0


def _cmd_redshift(args) -> int:
    from .search.files import read_embeddings
    from .tasks import zero_shot_redshift

    R, ref, _ = read_embeddings(args.reference)
    if args.redshift_column not in ref.columns:
        raise ValueError(f"--redshift-column {args.redshift_column!r} not in {args.reference} columns {list(ref.columns)}")
    Q, q, _ = read_embeddings(args.query)
    z, zerr = zero_shot_redshift(Q, R, ref[args.redshift_column].to_numpy(dtype=np.float64), k=args.k,
                                 weights=args.weights)
    _emit(list(zip(q["object_id"], z.round(5), zerr.round(5))), ("object_id", "z", "z_err"), args.out)
    return 0


def _emit(rows, header, out) -> None:
    import pandas as pd

    df = pd.DataFrame(rows, columns=list(header))
    if out:
        df.to_csv(out, index=False)
        print(f"wrote {len(df)} rows to {out}")
    else:
        print(df.to_string(index=False))
