"""`audio2video generate`: any audio (or video) file, or many, -> mp4."""
from __future__ import annotations

import argparse
from pathlib import Path

from .common import (add_device, add_encoding, add_overwrite, add_quiet, finite_float, gc_paused, path_text,
                     positive_int, report_batch)
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
    p.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto",
                   help="the torch backend's number format: auto (default: bf16 on CUDA, fp32 on CPU, where frames "
                        "match the plain model's), fp32, or bf16 (on a CPU with AMX, such as Xeon 4th generation and "
                        "later, the frame decoder runs about 2x faster, with AVX-512 bf16 alone, such as AMD Zen 4, "
                        "about 1.4x; frames differ from fp32's by a fraction of an 8-bit level on average)")
    add_device(p)
    p.add_argument("--skip-existing", action="store_true", help="leave outputs that already exist alone")
    add_overwrite(p)
    add_quiet(p)
    add_shape_flags(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..pipelines.batch import collect_inputs, plan_jobs, run_batch
    from ..pipelines.generate_options import GenerateOptions

    options = GenerateOptions(overlap=args.overlap, batch_size=args.batch_size, crf=args.crf, preset=args.preset,
                              progress=not args.quiet, crossfade=args.crossfade, backend=args.backend,
                              precision=args.precision, **shape_options(args))
    files, batch = collect_inputs(args.inputs)
    jobs = plan_jobs(files, Path(args.output), batch, overwrite=args.overwrite, skip_existing=args.skip_existing)
    early = first_sound(jobs, options, args.skip_existing)  # encoding from now on, while torch imports
    try:
        with gc_paused(freeze=args.whole_process):
            from ..models import load_model
            from ..pipelines.generate import generate_video
            from ..pipelines.inference import configure_threads, make_engine
            from ..runtime import resolve_device

            configure_threads()
            device = resolve_device(args.device)
            model = load_model(args.checkpoint, map_location=device)
            engine = make_engine(model, args.backend, onnx_dir=args.checkpoint, precision=options.precision)
        source = args.checkpoint or "the shipped weights"
        print(f"model: {model.config.kind} ({sum(p.numel() for p in model.parameters()):,} parameters) from "
              f"{source}; device: {device}; {engine.describe()}")

        def render(src, dst, audio, info):
            return generate_video(engine, src, dst, options, audio=audio, info=info, sound=early.pop(src, None))

        report = run_batch(render, model.config.sample_rate, jobs, skip_existing=args.skip_existing,
                           overwrite=args.overwrite, folder=Path(args.output) if batch else None)
    finally:
        for sound in early.values():  # an input that failed before it was rendered
            sound["audio"].close()
    return report_batch(report, batch, "generated")


def first_sound(jobs, options, skip_existing: bool) -> dict:
    """{input: its mp4 sound} for the first input that will be rendered, its AAC (if the whole track needs
    encoding) started now: a child process encodes it on the core that importing torch and loading the model leave
    idle. Empty for a span (`--start`, `--duration`: cut where the decoded length says) and for an input that
    cannot be read (the batch reports why, in its turn)."""
    from ..io.audio_track import audio_for_mp4
    from ..io.media import probe_audio

    job = next((j for j in jobs if not (skip_existing and j.output.exists())), None)
    if job is None or options.start or options.duration is not None:
        return {}
    try:
        return {job.input: audio_for_mp4(job.input, probe_audio(job.input))}
    except Exception:  # noqa: BLE001 - only a head start: the batch checks this input again and words any failure
        return {}
