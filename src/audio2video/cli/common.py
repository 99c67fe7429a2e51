"""What several commands share: argument types and flags."""
from __future__ import annotations

import argparse
import contextlib
import gc
import math
import sys

from ..errors import UserError, one_line


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line too (the full usage is one `--help` away)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def tolerant_streams() -> None:
    """stdout and stderr escape what they cannot encode: a file name that is not valid UTF-8 must not crash a
    print (an error at exit 70) when Python's streams are strict (PYTHONIOENCODING=utf-8, a UTF-8 locale)."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


@contextlib.contextmanager
def gc_paused(freeze: bool = False):
    """The cyclic garbage collector off for a start-up (importing torch, building a model): that makes hundreds of
    thousands of objects and no garbage, and the collector's passes over them are pure cost (about 75 ms, a tenth,
    of importing torch on a 2-core Xeon). On again afterwards, as it was. `freeze` (a process that is the command's
    alone, `main`'s `whole_process`): first every object made so far is frozen (`gc.freeze`: never scanned again),
    or the collector's first pass would scan them all at once (70-95 ms on a 2-core AMD EPYC); cyclic garbage
    made before then is never freed, no cost for a command that then exits."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            if freeze:
                gc.freeze()
            gc.enable()


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text}")
    return value


def seed_int(text: str) -> int:
    """A seed: a whole number from 0 to 2**64 - 1 (what every generator the project seeds accepts)."""
    value = int(text)
    if not 0 <= value < 2 ** 64:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to 2**64 - 1, not {text}")
    return value


def finite_float(text: str) -> float:
    """A number that is not NaN or infinite (range checks are the options dataclasses' own)."""
    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text}")
    return value


def path_text(text: str) -> str:
    """A file or folder name, never empty: Path("") is the current folder, so `generate "$UNSET" -o out/` would
    render every media file there and `-o ""` write into it."""
    if not text:
        raise argparse.ArgumentTypeError("must name a file or folder, not an empty string")
    return text


OVERWRITE_HELP = ("replace outputs that already exist (default: refuse, before any work starts); the originals stay "
                  "intact if the command fails")


def add_overwrite(p: argparse.ArgumentParser, help: str = OVERWRITE_HELP) -> None:
    """-y/--overwrite, FFmpeg's flag: without it an existing output is refused before any work starts."""
    p.add_argument("-y", "--overwrite", action="store_true", help=help)


def add_encoding(p: argparse.ArgumentParser) -> None:
    """--crf and --preset: the H.264 encoder's quality and speed (checked by the command's options)."""
    p.add_argument("--crf", type=int, default=20, help="H.264 quality, 0-51, lower is better (default 20)")
    p.add_argument("--preset", default="veryfast", metavar="NAME",
                   help="x264 preset, from ultrafast (least CPU, biggest file) through veryfast (default), medium, "
                        "slow to veryslow; superfast and ultrafast skip x264's macroblock tree, which can make a "
                        "file's bytes differ from run to run (docs/generation.md)")


def add_device(p: argparse.ArgumentParser, default: str | None = "auto") -> None:
    p.add_argument("--device", default=default, help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps")


def add_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def report_batch(report, batch: bool, verb: str) -> int:
    """The end of `generate` or `visualize`: one input's error as the command's error; for a batch a summary
    line and one line per failure. Returns the exit code."""
    if not batch:
        if report.failed:
            raise report.failed[0].exception or UserError(report.failed[0].error)
        if report.skipped:
            print(f"skipped {report.skipped[0].output}: it exists (--skip-existing)")
        return 0
    print(f"done: {len(report.done)} {verb}, {len(report.skipped)} skipped (existing), {len(report.failed)} failed")
    for job in report.failed:
        print(f"failed: {job.error}", file=sys.stderr)
    return 1 if report.failed else 0
