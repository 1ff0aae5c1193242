"""Per-epoch training history: ``history.csv`` and ``loss_curve.png``."""

from __future__ import annotations

import csv
from pathlib import Path


def _write_history(out: Path, history: list[dict]) -> None:
    if not history:
        return
    keys = list(history[0])
    with open(out / "history.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(history)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - matplotlib is in the 'train' extra
        return
    ep = [h["epoch"] for h in history]
    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=120)
    ax.plot(ep, [h["train_loss"] for h in history], "o-", label="train")
    ax.plot(ep, [h["val_loss"] for h in history], "s-", label="validation")
    best = min(history, key=lambda h: h["val_loss"])
    ax.axvline(best["epoch"], color="0.6", ls=":", label=f"best (epoch {best['epoch']})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(out / "loss_curve.png")
    plt.close(fig)
