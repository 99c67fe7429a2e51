"""Every temporary file and folder this process makes on its way to an output, so none outlives a command.

Each is created with Ctrl-C, SIGTERM and SIGHUP held back for the instant between its creation and its entry in
`PENDING` (a signal landing there would leave a file nobody knows the name of); it leaves `PENDING` when it is
published under its real name or removed. Code that writes cleans up after itself on any exception; when a
command ends, `remove_pending` removes whatever is still pending (a signal can land between two lines of that
cleanup), so the guarantee does not depend on where a signal lands.
"""
from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PENDING: set[Path] = set()
_HELD = {s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None),
                     getattr(signal, "SIGHUP", None)) if s is not None}


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back for the block (they are delivered right after it)."""
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    except (AttributeError, OSError, ValueError):  # a platform without signal masks
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _prefix(beside: Path) -> str:
    """`.NAME.`, with NAME cut to 48 characters: a temporary's name must fit where its target's fits (255 bytes on
    most file systems; the random part and the suffix add 14), or a valid output of 250 bytes would be refused."""
    return f".{beside.name[:48]}."


def new_file(beside: Path, suffix: str) -> Path:
    """A new, empty, hidden temporary file in `beside`'s folder, registered as pending."""
    with signals_held():
        fd, name = tempfile.mkstemp(prefix=_prefix(beside), suffix=suffix, dir=beside.parent)
        os.close(fd)
        PENDING.add(Path(name))
    return Path(name)


def new_dir(beside: Path) -> Path:
    """A new, hidden temporary folder in `beside`'s folder, registered as pending."""
    with signals_held():
        name = tempfile.mkdtemp(prefix=_prefix(beside), dir=beside.parent)
        PENDING.add(Path(name))
    return Path(name)


def done(path: Path) -> None:
    """`path` was published or removed: it is no longer pending."""
    PENDING.discard(Path(path))


def remove(path: Path) -> None:
    """Remove a temporary file or folder (if it is still there) and forget it."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass
    done(path)


def remove_pending() -> None:
    """Remove every temporary file and folder still pending: the end of a command, whichever way it ended."""
    for path in list(PENDING):
        remove(path)
