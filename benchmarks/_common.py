"""Helpers shared by the benchmark scripts: hardware line, medians, peak memory, a tiny random model."""

from __future__ import annotations

import os
import platform
import resource
import time

import numpy as np


def hardware() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import torch

        threads = torch.get_num_threads()
        gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
        tv = torch.__version__
    except ImportError:  # pragma: no cover
        threads, gpu, tv = "?", "no torch", "-"
    return (f"{cpu}; {os.cpu_count()} logical cpu(s), torch threads={threads}, OMP_NUM_THREADS="
            f"{os.environ.get('OMP_NUM_THREADS', 'unset')}; {gpu}; torch {tv}; python {platform.python_version()}")


def median_time(fn, repeats: int = 3, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MB, Linux ru_maxrss is in kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def random_model(size: str = "tiny", seed: int = 0):
    """A MavenModel with random weights (``tiny`` for CI, ``default`` = the default config), or None
    when astroembed.models is not available."""
    try:
        import torch

        from astroembed.models.maven.config import LightCurveEncoderConfig, MavenConfig, SpectrumEncoderConfig
        from astroembed.models.maven.model import MavenModel
    except ImportError as e:
        print(f"# astroembed.models not available ({e}); skipping model benchmarks")
        return None
    torch.manual_seed(seed)
    if size == "tiny":
        cfg = MavenConfig(embed_dim=16, lightcurve=LightCurveEncoderConfig(d_model=16, n_layers=1, n_heads=2, ff_dim=32),
                          spectrum=SpectrumEncoderConfig(d_model=16, n_layers=1, n_heads=2, ff_dim=32, patch_size=16))
    else:
        cfg = MavenConfig()
    return MavenModel(cfg).eval()


def synthetic_lightcurves(n: int, length: int, seed: int = 0):
    """``n`` two-band light curves of ``length`` points (Gaussian-bump SNe), as LightCurve objects."""
    from astroembed import LightCurve

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        t = np.sort(rng.uniform(0, 150, length)) + 59000 + 1e-3 * np.arange(length)
        band = np.where(np.arange(length) % 2 == 0, "ztfg", "ztfr")
        peak = rng.uniform(20, 80)
        flux = 200 * np.exp(-0.5 * ((t - 59000 - peak) / 15) ** 2) + rng.normal(0, 5, length)
        out.append(LightCurve(time=t, band=band, flux=flux, flux_err=np.full(length, 5.0), object_id=i))
    return out
