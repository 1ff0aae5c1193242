"""Side-by-side table of evaluation results (``results.json`` of ``evaluate_peer.py`` / ``astroembed evaluate``).

    python benchmarks/peers/summarise.py runs/peers/features runs/peers/parsnip-specz runs/peers/parsnip-zblind \\
        runs/peers/astromcad-nohost runs/peers/astromcad-host
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROWS = [("classification", "5-way", "macro_f1"), ("classification", "5-way", "micro_f1"),
        ("classification", "3-way", "macro_f1"), ("classification", "3-way", "micro_f1")]
Z_ROWS = [("redshift", "r2"), ("redshift", "l1"), ("redshift", "outlier_frac_abs")]


def _get(res, **m):
    hits = [r for r in res if all(r.get(k) == v for k, v in m.items())]
    return hits[0] if len(hits) == 1 else None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dirs", nargs="+")
    p.add_argument("--scenario", default="full")
    a = p.parse_args(argv)
    cols = []
    for d in a.dirs:
        r = json.loads((Path(d) / "results.json").read_text())
        cols.append((Path(d).name, r["results"], r.get("info", {})))
    head = "| metric | probe | " + " | ".join(c[0] for c in cols) + " |"
    print(f"Scenario: {a.scenario}. Objects: " + ", ".join(f"{n} {i.get('n_objects', i.get('n_items', '?'))}"
                                                             for n, _, i in cols))
    print()
    print(head)
    print("|" + "---|" * (len(cols) + 2))
    for task, subset, metric in ROWS:
        for probe in ("knn", "svc"):
            cells = []
            for _, res, _ in cols:
                h = _get(res, task=task, subset=subset, metric=metric, probe=probe, scenario=a.scenario)
                cells.append(f"{h['mean']:.3f} ± {h['std']:.3f}" if h else "—")
            print(f"| {subset} {metric} | {probe} | " + " | ".join(cells) + " |")
    for task, metric in Z_ROWS:
        for probe in ("knn", "ridge", "kNN k=100"):
            t = "zero-shot redshift" if probe.startswith("kNN k") else task
            cells = []
            for _, res, _ in cols:
                h = _get(res, task=t, subset="redshift", metric=metric, probe=probe, scenario=a.scenario)
                cells.append(f"{h['mean']:.3f} ± {h['std']:.3f}" if h else "—")
            name = "zero-shot kNN k=100" if t != task else probe
            print(f"| redshift {metric} | {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
