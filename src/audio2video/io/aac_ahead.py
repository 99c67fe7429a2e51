"""An mp4's AAC track encoded ahead, in a child process.

Encoding a minute of stereo sound to AAC costs about 1.3 s of CPU, as much as writing the minute's video. Done
in the writer's thread it also holds the GIL, and it can only start once frames arrive. `AacAhead` starts a
child process that decodes the source, cuts the span and encodes it (`audio_frames.EncodedAac`, exactly as in
process) from the moment it is made: `generate` makes it before importing torch, so the sound is encoded on the
core that the start-up leaves idle. The parent's `Mp4Writer` muxes the packets as the video reaches them. A
reader thread collects them (up to MAX_QUEUED ahead of the video), so the child does not wait on a full pipe.

The child is `python -m audio2video.io.aac_child PATH RATE CHANNELS START COUNT` (COUNT -1: to the end). It
writes each packet to stdout as HEADER and then the payload. A failure is one line on stderr and exit code 1.
"""
from __future__ import annotations

import os
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av

from ..errors import MediaError
from .audio_frames import aac_format

HEADER = struct.Struct("<qqqI")  # pts, dts, duration (in 1 / rate s), payload bytes
CHILD = "audio2video.io.aac_child"  # the child's module
MAX_QUEUED = 20_000  # packets read ahead of the video, about 7 minutes at 44.1 kHz (each ~400 bytes)


class AacAhead:
    """AAC packets of samples [start, start + count) of `path`'s audio (count None: to the end), decoded at its
    own `rate` with `channels`, encoded by a child process started now. Iterate it once; `close` stops the child
    early (a failed write). Raises OSError when no child process can start (`audio_track.audio_for_mp4` then
    encodes in process)."""

    def __init__(self, path: str | Path, rate: int, channels: int, start: int = 0, count: int | None = None):
        self.path = Path(path)
        self.rate, self.layout = aac_format(rate, channels)
        if not sys.executable:  # an embedded interpreter: no program to start the child with
            raise OSError("no Python interpreter to run the AAC encoder in")
        args = [str(self.path), str(rate), str(channels), str(start), str(-1 if count is None else count)]
        # the parent's import path, so the child runs this very package (a checkout on sys.path included); its own
        # session, so Ctrl-C in a terminal reaches only the parent, which stops the child (`close`)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self._child = subprocess.Popen([sys.executable, "-m", CHILD, *args], stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                       start_new_session=True)
        self._packets: queue.Queue = queue.Queue(MAX_QUEUED)
        self._reader = threading.Thread(target=self._read, name="aac-ahead", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        out = self._child.stdout
        try:
            while len(head := out.read(HEADER.size)) == HEADER.size:
                pts, dts, duration, size = HEADER.unpack(head)
                payload = out.read(size)
                if len(payload) < size:
                    break
                self._packets.put((pts, dts, duration, payload))
        except (OSError, ValueError):  # the pipe closed under us: `close` stopped the child
            pass
        finally:
            self._packets.put(None)

    def __iter__(self) -> Iterator[av.Packet]:
        time_base = Fraction(1, self.rate)
        while (item := self._packets.get()) is not None:
            pts, dts, duration, payload = item
            packet = av.Packet(payload)
            packet.pts, packet.dts, packet.duration, packet.time_base = pts, dts, duration, time_base
            yield packet
        lines = self._child.stderr.read().decode(errors="replace").strip().splitlines()  # until the child ends
        code = self._child.wait()
        if code:
            raise MediaError(lines[-1] if lines else f"{self.path}: the audio encoder stopped (exit code {code})")
        self.close()

    def close(self) -> None:
        if self._child.poll() is None:
            self._child.kill()
            self._child.wait()
        while self._reader.is_alive():  # a reader waiting on a full queue: make room until it has read to the end
            try:
                self._packets.get(timeout=0.05)
            except queue.Empty:
                pass
        self._child.stdout.close()
        self._child.stderr.close()
