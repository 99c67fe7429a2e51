"""Writing files so that a crash never leaves a half-written one: temporary name beside the target, then rename."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def temp_path(path: Path, suffix: str = ".tmp") -> Path:
    """A new, empty temporary file beside `path` (same folder, so the final rename is atomic)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    return Path(tmp)


def umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def publish(tmp: Path, path: Path) -> None:
    """Give `tmp` the permissions a normally created file gets (mkstemp makes 0600) and rename it to `path`."""
    os.chmod(tmp, 0o666 & ~umask())
    os.replace(tmp, path)


def atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Call write(tmp_name) on a temporary file beside `path`, then publish it as `path`."""
    tmp = temp_path(path)
    try:
        write(str(tmp))
        publish(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
