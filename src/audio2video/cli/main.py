"""The `audio2video` command: one module per command, each registering its own flags; this file only wires them."""
from __future__ import annotations

import argparse
import sys

from ..errors import UserError
from . import av_align, demo, evaluate, export, generate, info, looks, synth, train, visualize

COMMANDS = (info, generate, looks, visualize, demo, export, train, synth, evaluate, av_align)  # the order of `--help`


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(prog="audio2video", description="Turn sound into video.")
    parser.add_argument("--version", action="version", version=f"audio2video {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as e:
        print(f"audio2video {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"audio2video {args.command}: interrupted", file=sys.stderr)
        return 130
