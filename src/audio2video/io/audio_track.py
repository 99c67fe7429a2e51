"""The audio an mp4 gets from its source file: the source's packets copied as they are, or its decoded frames
(optionally cut to a span) encoded as AAC, by a child process for a long track (`io.aac_ahead`).

Copying keeps the sound bit for bit and costs nothing; it applies to the whole track of a codec that mp4 players
accept (`COPY_CODECS`). A span is cut at exact samples, which packets cannot be, so a cut track is re-encoded.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path

import av
import numpy as np

from .aac_ahead import AacAhead
from .audio_frames import EncodedAac, steady
from .media import AudioInfo, _open, _reason, decode_frames
from ..errors import MediaError

# decoder names (as AudioInfo.codec holds them) of the codecs an mp4 carries and browsers and players play
COPY_CODECS = {"aac": "AAC", "aac_fixed": "AAC", "mp3": "MP3", "mp3float": "MP3", "alac": "ALAC"}
# a track at least this long is encoded by a child process (`io.aac_ahead`): starting one costs about 0.15 s of
# CPU, what encoding 7 s of stereo sound costs
AHEAD_MIN_SECONDS = 10.0


class CopiedAudio:
    """The first audio stream of `path`, for `Mp4Writer` to mux packet by packet without decoding.

    Iterating yields its packets with timestamps moved so that the first decoded sample plays at 0 (as
    `load_audio` counts samples, and so as the video was made), keeping the codec's priming delay before it."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._container = _open(self.path)
        self.stream = self._container.streams.audio[0]  # what `Mp4Writer` copies the stream's settings from
        self.codec = COPY_CODECS.get(self.stream.codec_context.name, self.stream.codec_context.name)

    def __iter__(self) -> Iterator[av.Packet]:
        offset = self.stream.start_time or 0
        try:
            for packet in self._container.demux(self.stream):
                if packet.dts is None:  # the demuxer's end-of-stream marker
                    continue
                packet.dts -= offset
                packet.pts = packet.dts if packet.pts is None else packet.pts - offset  # audio: pts is dts
                yield packet
        except av.FFmpegError as e:
            raise MediaError(f"{self.path}: corrupt or truncated audio ({_reason(e)})") from None
        finally:
            self.close()

    def close(self) -> None:
        self._container.close()


def cut_frames(frames: Iterable[av.AudioFrame], sample_rate: int, start: int, count: int) -> Iterator[av.AudioFrame]:
    """Samples [start, start + count) of a stream of decoded frames (at `sample_rate`), as planar float frames
    with the source's channels; counting from the first decoded sample, as `load_audio` does."""
    resampler = av.AudioResampler(format="fltp", rate=sample_rate)  # same rate and layout: only the sample format
    pos, end = 0, start + count
    for frame in chain(frames, [None]):  # None flushes the resampler
        if frame is not None:
            frame.pts = None
        for out in resampler.resample(frame):
            samples = out.to_ndarray()
            lo, hi = max(start - pos, 0), min(end - pos, samples.shape[1])
            pos += samples.shape[1]
            if lo < hi:
                cut = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[:, lo:hi]), format="fltp",
                                                 layout=out.layout.name)
                cut.sample_rate = sample_rate
                yield cut
        if pos >= end:
            return


def source_frames(path: str | Path, rate: int, start: int = 0, count: int | None = None) -> Iterator[av.AudioFrame]:
    """The decoded frames of `path`'s audio (at its own `rate`) to encode for an mp4: samples [start, start + count)
    (count None: all of them), more than 8 channels downmixed and rate changes evened (`steady`)."""
    frames: Iterable[av.AudioFrame] = steady(decode_frames(path))
    if start or count is not None:
        frames = cut_frames(frames, rate, start, count)
    return iter(frames)


def audio_for_mp4(path: str | Path, info: AudioInfo, start: float = 0.0, seconds: float | None = None,
                  copy: bool = True) -> dict:
    """`Mp4Writer`'s audio argument for the source's audio from `start` for `seconds` (None: to the end): its
    packets copied when the whole track goes in and its codec allows (and `copy`), else AAC packets, encoded by a
    child process (`io.aac_ahead`, from now on) when the span lasts AHEAD_MIN_SECONDS or more, in process as the
    writer asks for them when it is shorter."""
    whole = start <= 0 and (seconds is None or seconds >= info.seconds)
    if whole and copy and info.codec in COPY_CODECS:
        return {"audio": CopiedAudio(path)}
    rate = info.sample_rate
    first, count = (0, None) if whole else (round(start * rate),
                                            round((info.seconds - start if seconds is None else seconds) * rate))
    length = info.seconds or info.length_hint or 0.0  # (before the track is decoded: what it seems to hold)
    if (length if count is None else count / rate) >= AHEAD_MIN_SECONDS:
        try:
            return {"audio": AacAhead(path, rate, info.channels, first, count)}
        except OSError:  # no child process can start here (a sandbox, no interpreter on disk): encode in process
            pass
    return {"audio": EncodedAac(source_frames(path, rate, first, count), rate, info.channels)}
