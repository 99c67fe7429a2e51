"""`audio2video evaluate` and `audio2video compare`: they share every flag but the checkpoints."""
from __future__ import annotations

import argparse

from ..errors import UserError
from .common import add_device, add_overwrite, add_quiet, finite_float, path_text, positive_int
from .deprecated import add_deprecated

EVALUATE = ("score a checkpoint on held-out clips: metrics.json, report.md, plots",
            "Run a checkpoint on held-out clips (the procedural engine's held-out seeds, never seen in training) and "
            "score how well its video follows the sound: reconstruction, temporal consistency, audio dependence "
            "and AV-Align, with bootstrap 95% intervals. See docs/evaluation.md.")
COMPARE = ("A/B: the same held-out clips through several checkpoints, paired differences with CIs",
           "Run every checkpoint on the same held-out clips; report each metric, the paired difference of each "
           "checkpoint against the first with a bootstrap 95% interval, plots and side-by-side videos "
           "(ground truth | A | B) with the audio.")


def _add_shared(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", type=path_text, metavar="DIR",
                   help="output folder (required; created; written only on success)")
    add_deprecated(p, "--out", "-o/--output", "output", type=path_text, metavar="DIR")
    p.add_argument("--data", default="procedural", type=path_text, metavar="SOURCE",
                   help="'procedural' (default): the engine's held-out set; a video file or folder of video "
                        "files with audio (the first clip of each, resized to the model's frames); or a folder of "
                        "audio files (real music, no ground truth: sync ratio, AV-Align, saturation, artefact "
                        "frames, beside the procedural visualizers on the same audio)")
    p.add_argument("--seconds", type=finite_float, default=30.0, metavar="S",
                   help="audio-file evaluation: seconds scored per file (default 30)")
    p.add_argument("--offset", type=finite_float, default=15.0, metavar="S",
                   help="audio-file evaluation: where each file's segment starts (default 15; files too short "
                        "for it start at 0)")
    p.add_argument("--style", choices=("audio", "seed"), default="audio",
                   help="procedural style mode, as the model was trained with (default audio)")
    p.add_argument("-n", "--num", type=positive_int, default=64, metavar="N",
                   help="held-out clips (default 64; for video files, at most N files)")
    add_deprecated(p, "--n", "-n/--num", "num", type=positive_int, metavar="N")
    p.add_argument("--examples", type=int, default=3, metavar="K",
                   help="clips shown in frame strips, sync plots (and side-by-side videos) (default 3)")
    p.add_argument("--batch-size", type=positive_int, default=2, metavar="N", help="clips per forward pass")
    add_device(p)
    add_overwrite(p, help="write into an output folder that is not empty (files of the same names are replaced; "
                          "the originals stay intact if the command fails)")
    add_quiet(p)


def register(sub) -> None:
    p = sub.add_parser("evaluate", help=EVALUATE[0], description=EVALUATE[1])
    p.add_argument("--checkpoint", type=path_text, metavar="DIR",
                   help="model directory holding config.json + model.safetensors (default: the shipped model)")
    _add_shared(p)
    p.set_defaults(func=run_evaluate)
    p = sub.add_parser("compare", help=COMPARE[0], description=COMPARE[1])
    p.add_argument("checkpoints", nargs="+", type=path_text, metavar="CKPT", help="model directories; the first is A")
    p.add_argument("--names", nargs="+", metavar="NAME", help="a short name per checkpoint for tables and plots")
    _add_shared(p)
    p.set_defaults(func=run_compare)


def _settings(args: argparse.Namespace, *head: str) -> dict:
    """The shared settings, and the command that reproduces the report with every setting spelled out."""
    from ..evaluation.report import command_line

    command = command_line(["audio2video", args.command, *head, "-o", args.output, "--data", args.data, "--style",
                            args.style, "-n", str(args.num), "--examples", str(args.examples)])
    return dict(n=args.num, data=args.data, style=args.style, batch_size=args.batch_size, device=args.device,
                examples=args.examples, progress=not args.quiet, command=command, overwrite=args.overwrite)


def _require_output(args: argparse.Namespace) -> None:
    if args.output is None:
        raise UserError("-o/--output DIR is required: the folder the report is written to")


def _checkpoint(args: argparse.Namespace) -> tuple[str, list[str]]:
    """The checkpoint to evaluate (the shipped model's folder by default) and its words in the report's command."""
    from ..models import has_shipped_model, load_model, shipped_model_dir

    if args.checkpoint is not None:
        return args.checkpoint, ["--checkpoint", args.checkpoint]
    if not has_shipped_model():
        load_model()  # says, in one line, that no model ships and what to pass instead
    return str(shipped_model_dir()), []


def run_evaluate(args: argparse.Namespace) -> int:
    from ..evaluation.report import fmt
    from ..evaluation.run import run_evaluate

    from ..evaluation.music import audio_only

    _require_output(args)
    if args.data != "procedural" and (files := audio_only(args.data)) is not None:
        return _evaluate_music(args, files)
    checkpoint, head = _checkpoint(args)
    r = run_evaluate(checkpoint, args.output, **_settings(args, *head))
    for name, value in r["metrics"].items():
        print(f"{name:>16}: {fmt(value)}")
    print(f"wrote metrics.json, report.md and plots to {args.output}")
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from ..evaluation.report import fmt
    from ..evaluation.run import run_compare

    _require_output(args)
    names = ["--names", *args.names] if args.names else []
    r = run_compare(args.checkpoints, args.output, names=args.names, **_settings(args, *args.checkpoints, *names))
    for key, diffs in r["differences"].items():
        print(key)
        for name, d in diffs.items():
            lo, hi = d["ci95"]
            print(f"{name:>16}: {fmt(d['point']):>10}  95% CI [{fmt(lo)}, {fmt(hi)}]  {d['verdict']}")
    print(f"wrote metrics.json, report.md, plots and side-by-side videos to {args.output}")
    return 0


def _evaluate_music(args: argparse.Namespace, files: list) -> int:
    """`evaluate --data FOLDER_OF_AUDIO`: the model and its teacher on real music (evaluation.music)."""
    import numpy as np

    from ..data import ClipSpec
    from ..data.song import render_song, song_features
    from ..evaluation.music import score_music, write_music_evaluation
    from ..evaluation.report import command_line
    from ..io.files import check_output_dir
    from ..io.frames import to_uint8
    from ..models import load_model
    from ..pipelines.generate import GenerateOptions, render_frames
    from ..runtime import resolve_device

    if not (args.seconds > 0 and args.offset >= 0):
        raise UserError("--seconds must be positive and --offset 0 or more")
    check_output_dir(args.output, args.overwrite)
    checkpoint, head = _checkpoint(args)
    model = load_model(checkpoint, map_location=resolve_device(args.device))
    size = model.config.frame_size
    options = GenerateOptions(batch_size=args.batch_size, progress=False)
    spec = ClipSpec(height=size, width=size)

    def model_video(audio):
        total = int(round(len(audio) / 16000 * 30))
        return np.concatenate(list(render_frames(model, audio, total, options)))

    def teacher_video(audio):
        return np.concatenate([to_uint8(b) for b in render_song(song_features(audio, spec), spec)])

    result = score_music(files[:args.num], {"model": model_video, "teacher": teacher_video}, args.seconds,
                         args.offset, progress=not args.quiet)
    command = command_line(["audio2video", "evaluate", *head, "--data", args.data,
                            "-o", args.output, "-n", str(args.num), "--seconds", str(args.seconds), "--offset",
                            str(args.offset)])
    write_music_evaluation(args.output, result, f"Real music: {args.checkpoint or 'the shipped model'}", command,
                           overwrite=args.overwrite)
    for name, entry in result["renderers"].items():
        print(name + ": " + ", ".join(f"{k} {v:.3f}" for k, v in entry["overall"].items()))
    print(f"wrote metrics.json and report.md to {args.output}")
    return 0
