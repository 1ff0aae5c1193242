"""``astroembed models``: list the registered pretrained models."""

from __future__ import annotations

__all__ = ["register"]


def register(sub) -> None:
    p = sub.add_parser("models", help="list the registered pretrained models",
                       description="List the registered pretrained models (bundled in the wheel or on the Hub).")
    p.add_argument("filter", nargs="?", default="", help="glob pattern on the model name, e.g. 'maven*'")
    p.set_defaults(func=run_models)


def run_models(args) -> int:
    from ..models.registry import get_model_spec, list_models

    names = list_models(args.filter)
    width = max([len(n) for n in names] + [4])
    for n in names:
        spec = get_model_spec(n)
        where = "bundled" if spec.bundled else f"hub:{spec.repo_id}@{spec.revision}"
        print(f"{n:<{width}}  {where:<10}  {spec.description}")
    if not names:
        print("no registered models match")
    return 0
