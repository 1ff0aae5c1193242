"""GPU rows of ``bench_embed.py --cuda`` (run by ``benchmarks/bench_embed_gpu.sh``, ≤ 3 minutes).

Light curves/s on one CUDA GPU for the bundled ``maven`` model:

* encoder forward only, batches already on the GPU: float32, and AMP (``torch.autocast`` bfloat16 /
  float16), batch 1024 / 4096 / 16384, LSST-like (100 points) and BTS-like (26 tokens) lengths;
* end to end ``ae.embed_table`` (CPU vectorised preprocessing + padding, copy to the GPU, forward) on
  LSST-like tables, float32 and AMP, with the max deviation of AMP from float32.

The issue's target is ≥ 100,000 light curves/s on one modern GPU.
"""

from __future__ import annotations

import time

import numpy as np


def _sync(dev):
    import torch

    if dev.type == "cuda":
        torch.cuda.synchronize()


def _sync_time(fn, dev, repeats=5):
    fn()
    _sync(dev)
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        _sync(dev)
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def main(a) -> int:
    import torch
    from bench_embed import forward_batches, lsst_table

    import astroembed as ae

    dry = getattr(a, "cuda_dry_run", False)
    if not dry and not torch.cuda.is_available():
        print("# --cuda: no CUDA device visible; nothing to do")
        return 1
    dev = torch.device("cpu" if dry else "cuda")
    name = "CPU dry run (code path check, not a measurement)" if dry else torch.cuda.get_device_name(0)
    print(f"# bench_embed --cuda: {name}, torch {torch.__version__}")
    model = ae.load_pretrained("maven", device=dev)
    dtypes = {"float32": None, "amp-bf16": torch.bfloat16} if dry else {
        "float32": None, "amp-bf16": torch.bfloat16, "amp-fp16": torch.float16}
    n_small = 300 if dry else 4000 if a.quick else 20_000
    small = lsst_table(n_small, seed=1)
    cpu_model = ae.load_pretrained("maven")
    print("\n## encoder forward only (batches resident on the GPU)\n| lengths | batch | dtype | light curves/s |")
    print("|---|---|---|---|")
    for label, tab in (("LSST-like 100 points", small),
                       ("BTS-like 25 points", lsst_table(n_small, points=25, seed=2))):
        for bs in ((128,) if dry else (1024, 4096) if a.quick else (1024, 4096, 16384)):
            batches, _ = forward_batches(cpu_model, tab, bs)
            batches = [b.to(dev) for b in batches]
            n = sum(len(b) for b in batches)
            for name, dt in dtypes.items():
                def run(dt=dt, batches=batches):
                    with torch.inference_mode(), torch.autocast(dev.type, dtype=dt, enabled=dt is not None):
                        for b in batches:
                            model.encode_lightcurves(b)
                t = _sync_time(run, dev, repeats=1 if dry else 3)
                print(f"| {label} | {bs} | {name} | {n / t:,.0f} |", flush=True)
    n_big = 300 if dry else 20_000 if a.quick else 200_000
    big = lsst_table(n_big, seed=3)
    print(f"\n## end to end ae.embed_table, LSST-like, {n_big:,} objects x 100 points (CPU prep + GPU)")
    print("| batch | dtype | light curves/s | max abs deviation from float32 |\n|---|---|---|---|")
    ref = None
    for bs in ((128,) if dry else (4096, 16384)):
        for name, dt in dtypes.items():
            with torch.autocast(dev.type, dtype=dt, enabled=dt is not None):
                t0 = time.perf_counter()
                E = ae.embed_table(big, model, batch_size=bs, progress=False)[1]
                _sync(dev)
                t = time.perf_counter() - t0
            if ref is None:
                ref = E
            print(f"| {bs} | {name} | {n_big / t:,.0f} | {float(np.abs(E - ref).max()):.1e} |", flush=True)
    return 0
