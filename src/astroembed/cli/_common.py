"""Helpers shared by the command modules (standard library only: imported to build the parser)."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["CLIError", "add_out_arguments", "check_out", "table_format"]


class CLIError(Exception):
    """A user error on the command line (printed as one line, exit status 2)."""


#: output table formats by file extension
_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def table_format(path: str | Path) -> str:
    """``"csv"`` or ``"parquet"`` from the extension of ``path``; anything else is an error."""
    suffix = Path(path).suffix.lower()
    if suffix not in _FORMATS:
        raise CLIError(f"--out {path}: unknown table format {suffix or '(no extension)'!r}; "
                       "use a .csv or .parquet file name")
    return _FORMATS[suffix]


def add_out_arguments(p: argparse.ArgumentParser, what: str, *, required: bool = False) -> None:
    """``--out`` and ``--overwrite``."""
    p.add_argument("--out", required=required, default=None, help=what)
    p.add_argument("--overwrite", action="store_true", help="replace --out if it already exists")


def check_out(path, overwrite: bool, *, directory_file: str | None = None) -> None:
    """Refuse to replace an existing output unless ``--overwrite`` (for an output directory: refuse when
    it already holds ``directory_file``)."""
    if path is None:
        return
    p = Path(path)
    target = p / directory_file if directory_file else p
    if target.exists() and not overwrite:
        raise CLIError(f"--out {path}: {target} already exists; pass --overwrite to replace it or choose "
                       "another --out")
