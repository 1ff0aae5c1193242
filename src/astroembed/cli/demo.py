"""``astroembed demo``: the bundled model on the bundled real sample data."""

from __future__ import annotations

__all__ = ["register", "run_demo_cli"]


def register(sub) -> None:
    p = sub.add_parser("demo", help="bundled model + bundled real sample data: redshifts, classes, retrieval",
                       description="Embed the bundled sample of real ZTF BTS light curves and OSC light curve + "
                                   "spectrum pairs (none used to fine-tune the shipped model) and print zero-shot "
                                   "redshifts, kNN classes and cross-modal retrieval.")
    p.add_argument("--model", default="maven", help="registered model name or local model directory")
    p.add_argument("-k", type=int, default=100, help="neighbours for the zero-shot redshift")
    p.add_argument("--device", default="auto", help="torch device: auto, cpu, cuda or cuda:N")
    p.set_defaults(func=run_demo_cli)


def run_demo_cli(args) -> int:
    from ..demo import run_demo

    run_demo(args.model, args.k, args.device)
    return 0
