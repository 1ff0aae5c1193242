"""Side-by-side KS table of two realism reports (``tools/sim_realism.py`` JSON outputs), e.g. the default
cadence vs real pointings:

    python tools/compare_realism.py /tmp/realism/realism_pool.json /tmp/realism/realism_pointings.json

Cells: KS a → KS b (median real / median sim a / median sim b); bold where b is closer (KS, 2 decimals).
"""

import json
import sys

METRICS = ["n_det", "peak_mag", "rise", "decline_r", "decline_g", "drop50_r", "gr_peak", "gr_20"]


def main(argv=None):
    pa, pb = (argv or sys.argv[1:])[:2]
    a, b = json.load(open(pa))["ks"], json.load(open(pb))["ks"]
    print("| class | n real / sim a; b | " + " | ".join(METRICS) + " |")
    print("|---|---|" + "---|" * len(METRICS))
    for c in a:
        cells = []
        for m in METRICS:
            x, y = a[c][m], b[c][m]
            kx, ky = round(x["ks"], 2), round(y["ks"], 2)
            yb = f"**{ky:.2f}**" if ky < kx else f"{ky:.2f}"
            cells.append(f"{kx:.2f} → {yb} ({x['median_real']:.3g} / {x['median_sim']:.3g} / {y['median_sim']:.3g})")
        print(f"| {c} | {a[c]['n_real']} / {a[c]['n_sim']}; {b[c]['n_sim']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
