"""Null distribution of the two-sample KS statistic for the sample sizes of the realism report.

    OMP_NUM_THREADS=1 python tools/ks_noise.py 45:483 50:74 23:499 23:47 28:47

For each ``n_real:n_sim`` pair: median and 95 % point of the KS statistic between two samples drawn
from the SAME continuous distribution (Monte Carlo, 4000 draws), and P(KS > 0.2). This is the KS value
that a perfect simulation would show by sampling noise alone (ties in integer statistics such as n_det
only make the statistic smaller).
"""

import sys

import numpy as np
from scipy.stats import ks_2samp

rng = np.random.default_rng(0)
print("| n real | n sim | median KS | 95 % point | P(KS > 0.20) |")
print("|---|---|---|---|---|")
for arg in sys.argv[1:] or ["45:483", "50:74", "23:499", "23:47", "28:47"]:
    a, b = (int(v) for v in arg.split(":"))
    ks = np.array([ks_2samp(rng.random(a), rng.random(b)).statistic for _ in range(4000)])
    print(f"| {a} | {b} | {np.median(ks):.3f} | {np.quantile(ks, 0.95):.3f} | {np.mean(ks > 0.2):.3f} |")
