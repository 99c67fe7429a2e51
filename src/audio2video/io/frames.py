"""Frames as pictures: the one uint8 conversion, side-by-side videos and contact sheets.

Videos in the package are float (T, 3, H, W) tensors in [0, 1]; encoders and OpenCV want uint8 (T, H, W, 3).
Pictures are drawn with matplotlib's object API on an Agg canvas, so no global backend is ever switched.
torch is imported where tensors are handled, not at the top: `audio2video --help` reads LUMA (through
pipelines.looks) without loading torch.
"""
from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .files import atomic_write
from .media import Mp4Writer, audio_frames_from_array

if TYPE_CHECKING:
    import torch

LUMA = np.array([0.299, 0.587, 0.114], np.float32)   # RGB -> grey (ITU-R BT.601, as OpenCV's RGB2GRAY)


def to_uint8(frames) -> np.ndarray:
    """(N, 3, H, W) frames -> (N, H, W, 3) uint8. Floats (tensor or array) are in [0, 1]: scaled by 255, rounded
    half to even and clipped; uint8 input is only transposed."""
    import torch

    if isinstance(frames, np.ndarray):
        frames = torch.from_numpy(frames)
    if frames.dim() != 4 or frames.shape[1] != 3:
        raise ValueError(f"expected (N, 3, H, W) frames, not {tuple(frames.shape)}")
    if frames.is_floating_point():
        frames = frames.float().mul(255).round_().clamp_(0, 255)
    return frames.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def as_uint8_frames(frames) -> Iterable[np.ndarray]:
    """uint8 (H, W, 3) frames from a (T, 3, H, W) tensor (see `to_uint8`), a uint8 (N, H, W, 3) array, or any
    iterable of (H, W, 3) uint8 frames (passed through lazily, for streams)."""
    torch = sys.modules.get("torch")  # not loaded: `frames` cannot be a tensor
    if torch is not None and isinstance(frames, torch.Tensor):
        return to_uint8(frames)
    return frames


def _unit(video: torch.Tensor) -> torch.Tensor:
    import torch

    return video.float() / 255 if video.dtype == torch.uint8 else video.float()


def write_side_by_side(path: Path, videos: Sequence[torch.Tensor], audio: np.ndarray, sample_rate: int,
                       fps: float) -> Path:
    """Videos (T, 3, H, W), float in [0, 1] or uint8, side by side left to right (e.g. ground truth | model),
    upscaled to about 256 pixels high, with the clip's mono audio."""
    import torch

    side = torch.cat([_unit(v) for v in videos], dim=-1)  # (T, 3, H, k W)
    h, w = side.shape[-2:]
    scale = max(1, 256 // h)
    with Mp4Writer(path, fps, width=w * scale, height=h * scale, audio=audio_frames_from_array(audio, sample_rate),
                   audio_rate=sample_rate, audio_channels=1, preset="veryfast") as writer:
        writer.write(to_uint8(side))
    return Path(path)


@dataclass
class SheetMarks:
    """What a contact sheet marks on its time axis besides the curves."""
    lines: Sequence[float] = ()  # e.g. true onsets (s)
    line_label: str = "true onsets"
    spans: Sequence[tuple[float, float, str]] = ()  # (start, end, label): shaded full height
    bands: Sequence[tuple[float, float, str]] = ()  # (start, end, label): a band along the top


def contact_sheet(path: Path, frames: Sequence[np.ndarray], frame_numbers: Sequence[int], duration: float,
                  curves: dict[str, tuple[np.ndarray, dict]], fps: float, title: str,
                  marks: SheetMarks | None = None) -> Path:
    """A strip of uint8 (H, W, 3) frames above curves sampled once per video frame (label -> (values, matplotlib
    line options)), on one time axis of `duration` seconds; written as a PNG, atomically."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    marks = marks or SheetMarks()
    fig = Figure(figsize=(16, 6.5), dpi=100)
    FigureCanvasAgg(fig)
    ax_img, ax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 1.3]})
    ax_img.imshow(np.concatenate(list(frames), axis=1), extent=(0, duration, 0, 1), aspect="auto",
                  interpolation="nearest")
    step = duration / max(len(frames), 1)
    for i, f in enumerate(frame_numbers):
        ax_img.text(i * step + 0.01, 0.96, f"{f}", color="white", fontsize=7, va="top")
    ax_img.set_yticks([])
    ax_img.set_title(title, fontsize=10)
    for label, (values, style) in curves.items():
        values = np.asarray(values)
        ax.plot((np.arange(len(values)) + 0.5) / fps, values, label=label, **style)
    for i, t in enumerate(marks.lines):
        ax.axvline(t, color="tab:red", lw=0.6, alpha=0.5, label=marks.line_label if i == 0 else None)
    for start, end, label in marks.spans:
        ax.axvspan(start, end, color="grey", alpha=0.3, label=label)
    for start, end, label in marks.bands:
        ax.axvspan(start, end, ymin=0.93, ymax=1.0, color="tab:purple", alpha=0.5, label=label)
    ax.set_xlim(0, duration)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("time (s)")
    ax.legend(loc="upper left", fontsize=8, ncol=4, bbox_to_anchor=(0, -0.18))
    fig.tight_layout()
    atomic_write(Path(path), lambda tmp: fig.savefig(tmp, format="png"))
    return Path(path)


def write_mp4(path: str | Path, frames: Iterable[np.ndarray], fps: float, audio: np.ndarray | None = None,
              sample_rate: int | None = None, size: int | None = None, crf: int = 20) -> Path:
    """Write uint8 RGB frames (each (H, W, 3), or batches (N, H, W, 3)) with optional in-memory audio
    (float32 (channels, samples) or (samples,) at `sample_rate`) to `path`, atomically."""
    frames = iter(frames)
    first = np.asarray(next(frames))
    h, w = first.shape[-3:-1]
    scale = 1 if size is None else size / max(h, w)
    width, height = 2 * round(w * scale / 2), 2 * round(h * scale / 2)
    channels = 1 if audio is None or np.ndim(audio) == 1 else np.shape(audio)[0]
    source = None if audio is None else audio_frames_from_array(audio, sample_rate)
    with Mp4Writer(path, fps, width, height, crf=crf, audio=source, audio_rate=sample_rate or 48000,
                   audio_channels=channels, preset="veryfast") as writer:
        writer.write(first)
        for batch in frames:
            writer.write(batch)
    return Path(path)
