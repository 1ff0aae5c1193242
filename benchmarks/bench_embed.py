"""Light-curve embedding throughput (objects/s) and peak memory vs batch size and sequence length,
next to a naive per-object loop and the FLOP bound of the model on this machine — measured in one run.

    OMP_NUM_THREADS=1 python benchmarks/bench_embed.py [--model default|tiny] [--n 512] [--quick]

FLOP bound: the forward FLOPs of one batch are counted with ``torch.utils.flop_counter`` and divided
by the measured dense-matmul rate of this machine (a large float32 ``torch.mm``), giving the best
possible objects/s; the ratio measured / bound says how far the pipeline (preprocessing, padding,
attention kernels, Python) is from it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import hardware, median_time, peak_rss_mb, random_model, synthetic_lightcurves  # noqa: E402


def matmul_flops_per_s(n: int = 1024) -> float:
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    t = median_time(lambda: torch.mm(a, b), repeats=3)
    return 2 * n**3 / t


def forward_flops(model, lcs, batch_size) -> tuple[float, str]:
    """FLOPs of embedding ``lcs``: counted by torch's FlopCounterMode when it works with the model's
    inference path, else the analytic transformer count (matmuls only) from the config."""
    try:
        from torch.utils.flop_counter import FlopCounterMode

        with FlopCounterMode(display=False) as fc:
            model.embed_lightcurve(lcs, batch_size=batch_size, progress=False)
        return float(fc.get_total_flops()), "counted"
    except Exception:
        c = model.config.lightcurve
        d, ff, nl = c.d_model, c.ff_dim, c.n_layers
        total = 0.0
        for lc in lcs:
            L = min(len(lc), getattr(model.config.lightcurve_preprocess, "max_length", len(lc)) or len(lc)) + 1
            # per layer: QKV + output projections 8 L d², feed-forward 4 L d ff, attention scores+values 4 L² d
            total += nl * (8 * L * d * d + 4 * L * d * ff + 4 * L * L * d) + 2 * L * d * 4
        return total, "analytic"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="default", choices=["default", "tiny"])
    p.add_argument("--n", type=int, default=512, help="objects per measurement")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 16, 64, 256])
    p.add_argument("--lengths", type=int, nargs="+", default=[16, 64, 128])
    p.add_argument("--quick", action="store_true", help="tiny model, 32 objects, two settings (CI)")
    a = p.parse_args(argv)
    if a.quick:
        a.model, a.n, a.batch_sizes, a.lengths = "tiny", 32, [1, 32], [16]
    model = random_model(a.model)
    if model is None:
        return 0
    import torch

    print(f"# bench_embed: {hardware()}")
    print(f"# model={a.model} ({sum(p.numel() for p in model.parameters()):,} parameters), n={a.n}, medians of 3")
    peak = matmul_flops_per_s(512 if a.quick else 1024)
    print(f"# dense float32 matmul rate: {peak / 1e9:.1f} GFLOP/s")
    print("| length | batch | objects/s | naive loop objects/s | speed-up | FLOP bound objects/s | measured/bound "
          "| peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for L in a.lengths:
        lcs = synthetic_lightcurves(a.n, L, seed=L)
        n_naive = min(a.n, 32 if a.quick else 64)
        naive = median_time(lambda lcs=lcs, n_naive=n_naive: [model.embed_lightcurve([lc], progress=False)
                                                             for lc in lcs[:n_naive]],
                            repeats=3 if not a.quick else 1)
        naive_rate = n_naive / naive
        for bs in a.batch_sizes:
            with torch.inference_mode():
                t = median_time(lambda lcs=lcs, bs=bs: model.embed_lightcurve(lcs, batch_size=bs, progress=False),
                                repeats=3 if not a.quick else 1)
            rate = a.n / t
            fl, how = forward_flops(model, lcs[: min(a.n, 64)], bs)
            bound = peak / (fl / min(a.n, 64))
            rows.append((L, bs, rate, naive_rate, rate / naive_rate, bound, rate / bound, peak_rss_mb()))
            print(f"| {L} | {bs} | {rate:,.0f} | {naive_rate:,.0f} | {rate / naive_rate:.1f}x | {bound:,.0f} ({how}) | "
                  f"{rate / bound:.2%} | {peak_rss_mb():.0f} |", flush=True)
    E = model.embed_lightcurve(synthetic_lightcurves(4, 16), progress=False)
    assert E.dtype == np.float32 and np.allclose(np.linalg.norm(E, axis=1), 1, atol=1e-4)
    return 0


if __name__ == "__main__":
    t0 = time.perf_counter()
    rc = main()
    print(f"# total {time.perf_counter() - t0:.1f} s")
    raise SystemExit(rc)
