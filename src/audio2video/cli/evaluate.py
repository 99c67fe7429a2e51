"""`audio2video evaluate` and `audio2video compare`: they share every flag but the checkpoints."""
from __future__ import annotations

import argparse

from ..errors import UserError
from .common import add_device, add_quiet, positive_int

EVALUATE = ("score a checkpoint on held-out clips: metrics.json, report.md, plots",
            "Run a checkpoint on held-out clips (the procedural engine's held-out seeds, never seen in training) and "
            "score how well its video follows the sound: reconstruction, temporal consistency, audio dependence "
            "and AV-Align, with bootstrap 95% intervals. See docs/evaluation.md.")
COMPARE = ("A/B: the same held-out clips through several checkpoints, paired differences with CIs",
           "Run every checkpoint on the same held-out clips; report each metric, the paired difference of each "
           "checkpoint against the first with a bootstrap 95% interval, plots and side-by-side videos "
           "(ground truth | A | B) with the audio.")


def _add_shared(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created; written only on success)")
    p.add_argument("--data", default="procedural", metavar="SOURCE",
                   help="'procedural' (default): the engine's held-out set; a video file or folder of video "
                        "files with audio (the first clip of each, resized to the model's frames); or a folder of "
                        "audio files (real music, no ground truth: sync ratio, AV-Align, saturation, artefact "
                        "frames, beside the procedural visualizers on the same audio)")
    p.add_argument("--seconds", type=float, default=30.0, metavar="S",
                   help="audio-file evaluation: seconds scored per file (default 30)")
    p.add_argument("--offset", type=float, default=15.0, metavar="S",
                   help="audio-file evaluation: where each file's segment starts (default 15; files too short "
                        "for it start at 0)")
    p.add_argument("--style", choices=("audio", "seed"), default="audio",
                   help="procedural style mode, as the model was trained with (default audio)")
    p.add_argument("-n", "--n", type=positive_int, default=64, metavar="N",
                   help="held-out clips (default 64; for video files, at most N files)")
    p.add_argument("--examples", type=int, default=3, metavar="K",
                   help="clips shown in frame strips, sync plots (and side-by-side videos) (default 3)")
    p.add_argument("--batch-size", type=positive_int, default=2, metavar="N", help="clips per forward pass")
    add_device(p)
    add_quiet(p)


def register(sub) -> None:
    p = sub.add_parser("evaluate", help=EVALUATE[0], description=EVALUATE[1])
    p.add_argument("--checkpoint", metavar="DIR", required=True,
                   help="model directory holding config.json + model.safetensors")
    _add_shared(p)
    p.set_defaults(func=run_evaluate)
    p = sub.add_parser("compare", help=COMPARE[0], description=COMPARE[1])
    p.add_argument("checkpoints", nargs="+", metavar="CKPT", help="model directories; the first is A")
    p.add_argument("--names", nargs="+", metavar="NAME", help="a short name per checkpoint for tables and plots")
    _add_shared(p)
    p.set_defaults(func=run_compare)


def _settings(args: argparse.Namespace, *head: str) -> dict:
    """The shared settings, and the command that reproduces the report with every setting spelled out."""
    from ..evaluation.report import command_line

    command = command_line(["audio2video", args.command, *head, "--out", args.out, "--data", args.data, "--style",
                            args.style, "-n", str(args.n), "--examples", str(args.examples)])
    return dict(n=args.n, data=args.data, style=args.style, batch_size=args.batch_size, device=args.device,
                examples=args.examples, progress=not args.quiet, command=command)


def run_evaluate(args: argparse.Namespace) -> int:
    from ..evaluation.report import fmt
    from ..evaluation.run import run_evaluate

    from ..evaluation.music import audio_only

    if args.data != "procedural" and (files := audio_only(args.data)) is not None:
        return _evaluate_music(args, files)
    r = run_evaluate(args.checkpoint, args.out, **_settings(args, "--checkpoint", args.checkpoint))
    for name, value in r["metrics"].items():
        print(f"{name:>16}: {fmt(value)}")
    print(f"wrote metrics.json, report.md and plots to {args.out}")
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from ..evaluation.report import fmt
    from ..evaluation.run import run_compare

    names = ["--names", *args.names] if args.names else []
    r = run_compare(args.checkpoints, args.out, names=args.names, **_settings(args, *args.checkpoints, *names))
    for key, diffs in r["differences"].items():
        print(key)
        for name, d in diffs.items():
            lo, hi = d["ci95"]
            print(f"{name:>16}: {fmt(d['point']):>10}  95% CI [{fmt(lo)}, {fmt(hi)}]  {d['verdict']}")
    print(f"wrote metrics.json, report.md, plots and side-by-side videos to {args.out}")
    return 0


def _evaluate_music(args: argparse.Namespace, files: list) -> int:
    """`evaluate --data FOLDER_OF_AUDIO`: the model and its teacher on real music (evaluation.music)."""
    import numpy as np

    from ..data import ClipSpec
    from ..data.song import render_song, song_features
    from ..evaluation.music import score_music, write_music_evaluation
    from ..evaluation.report import command_line
    from ..io.frames import to_uint8
    from ..models import load_model
    from ..pipelines.generate import GenerateOptions, render_frames
    from ..runtime import resolve_device

    if not (args.seconds > 0 and args.offset >= 0):
        raise UserError("--seconds must be positive and --offset 0 or more")
    model = load_model(args.checkpoint, map_location=resolve_device(args.device))
    size = model.config.frame_size
    options = GenerateOptions(batch_size=args.batch_size, progress=False)
    spec = ClipSpec(height=size, width=size)

    def model_video(audio):
        total = int(round(len(audio) / 16000 * 30))
        return np.concatenate(list(render_frames(model, audio, total, options)))

    def teacher_video(audio):
        return np.concatenate([to_uint8(b) for b in render_song(song_features(audio, spec), spec)])

    result = score_music(files[:args.n], {"model": model_video, "teacher": teacher_video}, args.seconds,
                         args.offset, progress=not args.quiet)
    command = command_line(["audio2video", "evaluate", "--checkpoint", args.checkpoint, "--data", args.data,
                            "--out", args.out, "-n", str(args.n), "--seconds", str(args.seconds), "--offset",
                            str(args.offset)])
    write_music_evaluation(args.out, result, f"Real music: {args.checkpoint}", command)
    for name, entry in result["renderers"].items():
        print(name + ": " + ", ".join(f"{k} {v:.3f}" for k, v in entry["overall"].items()))
    print(f"wrote metrics.json and report.md to {args.out}")
    return 0
