"""The `audio2video` command: one module per command, each registering its own flags; this file only wires them."""
from __future__ import annotations

import argparse

from . import av_align, demo, evaluate, export, generate, info, looks, synth, train, visualize
from .common import Parser, tolerant_streams
from .failures import DEBUG_ENV, exit_now, run_command

COMMANDS = (info, generate, looks, visualize, demo, export, train, synth, evaluate, av_align)  # the order of `--help`


def _add_debug(p: argparse.ArgumentParser, default) -> None:
    p.add_argument("--debug", action="store_true", default=default,
                   help=f"on an error, print the traceback too (same as {DEBUG_ENV}=1)")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = Parser(prog="audio2video", description="Turn sound into video.")
    parser.add_argument("--version", action="version", version=f"audio2video {__version__}")
    _add_debug(parser, False)
    parser.set_defaults(whole_process=False)  # `main`'s
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    for p in sub.choices.values():  # `--debug` before or after the command name
        _add_debug(p, argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None, whole_process: bool = False) -> int:
    """Run one command; the exit code. `whole_process`: the process is this command's alone (the console script),
    so start-up may change process-wide state (`common.gc_paused`'s freeze); a caller's own process is left as
    it was."""
    tolerant_streams()
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # a usage error (its one line is printed) or --help: a code, for callers of main()
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    args.whole_process = whole_process
    return run_command(f"audio2video {args.command}", lambda: args.func(args), debug=args.debug)


def entry() -> None:
    """The `audio2video` console script (and `python -m audio2video.cli`): `main`, then a quick exit."""
    exit_now(main(whole_process=True))
