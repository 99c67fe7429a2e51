"""`audio2video demo` (what `make demo` runs)."""
from __future__ import annotations

import argparse

from .common import add_overwrite, finite_float, gc_paused, path_text
from .deprecated import add_deprecated


def register(sub) -> None:
    p = sub.add_parser("demo", help="render a demo video from a procedural demo track (what `make demo` runs)",
                       description="Make a 12 s procedural music track, render demo.mp4 with the shipped model (or a "
                                   "checkpoint, or an untrained model with --untrained, said plainly), and write a "
                                   "contact sheet PNG.")
    p.add_argument("-o", "--output", default="demo_out", type=path_text, metavar="DIR",
                   help="output folder (default demo_out)")
    add_deprecated(p, "--out", "-o/--output", "output", type=path_text, metavar="DIR")
    p.add_argument("--seconds", type=finite_float, default=12.0, help="length of the demo track (default 12)")
    p.add_argument("--checkpoint", type=path_text, metavar="DIR",
                   help="render with this model instead of the shipped one")
    p.add_argument("--untrained", action="store_true", help="render with a randomly initialised model")
    add_overwrite(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with gc_paused(freeze=args.whole_process):  # importing torch
        from ..pipelines.demo import run_demo

    result = run_demo(args.output, seconds=args.seconds, untrained=args.untrained, checkpoint=args.checkpoint,
                      overwrite=args.overwrite)
    print(f"\nvideo:          {result.video}\ncontact sheet:  {result.sheet}\ndemo track:     {result.track}")
    print("\nOn your own music:  audio2video generate song.mp3 -o song.mp4"
          + ("" if result.trained else " --checkpoint DIR") + " [--size 512]")
    return 0
