"""Shared fixtures: tiny model configs and real media files written with PyAV."""
from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from audio2video.data import ClipSpec, generate_music
from audio2video.io.files import write_wav
from audio2video.io.media import audio_frames_from_array
from audio2video.models import ModelConfig, build_model

torch.set_num_threads(min(2, torch.get_num_threads()))  # OMP_NUM_THREADS=1 leaves a core to a training run


def tiny_config(kind: str = "hybrid", **changes) -> ModelConfig:
    """1 s clips of 30 frames at 32x32 (30 fps like the spec), narrow widths: fast enough for every test."""
    base = dict(kind=kind, clip_seconds=1.0, frames=30, frame_size=32, encoder_channels=(8, 16, 16, 32),
                layers=1, heads=2, ff_dim=64, seed_channels=16, decoder_channels=(16, 8, 8), mlp_hidden=(32, 32))
    base.update(changes)
    return ModelConfig(**base)


# `generate` flags for two runs whose files must match byte for byte. x264's macroblock tree (on in `generate`'s
# veryfast preset) makes its output depend on what the heap held before: the same frames gave several
# different files at 16x16 to 96x96 (CI saw two runs differ at the tiny models' 32x32). The superfast preset turns the
# tree off, and gave one file each time (scripts/x264_heap_check.py, docs/generation.md).
SAME_BYTES = ["--preset", "superfast"]


def tiny_model(**changes):
    """A model of `tiny_config(**changes)` with its weights drawn from seed 0: the same weights every time."""
    torch.manual_seed(0)
    return build_model(tiny_config(**changes))


@pytest.fixture
def tiny_checkpoint(tmp_path) -> Path:
    return tiny_model().save_pretrained(tmp_path / "tiny-ckpt")


def tone(seconds: float, rate: int, channels: int) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    freqs = [220.0 * (c + 2) for c in range(channels)]
    beat = (np.sin(2 * np.pi * 2 * t) > 0.5).astype(np.float64)
    return np.stack([0.3 * np.sin(2 * np.pi * f * t) * (0.3 + beat) for f in freqs]).astype(np.float32)


AUDIO_CODECS = {".wav": ("wav", "pcm_s16le"), ".flac": ("flac", "flac"), ".mp3": ("mp3", "libmp3lame"),
                ".ogg": ("ogg", "vorbis"), ".opus": ("ogg", "libopus"), ".m4a": ("mp4", "aac"),
                ".w64": ("w64", "pcm_s16le"), ".aiff": ("aiff", "pcm_s16be")}


def with_pts(frames):
    """Sample-count timestamps, so encoders with priming delay (AAC, Opus) get it trimmed on decode."""
    done = 0
    for frame in frames:
        frame.pts, frame.time_base = done, Fraction(1, frame.sample_rate)
        done += frame.samples
        yield frame


def write_audio(path: Path, seconds: float = 2.0, rate: int = 44100, channels: int = 2, codec: str | None = None
                ) -> Path:
    """A real audio file in the format its suffix names, written by FFmpeg's encoders (`codec` instead of the
    suffix's usual one, e.g. "alac" in an .m4a)."""
    fmt, usual = AUDIO_CODECS[path.suffix]
    codec = codec or usual
    samples = tone(seconds, rate, channels)
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate)
        if codec == "vorbis":  # FFmpeg's own Vorbis encoder is marked experimental
            stream.codec_context.options = {"strict": "experimental"}
        stream.layout = "stereo" if channels == 2 else "mono"
        for frame in with_pts(audio_frames_from_array(samples, rate, chunk=960)):
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def write_video(path: Path, seconds: float = 2.0, with_audio: bool = True, rate: int = 48000) -> Path:
    """An mp4 with a moving picture and (optionally) a stereo audio track."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=25)
        video.width = video.height = 64
        video.pix_fmt = "yuv420p"
        audio = None
        if with_audio:
            audio = container.add_stream("aac", rate=rate)
            audio.layout = "stereo"
        for i in range(int(seconds * 25)):
            img = np.full((64, 64, 3), (i * 7) % 255, dtype=np.uint8)
            for packet in video.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        if audio is not None:
            for frame in with_pts(audio_frames_from_array(tone(seconds, rate, 2), rate, chunk=1024)):
                for packet in audio.encode(frame):
                    container.mux(packet)
            for packet in audio.encode(None):
                container.mux(packet)
    return path


def write_float_wav(path: Path, samples: np.ndarray, rate: int = 16000) -> Path:
    """A mono IEEE-float wav written by hand, so it can hold NaN/Inf that encoders would refuse."""
    data = np.asarray(samples, dtype="<f4").tobytes()
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 3, 1, rate, rate * 4, 4, 32)
    path.write_bytes(header + fmt + b"data" + struct.pack("<I", len(data)) + data)
    return path


def write_songs(folder, n=6, seconds=4.0):
    """Procedural music as real files on disk: n wav files of `seconds` each."""
    folder.mkdir()
    for k in range(n):
        x = np.concatenate([generate_music(100 * k + j, ClipSpec()).waveform for j in range(int(np.ceil(seconds / 3)))])
        write_wav(folder / f"song{k}.wav", x[:int(seconds * 16000)], 16000)
    return folder


def assert_same_file(a: Path, b: Path) -> None:
    """`a` and `b` hold the same bytes. A difference fails in a few lines saying where (for media files: the first
    packet that differs, its stream, and for video how far the decoded pictures are apart) rather than as a diff
    of two whole binary files, which pytest takes minutes to compute."""
    x, y = a.read_bytes(), b.read_bytes()
    if x == y:
        return
    n = min(len(x), len(y))
    at = np.flatnonzero(np.frombuffer(x, np.uint8, n) != np.frombuffer(y, np.uint8, n))
    where = [f"{a.name} ({len(x)} bytes) and {b.name} ({len(y)} bytes) first differ at byte {at[0] if len(at) else n}"]
    try:
        where.append(_first_packet_difference(a, b))
    except av.FFmpegError:
        pass  # not media: the byte offset is all there is to say
    raise AssertionError("; ".join(where))


def _first_packet_difference(a: Path, b: Path) -> str:
    def packets(path: Path, index: int) -> tuple[str, list[bytes]]:
        with av.open(str(path)) as c:
            stream = c.streams[index]
            return stream.type, [bytes(p) for p in c.demux(stream) if p.size]

    with av.open(str(a)) as ca, av.open(str(b)) as cb:
        count = min(len(ca.streams), len(cb.streams))
    for index in range(count):
        (kind, pa), (_, pb) = packets(a, index), packets(b, index)
        if pa != pb:
            k = next((i for i, (p, q) in enumerate(zip(pa, pb)) if p != q), min(len(pa), len(pb)))
            return f"{kind} stream's packet {k} of {len(pa)}/{len(pb)} differs" + (
                _picture_difference(a, b) if kind == "video" else "")
    return "every packet is the same (the container's own bytes differ)"


def _picture_difference(a: Path, b: Path) -> str:
    from audio2video.io.media import iter_video_frames

    fa, fb = (np.stack(list(iter_video_frames(p))).astype(int) for p in (a, b))
    if fa.shape != fb.shape:
        return f" (pictures {fa.shape} against {fb.shape})"
    d = np.abs(fa - fb)
    frames = np.flatnonzero(d.reshape(len(d), -1).any(1))
    return (f" (decoded pictures: {int((d > 0).sum())} values in {len(frames)} frames differ, by at most {d.max()} "
            f"levels; the first is frame {frames[0] if len(frames) else '-'})")
