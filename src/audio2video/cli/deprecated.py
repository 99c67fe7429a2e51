"""Old spellings of flags, kept for one release: each still works and prints one line on stderr saying what
replaces it."""
from __future__ import annotations

import argparse
import sys


def notice(prog: str, old: str, new: str) -> None:
    print(f"{prog}: {old} is deprecated and will be removed in the next release; use {new}", file=sys.stderr)


class _Deprecated(argparse.Action):
    def __init__(self, option_strings, dest, new: str, **kwargs):
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        notice(parser.prog, option_string, self.new)
        setattr(namespace, self.dest, values)


def add_deprecated(p: argparse.ArgumentParser, old: str, new: str, dest: str, **kwargs) -> None:
    """`old` as a hidden spelling of the flag `new` (which stores to `dest`)."""
    p.add_argument(old, dest=dest, action=_Deprecated, new=new, help=argparse.SUPPRESS, default=argparse.SUPPRESS,
                   **kwargs)
