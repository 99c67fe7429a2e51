"""`audio2video export`: a checkpoint's model as a clean model directory, optionally fp16, optionally with ONNX."""
from __future__ import annotations

import argparse

from ..errors import UserError
from .deprecated import add_deprecated, notice


def register(sub) -> None:
    p = sub.add_parser("export", help="copy a checkpoint's model (config.json + model.safetensors), optionally as fp16",
                       description="Write the model of a checkpoint directory (e.g. runs/x/checkpoints/best) to a "
                                   "clean model directory without training state; --fp16 halves its size "
                                   "(it loads back as fp32); --onnx adds encode.onnx and decode.onnx for "
                                   "`generate --backend onnxruntime` or any ONNX runtime.")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a model or checkpoint directory")
    p.add_argument("-o", "--output", metavar="DIR", help="the model directory to write (required)")
    p.add_argument("old_output", nargs="?", metavar="OUT", help=argparse.SUPPRESS)  # the old positional spelling
    p.add_argument("--fp16", action="store_true", help="store floating-point tensors as float16")
    p.add_argument("--onnx", action="store_true",
                   help="also write encode.onnx (audio windows -> per-frame features) and decode.onnx (features -> "
                        "frames), opset 17, from the same weights")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from ..models import load_model

    if args.old_output is not None:
        if args.output is not None:
            raise UserError("give the output directory once, as -o/--output")
        notice("audio2video export", "the output as a second positional argument", "-o/--output")
        args.output = args.old_output
    if args.output is None:
        raise UserError("-o/--output DIR is required: the model directory to write")
    model = load_model(args.checkpoint)
    out = model.save_pretrained(args.output, dtype=torch.float16 if args.fp16 else None)
    if args.onnx:
        from ..models.onnx import save_onnx

        save_onnx(load_model(out), out)  # from the weights just written, fp16-rounded ones included
    size = sum(f.stat().st_size for f in out.iterdir()) / 1e6
    print(f"wrote {out} ({model.kind}, {'fp16' if args.fp16 else 'fp32'} weights{', ONNX graphs' if args.onnx else ''}"
          f", {size:.1f} MB)")
    return 0
