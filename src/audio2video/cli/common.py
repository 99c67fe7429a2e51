"""What several commands share: argument types and flags."""
from __future__ import annotations

import argparse
import sys

from ..errors import UserError


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text}")
    return value


def add_device(p: argparse.ArgumentParser, default: str | None = "auto") -> None:
    p.add_argument("--device", default=default, help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps")


def add_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def report_batch(report, batch: bool, verb: str) -> int:
    """The end of `generate` or `visualize`: one input's error as the command's error; for a batch a summary
    line and one line per failure. Returns the exit code."""
    if not batch:
        if report.failed:
            raise UserError(report.failed[0].error)
        if report.skipped:
            print(f"skipped {report.skipped[0].output}: it exists (--skip-existing)")
        return 0
    print(f"done: {len(report.done)} {verb}, {len(report.skipped)} skipped (existing), {len(report.failed)} failed")
    for job in report.failed:
        print(f"failed: {job.error}", file=sys.stderr)
    return 1 if report.failed else 0
