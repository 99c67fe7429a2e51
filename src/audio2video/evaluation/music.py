"""Real music, no ground-truth video: does a video follow its own song more than any other song?

For each audio file, a segment (`offset`, `seconds`) is rendered by each renderer (the model through the
`generate` pipeline, and the procedural visualizers - the model's teacher - as the reference). Each video is
scored by AV-Align against its own audio and against every other file's audio (same length); the *sync
ratio* is the mean own score ÷ the mean of the others (1.0: the video follows a random song as well as its
own). Also per file: colour saturation, flicker (mean frame change ÷ the teacher's on the same audio), motion
correlation with the teacher (per-frame frame change, Pearson), the share of near-uniform and of blown-out
white frames (metrics.appearance), and the seam ratio (optical flow into the first frame of each 3 s window ÷
into the others: 1.0 = no seam where windows meet).
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..errors import UserError, describe
from ..io.files import AUDIO_SUFFIXES, VIDEO_SUFFIXES, atomic_write_text, files_in, staged_dir
from ..io.media import load_audio
from ..metrics import audio_peak_times, av_align_score, motion_curve, video_peak_times
from ..metrics.appearance import saturation, uniform_frames, white_frames

# audio (n,) float32 at 16 kHz -> uint8 frames (T, H, W, 3) at 30 fps, T = round(n / 16000 * 30)
Renderer = Callable[[np.ndarray], np.ndarray]
SAMPLE_RATE, FPS = 16000, 30
REFERENCE = "teacher"


def audio_only(data: str | Path) -> list[Path] | None:
    """The audio files of `data` (a folder, or one file) when it holds audio and no video; else None."""
    path = Path(data)
    if path.is_dir():
        audio = files_in(path, AUDIO_SUFFIXES)
        return audio if audio and not files_in(path, VIDEO_SUFFIXES) else None
    return [path] if path.suffix.lower() in AUDIO_SUFFIXES else None


def write_music_evaluation(out: str | Path, result: dict, title: str, command: str = "",
                           overwrite: bool = False) -> None:
    """metrics.json and report.md into `out`, all or nothing (an existing, non-empty `out` needs `overwrite`)."""
    import json

    with staged_dir(out, overwrite) as tmp:
        atomic_write_text(tmp / "metrics.json", json.dumps(result, indent=1, default=float) + "\n")
        atomic_write_text(tmp / "report.md", music_report(result, title, command))


def load_segments(files: Sequence[Path], seconds: float, offset: float
                  ) -> tuple[list[Path], list[np.ndarray], list[float], list]:
    """Each file's segment [offset, offset + seconds) at 16 kHz mono (from its start when it is too short for
    the offset): (paths, segments, start seconds, skipped (path, reason)); files shorter than `seconds` or
    unreadable are skipped."""
    kept, segments, starts, skipped = [], [], [], []
    n = int(round(seconds * SAMPLE_RATE))
    for path in files:
        try:
            audio, _ = load_audio(path, SAMPLE_RATE)
        except Exception as e:  # noqa: BLE001 - one bad file is skipped (and reported), whatever its failure
            message = describe(e)
            skipped.append((path, message if str(path) in message else f"{path}: {message}"))
            continue
        x = audio.reshape(-1)
        start = int(offset * SAMPLE_RATE) if len(x) >= int(offset * SAMPLE_RATE) + n else 0
        if len(x) - start < n:
            skipped.append((path, f"{path}: shorter than {seconds:g} s"))
            continue
        kept.append(path)
        segments.append(np.ascontiguousarray(x[start:start + n]))
        starts.append(start / SAMPLE_RATE)
    return kept, segments, starts, skipped


def _frame_change(frames: np.ndarray) -> np.ndarray:
    f = frames.astype(np.float32) / 255
    return np.abs(np.diff(f, axis=0)).mean(axis=(1, 2, 3))


def _nanmean(values) -> float:
    v = np.asarray(list(values), dtype=np.float64)
    return float(v[~np.isnan(v)].mean()) if (~np.isnan(v)).any() else float("nan")


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    den = np.linalg.norm(a) * np.linalg.norm(b)
    return float((a * b).sum() / den) if den > 1e-12 else float("nan")


def score_music(files: Sequence[Path], renderers: dict[str, Renderer], seconds: float = 30.0, offset: float = 15.0,
                progress: bool = False) -> dict:
    """Render every file's segment with every renderer and score them (`score_videos`). `renderers` should
    include REFERENCE (the teacher) for the flicker and motion-correlation columns."""
    paths, segments, _, skipped = load_segments(files, seconds, offset)
    if len(paths) < 2:
        raise UserError("real-music evaluation needs at least 2 audio files of at least "
                        f"{seconds:g} s (a sync ratio compares each file's video with the other files' audio)")
    frames = int(round(seconds * FPS))
    bar = tqdm(total=len(paths) * len(renderers), unit="video", file=sys.stderr, leave=False, disable=not progress)
    videos = {}
    for name, render in renderers.items():
        videos[name] = []
        for audio in segments:
            videos[name].append(render(audio)[:frames])
            bar.update(1)
    bar.close()
    result = score_videos(paths, segments, videos)
    result.update(skipped=[reason for _, reason in skipped], seconds=seconds, offset=offset)
    return result


def score_videos(paths: Sequence[Path], segments: Sequence[np.ndarray], videos: dict[str, list[np.ndarray]],
                 window: int = 90) -> dict:
    """Scores of videos already rendered: videos[name][i] is uint8 (T, H, W, 3) at 30 fps for segments[i]
    (16 kHz mono). `window`: the clip length whose boundaries the seam ratio looks at (mean optical flow into
    the first frame of each window ÷ into the other frames; 1.0 = no seam)."""
    peaks = [audio_peak_times(a, SAMPLE_RATE) for a in segments]
    changes: dict[str, list[np.ndarray]] = {}
    result = {"files": [str(p) for p in paths], "renderers": {}}
    for name, vids in videos.items():
        rows, vpeaks = [], []
        changes[name] = []
        for path, video in zip(paths, vids):
            curve = motion_curve(video)
            vpeaks.append(video_peak_times(curve, FPS))
            changes[name].append(_frame_change(video))
            rows.append({"file": Path(path).name, "saturation": saturation(video),
                         "uniform_frames": uniform_frames(video), "white_frames": white_frames(video),
                         "seam_ratio": _seam_ratio(curve, window)})
        for i, row in enumerate(rows):
            row["av_align_own"] = av_align_score(peaks[i], vpeaks[i], FPS)[0]
            row["av_align_others"] = _nanmean(av_align_score(peaks[j], vpeaks[i], FPS)[0]
                                              for j in range(len(rows)) if j != i)
        result["renderers"][name] = {"per_file": rows}
    for name, entry in result["renderers"].items():
        rows = entry["per_file"]
        if REFERENCE in changes:
            for i, row in enumerate(rows):
                n = min(len(changes[name][i]), len(changes[REFERENCE][i]))   # a renderer may stop a window short
                own, ref = changes[name][i][:n], changes[REFERENCE][i][:n]
                row["flicker"] = float(own.mean() / max(ref.mean(), 1e-9))
                row["motion_corr"] = _corr(own, ref)
        own = _nanmean(r["av_align_own"] for r in rows)
        others = _nanmean(r["av_align_others"] for r in rows)
        overall = {"sync_ratio": own / others if others > 0 else float("nan"), "av_align_own": own,
                   "av_align_others": others}
        for key in COLUMNS[3:]:
            if key in rows[0]:
                overall[key] = _nanmean(r[key] for r in rows)
        entry["overall"] = overall
    return result


def _seam_ratio(curve: np.ndarray, window: int) -> float:
    idx = np.arange(1, len(curve))
    at, rest = idx[idx % window == 0], idx[idx % window != 0]
    return float(curve[at].mean() / max(curve[rest].mean(), 1e-9)) if len(at) and len(rest) else float("nan")


COLUMNS = ("sync_ratio", "av_align_own", "av_align_others", "saturation", "motion_corr", "flicker", "uniform_frames",
           "white_frames", "seam_ratio")


def music_report(result: dict, title: str, command: str = "") -> str:
    """Markdown: the overall table (one row per renderer) and one table per renderer, per file."""
    fmt = lambda v: "n/a" if v is None or v != v else f"{v:.3f}"
    lines = [f"# {title}", "", f"{len(result['files'])} audio files, {result['seconds']:g} s each from "
             f"{result['offset']:g} s. No ground-truth video: each video is scored against its own audio and "
             "against the other files' audio (sync ratio = own ÷ others, 1.0 = follows a random song as well); "
             f"`{REFERENCE}` is the procedural visualizers driven by the same audio (the model's teacher).", ""]
    if command:
        lines += [f"Reproduce: `{command}`", ""]
    present = [c for c in COLUMNS if any(c in r["overall"] for r in result["renderers"].values())]
    lines += ["| renderer | " + " | ".join(present) + " |", "|---" * (len(present) + 1) + "|"]
    for name, entry in result["renderers"].items():
        lines.append(f"| {name} | " + " | ".join(fmt(entry["overall"].get(c)) for c in present) + " |")
    for name, entry in result["renderers"].items():
        cols = [c for c in COLUMNS[1:] if c in entry["per_file"][0]]
        lines += ["", f"## {name}, per file", "", "| file | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
        lines += [f"| {r['file']} | " + " | ".join(fmt(r.get(c)) for c in cols) + " |" for r in entry["per_file"]]
    if result["skipped"]:
        lines += ["", "Skipped: " + "; ".join(result["skipped"])]
    return "\n".join(lines) + "\n"
