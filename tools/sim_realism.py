"""Realism report of the simulator vs the real ZTF BTS (same statistics, same code on both sides).

    OMP_NUM_THREADS=1 PYTHONPATH=src python tools/sim_realism.py --shared /work/shared/data \
        --out docs/img/simulation --n 2000 --tag _after

Thin wrapper around :func:`astroembed.simulate.validate.realism_report`; prints the Markdown table of
KS statistics (median real / median simulated) that goes into docs/simulation.md.
"""

from astroembed.simulate.validate import main

if __name__ == "__main__":
    main()
