"""The one place where an exception escaping a command becomes one line on stderr and an exit code.

Exit codes (docs/reliability.md):
  0    done
  1    a batch finished, but some of its inputs failed (each one reported on its own line)
  2    the command could not do what was asked: a bad input, flag, setting or checkpoint, an output that
       exists, a full or read-only disk, not enough memory; the line says which
  70   an internal error, i.e. a bug; `--debug` (or AUDIO2VIDEO_DEBUG=1) prints its traceback
  128+N  stopped by signal N: 130 for Ctrl-C (SIGINT), 143 for SIGTERM, 129 for SIGHUP
A traceback appears only with `--debug` or AUDIO2VIDEO_DEBUG=1, and then above the same one line and code.
"""
from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

from ..errors import Terminated, describe, is_internal
from ..io import temps

EXIT_OK, EXIT_SOME_FAILED, EXIT_ERROR, EXIT_INTERNAL = 0, 1, 2, 70
DEBUG_ENV = "AUDIO2VIDEO_DEBUG"
TERMINATING = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None)


def debug_from_env() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _raise_terminated(signum, _frame):
    """SIGTERM or SIGHUP as `Terminated`. While a stop is being cleaned up (a Terminated or KeyboardInterrupt is
    the exception in hand), a further signal is dropped: the cleanup under way must not be interrupted.
    Any other time it raises again, so a stop that library code swallowed (a Cython module's import clears the
    errors raised inside it) is not lost for good: the next signal ends the command."""
    if isinstance(sys.exc_info()[1], (Terminated, KeyboardInterrupt)):
        return
    raise Terminated(signum)


@contextmanager
def signals_as_exceptions() -> Iterator[None]:
    """While a command runs, SIGTERM and SIGHUP raise `Terminated` (SIGINT already raises KeyboardInterrupt),
    so the cleanup of every atomic write runs; the previous handlers come back afterwards. (Training installs
    its own handlers for the duration of a run: it checkpoints first, then stops.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _raise_terminated) for s in TERMINATING}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextmanager
def _no_temporaries_left() -> Iterator[None]:
    """Whichever way the command ends, no temporary file or folder of its own survives it (io.temps)."""
    try:
        yield
    finally:
        with temps.signals_held():
            temps.remove_pending()


def _silence_stdout() -> None:
    """After a broken pipe (`audio2video av-align *.mp4 | head -1`), later flushes must not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def run_command(prog: str, func: Callable[[], int], debug: bool = False) -> int:
    """Run one command; whatever escapes it becomes `prog: error: <one line>` on stderr and an exit code."""
    debug = debug or debug_from_env()
    with signals_as_exceptions(), _no_temporaries_left():
        try:
            return func()
        except KeyboardInterrupt:
            if debug:
                traceback.print_exc()
            print(f"{prog}: interrupted", file=sys.stderr)
            return 128 + signal.SIGINT
        except Terminated as stop:
            if debug:
                traceback.print_exc()
            print(f"{prog}: {stop}", file=sys.stderr)
            return 128 + stop.signum
        except BrokenPipeError:
            _silence_stdout()
            return 128 + getattr(signal, "SIGPIPE", 13)
        except Exception as e:  # noqa: BLE001 - this is the one place every other failure is turned into words
            if debug:
                traceback.print_exc()
            internal = is_internal(e)
            hint = f" (run with --debug or {DEBUG_ENV}=1 for the traceback)" if internal and not debug else ""
            print(f"{prog}: error: {describe(e)}{hint}", file=sys.stderr)
            return EXIT_INTERNAL if internal else EXIT_ERROR


def exit_now(code: int) -> NoReturn:
    """End the process with `code`, skipping the interpreter's teardown: freeing torch's modules and thread pools
    takes 0.4-0.8 s after the work is done (a twelfth of `generate` on a minute of audio). atexit handlers still
    run and the standard streams are flushed; while a thread or a child process of ours still runs, the usual
    exit waits for it instead."""
    mp = sys.modules.get("multiprocessing")
    working = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    if working or (mp is not None and mp.active_children()):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can reach it
            pass
    os._exit(code)
