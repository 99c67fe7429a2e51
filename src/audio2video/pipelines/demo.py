"""`audio2video demo` (what `make demo` runs): a procedural demo track -> demo.mp4 + a contact sheet.

It renders with the trained model that ships with the package, or a checkpoint you name. With --untrained
(or if the package's weights folder is missing) it renders with a freshly initialised model and says which of
the two reasons applies: such a video moves with the audio only the way an untrained network's output does.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..checks import require_memory
from ..data.clip import ClipSpec
from ..data.features import compute_features
from ..data.music import generate_music
from ..errors import UserError
from ..io.files import check_output_dir, staged_dir, write_wav
from ..io.frames import SheetMarks, contact_sheet
from ..models import AudioToVideoNet, VideoModel, has_shipped_model, load_model
from .generate import GenerateOptions, generate_video

UNTRAINED_SEED = 0  # the untrained demo model's initialisation (its own generator: global RNG untouched)


@dataclass
class DemoResult:
    video: Path
    sheet: Path
    track: Path
    trained: bool
    source: str  # which model rendered it, in words


class FrameRecorder:
    """Keeps a few evenly spaced frames and the per-frame visual change while frames stream past."""

    def __init__(self, total: int, keep: int = 12):
        self.picks = sorted(set(np.linspace(0, total - 1, min(keep, total)).round().astype(int).tolist()))
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


def untrained_model() -> AudioToVideoNet:
    """A randomly initialised spec-size model, the same every time, without touching torch's global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(UNTRAINED_SEED)
        return AudioToVideoNet().eval()


def choose_model(untrained: bool, checkpoint: str | Path | None, log=print) -> tuple[VideoModel, bool, str]:
    """(model, trained?, what it is in words)."""
    if checkpoint is not None:
        return load_model(checkpoint), True, f"the model in {checkpoint}"
    if not untrained and has_shipped_model():
        return load_model(), True, "the trained model that ships with audio2video"
    if untrained:
        log("NOTE: --untrained: rendering with an untrained, randomly initialised model, as asked. Expect a video\n"
            "      that changes with the audio but shows no learned visuals; drop --untrained for the trained model.")
    else:
        log("NOTE: the trained weights that ship with audio2video are missing from this installation, so this demo\n"
            "      renders with an untrained, randomly initialised model: expect no learned visuals. Reinstall the\n"
            "      package, or pass a model with --checkpoint.")
    return untrained_model(), False, "an UNTRAINED, randomly initialised AudioToVideoNet"


def run_demo(out_dir: str | Path, seconds: float = 12.0, seed: int = 7, untrained: bool = False,
             checkpoint: str | Path | None = None, size: int = 256, log=print, overwrite: bool = False) -> DemoResult:
    """Write demo_track.wav, demo.mp4 and demo_contact_sheet.png into `out_dir`, all at once when all are done
    (an existing, non-empty `out_dir` needs `overwrite`)."""
    if not (math.isfinite(seconds) and seconds > 0):
        raise UserError(f"--seconds must be a positive number, not {seconds:g}")
    require_memory(seconds * 16000 * 4 * 4, f"a demo track of {seconds:g} s")  # the track and its analysis
    out = Path(out_dir)
    check_output_dir(out, overwrite)
    model, trained, source = choose_model(untrained, checkpoint, log)
    with staged_dir(out, overwrite) as tmp:
        result = _render(tmp, out, model, seconds, seed, size, source, log)
    return DemoResult(*(out / p.name for p in result), trained, source)


def _render(out: Path, final: Path, model: VideoModel, seconds: float, seed: int, size: int, source: str, log
            ) -> tuple[Path, Path, Path]:
    """The demo's files, written into `out` (the staging folder that becomes `final`)."""
    clip = model.config.clip_spec()
    spec = ClipSpec(clip.sample_rate, duration=seconds, fps=clip.fps, height=clip.height, width=clip.width)
    song = generate_music(seed, spec)
    track = out / "demo_track.wav"
    write_wav(track, song.waveform, spec.sample_rate)
    log(f"demo track: {seconds:g} s of procedural music ({song.tempo:.0f} BPM, {song.key} {song.scale}) -> {final / track.name}")
    log(f"rendering with {source} ...")
    recorder = FrameRecorder(int(round(seconds * spec.fps)))
    video = out / "demo.mp4"
    generate_video(model, track, video, GenerateOptions(size=size), on_frames=recorder)
    tl = compute_features(song.waveform, spec)
    n = min(len(recorder.change), tl.num_frames)
    change = np.asarray(recorder.change[:n])
    curves = {"audio loudness": (tl.loudness[:n], {"lw": 1.5}), "audio onset strength": (tl.onset[:n], {"lw": 1.0}),
              "video motion (scaled)": (change / max(change.max(), 1e-9), {"color": "black", "ls": "--", "lw": 1.2})}
    sheet = contact_sheet(out / "demo_contact_sheet.png", recorder.kept, recorder.picks, n / spec.fps, curves,
                          spec.fps, f"demo.mp4 frames, rendered by {source}", SheetMarks())
    return video, sheet, track
