"""The `audio2video` command. Thin: it parses arguments and calls the modules that do the work."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import UserError


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text}")
    return value


def cmd_info(args: argparse.Namespace) -> int:
    from .models import ModelConfig, build_model, load_model
    from .models.summary import format_table

    model = load_model(args.checkpoint) if args.checkpoint else build_model(ModelConfig(kind=args.kind))
    print(format_table(model))
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from .generate import GenerateOptions, collect_inputs, plan_jobs, run_batch
    from .models import load_model
    from .runtime import resolve_device

    if args.size is not None and (args.size < 16 or args.size % 2):
        raise UserError(f"--size must be an even number of pixels >= 16, not {args.size}")
    if not 0 <= args.crf <= 51:
        raise UserError(f"--crf must be between 0 and 51, not {args.crf}")
    files, batch = collect_inputs(args.inputs)
    jobs = plan_jobs(files, Path(args.output), batch)
    if batch:
        Path(args.output).mkdir(parents=True, exist_ok=True)
    device = resolve_device(args.device)
    model = load_model(args.checkpoint, map_location=device)
    cfg = model.config
    source = args.checkpoint or "the shipped weights"
    print(f"model: {cfg.kind} ({sum(p.numel() for p in model.parameters()):,} parameters) from {source}; "
          f"device: {device}")
    options = GenerateOptions(overlap=args.overlap, batch_size=args.batch_size, size=args.size, crf=args.crf,
                              progress=not args.quiet)
    report = run_batch(model, jobs, options, skip_existing=args.skip_existing)
    if not batch:
        if report.failed:
            raise UserError(report.failed[0].error)
        if report.skipped:
            print(f"skipped {report.skipped[0].output}: it exists (--skip-existing)")
        return 0
    print(f"done: {len(report.done)} generated, {len(report.skipped)} skipped (existing), {len(report.failed)} failed")
    for job in report.failed:
        print(f"failed: {job.error}", file=sys.stderr)
    return 1 if report.failed else 0


def cmd_train(args: argparse.Namespace) -> int:
    from .train import run_from_args

    return run_from_args(args)


def cmd_synth(args: argparse.Namespace) -> int:
    from .data.procedural import EngineConfig
    from .synth import write_samples

    paths = write_samples(args.n, args.output, seed=args.seed, config=EngineConfig(style=args.style),
                          split=args.split, progress=not args.quiet)
    print(f"wrote {len(paths)} samples (.wav, .mp4, .json, .png each) to {args.output}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    result = run_demo(args.out, seconds=args.seconds, untrained=args.untrained, checkpoint=args.checkpoint)
    print(f"\nvideo:          {result.video}\ncontact sheet:  {result.sheet}\ndemo track:     {result.track}")
    print("\nOn your own music:  audio2video generate song.mp3 -o song.mp4"
          + ("" if result.trained else " --checkpoint DIR") + " [--size 512]")
    return 0


def _eval_command(args: argparse.Namespace, *head: str) -> str:
    """The command that reproduces this evaluation, every setting that changes the numbers spelled out."""
    from .evaluate import command_line

    return command_line(["audio2video", args.command, *head, "--out", args.out, "--data", args.data, "--style",
                         args.style, "-n", str(args.n), "--examples", str(args.examples)])


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import fmt, run_evaluate

    r = run_evaluate(args.checkpoint, args.out, n=args.n, data=args.data, style=args.style,
                     batch_size=args.batch_size,
                     device=args.device, examples=args.examples, progress=not args.quiet,
                     command=_eval_command(args, "--checkpoint", args.checkpoint))
    for name, value in r["metrics"].items():
        print(f"{name:>16}: {fmt(value)}")
    print(f"wrote metrics.json, report.md and plots to {args.out}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .evaluate import fmt, run_compare

    names = ["--names", *args.names] if args.names else []
    r = run_compare(args.checkpoints, args.out, names=args.names, n=args.n, data=args.data, style=args.style,
                    batch_size=args.batch_size, device=args.device, examples=args.examples,
                    progress=not args.quiet, command=_eval_command(args, *args.checkpoints, *names))
    for key, diffs in r["differences"].items():
        print(key)
        for name, d in diffs.items():
            lo, hi = d["ci95"]
            print(f"{name:>16}: {fmt(d['point']):>10}  95% CI [{fmt(lo)}, {fmt(hi)}]  {d['verdict']}")
    print(f"wrote metrics.json, report.md, plots and side-by-side videos to {args.out}")
    return 0


def cmd_av_align(args: argparse.Namespace) -> int:
    import math

    from .metrics import av_align_file

    scores, failed = [], 0
    for path in args.files:
        try:
            r = av_align_file(path)
        except UserError as e:
            if len(args.files) == 1:
                raise
            print(f"audio2video av-align: error: {e}", file=sys.stderr)  # reported, skipped; the exit says so
            failed += 1
            continue
        scores.append(r.score)
        value = "undefined (no peaks)" if math.isnan(r.score) else f"{r.score:.4f}"
        print(f"{path}\t{value}\t(audio peaks {len(r.audio_peaks)}, video peaks {len(r.video_peaks)}, "
              f"matches {r.matches})")
    defined = [s for s in scores if not math.isnan(s)]
    mean = f"{sum(defined) / len(defined):.4f}" if defined else "undefined"
    print(f"mean\t{mean}\t({len(defined)} of {len(args.files)} files{f'; {failed} failed' if failed else ''})")
    return 1 if failed else 0


def cmd_export(args: argparse.Namespace) -> int:
    import torch

    from .models import load_model, save_pretrained

    model = load_model(args.checkpoint)
    out = save_pretrained(model, args.out, dtype=torch.float16 if args.fp16 else None)
    size = sum(f.stat().st_size for f in out.iterdir()) / 1e6
    print(f"wrote {out} ({model.kind}, {'fp16' if args.fp16 else 'fp32'} weights, {size:.1f} MB)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="audio2video", description="Turn sound into video.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("info", help="print the model's component table: stages, output shapes, parameters",
                       description="Print each stage of the model with its output shape and parameter count, "
                                   "the total, and the spec's approximate figures beside the real ones.")
    p.add_argument("--checkpoint", metavar="DIR", help="a saved model directory (default: a fresh model at spec size)")
    p.add_argument("--kind", choices=("hybrid", "legacy"), default="hybrid",
                   help="which fresh model to describe when no --checkpoint is given (default: hybrid)")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("generate", help="render an mp4 from any audio (or video) file",
                       description="Render a video for each input's audio: 3 s windows through the model, "
                                   "cross-faded, encoded as H.264 with the original audio muxed as AAC.")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="audio or video files FFmpeg can decode (wav, flac, mp3, ogg, opus, m4a, mp4, ...) or folders")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                   help="output .mp4 for one input; a folder for several inputs or a folder input")
    p.add_argument("--checkpoint", metavar="DIR",
                   help="model directory holding config.json + model.safetensors (default: the shipped model)")
    p.add_argument("--overlap", type=float, default=0.5, metavar="SECONDS",
                   help="seconds shared (and cross-faded) by consecutive 3 s windows (default 0.5)")
    p.add_argument("--batch-size", type=_positive_int, default=2, metavar="N", help="windows per forward pass (default 2)")
    p.add_argument("--size", type=int, metavar="PIXELS", help="upscale frames to PIXELS x PIXELS when encoding, e.g. 512")
    p.add_argument("--crf", type=int, default=20, help="H.264 quality, 0-51, lower is better (default 20)")
    p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps")
    p.add_argument("--skip-existing", action="store_true", help="leave outputs that already exist alone")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("demo", help="render a demo video from a procedural demo track (what `make demo` runs)",
                       description="Make a 12 s procedural music track, render demo.mp4 with the shipped model (or an "
                                   "untrained one if none ships, said plainly), and write a contact sheet PNG.")
    p.add_argument("--out", default="demo_out", metavar="DIR", help="output folder (default demo_out)")
    p.add_argument("--seconds", type=float, default=12.0, help="length of the demo track (default 12)")
    p.add_argument("--checkpoint", metavar="DIR", help="render with this model instead of the shipped one")
    p.add_argument("--untrained", action="store_true", help="render with a randomly initialised model")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("export", help="copy a checkpoint's model (config.json + model.safetensors), optionally as fp16",
                       description="Write the model of a checkpoint directory (e.g. runs/x/checkpoints/best) to a "
                                   "clean model directory without training state; --fp16 halves its size "
                                   "(it loads back as fp32).")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a model or checkpoint directory")
    p.add_argument("out", metavar="OUT", help="the model directory to write")
    p.add_argument("--fp16", action="store_true", help="store floating-point tensors as float16")
    p.set_defaults(func=cmd_export)

    from .train import add_arguments as add_train_arguments

    p = sub.add_parser("train", help="train a model (one process, or many under torchrun)",
                       description="Train on the procedural engine with checkpoints, exact resume, validation and "
                                   "logging. Under torchrun (RANK/WORLD_SIZE set) it runs DistributedDataParallel.")
    add_train_arguments(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("synth", help="write procedural (audio, video) samples to look at",
                       description="Write N samples of the procedural data engine: .wav, .mp4 (audio muxed), "
                                   ".json metadata and a contact sheet .png (frames above the loudness and onset "
                                   "curves) each.")
    p.add_argument("-n", type=_positive_int, default=8, metavar="N", help="number of samples (default 8)")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder (created if needed)")
    p.add_argument("--seed", type=int, default=0, help="base seed: sample k of a seed is always the same (default 0)")
    p.add_argument("--style", choices=("audio", "seed"), default="audio",
                   help="audio: the look follows the sound (default); seed: random looks")
    p.add_argument("--split", choices=("train", "heldout"), default="train", help="seed space (default train)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_synth)

    for name, helptext, description in (
            ("evaluate", "score a checkpoint on held-out clips: metrics.json, report.md, plots",
             "Run a checkpoint on held-out clips (the procedural engine's held-out seeds, never seen in training) and "
             "score how well its video follows the sound: reconstruction, temporal consistency, audio dependence "
             "and AV-Align, with bootstrap 95% intervals. See docs/evaluation.md."),
            ("compare", "A/B: the same held-out clips through several checkpoints, paired differences with CIs",
             "Run every checkpoint on the same held-out clips; report each metric, the paired difference of each "
             "checkpoint against the first with a bootstrap 95% interval, plots and side-by-side videos "
             "(ground truth | A | B) with the audio.")):
        p = sub.add_parser(name, help=helptext, description=description)
        if name == "evaluate":
            p.add_argument("--checkpoint", metavar="DIR", required=True,
                           help="model directory holding config.json + model.safetensors")
            p.set_defaults(func=cmd_evaluate)
        else:
            p.add_argument("checkpoints", nargs="+", metavar="CKPT", help="model directories; the first is A")
            p.add_argument("--names", nargs="+", metavar="NAME",
                           help="a short name per checkpoint for tables and plots")
            p.set_defaults(func=cmd_compare)
        p.add_argument("--out", required=True, metavar="DIR", help="output folder (created; written only on success)")
        p.add_argument("--data", default="procedural", metavar="SOURCE",
                       help="'procedural' (default): the engine's held-out set; or a video file or folder of video "
                            "files with audio (the first clip of each, resized to the model's frames)")
        p.add_argument("--style", choices=("audio", "seed"), default="audio",
                       help="procedural style mode, as the model was trained with (default audio)")
        p.add_argument("-n", "--n", type=_positive_int, default=64, metavar="N",
                       help="held-out clips (default 64; for video files, at most N files)")
        p.add_argument("--examples", type=int, default=3, metavar="K",
                       help="clips shown in frame strips, sync plots (and side-by-side videos) (default 3)")
        p.add_argument("--batch-size", type=_positive_int, default=2, metavar="N", help="clips per forward pass")
        p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps")
        p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("av-align", help="AV-Align of video files with audio: one score per file and the mean",
                       description="AV-Align (Yariv et al. 2024, the reference script's 2025-fixed variant: "
                                   "one-to-one matching of librosa onsets and optical-flow peaks within +-1/fps). "
                                   "Works on any video file with an audio track, e.g. other systems' outputs and "
                                   "ground truth. See docs/evaluation.md.")
    p.add_argument("files", nargs="+", metavar="FILE", help="video files with an audio track")
    p.set_defaults(func=cmd_av_align)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UserError as e:
        print(f"audio2video {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"audio2video {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
