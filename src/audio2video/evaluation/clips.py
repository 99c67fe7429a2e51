"""The clips an evaluation scores: the procedural engine's held-out set, or the first clip of video files."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..data.procedural import HELDOUT_SEED, engine_config_for, heldout_set
from ..errors import UserError, describe
from ..io.files import VIDEO_SUFFIXES, files_in
from ..io.media import iter_video_frames, load_audio, video_fps
from ..models import ClipSizeError


@dataclass
class ClipSet:
    description: str
    audio: torch.Tensor  # (N, 1, samples) float32
    video: torch.Tensor  # (N, T, 3, H, W) uint8
    silent: np.ndarray  # (N, T) bool: frames inside a silent segment
    sample_rate: int
    fps: float
    ids: list[str]

    def __len__(self) -> int:
        return len(self.audio)

    def truth(self, i: int) -> torch.Tensor:
        return self.video[i].float() / 255

    def subset(self, k: int) -> "ClipSet":
        """The first k clips."""
        return ClipSet(self.description, self.audio[:k], self.video[:k], self.silent[:k], self.sample_rate, self.fps,
                       self.ids[:k])


def procedural_clips(config, n: int, style: str = "audio", progress: bool = False) -> ClipSet:
    """The first n clips of the engine's fixed held-out set, at the sizes of model config `config`."""
    try:
        engine = engine_config_for(config.clip_spec(), style)
    except (ClipSizeError, ValueError) as e:
        raise UserError(f"the checkpoint's clip sizes cannot be made by the data engine ({e})") from None
    ds = heldout_set(n, engine)
    audio, video, silent = [], [], []
    for k in tqdm(range(n), desc="held-out clips", unit="clip", disable=not progress, leave=False):
        s = ds.sample(k)
        audio.append(torch.from_numpy(s.audio))
        video.append(torch.from_numpy(s.video).mul_(255).round_().to(torch.uint8))
        silent.append(np.asarray(s.song.silent, dtype=bool))
    desc = (f"{n} clips of the procedural held-out set (base seed {HELDOUT_SEED}, split 'heldout', style "
            f"'{style}'; seeds disjoint from training)")
    return ClipSet(desc, torch.stack(audio), torch.stack(video), np.stack(silent), config.sample_rate,
                   float(config.fps), [f"heldout-{k}" for k in range(n)])


SILENCE_DBFS = -50.0  # for video files: a frame whose audio is quieter than this (RMS) counts as silent


def video_files(data: str | Path) -> list[Path]:
    """A video file, or the video files of a folder (sorted)."""
    path = Path(data)
    if path.is_dir():
        found = files_in(path, VIDEO_SUFFIXES)
        if not found:
            raise UserError(f"{path}: folder holds no video files ({', '.join(sorted(VIDEO_SUFFIXES))})")
        return found
    if not path.exists():
        raise UserError(f"{path}: no such file or folder (--data takes 'procedural', a video file or a folder)")
    return [path]


def file_clips(data: str | Path, config, n: int | None = None, progress: bool = False) -> ClipSet:
    """One clip per video file (with audio): its first clip_seconds, audio at the model's rate, frames at the
    model's fps (nearest earlier source frame), centre-cropped square and resized to the model's frame size.
    Frames whose audio RMS is below SILENCE_DBFS count as silent. From a folder, the first `n` usable files: a
    file that cannot be used, whatever its failure, is reported on stderr and skipped (one bad file does not end
    the evaluation); a single file's failure is the evaluation's."""
    files = video_files(data)
    single = len(files) == 1
    audio, video, silent, used, skipped = [], [], [], [], []
    bar = tqdm(total=min(len(files), n or len(files)), desc="held-out clips", unit="clip", disable=not progress,
               leave=False)
    for path in files:
        if n is not None and len(used) >= n:
            break
        try:
            wave, frames = _file_clip(path, config)
        except Exception as e:  # noqa: BLE001 - a folder's bad file is skipped (and reported), whatever its failure
            if single:
                raise
            message = describe(e)
            skipped.append(message if str(path) in message else f"{path}: {message}")
            print(f"skipped: {skipped[-1]}", file=sys.stderr)
            continue
        video.append(frames)
        audio.append(torch.from_numpy(np.ascontiguousarray(wave))[None])
        silent.append(_silent_frames(wave, config))
        used.append(path)
        bar.update(1)
    bar.close()
    if not used:
        raise UserError(f"{data}: none of its {len(files)} video files could be used (see the lines above)")
    desc = f"{len(used)} video files from {data} (first {config.clip_seconds:g} s of each)"
    if skipped:
        desc += f"; {len(skipped)} skipped: " + "; ".join(skipped)
    return ClipSet(desc, torch.stack(audio), torch.stack(video), np.stack(silent), config.sample_rate,
                   float(config.fps), [p.stem for p in used])


def _file_clip(path: Path, config) -> tuple[np.ndarray, torch.Tensor]:
    """A video file's first clip: (audio (num_samples,) float32, frames uint8 (T, 3, size, size))."""
    size, frames, rate = config.frame_size, config.frames, config.sample_rate
    src_fps = video_fps(path)
    wave, _ = load_audio(path, rate)
    if len(wave) < config.num_samples:
        raise UserError(f"{path}: {len(wave) / rate:.2f} s of audio, shorter than the model's "
                        f"{config.clip_seconds:g} s clip")
    wave = wave[:config.num_samples]
    wanted = [int(np.floor(k / config.fps * src_fps + 1e-6)) for k in range(frames)]
    picked: dict[int, torch.Tensor] = {}
    for i, frame in enumerate(iter_video_frames(path)):
        if i > wanted[-1]:
            break
        if i in wanted:
            picked[i] = _square(torch.from_numpy(frame).permute(2, 0, 1), size)
    if wanted[-1] not in picked:
        raise UserError(f"{path}: {len(picked)} video frames, fewer than the model's {config.clip_seconds:g} s "
                        f"clip needs")
    return wave, torch.stack([picked[i] for i in wanted])


def _silent_frames(wave: np.ndarray, config) -> np.ndarray:
    """(T,) bool: frames whose audio RMS is below SILENCE_DBFS."""
    hop = config.num_samples / config.frames
    rms = np.array([np.sqrt(np.mean(wave[int(k * hop):int((k + 1) * hop)] ** 2) + 1e-20)
                    for k in range(config.frames)])
    return 20 * np.log10(rms) < SILENCE_DBFS


def _square(frame: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 (3, H, W) -> centre-cropped, area-resized uint8 (3, size, size)."""
    _, h, w = frame.shape
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = frame[:, top:top + side, left:left + side].float()[None]
    out = torch.nn.functional.interpolate(crop, size=(size, size), mode="area" if side >= size else "bilinear")
    return out[0].round().clamp(0, 255).to(torch.uint8)


def load_clips(data: str, config, n: int, style: str = "audio", progress: bool = False) -> ClipSet:
    """'procedural' (the held-out set) or video files: see `procedural_clips` and `file_clips`."""
    if data == "procedural":
        return procedural_clips(config, n, style, progress)
    return file_clips(data, config, n, progress)
