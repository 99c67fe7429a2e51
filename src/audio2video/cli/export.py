"""`audio2video export`: a checkpoint's model as a clean model directory, optionally fp16, optionally with ONNX."""
from __future__ import annotations

import argparse

from ..errors import UserError
from .common import add_overwrite, path_text
from .deprecated import notice


def register(sub) -> None:
    p = sub.add_parser("export", help="copy a checkpoint's model (config.json + model.safetensors), optionally as fp16",
                       description="Write the model of a checkpoint directory (e.g. runs/x/checkpoints/best) to a "
                                   "clean model directory without training state; --fp16 halves its size "
                                   "(it loads back as fp32); --onnx adds encode.onnx and decode.onnx for "
                                   "`generate --backend onnxruntime` or any ONNX runtime. The output must be new or "
                                   "empty (or -y); never the checkpoint itself or another training checkpoint.")
    p.add_argument("checkpoint", type=path_text, metavar="CHECKPOINT", help="a model or checkpoint directory")
    p.add_argument("-o", "--output", type=path_text, metavar="DIR", help="the model directory to write (required)")
    p.add_argument("old_output", nargs="?", type=path_text, metavar="OUT",  # the old positional spelling
                   help=argparse.SUPPRESS)
    p.add_argument("--fp16", action="store_true", help="store floating-point tensors as float16")
    p.add_argument("--onnx", action="store_true",
                   help="also write encode.onnx (audio windows -> per-frame features) and decode.onnx (features -> "
                        "frames), opset 17, from the same weights")
    add_overwrite(p, help="write into an output folder that is not empty (the files of the export are replaced; "
                          "the originals stay intact if the export fails)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import torch

    from ..io.files import check_output_dir, same_file, staged_dir
    from ..models import load_model
    from ..training.checkpoint import STATE_NAME

    if args.old_output is not None:
        if args.output is not None:
            raise UserError("give the output directory once, as -o/--output")
        notice("audio2video export", "the output as a second positional argument", "-o/--output")
        args.output = args.old_output
    if args.output is None:
        raise UserError("-o/--output DIR is required: the model directory to write")
    out = Path(args.output)
    if same_file(out, args.checkpoint):
        raise UserError(f"{out}: is the checkpoint being exported; write to another folder")
    if (out / STATE_NAME).exists():
        raise UserError(f"{out}: holds a training checkpoint ({STATE_NAME}); export to another folder")
    check_output_dir(out, args.overwrite)
    model = load_model(args.checkpoint)
    with staged_dir(out, args.overwrite) as tmp:
        model.save_pretrained(tmp, dtype=torch.float16 if args.fp16 else None)
        if args.onnx:
            from ..models.onnx import save_onnx

            save_onnx(load_model(tmp), tmp)  # from the weights just written, fp16-rounded ones included
        written = [f.name for f in tmp.iterdir()]
    size = sum((out / name).stat().st_size for name in written) / 1e6  # what this export wrote, nothing else
    print(f"wrote {out} ({model.kind}, {'fp16' if args.fp16 else 'fp32'} weights{', ONNX graphs' if args.onnx else ''}"
          f", {size:.1f} MB)")
    return 0
