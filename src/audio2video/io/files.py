"""Writing files and folders so that a crash never leaves a half-written one, and finding media files.

Every write in the project goes through here: a temporary name beside the target, then one rename.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import wave
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..errors import UserError

AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".aiff", ".aif",
                            ".wma", ".mka"})
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi"})
MEDIA_SUFFIXES = AUDIO_SUFFIXES | VIDEO_SUFFIXES  # anything whose audio track FFmpeg can decode


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
    path = Path(path)
    tmp = temp_path(path)
    try:
        write(str(tmp))
        publish(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(Path(path), lambda tmp: Path(tmp).write_text(text))


@contextmanager
def staged_dir(out: str | Path) -> Iterator[Path]:
    """A temporary folder beside `out` that becomes `out` (or whose files move into an existing `out`) only when
    the work inside the `with` succeeds, so an error or Ctrl-C leaves nothing half-written."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as e:
        raise UserError(f"{out}: cannot write here ({e.strerror or e})") from None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~umask())
        if not out.exists():
            os.replace(tmp, out)
            return
        for f in tmp.iterdir():
            os.replace(f, out / f.name)
        tmp.rmdir()
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def replace_link(link: Path, target: str) -> None:
    """Point the symbolic link `link` at `target` (a name relative to the link's folder) in one atomic rename, so
    at every instant `link` resolves to either its old target or the new one. A real folder at `link` (written
    before links were used) is moved aside first: only that one-time migration has a moment without `link`."""
    link = Path(link)
    tmp = link.with_name(f".{link.name}.{os.getpid()}.link")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    try:
        if link.is_dir() and not link.is_symlink():
            os.replace(link, link.with_name(f".{link.name}.before-link"))
        os.replace(tmp, link)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int) -> None:
    """Mono or (channels, samples) float audio in [-1, 1] as 16-bit PCM, atomically."""
    a = np.atleast_2d(np.asarray(audio, dtype=np.float32))
    pcm = (np.clip(a, -1.0, 1.0) * 32767.0).round().astype("<i2").T.copy()  # interleaved (samples, channels)

    def write(tmp: str):
        with wave.open(tmp, "wb") as w:
            w.setnchannels(a.shape[0])
            w.setsampwidth(2)
            w.setframerate(int(sample_rate))
            w.writeframes(pcm.tobytes())
    atomic_write(Path(path), write)


def files_in(folder: Path, suffixes: Iterable[str]) -> list[Path]:
    """The visible files of `folder` whose suffix (any case) is one of `suffixes`, sorted."""
    suffixes = {s.lower() for s in suffixes}
    return sorted(p for p in Path(folder).iterdir()
                  if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in suffixes)
