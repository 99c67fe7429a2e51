"""Any audio file -> mp4: overlapping 3 s windows through the model, cross-faded, streamed to the encoder.

Memory stays bounded whatever the input's length: only the 16 kHz mono waveform (230 MB for an hour)
is held; frames exist one batch of windows at a time before they are encoded.
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..errors import UserError
from ..io.frames import to_uint8
from ..io.media import AudioInfo, Mp4Writer, decode_frames, load_audio
from ..models import VideoModel
from ..runtime import autocast

PROGRESS_MIN_WINDOWS = 4


@dataclass
class GenerateOptions:
    overlap: float = 0.5  # seconds shared by consecutive windows, cross-faded
    batch_size: int = 2  # windows per forward pass
    size: int | None = None  # output frame size in pixels (upscaled at encode time)
    crf: int = 20  # H.264 quality: lower is better and bigger
    progress: bool = True

    def __post_init__(self) -> None:
        if self.size is not None and (self.size < 16 or self.size % 2):
            raise UserError(f"--size must be an even number of pixels >= 16, not {self.size}")
        if not 0 <= self.crf <= 51:
            raise UserError(f"--crf must be between 0 and 51, not {self.crf}")
        if self.batch_size < 1:
            raise UserError(f"--batch-size must be a positive integer, not {self.batch_size}")


@dataclass
class WindowPlan:
    """Which frames of the output each model window covers."""

    total_frames: int  # round(duration * fps): what the output holds
    window_frames: int  # frames per model window (90)
    overlap_frames: int  # frames shared by consecutive windows

    @property
    def hop(self) -> int:
        return self.window_frames - self.overlap_frames

    @property
    def starts(self) -> list[int]:
        extra = max(self.total_frames - self.window_frames, 0)
        count = 1 + -(-extra // self.hop)
        return [k * self.hop for k in range(count)]


def plan_windows(total_frames: int, window_frames: int, fps: float, overlap_seconds: float) -> WindowPlan:
    overlap = int(round(overlap_seconds * fps))
    if overlap_seconds < 0 or overlap > window_frames // 2:
        raise UserError(f"--overlap must be between 0 and {window_frames / fps / 2:g} s (half a window), "
                        f"not {overlap_seconds:g}")
    return WindowPlan(total_frames, window_frames, overlap)


def audio_windows(audio: np.ndarray, plan: WindowPlan, sample_rate: int, fps: float, num_samples: int
                  ) -> Iterator[np.ndarray]:
    """The model's input for each window: `num_samples` from the window's first frame, zero-padded at the end."""
    for start_frame in plan.starts:
        start = int(round(start_frame * sample_rate / fps))
        window = np.zeros(num_samples, dtype=np.float32)
        chunk = audio[start:start + num_samples]
        window[:len(chunk)] = chunk
        yield window


class CrossFader:
    """Joins overlapping windows of frames: in each overlap the old window fades out as the new fades in."""

    def __init__(self, overlap: int):
        self.overlap = overlap
        self.ramp = torch.arange(1, overlap + 1, dtype=torch.float32).div_(overlap + 1).view(-1, 1, 1, 1)
        self.pending: torch.Tensor | None = None

    def push(self, frames: torch.Tensor) -> torch.Tensor:
        """Take one window (T, 3, H, W); return the frames that are now final."""
        o = self.overlap
        if self.pending is not None and o:
            ramp = self.ramp.to(frames.device)
            head = self.pending * (1 - ramp) + frames[:o] * ramp
            frames = torch.cat([head, frames[o:]])
        done, self.pending = (frames[:-o], frames[-o:]) if o else (frames, None)
        return done

    def flush(self) -> torch.Tensor | None:
        pending, self.pending = self.pending, None
        return pending


@torch.no_grad()
def render_frames(model: VideoModel, audio: np.ndarray, total_frames: int, options: GenerateOptions,
                  label: str = "") -> Iterator[np.ndarray]:
    """Yield uint8 RGB frame batches for `audio` (16 kHz mono at the model's rate), exactly `total_frames`."""
    cfg = model.config
    device = next(model.parameters()).device
    plan = plan_windows(total_frames, cfg.frames, cfg.fps, options.overlap)
    fader = CrossFader(plan.overlap_frames)
    windows = audio_windows(audio, plan, cfg.sample_rate, cfg.fps, cfg.num_samples)
    remaining = total_frames
    n_windows = len(plan.starts)
    bar = tqdm(total=n_windows, unit="window", desc=label, file=sys.stderr, leave=False,
               disable=not options.progress or n_windows <= PROGRESS_MIN_WINDOWS)
    with bar:
        while remaining > 0:
            batch = [w for _, w in zip(range(options.batch_size), windows)]
            if not batch:
                break
            x = torch.from_numpy(np.stack(batch)).unsqueeze(1).to(device)
            with autocast(device):
                video = model(x)
            for clip in video:
                done = fader.push(clip)
                if len(done) and remaining > 0:
                    yield to_uint8(done[:remaining])
                    remaining -= min(len(done), remaining)
            bar.update(len(batch))
        tail = fader.flush()
        if tail is not None and remaining > 0:
            yield to_uint8(tail[:remaining])


def generate_video(model: VideoModel, input_path: str | Path, output_path: str | Path,
                   options: GenerateOptions | None = None, audio: np.ndarray | None = None,
                   info: AudioInfo | None = None, on_frames=None) -> dict:
    """Render `input_path`'s audio with `model` into `output_path` (mp4 with the original audio muxed).

    `on_frames`, if given, sees every batch of uint8 frames (N, H, W, 3) before it is encoded."""
    options = options or GenerateOptions()
    cfg = model.config
    if audio is None or info is None:
        audio, info = load_audio(input_path, cfg.sample_rate)
    total = max(1, int(round(info.seconds * cfg.fps)))
    size = options.size or cfg.frame_size
    writer = Mp4Writer(output_path, cfg.fps, size, size, crf=options.crf,
                       audio=decode_frames(input_path), audio_rate=info.sample_rate, audio_channels=info.channels)
    with writer:
        for frames in render_frames(model, audio, total, options, label=Path(input_path).name):
            if on_frames is not None:
                on_frames(frames)
            writer.write(frames)
    return {"input": str(input_path), "output": str(output_path), "frames": writer.frames_written,
            "seconds": info.seconds}
