"""Work in background threads: a sink (an encoder's write) beside the compute, and an ordered map (a decoder
over chunks of frames) across cores.

PyAV releases the GIL while FFmpeg encodes and decodes, and torch and onnxruntime while they compute, so threads
are enough. Queues are bounded (memory stays bounded: a slow consumer makes the producer wait), and an error in
a thread is raised in the caller's.
"""
from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

_STOP = object()


class BackgroundSink:
    """`with BackgroundSink(write) as sink: sink.put(item)`: `write(item)` runs in order in one worker thread."""

    def __init__(self, write: Callable[[Any], None], depth: int = 4, name: str = "audio2video-writer"):
        self._write = write
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._error: BaseException | None = None
        self._abandon = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self._error is not None or self._abandon.is_set():
                continue  # drain without writing: the caller is told (error) or gone (abandon)
            try:
                self._write(item)
            except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
                self._error = e

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def put(self, item: Any) -> None:
        while True:
            self._raise()
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                if not self._thread.is_alive():
                    raise RuntimeError("the background writer stopped") from None

    def close(self) -> None:
        """Wait until everything put has been written; raise the thread's error, if any."""
        self._queue.put(_STOP)
        self._thread.join()
        self._raise()

    def abandon(self) -> None:
        """Stop without writing what is still queued (the output is being thrown away)."""
        self._abandon.set()
        self._queue.put(_STOP)
        self._thread.join()

    def __enter__(self) -> "BackgroundSink":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abandon()


def ordered_map(fn: Callable[[Any], Any], items: Iterable[Any], workers: int, ahead: int | None = None
                ) -> Iterator[Any]:
    """fn(item) for each item, computed on `workers` threads, yielded in the items' order. Items are drawn from
    `items` (in the caller's thread) only as results are taken, at most `ahead` (default 2 x workers) in flight."""
    if workers <= 1:
        yield from map(fn, items)
        return
    ahead = max(ahead or 2 * workers, 1)
    pool = ThreadPoolExecutor(workers, thread_name_prefix="audio2video-decode")
    pending: deque = deque()
    try:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
