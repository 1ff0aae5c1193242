"""Bundle a trained Transceiver as the registry entry ``transceiver``.

Copies ``config.json`` + ``model.safetensors`` of ``--model`` into ``src/astroembed/_weights/transceiver`` and
records their sha256 in ``_weights/registry.json``; then checks that ``ae.load_pretrained("transceiver")``
loads it.

  PYTHONPATH=src python tools/release_transceiver.py --model runs/transceiver_release/transceiver
"""

from __future__ import annotations

import argparse

from astroembed.models.registry import bundle_weights

DESCRIPTION = ("Transceiver: multimodal mixture-of-experts VAE (light curve <-> spectrum generation with calibrated "
               "intervals); simulation pre-trained, fine-tuned on real OSC pairs (see docs/models/transceiver.md)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="directory written by tools/train_transceiver.py")
    ap.add_argument("--name", default="transceiver")
    a = ap.parse_args(argv)
    print(bundle_weights(a.model, a.name, DESCRIPTION))
    import astroembed as ae

    m = ae.load_pretrained(a.name)
    print(f"loaded {a.name}: {type(m).__name__}, tau={float(m.calibration_temperature):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
