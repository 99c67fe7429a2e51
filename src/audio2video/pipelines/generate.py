"""Any audio file -> mp4: overlapping 3 s windows through the model, cross-faded, streamed to the encoder.

Consecutive windows overlap (`overlap`, 0.5 s by default) so there is no seam every 3 s. By default the
cross-fade happens on the model's per-frame features (the transformer's output, before the frame decoder):
the encoder and transformer see every window whole, the features of the shared frames are blended, and the
decoder (98% of the FLOPs) draws each output frame exactly once. `crossfade="pixel"` decodes both
windows' frames and blends the pictures instead (models without separate encode/decode always do that).

Memory stays bounded whatever the input's length: only the 16 kHz mono waveform (230 MB for an hour)
is held; frames exist one decoder chunk at a time before a background thread encodes them.
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
from ..io.background import BackgroundSink, ordered_map
from ..io.frames import to_uint8
from ..io.media import AudioInfo, Mp4Writer, load_audio
from ..models import VideoModel
from .engine import Engine
from .generate_options import GenerateOptions, sound_for
from .inference import make_engine
from .looks import get_look
from .shape import cut_span, plan_layout, shape_frames

PROGRESS_MIN_WINDOWS = 4
WRITER_DEPTH = 8  # decoded chunks waiting for the encoder thread
# Frames up to this size are encoded by one x264 thread: at 128x128 its own threads cost more in hand-offs than
# they save (1.15 against 1.4 ms of CPU a frame, and a slightly smaller file) while the model uses every core.
SMALL_FRAME_PIXELS = 256 * 256


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
    """Joins overlapping windows along their first axis (frames, or per-frame features): in each overlap the old
    window fades out as the new fades in, with weights k / (overlap + 1), k = 1..overlap."""

    def __init__(self, overlap: int):
        self.overlap = overlap
        self.ramp = torch.arange(1, overlap + 1, dtype=torch.float32).div_(overlap + 1)
        self.pending: torch.Tensor | None = None

    def push(self, frames: torch.Tensor) -> torch.Tensor:
        """Take one window (T, ...); return the frames that are now final."""
        o = self.overlap
        if self.pending is not None and o:
            ramp = self.ramp.to(frames.device).view(-1, *([1] * (frames.dim() - 1)))
            head = self.pending * (1 - ramp) + frames[:o] * ramp
            frames = torch.cat([head, frames[o:]])
        done, self.pending = (frames[:-o], frames[-o:]) if o else (frames, None)
        return done

    def flush(self) -> torch.Tensor | None:
        pending, self.pending = self.pending, None
        return pending


def _batches(windows: Iterator[np.ndarray], size: int) -> Iterator[list[np.ndarray]]:
    """Windows in batches of `size`, the first alone: the first frames come out as soon as one window is done."""
    first = True
    while True:
        batch = [w for _, w in zip(range(1 if first else size), windows)]
        if not batch:
            return
        first = False
        yield batch


def even_chunks(pieces: Iterator[torch.Tensor], size: int, first: int) -> Iterator[torch.Tensor]:
    """The rows of `pieces` (in order) cut again into chunks of `size` rows whatever the pieces' lengths: the first
    chunk `first` rows, the last what remains. The decoder pays per call (its first layer reads its whole weight
    once a call), so the 75 new frames of each window go to it in full chunks, not as 64 + 11."""
    held: list[torch.Tensor] = []
    count, want = 0, first
    for piece in pieces:
        held.append(piece)
        count += len(piece)
        while count >= want:
            joined = torch.cat(held) if len(held) > 1 else held[0]
            yield joined[:want]
            held, count, want = ([joined[want:]] if count > want else []), count - want, size
    if count:
        yield torch.cat(held) if len(held) > 1 else held[0]


def render_frames(model: VideoModel | Engine, audio: np.ndarray, total_frames: int, options: GenerateOptions,
                  label: str = "") -> Iterator[np.ndarray]:
    """Yield uint8 RGB frame batches (N, H, W, 3) for `audio` (16 kHz mono at the model's rate), exactly
    `total_frames`. `model` is a model or an Engine (`pipelines.inference.make_engine`) built once for many calls."""
    engine = make_engine(model, options.backend, compile=options.compile, precision=options.precision)
    cfg = engine.config
    plan = plan_windows(total_frames, cfg.frames, cfg.fps, options.overlap)
    by_features = options.crossfade == "feature" and engine.has_features
    engine.plan(total_frames)
    fader = CrossFader(plan.overlap_frames)
    windows = audio_windows(audio, plan, cfg.sample_rate, cfg.fps, cfg.num_samples)
    n_windows = len(plan.starts)
    bar = tqdm(total=n_windows, unit="window", desc=label, file=sys.stderr, leave=False,
               disable=not options.progress or n_windows <= PROGRESS_MIN_WINDOWS)

    def pieces() -> Iterator[torch.Tensor]:
        """Each window's final frames (features, or pictures), in order, never past the end of the input: frames
        past it are never decoded."""
        left = total_frames
        for batch in _batches(windows, options.batch_size or engine.window_batch):
            if left <= 0:
                break
            x = torch.from_numpy(np.stack(batch)).unsqueeze(1)
            for clip in (engine.features(x) if by_features else engine.video(x)):
                done = fader.push(clip)[:left]
                left -= len(done)
                if len(done):
                    yield done
            bar.update(len(batch))
        if (rest := fader.flush()) is not None and left > 0:
            yield rest[:left]

    with bar:
        if by_features:  # decoder-sized chunks, the very first small so the first frames reach the encoder soon,
            # each decoded on its own thread, in order (engine.workers at once)
            chunks = even_chunks(pieces(), engine.decode_chunk, max(1, engine.decode_chunk // 4))
            yield from ordered_map(engine.frames_uint8, chunks, engine.workers)
        else:  # pictures, already decoded, as each window finishes them
            yield from map(to_uint8, pieces())


def generate_video(model: VideoModel | Engine, input_path: str | Path, output_path: str | Path,
                   options: GenerateOptions | None = None, audio: np.ndarray | None = None,
                   info: AudioInfo | None = None, on_frames=None, sound: dict | None = None) -> dict:
    """Render `input_path`'s audio with `model` (or an Engine, `pipelines.inference.make_engine`) into
    `output_path` (mp4 with the original audio muxed: copied when its codec allows, see `io.audio_track`), shaped
    by `options` (`pipelines.shape`: span, size, fill, rate).

    `on_frames`, if given, sees every batch of uint8 frames (N, H, W, 3) before it is encoded. Encoding (and the
    audio to mux) runs in a background thread while the model computes the next frames. `sound`, if given, is
    `sound_for(input_path, info, options)` made earlier (so its AAC encoding started earlier: the CLI starts the
    first input's before it loads the model)."""
    options = options or GenerateOptions()
    engine = make_engine(model, options.backend, compile=options.compile, precision=options.precision)
    cfg = engine.config
    if audio is None or info is None:
        audio, info = load_audio(input_path, cfg.sample_rate)
    span = cut_span(info.seconds, options.start, options.duration)
    audio = span.cut(audio, cfg.sample_rate)
    total = span.frames(cfg.fps)
    layout = plan_layout(cfg.frame_size, cfg.fps, options.aspect, options.size, options.width, options.fps)
    look = get_look(options.look)
    writer = Mp4Writer(output_path, layout.fps, *layout.size, crf=options.crf, preset=options.preset,
                       threads=1 if layout.size[0] * layout.size[1] <= SMALL_FRAME_PIXELS else None,
                       **(sound or sound_for(input_path, info, options)))
    frames_out = shape_frames(render_frames(engine, audio, total, options, label=Path(input_path).name), layout,
                              span.frames(layout.fps), cfg.fps, options.fill, None if look.identity else look)
    with writer, BackgroundSink(writer.write, depth=WRITER_DEPTH) as sink:
        for frames in frames_out:
            if on_frames is not None:
                on_frames(frames)
            sink.put(frames)
    return {"input": str(input_path), "output": str(output_path), "frames": writer.frames_written,
            "seconds": span.seconds}
