"""Decoded audio frames that FFmpeg's resampler cannot take, and the checks a decoded stream must pass.

A wav whose header declares more data than the file holds is truncated (FFmpeg decodes what is there silently).
A wav opens with a short stream analysis (`wav_probe_options`).

FFmpeg's resampler and AAC encoder know channel layouts of up to 8 channels; a frame with more (a 64-channel
recording) is downmixed here, in numpy, to mono. A sample rate below MIN_SAMPLE_RATE holds no audio worth the
name (and resamples to nothing). A duration that is only FFmpeg's guess from file size / bit rate (an mp3
without a Xing header, whose bit rate varies) cannot tell a truncated file from a variable bit rate.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

# FFmpeg's stream analysis reads about a megabyte of a wav (RIFF, RF64, BW64 or Sony Wave64), 25-35 ms each time
# one opens (a run opens its input several times), though a wav's header gives every parameter; an mp3, flac, m4a,
# aiff or caf opens in under a millisecond. For a wav it reads this much, enough for the first packet of a
# compressed codec inside one.
WAV_PROBE_BYTES = 32768
W64_RIFF = b"riff\x2e\x91\xcf\x11\xa5\xd6\x28\xdb\x04\xc1\x00\x00"  # Sony Wave64's GUIDs, at 0 and 24
W64_WAVE = b"wave\xf3\xac\xd3\x11\x8c\xd1\x00\xc0\x4f\x8e\xdb\x8a"
# What the AAC encoder accepts; other inputs are converted to the nearest of these when muxed.
AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)
AAC_LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "4.0", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}
MAX_LAYOUT_CHANNELS = 8  # the most channels FFmpeg's resampler and AAC encoder take
# FFmpeg's AAC encoder's "fast" coder: measured on a 60 s stereo game-music excerpt at its default 128 kb/s, half
# the CPU of the default "twoloop" (0.32 against 0.68 s), a file 1% smaller and an SNR 1.2 dB higher
AAC_CODER = "fast"
MIN_SAMPLE_RATE = 1000  # Hz
# Float samples beyond this (60 dB over full scale: a damaged or mis-scaled file) are clipped to full scale
# before AAC encoding: FFmpeg's AAC encoder stalls on them from about 1e8 and refuses them (EINVAL) at 1e12.
AAC_MAX_LEVEL = 1000.0
ESTIMATE_TOLERANCE = 0.01  # a declared length within 1% of size / bit rate is that estimate


def frame_to_float(frame: av.AudioFrame) -> np.ndarray:
    """Any decoded frame as float32 (channels, samples), integers scaled to [-1, 1) as FFmpeg converts them."""
    raw = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if not frame.format.is_planar:
        raw = raw.reshape(-1, channels).T
    name = frame.format.name.rstrip("p")
    if name == "u8":
        return (raw.astype(np.float32) - 128.0) / 128.0
    if name in ("s16", "s32", "s64"):
        return (raw.astype(np.float64) / float(2 ** (int(name[1:]) - 1))).astype(np.float32)
    return raw.astype(np.float32, copy=False)


def encodable(frame: av.AudioFrame) -> av.AudioFrame:
    """`frame` itself, or for more than MAX_LAYOUT_CHANNELS channels its mono downmix (the channels' mean)."""
    if len(frame.layout.channels) <= MAX_LAYOUT_CHANNELS:
        return frame
    mono = frame_to_float(frame).mean(axis=0, keepdims=True)
    out = av.AudioFrame.from_ndarray(np.ascontiguousarray(mono, dtype=np.float32), format="fltp", layout="mono")
    out.sample_rate = frame.sample_rate
    return out


class Steady:
    """Makes a stream's frames share the first frame's sample rate, format and layout: frames that match pass
    through untouched, the others (a stream whose parameters change mid-way: a broadcast, a damaged mp3) are
    converted, so one resampler or encoder set up for the first frame takes them all."""

    def __init__(self):
        self.first: tuple | None = None
        self.converting: tuple | None = None
        self.resampler: av.AudioResampler | None = None

    def push(self, frame: av.AudioFrame) -> list[av.AudioFrame]:
        frame = encodable(frame)
        key = (frame.format.name, frame.layout.name, frame.sample_rate)
        self.first = self.first or key
        out = [] if key == self.converting else self.flush()
        if key == self.first:
            return out + [frame]
        if self.resampler is None:
            fmt, layout, rate = self.first
            self.resampler, self.converting = av.AudioResampler(format=fmt, layout=layout, rate=rate), key
        frame.pts = None
        return out + self.resampler.resample(frame)

    def flush(self) -> list[av.AudioFrame]:
        out = self.resampler.resample(None) if self.resampler is not None else []
        self.resampler = self.converting = None
        return out


def steady(frames: Iterable[av.AudioFrame]) -> Iterator[av.AudioFrame]:
    """`frames` through a `Steady`."""
    s = Steady()
    for frame in frames:
        yield from s.push(frame)
    yield from s.flush()


class SampleBuffer:
    """Mono samples appended chunk by chunk into one array sized from the expected length, so a long input is
    never held twice (as a list of chunks and their concatenation). Pages never written cost no memory, so the
    size can be generous; an input longer than expected grows it."""

    def __init__(self, expected_samples: int):
        self.data = np.empty(max(int(expected_samples), 1), np.float32)
        self.size = 0

    def append(self, chunk: np.ndarray) -> None:
        end = self.size + len(chunk)
        if end > len(self.data):
            grown = np.empty(max(2 * len(self.data), end), np.float32)
            grown[:self.size] = self.data[:self.size]
            self.data = grown
        self.data[self.size:end] = chunk
        self.size = end

    def array(self) -> np.ndarray:
        return self.data[:self.size]


def aac_format(rate: int, channels: int) -> tuple[int, str]:
    """The (rate, layout) the muxed AAC track gets: the source's own where AAC allows it (more than
    MAX_LAYOUT_CHANNELS channels are downmixed to mono by `encodable`)."""
    if rate not in AAC_RATES:
        rate = min(AAC_RATES, key=lambda r: (abs(r - rate), -r))
    return rate, AAC_LAYOUTS.get(channels, "mono" if channels > MAX_LAYOUT_CHANNELS else "stereo")


class EncodedAac:
    """AAC packets of decoded frames (through a `Steady`), encoded in this process as they are asked for: the
    sound of an mp4 (`Mp4Writer`) and of `io.aac_ahead`'s child. The format is the source's (`aac_format`);
    timestamps count samples from 0, so the muxer records the encoder's priming in an edit list and players see
    exactly the source's length."""

    def __init__(self, frames: Iterable[av.AudioFrame], rate: int, channels: int):
        self.rate, self.layout = aac_format(rate, channels)
        self._frames = frames

    def __iter__(self) -> Iterator[av.Packet]:
        encoder = aac_encoder(self.rate, self.layout)
        samples = 0
        for frame in steady(self._frames):
            frame = within_level(frame)
            frame.pts, frame.time_base = samples, Fraction(1, frame.sample_rate)
            samples += frame.samples
            yield from encoder.encode(frame)
        yield from encoder.encode(None)

    def close(self) -> None:
        pass


def is_float(frame: av.AudioFrame) -> bool:
    """Whether `frame` holds float samples (which, unlike integers, can be NaN, Inf or past full scale)."""
    return frame.format.name.rstrip("p") in ("flt", "dbl")


def within_level(frame: av.AudioFrame) -> av.AudioFrame:
    """`frame` itself, or, if its float samples go beyond AAC_MAX_LEVEL, a copy clipped to full scale [-1, 1]
    (what playback does to any sample past full scale)."""
    if not is_float(frame):
        return frame
    raw = frame.to_ndarray()
    if not np.abs(raw).max(initial=0.0) > AAC_MAX_LEVEL:
        return frame
    out = av.AudioFrame.from_ndarray(np.clip(raw, -1.0, 1.0), format=frame.format.name, layout=frame.layout.name)
    out.sample_rate = frame.sample_rate
    return out


def aac_encoder(rate: int, layout: str) -> av.AudioCodecContext:
    """FFmpeg's AAC encoder as every AAC track of the project is made (AAC_CODER, the default bit rate)."""
    encoder = av.CodecContext.create("aac", "w")
    encoder.sample_rate, encoder.layout, encoder.format = rate, layout, "fltp"
    encoder.time_base = Fraction(1, rate)
    encoder.options = {"aac_coder": AAC_CODER}
    return encoder


def first_nonfinite(frame: av.AudioFrame) -> int | None:
    """The index (in samples from the frame's start) of the first NaN or Inf sample of a float frame, or None."""
    if not is_float(frame):
        return None
    raw = frame.to_ndarray()
    bad = ~np.isfinite(raw)
    if not bad.any():
        return None
    if frame.format.is_planar:
        return int(np.argmax(bad.any(axis=0)))
    return int(np.argmax(bad.reshape(-1))) // max(len(frame.layout.channels), 1)


def _id3v2_bytes(path: Path) -> int:
    """The size of an ID3v2 tag at the start of the file (FFmpeg skips it before estimating), else 0."""
    with path.open("rb") as f:
        head = f.read(10)
    if len(head) < 10 or head[:3] != b"ID3":
        return 0
    size = 0
    for b in head[6:10]:  # a "syncsafe" integer: 7 bits per byte
        size = (size << 7) | (b & 0x7F)
    return 10 + size + (10 if head[5] & 0x10 else 0)


def is_bitrate_estimate(path: Path, container, declared: float) -> bool:
    """Whether `declared` (seconds) is only file size / bit rate, FFmpeg's guess when the file states no
    length: such a guess says nothing about truncation, and a variable bit rate makes it wrong."""
    if not declared or declared <= 0:
        return False
    rate = container.streams.audio[0].codec_context.bit_rate  # (the container's is itself size / duration)
    size = path.stat().st_size - _id3v2_bytes(path)
    return bool(rate) and abs(size * 8 / rate - declared) <= ESTIMATE_TOLERANCE * declared


def wav_missing_bytes(path: Path) -> int:
    """For a RIFF/WAVE file: how many bytes of its declared data chunk are missing (FFmpeg silently clamps)."""
    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return 0
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return 0
            size = int.from_bytes(chunk[4:], "little")
            if chunk[:4] == b"data":
                if size in (0, 0xFFFFFFFF):  # streamed wav: length unknown by design
                    return 0
                return max(0, f.tell() + size - path.stat().st_size)
            f.seek(size + (size & 1), 1)


def wav_probe_options(path: Path) -> dict[str, str]:
    """av.open's container options for `path`: a short stream analysis (WAV_PROBE_BYTES) for a wav, else none."""
    try:
        with path.open("rb") as f:
            head = f.read(40)
    except OSError:
        return {}  # av.open says why
    wav = ((head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE")
           or (head[:16] == W64_RIFF and head[24:40] == W64_WAVE))
    return {"probesize": str(WAV_PROBE_BYTES)} if wav else {}
