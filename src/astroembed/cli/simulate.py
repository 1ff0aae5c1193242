"""``astroembed simulate``: paired supernova light curves + spectra, written as sharded Parquet.

Example: ``astroembed simulate --survey ztf --n 100000 --out sims/ztf --seed 0 --workers 2``
(``--validate`` writes the realism report against the real ZTF BTS instead).
"""

from __future__ import annotations

import sys
import time

__all__ = ["register", "run_simulate"]


def register(sub):
    p = sub.add_parser("simulate", help="simulate paired SN light curves + spectra (sharded Parquet)",
                       description="Simulate paired supernova light curves and spectra and write them as sharded "
                                   "Parquet with a manifest.json (see docs/simulation.md).")
    p.add_argument("--survey", default="ztf", help="survey whose cadence and bands are simulated: ztf or lsst")
    p.add_argument("--n", type=int, default=1000, help="number of events")
    p.add_argument("--out", required=True, help="output directory (sharded Parquet + manifest.json)")
    p.add_argument("--seed", type=int, default=0, help="random seed (the output depends only on it and the options)")
    p.add_argument("--workers", type=int, default=1, help="processes; the output does not depend on it")
    p.add_argument("--shard-size", type=int, default=10_000, help="events per Parquet shard")
    p.add_argument("--classes", default="bts",
                   help="class mix: bts, bts+iib, balanced, rates, rates+iib or a comma list (Ia,II,...)")
    p.add_argument("--instrument", default=None, help="spectrograph model: sedm or generic (default: per survey)")
    p.add_argument("--forced-photometry", action="store_true", help="keep non-detections (forced photometry)")
    p.add_argument("--min-detections", type=int, default=3, help="drop events with fewer detections")
    p.add_argument("--peak-mag-max", type=float, default=None, help="drop events fainter than this at peak (AB mag)")
    p.add_argument("--redshift-range", type=float, nargs=2, default=None, metavar=("ZMIN", "ZMAX"),
                   help="restrict the redshifts to this range")
    p.add_argument("--templates-dir", default=None, help="full SNID template folder (optional)")
    p.add_argument("--cadence-file", default=None, help="ZTF cadence pool .npz (default: the packaged one)")
    p.add_argument("--pointings", default=None,
                   help="real pointing history .npz (tools/build_pointing_tables.py): cadence and depths by sky "
                        "position instead of the survey's cadence model")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out directory")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--validate", action="store_true",
                   help="write the realism report (vs the real ZTF BTS) to --out instead of a data set")
    p.add_argument("--shared", default="../shared/data", help="real data folder for --validate")
    p.set_defaults(func=run_simulate)
    return p


def _parse_classes(text):
    if text is None or text.lower() in ("bts", "bts+iib", "balanced", "rates", "rates+iib"):
        return text
    return [c.strip() for c in text.split(",") if c.strip()]


def run_simulate(args) -> int:
    import json

    from ..simulate import ShardWriter, SimulatedDataset, config_dict, iter_simulate, make_config

    if args.validate:
        from ..simulate.validate import realism_report

        res = realism_report(args.shared, args.out, n=args.n, seed=args.seed, workers=args.workers,
                             pointings=getattr(args, "pointings", None))
        print(json.dumps(res["ks"], indent=1))
        return 0
    if args.n < 0:
        print(f"astroembed simulate: --n must be >= 0, got {args.n}", file=sys.stderr)
        return 2
    if args.shard_size < 1:
        print(f"astroembed simulate: --shard-size must be >= 1, got {args.shard_size}", file=sys.stderr)
        return 2
    cfg = make_config(seed=args.seed, survey=args.survey, classes=_parse_classes(args.classes),
                      redshift_range=args.redshift_range, instrument=args.instrument,
                      forced_photometry=args.forced_photometry, min_detections=args.min_detections,
                      peak_mag_max=args.peak_mag_max, templates_dir=args.templates_dir,
                      cadence_file=getattr(args, "cadence_file", None), pointings=getattr(args, "pointings", None))
    conf = config_dict(cfg, args.n)
    writer = ShardWriter(args.out, conf, overwrite=args.overwrite)
    bar = None
    if not args.no_progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=args.n, unit="ev", desc=f"simulate {cfg.survey.name}")
    t0 = time.perf_counter()
    try:
        for a in range(0, args.n, args.shard_size):
            b = min(a + args.shard_size, args.n)
            events = []
            chunk = max(1, min(500, -(-(b - a) // max(1, 4 * args.workers))))
            for evs in iter_simulate(cfg, a, b, workers=args.workers, chunk=chunk, progress=bar):
                events.extend(evs)
            writer.write(SimulatedDataset.from_events(events, conf))
    finally:
        if bar is not None:
            bar.close()
    writer.close()
    dt = time.perf_counter() - t0
    print(f"wrote {writer.n} events in {len(writer.shards)} shard(s) to {args.out} "
          f"({dt:.1f} s, {writer.n / max(dt, 1e-9):.0f} events/s)")
    return 0
