"""Errors a user can cause, and the one place any exception becomes one line of text.

The CLI prints `describe(exc)` as one line on stderr and exits non-zero (see cli/failures.py and
docs/reliability.md); a batch uses the same words for each input it skips.
"""
from __future__ import annotations

import errno
import os
import re


class UserError(Exception):
    """A problem with what the user gave us (a file, a flag, a checkpoint), not a bug."""


class MediaError(UserError):
    """An input or output media file that cannot be read or written."""


class CheckpointError(UserError):
    """A checkpoint directory that is missing, corrupt or inconsistent."""


class ConfigError(UserError, ValueError):
    """A setting (config file, `--set`, config.json, a flag) of the wrong type or out of range."""


class Terminated(BaseException):
    """SIGTERM or SIGHUP turned into an exception (like KeyboardInterrupt for SIGINT), so that every `finally`
    and `except BaseException` cleanup runs: no temporary file outlives a killed command. A BaseException, so
    the `except Exception` that keeps a batch going past a bad input never swallows it."""

    def __init__(self, signum: int):
        super().__init__(f"terminated by signal {signum}")
        self.signum = signum


def one_line(text: str) -> str:
    """`text` with line breaks and other control characters escaped (a file name may hold a newline)."""
    return "".join(c if c.isprintable() or c == " " else c.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for c in str(text).strip())


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type's name when it has none (libraries' errors quoted
    inside one of ours)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and ("can't allocate memory" in text or "out of memory" in text.lower())


def _os_like(exc: BaseException) -> bool:
    """An OSError, or an error of the same shape (FFmpeg's, through PyAV): the machine said no, with a reason."""
    return (isinstance(exc, OSError) and bool(exc.strerror or exc.errno)) or (
        isinstance(getattr(exc, "errno", None), int) and bool(getattr(exc, "strerror", None)))


def io_reason(exc: BaseException) -> str | None:
    """The operating system's reason for a failed read or write ("No space left on device"), from an OSError,
    FFmpeg's errors, or a library's error that quotes "(os error N)" (safetensors does); else None."""
    if _os_like(exc):
        return getattr(exc, "strerror", None) or errno.errorcode.get(exc.errno or 0, "I/O error")
    if isinstance(exc, Exception) and (m := re.search(r"\(os error (\d+)\)", str(exc))):
        return os.strerror(int(m.group(1)))
    return None


def describe(exc: BaseException) -> str:
    """One line that says what went wrong, for any exception: a UserError's own message, a filesystem error's
    path and reason, out of memory as such, anything else (a bug) by its type and first line."""
    if isinstance(exc, UserError):
        return one_line(exc)
    if _os_like(exc):
        reason = getattr(exc, "strerror", None) or errno.errorcode.get(exc.errno or 0, "error")
        names = (getattr(exc, "filename", None), getattr(exc, "filename2", None))
        where = " -> ".join(str(f) for f in names if f is not None)
        return one_line(f"{where}: {reason}" if where else reason)
    if (reason := io_reason(exc)) is not None:
        return one_line(reason)
    if is_out_of_memory(exc):
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return one_line("out of memory" + (f" ({first})" if first else ""))
    if isinstance(exc, RecursionError):
        return "nested too deeply (maximum recursion depth exceeded)"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return one_line(f"internal error: {type(exc).__name__}" + (f": {first}" if first else ""))


def is_internal(exc: BaseException) -> bool:
    """A bug rather than a problem with the user's inputs or machine: what `describe` calls an internal error."""
    return not (isinstance(exc, (UserError, RecursionError)) or io_reason(exc) is not None or is_out_of_memory(exc))
