"""The flags that shape `generate`'s output: span, size, aspect, fill, frame rate and look (pipelines.shape,
pipelines.looks); the span flags also serve `visualize`."""
from __future__ import annotations

import argparse
import re

TIME = re.compile(r"^(?:(?:(\d+):)?(\d+):)?(\d+(?:\.\d*)?|\.\d+)(s|ms|us)?$")


def parse_time(text: str) -> float:
    """A time as FFmpeg writes durations: seconds ('90', '12.5', '1500ms', '250us') or [HH:]MM:SS[.fraction]."""
    m = TIME.match(text.strip())
    if not m or (m.group(4) and m.group(2)):
        raise argparse.ArgumentTypeError(f"not a time: {text!r} (use seconds like 12.5 or [HH:]MM:SS[.ms])")
    hours, minutes, seconds, unit = m.groups()
    if minutes is not None and float(seconds) >= 60:
        raise argparse.ArgumentTypeError(f"not a time: {text!r} (seconds must be under 60 in MM:SS)")
    scale = {"ms": 1e-3, "us": 1e-6}.get(unit or "s", 1.0)
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds) * scale


def add_span_flags(p) -> None:
    """--start and --duration: the part of the input to render (generate, visualize)."""
    p.add_argument("--start", type=parse_time, default=0.0, metavar="TIME",
                   help="start this far into the input, as FFmpeg's -ss (seconds or [HH:]MM:SS[.ms]; default 0)")
    p.add_argument("--duration", type=parse_time, metavar="TIME",
                   help="render this much of the input, as FFmpeg's -t (default: to the end); the audio is cut to "
                        "the same span")


def add_shape_flags(p: argparse.ArgumentParser) -> None:
    from ..pipelines.looks import LOOKS
    from ..pipelines.shape import FILLS

    g = p.add_argument_group("output shape", "the part of the input, the frame's size and aspect, the frame rate "
                                             "and the look (the model itself always makes square frames at 30 fps)")
    add_span_flags(g)
    g.add_argument("--aspect", metavar="W:H",
                   help="output aspect ratio: 16:9, 9:16, 1:1 or any W:H (default 1:1, or that of --width/--height)")
    g.add_argument("--size", "--height", dest="size", type=int, metavar="PIXELS",
                   help="output height in pixels, even (e.g. 720, 1080); the width follows from --aspect (default: "
                        "the model's frame size, 128, on the short side). Frames are scaled at encode time (Lanczos)")
    g.add_argument("--width", type=int, metavar="PIXELS",
                   help="output width in pixels, even: with --aspect instead of a height, or with --height")
    g.add_argument("--fill", choices=tuple(FILLS), default="mirror",
                   help="how a non-square frame is filled around the model's square one: "
                        + "; ".join(f"{k}: {v}" for k, v in FILLS.items()) + " (default mirror)")
    g.add_argument("--fps", metavar="RATE",
                   help="output frame rate, e.g. 24, 25, 60 or 30000/1001 (default 30, the model's own); frames "
                        "are resampled from the model's 30 fps by blending neighbours")
    g.add_argument("--look", default="none", metavar="NAME",
                   help=f"colour grading after the model: {', '.join(LOOKS)} (default none: untouched; "
                        "`audio2video looks` describes them)")


def shape_options(args: argparse.Namespace) -> dict:
    """The GenerateOptions fields the flags above set."""
    return dict(start=args.start, duration=args.duration, aspect=args.aspect, size=args.size, width=args.width,
                fill=args.fill, fps=args.fps, look=args.look)
