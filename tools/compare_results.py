"""Side-by-side headline table of several evaluation runs, read from their results.json files.

Used to write the model card and docs/evaluation.md so that no number is typed by hand.

Run: python tools/compare_results.py NAME=runs/crossfit_maven NAME2=runs/crossfit_maven_lite ... [--dataset ztf_bts]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HEADLINES = [  # (label, task, subset, modality, scenario, probe, metric)
    ("5-way macro-F1, kNN", "classification", "5-way", "lightcurve", "full", "knn", "macro_f1"),
    ("5-way macro-F1, SVC", "classification", "5-way", "lightcurve", "full", "svc", "macro_f1"),
    ("3-way macro-F1, kNN", "classification", "3-way", "lightcurve", "full", "knn", "macro_f1"),
    ("3-way macro-F1, SVC", "classification", "3-way", "lightcurve", "full", "svc", "macro_f1"),
    ("3-way macro-F1, SVC, limited (128)", "classification", "3-way", "lightcurve", "limited", "svc", "macro_f1"),
    ("redshift R², kNN", "redshift", None, "lightcurve", "full", "knn", "r2"),
    ("redshift R², ridge", "redshift", None, "lightcurve", "full", "ridge", "r2"),
    ("redshift R², zero-shot kNN k=100", "zero-shot redshift", None, "lightcurve", "full", None, "r2"),
    ("redshift outliers abs(Δz)/(1+z) > 0.15, kNN", "redshift", None, "lightcurve", "full", "knn", "outlier_frac"),
    ("LC→spectrum top-1", "retrieval", None, None, None, None, "top1"),
    ("LC→spectrum top-10", "retrieval", None, None, None, None, "top10"),
    ("LC→spectrum median rank", "retrieval", None, None, None, None, "median_rank"),
]


def _find(rows, task, subset, modality, scenario, probe, metric):
    for r in rows:
        if r["task"] != task or r["metric"] != metric:
            continue
        if subset is not None and r.get("subset") != subset:
            continue
        if modality is not None and r.get("modality") != modality:
            continue
        if task == "retrieval" and "lightcurve" not in str(r.get("modality", "")).split("→")[0].split("->")[0]:
            continue
        if scenario is not None and r.get("scenario") not in (scenario, None):
            continue
        if probe is not None and r.get("probe") != probe:
            continue
        return r
    return None


def compare(runs: dict[str, Path], dataset: str) -> str:
    loaded = {}
    for name, path in runs.items():
        p = Path(path)
        f = p / dataset / "results.json" if (p / dataset / "results.json").exists() else p / "results.json"
        loaded[name] = json.loads(f.read_text())["results"] if f.exists() else None
    lines = ["| metric | " + " | ".join(runs) + " |", "|---|" + "---|" * len(runs)]
    for label, *key in HEADLINES:
        cells = []
        for name in runs:
            rows = loaded[name]
            r = _find(rows, *key) if rows else None
            cells.append("–" if r is None else f"{r['mean']:.3f} ± {r['std']:.3f}")
        if any(c != "–" for c in cells):
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="+", help="NAME=PATH of a crossfit/evaluate output directory")
    ap.add_argument("--dataset", default="ztf_bts")
    a = ap.parse_args()
    runs = dict(r.split("=", 1) for r in a.runs)
    print(compare(runs, a.dataset))


if __name__ == "__main__":
    main()
