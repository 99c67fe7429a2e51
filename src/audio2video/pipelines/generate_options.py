"""What `generate` is asked to make (`GenerateOptions`, checked when made) and the sound its mp4 gets
(`sound_for`). Light on purpose: the CLI checks its flags and starts encoding the first input's sound before it
imports torch (pipelines.generate does).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from ..io.audio_track import audio_for_mp4
from ..io.media import DEFAULT_PRESET, X264_PRESETS, AudioInfo
from .looks import get_look
from .shape import check_shape, check_span, cut_span

CROSSFADES = ("feature", "pixel")
BACKENDS = ("torch", "onnxruntime")
COMPILE_CHOICES = ("auto", "on", "off")
PRECISIONS = ("auto", "fp32", "bf16")


@dataclass
class GenerateOptions:
    overlap: float = 0.5  # seconds shared by consecutive windows, cross-faded
    batch_size: int | None = None  # windows per encoder pass (None: the engine's choice, 4 on CPU, 64 on CUDA)
    size: int | None = None  # output height in pixels (scaled at encode time); None: the model's frame size
    crf: int = 20  # H.264 quality: lower is better and bigger
    preset: str = DEFAULT_PRESET  # x264's speed/size trade-off (io.media.X264_PRESETS)
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
    crossfade: str = "feature"  # "feature": blend per-frame features, decode once; "pixel": blend decoded frames
    backend: str = "torch"  # or "onnxruntime"
    compile: str = "auto"  # torch.compile the decoder: "auto" (when it pays off), "on", "off"
    precision: str = "auto"  # the torch backend's: "auto" (bf16 on CUDA, fp32 on CPU), "fp32", "bf16"

    def __post_init__(self) -> None:
        check_shape(self.aspect, self.size, self.width, self.fps, self.fill)
        get_look(self.look)
        check_span(self.start, self.duration)
        if not math.isfinite(self.overlap):
            raise UserError(f"--overlap must be a finite number of seconds, not {self.overlap}")
        if not 0 <= self.crf <= 51:
            raise UserError(f"--crf must be between 0 and 51, not {self.crf}")
        if self.preset not in X264_PRESETS:
            raise UserError(f"--preset must be one of {', '.join(X264_PRESETS)}, not {self.preset!r}")
        if self.batch_size is not None and self.batch_size < 1:
            raise UserError(f"--batch-size must be a positive integer, not {self.batch_size}")
        if self.crossfade not in CROSSFADES:
            raise UserError(f"--crossfade must be one of {', '.join(CROSSFADES)}, not {self.crossfade!r}")
        if self.backend not in BACKENDS:
            raise UserError(f"--backend must be one of {', '.join(BACKENDS)}, not {self.backend!r}")
        if self.precision not in PRECISIONS:
            raise UserError(f"--precision must be one of {', '.join(PRECISIONS)}, not {self.precision!r}")
        if self.precision == "bf16" and self.backend != "torch":
            raise UserError("--precision bf16 is for the torch backend; onnxruntime runs the model in fp32")
        if self.compile not in COMPILE_CHOICES:
            raise UserError(f"compile must be one of {', '.join(COMPILE_CHOICES)}, not {self.compile!r}")


def sound_for(input_path: str | Path, info: AudioInfo, options: GenerateOptions) -> dict:
    """`Mp4Writer`'s audio arguments for the span of `input_path` that `options` ask for
    (`io.audio_track.audio_for_mp4`: copied, or AAC encoded from now on)."""
    span = cut_span(info.seconds, options.start, options.duration)
    return audio_for_mp4(input_path, info, span.start, span.seconds)
