"""The shape of an output video in space and time, applied to the model's square frames before they are encoded.

Space: the output has an aspect ratio (16:9, 9:16, 1:1 or any W:H) and a height. The model's square frame sits
in the middle of a canvas of that aspect at the model's own resolution, and the rest of the canvas is filled
from it (`FILLS`); the encoder then scales the canvas to the output size with a Lanczos filter, so the work here
stays at model resolution whatever the output size. Time: a span of the input (`--start`, `--duration`, as
FFmpeg's -ss and -t), and an output frame rate: frames are resampled from the model's rate (which never
changes) by blending the two nearest model frames.

Everything here works on uint8 (N, H, W, 3) frame batches as they stream, so memory stays bounded.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..errors import UserError

FILLS = {
    "mirror": "the frame mirrored outward, edge to edge (seamless, suits visualizers)",
    "tile": "the frame repeated side by side",
    "blur": "a blurred, darkened copy of the frame, scaled to cover the canvas",
    "black": "black bars",
}
MIN_SIDE, MAX_SIDE = 16, 8192
MAX_FPS = 240
BLUR_SCALE = 12  # the blur fill is the frame shrunk this many times and smoothly enlarged again
BLUR_DIM = 0.55  # ... and darkened, so the model's frame stays what the eye goes to


def parse_aspect(text: str) -> tuple[int, int]:
    """'16:9' -> (16, 9), reduced to lowest terms."""
    parts = text.replace("/", ":").split(":")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        w = h = 0
    if len(parts) != 2 or w < 1 or h < 1 or max(w / h, h / w) > 8:
        raise UserError(f"--aspect must be W:H with whole numbers and at most 8:1 (e.g. 16:9, 9:16, 1:1), not {text!r}")
    g = math.gcd(w, h)
    return w // g, h // g


def parse_fps(value: float | str) -> Fraction:
    """An output frame rate: a number (24, 29.97, 60) or a ratio ('30000/1001')."""
    try:
        rate = Fraction(str(value)).limit_denominator(1001)
    except (ValueError, ZeroDivisionError):
        rate = Fraction(0)
    if not 0 < rate <= MAX_FPS:
        raise UserError(f"--fps must be a frame rate above 0 and at most {MAX_FPS} (e.g. 24, 30, 60, 30000/1001), "
                        f"not {value}")
    return rate


def _even(x: float) -> int:
    return max(2, 2 * round(x / 2))


@dataclass(frozen=True)
class Layout:
    """Where a model frame lands: the canvas (at model resolution) and the encoded size and rate."""

    frame: int  # the model's square frame side
    canvas: tuple[int, int]  # (width, height) of the filled frame, before the encoder scales it
    size: tuple[int, int]  # (width, height) of the encoded video
    fps: Fraction

    @property
    def offset(self) -> tuple[int, int]:
        """(left, top) of the model frame inside the canvas."""
        return (self.canvas[0] - self.frame) // 2, (self.canvas[1] - self.frame) // 2


def check_shape(aspect: str | None = None, height: int | None = None, width: int | None = None,
                fps: float | str | None = None, fill: str = "mirror") -> None:
    """Fail with one line on a shape the flags cannot give (before any work is done)."""
    if aspect is not None and width is not None and height is not None:
        raise UserError("give --aspect with --size/--height or --width, or both --width and --height, not all three")
    for name, value in (("--size/--height", height), ("--width", width)):
        if value is not None and (value < MIN_SIDE or value > MAX_SIDE or value % 2):
            raise UserError(f"{name} must be an even number of pixels from {MIN_SIDE} to {MAX_SIDE}, not {value}")
    if aspect is not None:
        parse_aspect(aspect)
    if fps is not None:
        parse_fps(fps)
    if fill not in FILLS:
        raise UserError(f"unknown --fill {fill!r}; choose one of {', '.join(FILLS)}")


def plan_layout(frame: int, model_fps: float, aspect: str | None = None, height: int | None = None,
                width: int | None = None, fps: float | str | None = None) -> Layout:
    """The output for the model's `frame` x `frame` pictures: `height` (--size/--height) and `width` in pixels,
    either of them with `aspect`, or both without it; with neither, the model frame's own size fits the short side.
    """
    check_shape(aspect, height, width, fps)
    if width is not None and height is not None:
        ratio = Fraction(width, height)
    else:
        w, h = parse_aspect(aspect) if aspect is not None else (1, 1)
        ratio, given = Fraction(w, h), height is not None or width is not None
        if height is not None:
            width = _even(height * ratio)
        elif width is not None:
            height = _even(width / ratio)
        elif ratio >= 1:
            width, height = _even(frame * ratio), _even(frame)
        else:
            width, height = _even(frame), _even(frame / ratio)
        if given and (min(width, height) < MIN_SIDE or max(width, height) > MAX_SIDE):
            raise UserError(f"the output would be {width}x{height}: each side must be {MIN_SIDE} to {MAX_SIDE} pixels")
    # the square fits the short side; the canvas has the output's aspect (to within half a model pixel)
    canvas = (max(frame, round(frame * ratio)), frame) if ratio >= 1 else (frame, max(frame, round(frame / ratio)))
    return Layout(frame, canvas, (width, height), parse_fps(model_fps if fps is None else fps))


def fill_canvas(frames: np.ndarray, layout: Layout, mode: str = "mirror") -> np.ndarray:
    """uint8 (N, S, S, 3) model frames -> (N, canvas height, canvas width, 3), the frame in the middle."""
    check_shape(fill=mode)
    (cw, ch), s = layout.canvas, layout.frame
    if (cw, ch) == (s, s):
        return frames
    left, top = layout.offset
    pads = ((0, 0), (top, ch - s - top), (left, cw - s - left), (0, 0))
    if mode == "mirror":
        return np.pad(frames, pads, mode="symmetric")
    if mode == "tile":
        return np.pad(frames, pads, mode="wrap")
    if mode == "black":
        return np.pad(frames, pads)
    out = _blurred_cover(frames, cw, ch)
    out[:, top:top + s, left:left + s] = frames
    return out


def _blurred_cover(frames: np.ndarray, cw: int, ch: int) -> np.ndarray:
    """The frames scaled to cover a cw x ch canvas (centre crop), heavily blurred and darkened."""
    import torch  # here, not at the top: `audio2video --help` reads FILLS without loading torch
    import torch.nn.functional as F

    s = frames.shape[1]
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
    if cw >= ch:  # a band across the middle, as wide as the frame, of the canvas's aspect
        band = max(1, round(s * ch / cw))
        x = x[:, :, (s - band) // 2:(s - band) // 2 + band, :]
    else:
        band = max(1, round(s * cw / ch))
        x = x[:, :, :, (s - band) // 2:(s - band) // 2 + band]
    small = F.interpolate(x, size=(max(1, ch // BLUR_SCALE), max(1, cw // BLUR_SCALE)), mode="area")
    big = F.interpolate(small, size=(ch, cw), mode="bicubic", align_corners=False)
    big = big.mul_(BLUR_DIM).round_().clamp_(0, 255).to(torch.uint8)
    return big.permute(0, 2, 3, 1).contiguous().numpy()


class FrameRateConverter:
    """Streams frames at `src` fps into exactly `total` frames at `dst` fps. Output frame j shows the input at
    time j / dst: a blend of the two input frames around it, weighted by nearness (one frame where it falls on
    a frame; the last input frame is held past the end)."""

    def __init__(self, src: Fraction, dst: Fraction, total: int):
        self.step = Fraction(src) / Fraction(dst)  # input frames per output frame
        self.total = total
        self.done = 0
        self.buffer: np.ndarray | None = None
        self.first = 0  # input index of buffer[0]

    def _position(self, j: int) -> tuple[int, Fraction]:
        p = j * self.step
        return math.floor(p), p - math.floor(p)

    def push(self, frames: np.ndarray) -> np.ndarray:
        """Take the next input frames; return the output frames that are now known."""
        buf = frames if self.buffer is None else np.concatenate([self.buffer, frames])
        return self._emit(buf, final=False)

    def flush(self) -> np.ndarray | None:
        """The rest of the `total` output frames (holding the last input frame)."""
        if self.buffer is None:
            return None
        return self._emit(self.buffer, final=True)

    def _emit(self, buf: np.ndarray, final: bool) -> np.ndarray:
        end = self.first + len(buf)
        out = []
        while self.done < self.total:
            i, w = self._position(self.done)
            if not final and (i + (w > 0)) >= end:
                break
            ia, ib = min(i, end - 1) - self.first, min(i + 1, end - 1) - self.first
            a, b = buf[ia], buf[ib]
            out.append(a if w == 0 or ia == ib else np.rint(a * float(1 - w) + b * float(w)).astype(np.uint8))
            self.done += 1
        keep = min(self._position(self.done)[0], end - 1) - self.first
        self.buffer, self.first = buf[keep:], self.first + keep
        return np.stack(out) if out else buf[:0]


@dataclass(frozen=True)
class Span:
    """The part of the input an output covers, in seconds."""

    start: float
    seconds: float

    def frames(self, fps: float | Fraction) -> int:
        """Frames an output of this span holds at `fps`: round(seconds x fps), at least one."""
        return max(1, round(self.seconds * fps))

    def cut(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """This span of `audio` (samples at `sample_rate`)."""
        first = int(round(self.start * sample_rate))
        return audio[first:first + int(round(self.seconds * sample_rate))]


def check_span(start: float, duration: float | None) -> None:
    """--start and --duration as a user may give them, before the input's length is known."""
    if start < 0 or (duration is not None and duration <= 0):
        raise UserError("--start must be 0 or more and --duration more than 0")


def cut_span(length: float, start: float = 0.0, duration: float | None = None) -> Span:
    """The span of an input of `length` seconds from `start` for `duration` (to the end if None or past it),
    as FFmpeg's -ss and -t cut it."""
    check_span(start, duration)
    if start >= length:
        raise UserError(f"--start {start:g} s is past the end of the input ({length:.2f} s)")
    return Span(start, length - start if duration is None else min(duration, length - start))


def shape_frames(batches: Iterable[np.ndarray], layout: Layout, total: int, model_fps: float, fill: str = "mirror",
                 look=None) -> Iterator[np.ndarray]:
    """Model frame batches -> exactly `total` output frames: graded by `look` (a callable on uint8 batches, or
    None), filled to the layout's canvas, resampled to its frame rate. With the defaults (a square layout at the
    model's rate, no look) the frames pass through untouched."""
    src = parse_fps(model_fps)
    rate = None if layout.fps == src else FrameRateConverter(src, layout.fps, total)
    for frames in batches:
        if look is not None:
            frames = look(frames)
        frames = fill_canvas(frames, layout, fill)
        if rate is not None:
            frames = rate.push(frames)
        if len(frames):
            yield frames
    if rate is not None and (tail := rate.flush()) is not None and len(tail):
        yield tail
