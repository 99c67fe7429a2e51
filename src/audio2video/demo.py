"""`audio2video demo` (what `make demo` runs): a procedural demo track -> demo.mp4 + a contact sheet.

With no trained weights shipped (or when asked for), the demo falls back to a freshly initialised model and
says so plainly: its video moves with the audio only in the way an untrained network's output does.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .data.clip import ClipSpec
from .data.features import compute_features
from .data.music import generate_music
from .errors import UserError
from .files import atomic_write
from .generate import GenerateOptions, generate_video
from .models import AudioToVideoNet, VideoModel, load_model
from .models.hub import has_shipped_model
from .synth import write_wav


@dataclass
class DemoResult:
    video: Path
    sheet: Path
    track: Path
    trained: bool


class FrameRecorder:
    """Keeps a few evenly spaced frames and the per-frame visual change while frames stream past."""

    def __init__(self, total: int, keep: int = 12):
        self.picks = set(np.linspace(0, total - 1, min(keep, total)).round().astype(int).tolist())
        self.kept: list[np.ndarray] = []
        self.change: list[float] = []
        self.index, self.last = 0, None

    def __call__(self, frames: np.ndarray) -> None:
        for frame in frames:
            f = frame.astype(np.float32) / 255
            self.change.append(0.0 if self.last is None else float(np.abs(f - self.last).mean()))
            if self.index in self.picks:
                self.kept.append(frame)
            self.last, self.index = f, self.index + 1


def contact_sheet(path: Path, recorder: FrameRecorder, audio: np.ndarray, spec: ClipSpec, title: str) -> None:
    """Frames from the video above the audio's loudness and onset curves and the video's motion curve."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    tl = compute_features(audio, spec)
    n = min(len(recorder.change), tl.num_frames)
    t = (np.arange(n) + 0.5) / spec.fps
    change = np.asarray(recorder.change[:n])
    fig = Figure(figsize=(16, 6), dpi=100)
    FigureCanvasAgg(fig)
    ax_img, ax = fig.subplots(2, 1, gridspec_kw={"height_ratios": [1, 1.3]})
    ax_img.imshow(np.concatenate(recorder.kept, axis=1), aspect="auto", interpolation="nearest")
    ax_img.set_axis_off()
    ax_img.set_title(title, fontsize=10)
    ax.plot(t, tl.loudness[:n], lw=1.5, label="audio loudness")
    ax.plot(t, tl.onset[:n], lw=1.0, label="audio onset strength")
    ax.plot(t, change / max(change.max(), 1e-9), color="black", ls="--", lw=1.2, label="video motion (scaled)")
    ax.set_xlim(0, n / spec.fps)
    ax.set_xlabel("time (s)")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))


def run_demo(out_dir: str | Path, seconds: float = 12.0, seed: int = 7, untrained: bool = False,
             checkpoint: str | Path | None = None, size: int = 256, log=print) -> DemoResult:
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    model: VideoModel
    if checkpoint is not None:
        model, trained, source = load_model(checkpoint), True, f"the model in {checkpoint}"
    elif has_shipped_model() and not untrained:
        model, trained, source = load_model(), True, "the trained model that ships with audio2video"
    else:
        torch.manual_seed(0)
        model, trained = AudioToVideoNet().eval(), False
        source = "an UNTRAINED, randomly initialised AudioToVideoNet"
        log("NOTE: no trained weights ship with this version yet, so this demo renders with an untrained, randomly\n"
            "      initialised model: expect a video that changes with the audio but shows no learned visuals.\n"
            "      Train one with `audio2video train` and pass it with --checkpoint.")
    spec = ClipSpec(sample_rate=model.config.sample_rate, duration=seconds, fps=int(round(model.config.fps)),
                    height=model.config.frame_size, width=model.config.frame_size)
    song = generate_music(seed, spec)
    track = out / "demo_track.wav"
    write_wav(track, song.waveform, spec.sample_rate)
    log(f"demo track: {seconds:g} s of procedural music ({song.tempo:.0f} BPM, {song.key} {song.scale}) -> {track}")
    log(f"rendering with {source} ...")
    recorder = FrameRecorder(int(round(seconds * spec.fps)))
    video = out / "demo.mp4"
    generate_video(model, track, video, GenerateOptions(size=size), on_frames=recorder)
    sheet = out / "demo_contact_sheet.png"
    contact_sheet(sheet, recorder, song.waveform, spec,
                  f"demo.mp4 frames, rendered by {source}")
    return DemoResult(video, sheet, track, trained)
