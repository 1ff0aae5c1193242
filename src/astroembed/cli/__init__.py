"""The astroembed command line: models, embed, search, redshift, classify, simulate, train, evaluate, crossfit, demo.

One module per command group (``cli/models.py``, ``cli/embed.py`` …).  Building the parser imports only
:mod:`argparse` and these modules, so ``astroembed --help`` is fast; each command imports its
implementation (torch, scikit-learn, …) inside its handler.  A missing third-party package is reported
as a one-line error that names it; a broken astroembed module is never hidden.
"""

from __future__ import annotations

import argparse
import sys

from . import classify, demo, embed, evaluate, models, simulate, train
from ._common import CLIError

__all__ = ["main", "build_parser", "CLIError"]

#: command-group modules, in the order their commands appear in ``astroembed --help``
GROUPS = (models, embed, classify, simulate, train, evaluate, demo)

#: pip hint per third-party import name
_PIP_HINT = {"faiss": "pip install 'astroembed[faiss]'", "extinction": "pip install 'astroembed[sim]'",
             "speclite": "pip install 'astroembed[sim]'", "matplotlib": "pip install matplotlib",
             "dask": "pip install 'astroembed[distributed]'"}


def build_parser() -> argparse.ArgumentParser:
    """The full ``astroembed`` parser (no heavy imports)."""
    from .. import __version__

    parser = argparse.ArgumentParser(prog="astroembed", description=__doc__.splitlines()[0].rstrip("."))
    parser.add_argument("--version", action="version", version=f"astroembed {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``astroembed`` console script; returns the exit status.

    0 success, 1 no command given, 2 bad input or a missing optional package (one-line message on
    stderr), 3 training stopped resumably, 4 training diverged.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    cmd = f"astroembed {args.command}"
    try:
        return int(args.func(args) or 0)
    except ModuleNotFoundError as exc:
        top = (exc.name or "").split(".")[0]
        if not top or top == "astroembed":
            raise  # a bug in astroembed itself: show the traceback
        hint = _PIP_HINT.get(top, f"pip install {top}")
        print(f"{cmd}: error: this command needs the Python package {top!r}, which is not installed "
              f"({hint})", file=sys.stderr)
        return 2
    except (CLIError, ValueError, LookupError, FileNotFoundError, FileExistsError, IsADirectoryError,
            NotADirectoryError, PermissionError) as exc:
        print(f"{cmd}: error: {exc}", file=sys.stderr)
        return 2
