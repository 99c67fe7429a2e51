"""`audio2video visualize`: any audio (or video) file, or many, -> mp4 drawn by the procedural visualizers."""
from __future__ import annotations

import argparse
from pathlib import Path

from .common import add_encoding, add_overwrite, add_quiet, path_text, report_batch
from .shape_flags import add_span_flags


def register(sub) -> None:
    p = sub.add_parser("visualize", help="render an mp4 with the procedural visualizers (no network)",
                       description="Draw each input's audio with the procedural visualizers - the model's "
                                   "teacher: rings that zoom on kicks, petals that twist on hi-hats, spokes "
                                   "thrown out on every onset, coloured by the harmony - natively at --size, "
                                   "seamless over the whole file (or the part --start/--duration pick), with "
                                   "the original audio muxed: copied when its codec allows, else AAC.")
    p.add_argument("inputs", nargs="+", type=path_text, metavar="INPUT",
                   help="audio or video files FFmpeg can decode (wav, flac, mp3, ogg, opus, m4a, mp4, ...) or folders")
    p.add_argument("-o", "--output", required=True, type=path_text, metavar="OUTPUT",
                   help="output .mp4 for one input; a folder for several inputs or a folder input")
    p.add_argument("--size", type=int, default=512, metavar="PIXELS",
                   help="frame size, drawn natively (not upscaled), even, 16-4096 (default 512)")
    add_span_flags(p)
    add_encoding(p)
    p.add_argument("--skip-existing", action="store_true", help="leave outputs that already exist alone")
    add_overwrite(p)
    add_quiet(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..pipelines.batch import collect_inputs, plan_jobs, run_batch
    from ..pipelines.visualize import SAMPLE_RATE, VisualizeOptions, visualize_video

    options = VisualizeOptions(size=args.size, start=args.start, duration=args.duration, crf=args.crf,
                               preset=args.preset, progress=not args.quiet)
    files, batch = collect_inputs(args.inputs)
    jobs = plan_jobs(files, Path(args.output), batch, overwrite=args.overwrite, skip_existing=args.skip_existing)

    def render(src, dst, audio, info):
        return visualize_video(src, dst, options, audio=audio, info=info)

    report = run_batch(render, SAMPLE_RATE, jobs, skip_existing=args.skip_existing, overwrite=args.overwrite,
                       folder=Path(args.output) if batch else None)
    return report_batch(report, batch, "visualized")
