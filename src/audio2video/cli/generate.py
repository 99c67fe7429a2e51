"""`audio2video generate`: any audio (or video) file, or many, -> mp4."""
from __future__ import annotations

import argparse
from pathlib import Path

from .common import (add_device, add_encoding, add_overwrite, add_quiet, finite_float, path_text, positive_int,
                     report_batch)
from .shape_flags import add_shape_flags, shape_options


def register(sub) -> None:
    p = sub.add_parser("generate", help="render an mp4 from any audio (or video) file",
                       description="Render a video for each input's audio: 3 s windows through the model, "
                                   "cross-faded, shaped (span, size, aspect, frame rate, look) and encoded as "
                                   "H.264 with the original audio muxed (copied as it is when it is AAC, MP3 or "
                                   "ALAC and not cut; AAC otherwise).")
    p.add_argument("inputs", nargs="+", type=path_text, metavar="INPUT",
                   help="audio or video files FFmpeg can decode (wav, flac, mp3, ogg, opus, m4a, mp4, ...) or folders")
    p.add_argument("-o", "--output", required=True, type=path_text, metavar="OUTPUT",
                   help="output .mp4 for one input; a folder for several inputs or a folder input")
    p.add_argument("--checkpoint", type=path_text, metavar="DIR",
                   help="model directory holding config.json + model.safetensors (default: the shipped model)")
    p.add_argument("--overlap", type=finite_float, default=0.5, metavar="SECONDS",
                   help="seconds shared (and cross-faded) by consecutive 3 s windows (default 0.5)")
    p.add_argument("--batch-size", type=positive_int, metavar="N",
                   help="windows per encoder pass (default: 4 on CPU, 64 on CUDA)")
    add_encoding(p)
    p.add_argument("--crossfade", choices=("feature", "pixel"), default="feature",
                   help="blend window overlaps as the model's per-frame features, each frame decoded once (default), "
                        "or as decoded pictures")
    p.add_argument("--backend", choices=("torch", "onnxruntime"), default="torch",
                   help="torch (default: a fused fast path; bf16 on CUDA) or onnxruntime (the optional extra: "
                        "pip install 'audio2video[onnx]'; uses the --checkpoint's ONNX export if it has one)")
    add_device(p)
    p.add_argument("--skip-existing", action="store_true", help="leave outputs that already exist alone")
    add_overwrite(p)
    add_quiet(p)
    add_shape_flags(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..models import load_model
    from ..pipelines.batch import collect_inputs, plan_jobs, run_batch
    from ..pipelines.generate import GenerateOptions, generate_video
    from ..pipelines.inference import configure_threads, make_engine
    from ..runtime import resolve_device

    options = GenerateOptions(overlap=args.overlap, batch_size=args.batch_size, crf=args.crf, preset=args.preset,
                              progress=not args.quiet, crossfade=args.crossfade, backend=args.backend,
                              **shape_options(args))
    configure_threads()
    files, batch = collect_inputs(args.inputs)
    jobs = plan_jobs(files, Path(args.output), batch, overwrite=args.overwrite, skip_existing=args.skip_existing)
    device = resolve_device(args.device)
    model = load_model(args.checkpoint, map_location=device)
    source = args.checkpoint or "the shipped weights"
    engine = make_engine(model, args.backend, onnx_dir=args.checkpoint)
    print(f"model: {model.config.kind} ({sum(p.numel() for p in model.parameters()):,} parameters) from {source}; "
          f"device: {device}; {engine.describe()}")
    def render(src, dst, audio, info):
        return generate_video(engine, src, dst, options, audio=audio, info=info)

    report = run_batch(render, model.config.sample_rate, jobs, skip_existing=args.skip_existing,
                       overwrite=args.overwrite, folder=Path(args.output) if batch else None)
    return report_batch(report, batch, "generated")

