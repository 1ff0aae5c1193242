"""Optional inference accelerations for any model family: ``torch.compile``, dynamic int8, ONNX Runtime.

They act on the shared :class:`~astroembed.models.layers.TransformerStack` of every encoder (so every
family built on it gets them) and leave the model's API unchanged::

    model = ae.load_pretrained("maven")
    optimize_for_inference(model, "onnx")        # or "compile", "int8"
    E = model.embed_lightcurve(lcs)

Speed and deviation from the float32 eager path, measured by ``benchmarks/bench_embed.py
--options`` on a 2-core CPU, are in ``docs/benchmarks.md``.  Summary: ``"compile"`` and ``"onnx"``
stay within ~1e-5 of the eager outputs; ``"int8"`` (dynamic quantisation of ``nn.Linear`` layers)
deviates by ~1e-2 in embedding components — fine for search, check it for your task.  None of them
is applied by default.  The model is changed in place and returned; use a fresh model to undo.
"""

from __future__ import annotations

import os
import tempfile

import torch
from torch import nn

from .layers import TransformerStack

__all__ = ["optimize_for_inference", "INFERENCE_KINDS"]

#: accepted ``kind`` values
INFERENCE_KINDS = ("compile", "int8", "onnx")


class _StackWithMask(nn.Module):
    """The stack's layers with the key mask always applied (no data-dependent branch: exportable)."""

    def __init__(self, stack: TransformerStack):
        super().__init__()
        self.layers = stack.layers

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        attn_mask = mask[:, None, None, :]
        for layer in self.layers:
            x = layer(x, attn_mask)
        return x


class _OnnxStack:
    """Callable that runs an exported stack in ONNX Runtime (CPU)."""

    def __init__(self, stack: TransformerStack, d_model: int, threads: int):
        try:
            import onnxruntime as ort
        except ImportError:
            raise ImportError("kind='onnx' needs ONNX Runtime: pip install 'astroembed[onnx]'") from None
        wrapper = _StackWithMask(stack).eval()
        x = torch.randn(2, 5, d_model)
        mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
        import warnings

        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript-based exporter
            path = os.path.join(tmp, "stack.onnx")
            torch.onnx.export(wrapper, (x, mask), path, input_names=["x", "mask"], output_names=["h"],
                              dynamic_axes={"x": {0: "batch", 1: "length"}, "mask": {0: "batch", 1: "length"},
                                            "h": {0: "batch", 1: "length"}}, opset_version=17, dynamo=False)
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            self.session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])

    def __call__(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is None:
            mask = torch.ones(x.shape[:2], dtype=torch.bool)
        h, = self.session.run(None, {"x": x.detach().float().cpu().numpy(), "mask": mask.cpu().numpy()})
        return torch.from_numpy(h).to(x.device)


def _stacks(model: nn.Module) -> list[TransformerStack]:
    return [m for m in model.modules() if isinstance(m, TransformerStack)]


def optimize_for_inference(model: nn.Module, kind: str = "compile", *, threads: int | None = None) -> nn.Module:
    """Speed up ``model``'s encoders for inference (in place; returns ``model``).

    Parameters
    ----------
    kind : {"compile", "int8", "onnx"}
        ``"compile"``: ``torch.compile(dynamic=True)`` of each transformer stack (first call compiles,
        tens of seconds); ``"int8"``: ``torch.ao.quantization.quantize_dynamic`` of every ``nn.Linear``
        (CPU only, changes outputs by ~1e-2); ``"onnx"``: export each transformer stack to ONNX and run
        it in ONNX Runtime (extra ``astroembed[onnx]``; CPU; inference only, no gradients).
    threads : int, optional
        ONNX Runtime intra-op threads (default ``torch.get_num_threads()``).
    """
    if kind not in INFERENCE_KINDS:
        raise ValueError(f"optimize_for_inference: kind must be one of {INFERENCE_KINDS}, got {kind!r}")
    model.eval()
    stacks = _stacks(model)
    if not stacks:
        raise ValueError(f"optimize_for_inference: {type(model).__name__} has no TransformerStack to optimise")
    if kind == "compile":
        for s in stacks:
            compiled = torch.compile(_StackWithMask(s).forward, dynamic=True)  # no data-dependent branch

            def forward(x, mask=None, _f=compiled):
                return _f(x, torch.ones(x.shape[:2], dtype=torch.bool, device=x.device) if mask is None else mask)
            s.forward = forward
    elif kind == "int8":
        import warnings

        from torch.ao.quantization import quantize_dynamic

        if any(p.device.type != "cpu" for p in model.parameters()):
            raise ValueError("optimize_for_inference: kind='int8' runs on the CPU only; move the model first")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch's deprecation notice of quantized tensors
            quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8, inplace=True)
    else:
        n = threads or torch.get_num_threads()
        for s in stacks:
            d = s.layers[0].norm1.normalized_shape[0]
            s.forward = _OnnxStack(s, d, n)
    model._astroembed_inference_kind = kind
    return model
