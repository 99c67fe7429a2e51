"""Writing files and folders so that a crash never leaves a half-written one, and finding media files.

Every write in the project goes through here: a temporary name beside the target, then one rename.
"""
from __future__ import annotations

import errno
import os
import stat
import wave
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..errors import UserError, io_reason
from . import temps

AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".aiff", ".aif",
                            ".wma", ".mka"})
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi"})
MEDIA_SUFFIXES = AUDIO_SUFFIXES | VIDEO_SUFFIXES  # anything whose audio track FFmpeg can decode


def temp_path(path: Path, suffix: str = ".tmp") -> Path:
    """A new, empty temporary file beside `path` (same folder, so the final rename is atomic), pending until it
    is published or removed (io.temps)."""
    return temps.new_file(Path(path), suffix)


def umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def publish(tmp: Path, path: Path) -> None:
    """Give `tmp` the permissions a normally created file gets (mkstemp makes 0600) and rename it to `path`."""
    os.chmod(tmp, 0o666 & ~umask())
    os.replace(tmp, path)
    temps.done(tmp)


def atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Call write(tmp_name) on a temporary file beside `path`, then publish it as `path`."""
    with AtomicFile(Path(path)) as f:
        write(str(f.tmp))


class AtomicFile:
    """A temporary file beside `path` that becomes `path` in one rename on `commit()`, and is deleted on
    `discard()`. As a context manager it commits when the block succeeds and discards on any exception,
    Ctrl-C and SIGTERM included (the CLI turns SIGTERM into an exception: cli/failures.py). The one way every
    output file of the project is written."""

    def __init__(self, path: str | Path, suffix: str = ".tmp"):
        self.path = Path(path)
        try:
            self.tmp = temp_path(self.path, suffix=suffix)
        except OSError as e:
            raise UserError(f"{self.path}: cannot write here ({e.strerror or e})") from None

    def commit(self) -> Path:
        try:
            publish(self.tmp, self.path)
        except BaseException as e:
            self.discard()
            raise reworded(e, self.tmp, self.path) from None
        return self.path

    def discard(self) -> None:
        temps.remove(self.tmp)

    def __enter__(self) -> "AtomicFile":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
            return
        self.discard()
        new = reworded(exc, self.tmp, self.path)
        if new is not exc:
            raise new from None


def reworded(exc: BaseException, tmp: Path, target: Path) -> BaseException:
    """The error to report when writing `tmp` (on its way to `target`) failed: a disk-full or permission error
    as a UserError naming `target` (the user never sees temporary names), other errors as they are."""
    if isinstance(exc, UserError) and str(tmp) in str(exc):
        return type(exc)(str(exc).replace(str(tmp), str(target)))
    reason = io_reason(exc)
    if reason is not None and not isinstance(exc, UserError):
        return UserError(f"{target}: cannot write it ({reason})")
    return exc


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(Path(path), lambda tmp: Path(tmp).write_text(text))


def make_dirs(folder: Path) -> list[Path]:
    """mkdir -p that returns the folders it created, outermost first (so a failed command can remove them)."""
    folder = Path(folder)
    missing = []
    while not folder.exists() and not folder.is_symlink() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    try:
        for f in reversed(missing):
            f.mkdir()
    except OSError as e:
        remove_empty(list(reversed(missing)))
        raise UserError(f"{e.filename or folder}: cannot create this folder ({e.strerror or e})") from None
    return list(reversed(missing))


def remove_empty(created: list[Path]) -> None:
    """Remove the folders `make_dirs` created, innermost first, as long as they are empty."""
    for f in reversed(created):
        try:
            f.rmdir()
        except OSError:
            return


@contextmanager
def staged_dir(out: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """A temporary folder beside `out` that becomes `out` (or whose files move into an existing `out`) only when
    the work inside the `with` succeeds, so an error, Ctrl-C or SIGTERM leaves nothing half-written, and no
    folder it had to create. An existing, non-empty `out` is refused unless `overwrite` (then only files of the
    same names are replaced)."""
    out = Path(out)
    check_output_dir(out, overwrite)
    created = make_dirs(out.parent)
    try:
        tmp = temps.new_dir(out)
    except OSError as e:
        remove_empty(created)
        raise UserError(f"{out}: cannot write here ({e.strerror or e})") from None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~umask())
        if not out.exists():
            os.replace(tmp, out)
            temps.done(tmp)
            return
        check_output_dir(out, overwrite)  # nothing appeared there in the meantime
        for f in tmp.iterdir():
            os.replace(f, out / f.name)
        temps.remove(tmp)
    except BaseException as e:
        remove_empty(created)
        new = reworded(e, tmp, out)
        if new is e:
            raise
        raise new from None
    finally:
        if tmp in temps.PENDING:
            temps.remove(tmp)


# ---- what may be read, and where a command may write ---------------------------------------------------------

def file_problem(path: str | Path) -> str | None:
    """Why `path` cannot be read as a regular file (missing, a symbolic link loop, a folder, a FIFO that would
    block forever, a device), or None when it can."""
    try:
        st = os.stat(path)
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "a symbolic link loop"
        if e.errno in (errno.ENOENT, errno.ENOTDIR):
            return "a broken symbolic link" if os.path.islink(path) else "no such file"
        return e.strerror or str(e)
    if stat.S_ISDIR(st.st_mode):
        return "is a directory"
    if stat.S_ISFIFO(st.st_mode):
        return "a named pipe (FIFO), not a regular file: reading it could wait forever"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file (a device or socket)"
    return None


def file_key(path: str | Path) -> tuple:
    """What identifies the file `path` names: its device and inode when it exists (hard and symbolic links
    followed), else its resolved path. Never raises, even on symbolic link loops."""
    try:
        st = os.stat(path)
        return ("inode", st.st_dev, st.st_ino)
    except (OSError, ValueError):
        return ("path", os.path.realpath(path))


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether `a` and `b` name the same file (see `file_key`)."""
    return file_key(a) == file_key(b)


OVERWRITE_HINT = "pass -y (--overwrite) to replace it"


def check_new_file(path: str | Path, overwrite: bool = False) -> None:
    """Refuse, before any work, an output file that cannot or may not be written: its folder is missing, it is
    a folder or not a regular file, a symbolic link loop, or it exists and `overwrite` is not given."""
    path = Path(path)
    if not path.parent.is_dir():
        raise UserError(f"{path}: output folder {path.parent} does not exist")
    if os.path.lexists(path):
        problem = file_problem(path)
        if problem == "is a directory":
            raise UserError(f"{path}: output is a directory")
        if problem and "no such file" not in problem and "broken" not in problem:
            raise UserError(f"{path}: cannot be an output: {problem}")
        if not overwrite:
            raise UserError(f"{path}: exists; {OVERWRITE_HINT}")


def check_output_dir(out: str | Path, overwrite: bool = False) -> None:
    """Refuse, before any work, an output folder that is a file, or exists with something in it (unless
    `overwrite`): a command writes only into folders it creates, or that the user handed over with -y."""
    out = Path(out)
    if os.path.lexists(out) and not out.exists():
        raise UserError(f"{out}: " + (file_problem(out) or "cannot be used"))
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder")
    if out.is_dir() and not overwrite and any(out.iterdir()):
        raise UserError(f"{out}: exists and is not empty; pass -y (--overwrite) to write into it "
                        "(files of the same names are replaced)")


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
