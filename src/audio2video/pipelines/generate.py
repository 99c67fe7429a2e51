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
from ..io.audio_track import audio_for_mp4
from ..io.media import AudioInfo, Mp4Writer, load_audio
from ..models import VideoModel
from ..runtime import autocast
from .looks import get_look
from .shape import check_shape, cut_span, plan_layout, shape_frames

PROGRESS_MIN_WINDOWS = 4


@dataclass
class GenerateOptions:
    overlap: float = 0.5  # seconds shared by consecutive windows, cross-faded
    batch_size: int = 2  # windows per forward pass
    size: int | None = None  # output height in pixels (scaled at encode time); None: the model's frame size
    crf: int = 20  # H.264 quality: lower is better and bigger
    progress: bool = True
    # the output's shape (pipelines.shape): aspect W:H, width, how the non-square frame is filled, frame rate,
    # the input's span, and the look (pipelines.looks)
    aspect: str | None = None
    width: int | None = None
    fill: str = "mirror"
    fps: float | str | None = None  # None: the model's own rate
    start: float = 0.0
    duration: float | None = None  # None: to the end of the input
    look: str = "none"

    def __post_init__(self) -> None:
        check_shape(self.aspect, self.size, self.width, self.fps, self.fill)
        get_look(self.look)
        if self.start < 0 or (self.duration is not None and self.duration <= 0):
            raise UserError("--start must be 0 or more and --duration more than 0")
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
    """Render `input_path`'s audio with `model` into `output_path` (mp4 with the original audio muxed: copied
    when its codec allows, see `io.audio_track`), shaped by `options` (`pipelines.shape`: span, size, fill, rate).

    `on_frames`, if given, sees every batch of uint8 frames (N, H, W, 3) before it is encoded."""
    options = options or GenerateOptions()
    cfg = model.config
    if audio is None or info is None:
        audio, info = load_audio(input_path, cfg.sample_rate)
    span = cut_span(info.seconds, options.start, options.duration)
    first = int(round(span.start * cfg.sample_rate))
    audio = audio[first:first + int(round(span.seconds * cfg.sample_rate))]
    total = span.frames(cfg.fps)
    layout = plan_layout(cfg.frame_size, cfg.fps, options.aspect, options.size, options.width, options.fps)
    look = get_look(options.look)
    writer = Mp4Writer(output_path, layout.fps, *layout.size, crf=options.crf,
                       **audio_for_mp4(input_path, info, span.start, span.seconds))
    frames_out = shape_frames(render_frames(model, audio, total, options, label=Path(input_path).name), layout,
                              span.frames(layout.fps), cfg.fps, options.fill, None if look.identity else look)
    with writer:
        for frames in frames_out:
            if on_frames is not None:
                on_frames(frames)
            writer.write(frames)
    return {"input": str(input_path), "output": str(output_path), "frames": writer.frames_written,
            "seconds": span.seconds}
