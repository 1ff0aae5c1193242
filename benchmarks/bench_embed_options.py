"""Rows for ``bench_embed.py --options``: torch.compile, ONNX Runtime and dynamic int8 vs eager float32,
on the real BTS table through ``ae.embed_table`` (end to end), with the largest deviation from eager."""

from __future__ import annotations

import time

import numpy as np
from _common import median_time


def options_rows(table, repeats: int) -> None:
    import torch

    import astroembed as ae
    from astroembed.models.inference import optimize_for_inference

    def run(m):
        return ae.embed_table(table, m, batch_size=64, progress=False, duplicates="mean")[1]

    eager = ae.load_pretrained("maven")
    E0 = run(eager)
    t_eager = median_time(lambda: run(eager), repeats=repeats)
    n = len(E0)
    print(f"\n## inference options on BTS embed_table, {torch.get_num_threads()} thread(s)")
    print("| option | light curves/s | speed vs eager | max abs deviation | set-up s |\n|---|---|---|---|---|")
    print(f"| eager float32 (default) | {n / t_eager:,.0f} | 1.00x | 0 | 0 |", flush=True)
    for kind in ("compile", "onnx", "int8"):
        m = ae.load_pretrained("maven")
        try:
            t0 = time.perf_counter()
            optimize_for_inference(m, kind)
            E = run(m)  # first call: compiles / exports
            setup = time.perf_counter() - t0
            t = median_time(lambda m=m: run(m), repeats=repeats)
        except Exception as exc:  # e.g. onnxruntime not installed
            print(f"| {kind} | not available: {type(exc).__name__}: {str(exc)[:80]} | | | |")
            continue
        dev = float(np.abs(E - E0).max())
        print(f"| {kind} | {n / t:,.0f} | {t_eager / t:.2f}x | {dev:.1e} | {setup:.0f} |", flush=True)
