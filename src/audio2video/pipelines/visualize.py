"""Any audio file -> mp4 drawn by the procedural visualizers: the model's teacher, with no network.

The song's feature timeline is computed in pieces (`data.song`), then frames are drawn natively at the
requested size, a block at a time, each block with the context it depends on, so the video is seamless and
memory stays bounded whatever the song's length. The original audio is muxed as `generate` does it (copied when
its codec allows, else AAC), cut to the same span when only part of the song is drawn.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..data import ClipSpec
from ..data.song import render_song, song_features
from ..errors import UserError
from ..io.audio_track import audio_for_mp4
from ..io.frames import to_uint8
from ..io.media import DEFAULT_PRESET, X264_PRESETS, AudioInfo, Mp4Writer, load_audio
from .shape import check_span, cut_span

SAMPLE_RATE, FPS = 16000, 30
BLOCK_FRAMES = 30


@dataclass
class VisualizeOptions:
    size: int = 512                  # frame size in pixels, drawn natively
    start: float = 0.0               # seconds into the input
    duration: float | None = None    # seconds to draw; None: to the end of the input
    crf: int = 20                    # H.264 quality: lower is better and bigger
    preset: str = DEFAULT_PRESET     # x264's speed/size trade-off (io.media.X264_PRESETS)
    progress: bool = True

    def __post_init__(self) -> None:
        if self.size < 16 or self.size % 2 or self.size > 4096:
            raise UserError(f"--size must be an even number of pixels from 16 to 4096, not {self.size}")
        check_span(self.start, self.duration)
        if not 0 <= self.crf <= 51:
            raise UserError(f"--crf must be between 0 and 51, not {self.crf}")
        if self.preset not in X264_PRESETS:
            raise UserError(f"--preset must be one of {', '.join(X264_PRESETS)}, not {self.preset!r}")


def visualize_video(input_path: str | Path, output_path: str | Path, options: VisualizeOptions | None = None,
                    audio: np.ndarray | None = None, info: AudioInfo | None = None) -> dict:
    """Draw `input_path`'s audio with the visualizers into `output_path` (mp4 with the original audio muxed)."""
    options = options or VisualizeOptions()
    if audio is None or info is None:
        audio, info = load_audio(input_path, SAMPLE_RATE)
    span = cut_span(info.seconds, options.start, options.duration)
    audio = span.cut(audio.reshape(-1), SAMPLE_RATE)
    spec = ClipSpec(sample_rate=SAMPLE_RATE, fps=FPS, height=options.size, width=options.size)
    timeline = song_features(audio, spec)
    total = span.frames(FPS)
    writer = Mp4Writer(output_path, FPS, options.size, options.size, crf=options.crf, preset=options.preset,
                       **audio_for_mp4(input_path, info, span.start, span.seconds))
    bar = tqdm(total=total, unit="frame", desc=Path(input_path).name, file=sys.stderr, leave=False,
               disable=not options.progress or total < 10 * BLOCK_FRAMES)
    with writer, bar:
        for block in render_song(timeline, spec, block=BLOCK_FRAMES):
            frames = to_uint8(block)
            writer.write(frames)
            bar.update(len(frames))
        if writer.frames_written < total:          # the last fraction of a frame's audio: hold the last frame
            writer.write(np.repeat(frames[-1:], total - writer.frames_written, axis=0))
    return {"input": str(input_path), "output": str(output_path), "frames": writer.frames_written,
            "seconds": span.seconds}
