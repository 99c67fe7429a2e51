"""`audio2video looks`: the named colour gradings `generate --look` applies."""
from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser("looks", help="list the looks `generate --look NAME` can apply",
                       description="List the named looks: colour gradings applied to the model's frames before "
                                   "they are shaped and encoded (a contrast curve, a gradient map from luminance to "
                                   "a palette, a hue rotation, saturation). `none`, the default, leaves the frames "
                                   "untouched.")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..pipelines.looks import LOOKS

    width = max(map(len, LOOKS))
    for look in LOOKS.values():
        print(f"{look.name:<{width}}  {look.description}")
    print("\nuse: audio2video generate song.mp3 -o song.mp4 --look NAME")
    return 0
