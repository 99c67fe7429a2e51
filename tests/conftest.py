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


@pytest.fixture
def tiny_checkpoint(tmp_path) -> Path:
    torch.manual_seed(0)
    model = build_model(tiny_config())
    return model.save_pretrained(tmp_path / "tiny-ckpt")


def tone(seconds: float, rate: int, channels: int) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    freqs = [220.0 * (c + 2) for c in range(channels)]
    beat = (np.sin(2 * np.pi * 2 * t) > 0.5).astype(np.float64)
    return np.stack([0.3 * np.sin(2 * np.pi * f * t) * (0.3 + beat) for f in freqs]).astype(np.float32)


AUDIO_CODECS = {".wav": ("wav", "pcm_s16le"), ".flac": ("flac", "flac"), ".mp3": ("mp3", "libmp3lame"),
                ".ogg": ("ogg", "vorbis"), ".opus": ("ogg", "libopus"), ".m4a": ("mp4", "aac")}


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
