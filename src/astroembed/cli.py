"""The ``astroembed`` command line: ``models | embed | search | redshift | simulate | train | evaluate | crossfit | demo``.

Sub-commands owned by sub-packages register themselves through ``add_*_subparser`` hooks, imported
lazily so that ``astroembed --help`` stays fast and optional dependencies stay optional.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# (module, add-subparser function) for sub-commands implemented next to their code
_HOOKS = [
    ("astroembed._cli_api", "add_api_subparsers"),
    ("astroembed.simulate.cli", "add_simulate_subparser"),
    ("astroembed.train.cli", "add_train_subparser"),
    ("astroembed.evaluate.cli", "add_evaluate_subparser"),
    ("astroembed.evaluate.crossfit", "add_crossfit_subparser"),
    ("astroembed.demo", "add_demo_subparser"),
]


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="astroembed", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"astroembed {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module, func in _HOOKS:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("astroembed"):
                continue  # that part of the package is not built yet
            raise
        getattr(mod, func)(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, LookupError, FileNotFoundError, ImportError) as exc:
        print(f"astroembed {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
