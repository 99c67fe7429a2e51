"""`audio2video evaluate` and `audio2video compare`: checkpoints on held-out clips -> metrics.json, report.md, plots.

Both share one core: the held-out clips (the procedural engine's held-out seed space by default, never seen in
training) are made once; each model predicts every clip; each prediction is scored against its ground truth
(`metrics`), and against the previous clip's truth for the shuffle gap (a cyclic shift, i.e. a derangement).
The ground truth's own AV-Align and silence response are reported beside the model's, as a reference.

`compare` runs every checkpoint on the same clips and reports, for every metric, the difference B − A with a
bootstrap 95% confidence interval: clips are resampled with replacement (seeded), the metric's aggregate is
recomputed for both models on the same resample, and the 2.5th and 97.5th percentiles of the differences are
the interval. Per-clip paired differences go into metrics.json.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from . import metrics as M
from .errors import UserError
from .files import umask
from .models import VideoModel, load_model
from .runtime import autocast

PER_CLIP_MEAN = ("mse", "psnr", "ssim", "temporal_error", "flicker_index", "av_align")
METRIC_NAMES = ("mse", "psnr", "ssim", "temporal_error", "flicker_index", "shuffle_gap", "silence_response",
                "av_align")
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


# ---- held-out clips -------------------------------------------------------------------------------------------

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
    from .data.procedural import HELDOUT_SEED, ClipSizeError, engine_config_for, heldout_set

    try:
        engine = engine_config_for(config, style)
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


VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi"}
SILENCE_DBFS = -50.0  # for video files: a frame whose audio is quieter than this (RMS) counts as silent


def video_files(data: str | Path) -> list[Path]:
    """A video file, or the video files of a folder (sorted)."""
    path = Path(data)
    if path.is_dir():
        found = sorted(p for p in path.iterdir()
                       if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in VIDEO_SUFFIXES)
        if not found:
            raise UserError(f"{path}: folder holds no video files ({', '.join(sorted(VIDEO_SUFFIXES))})")
        return found
    if not path.exists():
        raise UserError(f"{path}: no such file or folder (--data takes 'procedural', a video file or a folder)")
    return [path]


def file_clips(data: str | Path, config, n: int | None = None, progress: bool = False) -> ClipSet:
    """One clip per video file (with audio): its first clip_seconds, audio at the model's rate, frames at the
    model's fps (nearest earlier source frame), centre-cropped square and resized to the model's frame size.
    Frames whose audio RMS is below SILENCE_DBFS count as silent."""
    from .media import iter_video_frames, load_audio, video_fps

    files = video_files(data)[:n]
    audio, video, silent = [], [], []
    size, frames, rate = config.frame_size, config.frames, config.sample_rate
    for path in tqdm(files, desc="held-out clips", unit="clip", disable=not progress, leave=False):
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
        video.append(torch.stack([picked[i] for i in wanted]))
        audio.append(torch.from_numpy(np.ascontiguousarray(wave))[None])
        hop = config.num_samples / frames
        rms = np.array([np.sqrt(np.mean(wave[int(k * hop):int((k + 1) * hop)] ** 2) + 1e-20) for k in range(frames)])
        silent.append(20 * np.log10(rms) < SILENCE_DBFS)
    desc = f"{len(files)} video files from {data} (first {config.clip_seconds:g} s of each)"
    return ClipSet(desc, torch.stack(audio), torch.stack(video), np.stack(silent), rate, float(config.fps),
                   [p.stem for p in files])


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


# ---- scoring --------------------------------------------------------------------------------------------------

@dataclass
class Scores:
    """Per-clip values (arrays of length N) for one video source (a model, or the ground truth)."""
    values: dict[str, np.ndarray]
    motion: list[np.ndarray] = field(default_factory=list)  # motion curve per clip
    video_peaks: list[np.ndarray] = field(default_factory=list)
    audio_peaks: list[np.ndarray] = field(default_factory=list)


def _silence_fields(video: torch.Tensor, silent: np.ndarray) -> dict[str, float]:
    s = M.silence_stats(video, silent)
    return {"silent_sum": float(s.silent_sum[0]), "silent_n": int(s.silent_n[0]),
            "active_sum": float(s.active_sum[0]), "active_n": int(s.active_n[0])}


def _columns(rows: list[dict]) -> dict[str, np.ndarray]:
    return {k: np.array([r[k] for r in rows], dtype=np.float64) for k in rows[0]}


def score_truth(clips: ClipSet, progress: bool = False) -> Scores:
    """The ground truth's own AV-Align and silence statistics: what a perfect model would score."""
    rows, out = [], Scores({})
    for i in tqdm(range(len(clips)), desc="ground truth", unit="clip", disable=not progress, leave=False):
        truth = clips.truth(i)
        av = M.av_align(clips.audio[i, 0].numpy(), clips.sample_rate, clips.video[i], clips.fps)
        rows.append({"av_align": av.score, **_silence_fields(truth, clips.silent[i])})
        out.motion.append(av.motion)
        out.video_peaks.append(av.video_peaks)
        out.audio_peaks.append(av.audio_peaks)
    out.values = _columns(rows)
    return out


@torch.no_grad()
def score_model(model: VideoModel, clips: ClipSet, batch_size: int = 2, device: torch.device | str = "cpu",
                keep: Sequence[int] = (), progress: bool = False, label: str = "model"
                ) -> tuple[Scores, dict[int, torch.Tensor]]:
    """Run `model` on every clip and score each prediction. Returns the scores and the predictions (uint8
    (T, 3, H, W)) of the clips in `keep`. Memory holds one batch of predictions (plus the previous clip's,
    for the shuffle gap), whatever the number of clips."""
    device = torch.device(device)
    model.eval()
    n = len(clips)
    rows: list[dict] = []
    kept: dict[int, torch.Tensor] = {}
    out = Scores({})
    prev = last = None
    bar = tqdm(total=n, desc=label, unit="clip", disable=not progress, leave=False)
    for start in range(0, n, batch_size):
        with autocast(device):
            preds = model(clips.audio[start:start + batch_size].to(device)).float().cpu().clamp_(0, 1)
        for j, pred in enumerate(preds):
            i = start + j
            truth = clips.truth(i)
            row = {"mse": M.mse(pred, truth).item(), "psnr": M.psnr(pred, truth).item(),
                   "ssim": M.ssim(pred, truth).item(), "temporal_error": M.temporal_error(pred, truth).item(),
                   "flicker_index": M.flicker_index(pred, truth).item(),
                   # the shuffle gap's numerator: this clip's truth against another clip's prediction
                   "shuffled_mse": M.mse(prev, truth).item() if prev is not None else math.nan}
            row.update(_silence_fields(pred, clips.silent[i]))
            av = M.av_align(clips.audio[i, 0].numpy(), clips.sample_rate, pred, clips.fps)
            row["av_align"] = av.score
            out.motion.append(av.motion)
            out.video_peaks.append(av.video_peaks)
            out.audio_peaks.append(av.audio_peaks)
            rows.append(row)
            if i in keep:
                kept[i] = pred.mul(255).round_().to(torch.uint8)
            prev = last = pred
        bar.update(len(preds))
    bar.close()
    if n > 1:  # close the cycle: clip 0 against the last clip's prediction
        rows[0]["shuffled_mse"] = M.mse(last, clips.truth(0)).item()
    out.values = _columns(rows)
    return out, kept


# ---- aggregates and the bootstrap -----------------------------------------------------------------------------

def _quiet_nanmean(x: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(x, axis=-1)


def statistic(name: str, v: dict[str, np.ndarray], idx: np.ndarray | None = None) -> np.ndarray | float:
    """The aggregate of metric `name` over clips `idx` (any shape (..., k) of clip indices; all clips if None).

    Means over clips, ignoring clips where the metric is undefined, except two ratios pooled over clips:
    shuffle_gap = sum of shuffled MSE / sum of MSE, and silence_response = mean change over all silent
    transitions / mean change over all sounding ones (of the clips that have silence)."""
    if idx is None:
        idx = np.arange(len(next(iter(v.values()))))
    with np.errstate(invalid="ignore", divide="ignore"):
        if name in PER_CLIP_MEAN:
            result = _quiet_nanmean(v[name][idx])
        elif name == "shuffle_gap":
            result = v["shuffled_mse"][idx].sum(-1) / v["mse"][idx].sum(-1)
        elif name == "silence_response":
            has = v["silent_n"][idx] > 0
            s = (v["silent_sum"][idx] * has).sum(-1) / (v["silent_n"][idx] * has).sum(-1)
            a = (v["active_sum"][idx] * has).sum(-1) / (v["active_n"][idx] * has).sum(-1)
            result = M.silence_ratio(s, a)
        else:
            raise KeyError(name)
    return float(result) if np.ndim(result) == 0 else result


def per_clip(name: str, v: dict[str, np.ndarray]) -> np.ndarray:
    """Each clip's own value of a metric (for the pooled ratios: the clip's own ratio)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if name in PER_CLIP_MEAN:
            return v[name]
        if name == "shuffle_gap":
            return v["shuffled_mse"] / v["mse"]
        if name == "silence_response":
            return M.silence_ratio(v["silent_sum"] / v["silent_n"], v["active_sum"] / v["active_n"])
    raise KeyError(name)


def clips_counted(name: str, v: dict[str, np.ndarray]) -> int:
    if name == "silence_response":
        return int((v["silent_n"] > 0).sum())
    if name == "shuffle_gap":
        return int(np.isfinite(v["shuffled_mse"]).sum())
    return int(np.isfinite(per_clip(name, v)).sum())


def goodness(name: str, value):
    """A number that grows as the metric gets better: for verdicts of "which model is better"."""
    direction = M.METRICS[name][0]
    if direction == "lower":
        return -np.asarray(value)
    if direction == "higher":
        return np.asarray(value)
    return -np.abs(np.asarray(value) - 1.0)  # closer to 1


def resample_indices(n: int, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def _interval(samples: np.ndarray, min_share: float = 0.5) -> tuple[float, float]:
    """Percentile 95% interval of bootstrap samples; resamples where the statistic is undefined (e.g. no clip
    with silence drawn) are left out, and with fewer than `min_share` of them defined there is no interval."""
    samples = np.asarray(samples, dtype=np.float64).reshape(-1)
    finite = samples[np.isfinite(samples)]
    if len(finite) < 2 or len(finite) < min_share * len(samples):
        return math.nan, math.nan
    samples = finite
    lo, hi = np.percentile(samples, [2.5, 97.5])
    return float(lo), float(hi)


def confidence_interval(name: str, v: dict[str, np.ndarray], idx: np.ndarray) -> tuple[float, float]:
    """Bootstrap 95% interval of one model's aggregate."""
    return _interval(np.asarray(statistic(name, v, idx), dtype=np.float64))


@dataclass
class Difference:
    metric: str
    point: float  # aggregate(B) - aggregate(A) on all clips
    ci95: tuple[float, float]
    verdict: str  # "B better", "A better" or "no clear difference"
    clips: int  # clips where both are defined
    per_clip: list[float]  # B - A of each clip's own value


def paired_difference(name: str, a: dict[str, np.ndarray], b: dict[str, np.ndarray], idx: np.ndarray,
                      label_a: str = "A", label_b: str = "B") -> Difference:
    point = statistic(name, b) - statistic(name, a)
    sa, sb = np.asarray(statistic(name, a, idx)), np.asarray(statistic(name, b, idx))
    ci = _interval(sb - sa)
    g_lo, g_hi = _interval(goodness(name, sb) - goodness(name, sa))
    verdict = "no clear difference"
    if g_lo > 0:
        verdict = f"{label_b} better"
    elif g_hi < 0:
        verdict = f"{label_a} better"
    with np.errstate(invalid="ignore"):
        diffs = per_clip(name, b) - per_clip(name, a)
    return Difference(name, float(point), ci, verdict, int(np.isfinite(diffs).sum()), diffs.tolist())


# ---- output: staging, json, markdown --------------------------------------------------------------------------

@contextmanager
def staged_output(out: str | Path) -> Iterator[Path]:
    """A temporary folder beside `out` that becomes `out` (or whose files move into an existing `out`) only when
    the work succeeds, so an error or Ctrl-C leaves nothing half-written."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as e:
        raise UserError(f"{out}: cannot write here ({e.strerror or e})") from None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~umask())
        if not out.exists():
            os.replace(tmp, out)
            return
        for f in tmp.iterdir():
            os.replace(f, out / f.name)
        tmp.rmdir()
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def jsonable(x):
    """NaN -> null, ±inf -> "inf"/"-inf" (strict JSON has neither), numpy scalars -> Python numbers."""
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if math.isnan(x):
            return None
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    return x


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(jsonable(data), indent=1, allow_nan=False) + "\n")


def fmt(x, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if isinstance(x, float) and math.isinf(x):
        return "∞" if x > 0 else "−∞"
    x = float(x)
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        return f"{x:.{digits - 1}e}".replace("-", "−")
    return f"{x:.{digits}g}".replace("-", "−") if abs(x) < 10 else f"{x:.{max(1, digits - 2)}f}".replace("-", "−")


def _ci(ci: tuple[float, float]) -> str:
    return f"[{fmt(ci[0])}, {fmt(ci[1])}]"


# ---- plots ----------------------------------------------------------------------------------------------------

def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


REFERENCE_LINES = {"ssim": 1.0, "flicker_index": 1.0, "shuffle_gap": 1.0}


def plot_metric_bars(path: Path, results: dict[str, dict], truth: dict[str, float]) -> Path:
    """One panel per metric: a bar per model with its bootstrap 95% interval; dashed: the ground truth (or, for
    the shuffle gap, the 1.0 of a model that ignores the audio)."""
    plt = _plt()
    fig, axes = plt.subplots(2, 4, figsize=(14, 6))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, name in zip(axes.flat, METRIC_NAMES):
        for k, (label, r) in enumerate(results.items()):
            value, (lo, hi) = r["metrics"][name], r["ci95"][name]
            if value is None or not math.isfinite(value):
                ax.text(k, 0.5, fmt(value), ha="center", va="center", transform=ax.get_xaxis_transform())
                continue
            err = None
            if math.isfinite(lo) and math.isfinite(hi):
                err = [[max(value - lo, 0)], [max(hi - value, 0)]]
            ax.bar(k, value, color=colors[k % len(colors)], yerr=err, capsize=4)
        ref = truth.get(name, REFERENCE_LINES.get(name))
        if ref is not None and math.isfinite(ref):
            label = "ground truth" if name in truth else ("ignores audio" if name == "shuffle_gap" else "ideal")
            ax.axhline(ref, color="k", ls="--", lw=1, label=label)
            ax.legend(fontsize=7, loc="best")
        ax.set_ylim(0, ax.get_ylim()[1] if ax.get_ylim()[1] > 0 else 1)  # every metric here is >= 0
        ax.set_xlim(-0.6, len(results) - 0.4)
        ax.set_xticks(range(len(results)), list(results), rotation=15, fontsize=8)
        ax.set_title(f"{name} ({M.METRICS[name][0]})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_frame_strip(path: Path, truth: torch.Tensor, preds: dict[str, torch.Tensor], fps: float,
                     count: int = 8) -> Path:
    """Evenly spaced frames: the ground truth on top, each model's prediction below."""
    plt = _plt()
    rows = {"ground truth": truth, **preds}
    t = truth.shape[0]
    picks = np.linspace(0, t - 1, min(count, t)).round().astype(int)
    fig, axes = plt.subplots(len(rows), len(picks), figsize=(1.4 * len(picks), 1.5 * len(rows)), squeeze=False)
    for r, (label, video) in enumerate(rows.items()):
        for c, f in enumerate(picks):
            ax = axes[r, c]
            ax.imshow(video[f].permute(1, 2, 0).numpy())
            ax.set_xticks([]), ax.set_yticks([])
            if r == 0:
                ax.set_title(f"{f / fps:.2f} s", fontsize=8)
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_sync(path: Path, audio: np.ndarray, sample_rate: int, fps: float, silent: np.ndarray,
              curves: dict[str, tuple[np.ndarray, np.ndarray]], audio_peaks: np.ndarray) -> Path:
    """Top: the audio's onset envelope with its AV-Align peaks; bottom, on the same time axis: the motion curve
    (mean optical-flow magnitude) of the ground truth and each model, with their peaks. Silence is shaded."""
    plt = _plt()
    env, times = M.onset_envelope(audio, sample_rate)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 4.5), sharex=True)
    top.plot(times, env, color="0.3", lw=1)
    for p in audio_peaks:
        top.axvline(p, color="tab:red", lw=0.8, alpha=0.6)
    top.set_ylabel("onset strength")
    top.set_title("audio onsets (red) and video motion peaks (dots)", fontsize=9)
    for label, (curve, peaks) in curves.items():
        t = np.arange(len(curve)) / fps
        line, = bottom.plot(t, curve, lw=1, label=label)
        idx = np.round(np.asarray(peaks) * fps).astype(int)
        bottom.plot(idx / fps, curve[idx] if len(idx) else [], "o", ms=3, color=line.get_color())
    for p in audio_peaks:
        bottom.axvline(p, color="tab:red", lw=0.8, alpha=0.3)
    bottom.axhline(M.PEAK_THRESHOLD, color="k", ls=":", lw=0.8)
    for ax in (top, bottom):
        for start, end in _runs(silent):
            ax.axvspan(start / fps, end / fps, color="0.85", zorder=0)
    bottom.set_ylabel("motion (px/frame)")
    bottom.set_xlabel("time (s)")
    bottom.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    runs, start = [], None
    for i, m in enumerate(list(mask) + [False]):
        if m and start is None:
            start = i
        elif not m and start is not None:
            runs.append((start, i))
            start = None
    return runs


def write_side_by_side(path: Path, truth: torch.Tensor, preds: Sequence[torch.Tensor], audio: np.ndarray,
                       sample_rate: int, fps: float) -> Path:
    """Ground truth | model A | model B | ... side by side, with the clip's audio."""
    from .generate import to_uint8_rgb
    from .media import Mp4Writer, audio_frames_from_array

    side = torch.cat([truth, *preds], dim=-1).float() / 255  # (T, 3, H, (k+1) W)
    h, w = side.shape[-2:]
    scale = max(1, 256 // h)
    with Mp4Writer(path, fps, width=w * scale, height=h * scale, audio=audio_frames_from_array(audio, sample_rate),
                   audio_rate=sample_rate, audio_channels=1, preset="veryfast") as writer:
        writer.write(to_uint8_rgb(side))
    return path


# ---- the commands ---------------------------------------------------------------------------------------------

def check_eval_dependencies() -> None:
    M._librosa()
    M._cv2()


def load_checkpoint(directory: str | Path, device: torch.device) -> VideoModel:
    directory = Path(directory)
    if (directory / "checkpoints" / "best").is_dir() and not (directory / "config.json").exists():
        raise UserError(f"{directory}: is a run directory, not a checkpoint; pass {directory / 'checkpoints' / 'best'}")
    return load_model(directory, map_location=device)


def choose_examples(clips: ClipSet, count: int) -> list[int]:
    """The first `count` clips, with the first clip that has silence among them (the sync plot shows it)."""
    picks = list(range(min(count, len(clips))))
    silent = [i for i in range(len(clips)) if clips.silent[i].any()]
    if picks and silent and not any(i in silent for i in picks):
        picks[-1] = silent[0]
    return picks


def summarize(name: str, scores: Scores, idx: np.ndarray) -> dict:
    return {"metrics": {m: statistic(m, scores.values) for m in METRIC_NAMES},
            "ci95": {m: confidence_interval(m, scores.values, idx) for m in METRIC_NAMES},
            "clips_counted": {m: clips_counted(m, scores.values) for m in METRIC_NAMES}}


def _per_clip_table(clips: ClipSet, scores: Scores) -> list[dict]:
    rows = []
    values = {m: per_clip(m, scores.values) for m in METRIC_NAMES}
    for i, clip_id in enumerate(clips.ids):
        row = {"clip": clip_id, "has_silence": bool(clips.silent[i].any())}
        row.update({m: values[m][i] for m in METRIC_NAMES})
        row.update({k: scores.values[k][i] for k in ("shuffled_mse", "silent_n", "active_n")})
        rows.append(row)
    return rows


def _truth_reference(truth: Scores) -> dict[str, float]:
    return {"av_align": statistic("av_align", truth.values),
            "silence_response": statistic("silence_response", truth.values)}


def _model_info(model: VideoModel, path: str | Path, label: str) -> dict:
    return {"name": label, "path": str(path), "kind": model.config.kind,
            "parameters": sum(p.numel() for p in model.parameters())}


def _plots(tmp: Path, clips: ClipSet, truth: Scores, examples: list[int], preds: dict[str, dict[int, torch.Tensor]],
           scores: dict[str, Scores], results: dict[str, dict]) -> list[str]:
    made = [plot_metric_bars(tmp / "metrics.png", results, _truth_reference(truth)).name]
    for i in examples:
        made.append(plot_frame_strip(tmp / f"strip_{clips.ids[i]}.png", clips.truth(i),
                                     {label: p[i].float() / 255 for label, p in preds.items()}, clips.fps).name)
        curves = {"ground truth": (truth.motion[i], truth.video_peaks[i])}
        curves.update({label: (s.motion[i], s.video_peaks[i]) for label, s in scores.items()})
        made.append(plot_sync(tmp / f"sync_{clips.ids[i]}.png", clips.audio[i, 0].numpy(), clips.sample_rate,
                              clips.fps, clips.silent[i], curves, truth.audio_peaks[i]).name)
    return made


def _definitions_md() -> list[str]:
    lines = ["## Definitions", ""]
    lines += [f"- **{name}** ({direction} is better): {text}" for name, (direction, text) in M.METRICS.items()]
    lines += ["", "Aggregates are means over clips, except shuffle_gap (sum of shuffled MSE ÷ sum of MSE; each clip's "
              "truth against the previous clip's prediction) and silence_response (pooled over the clips that have "
              "silence). 95% intervals: bootstrap over clips, "
              f"{BOOTSTRAP_RESAMPLES} resamples, seed {BOOTSTRAP_SEED}, percentile method. AV-Align is the 2025-fixed "
              "reference variant (one-to-one matching within ±1/fps), computed on the 8-bit frames in memory; "
              "published AV-Align numbers come from several variants, so compare only numbers computed the same way. "
              "See docs/evaluation.md."]
    return lines


def run_evaluate(checkpoint: str | Path, out: str | Path, n: int = 64, data: str = "procedural", style: str = "audio",
                 batch_size: int = 2,
                 device: str = "auto", examples: int = 3, progress: bool = True, command: str = "") -> dict:
    """Evaluate one checkpoint; writes metrics.json, report.md and PNGs to `out`. Returns the metrics dict."""
    from .runtime import resolve_device

    check_eval_dependencies()
    dev = resolve_device(device)
    model = load_checkpoint(checkpoint, dev)
    if data != "procedural":
        video_files(data)  # a bad --data fails before any work
    with staged_output(out) as tmp:
        clips = load_clips(data, model.config, n, style, progress)
        picks = choose_examples(clips, examples)
        truth = score_truth(clips, progress)
        scores, kept = score_model(model, clips, batch_size, dev, keep=picks, progress=progress)
        idx = resample_indices(len(clips))
        summary = summarize("model", scores, idx)
        ref = _truth_reference(truth)
        info = _model_info(model, checkpoint, "model")
        result = {"checkpoint": info, "data": clips.description, "clips": len(clips), "device": str(dev),
                  "clips_with_silence": int(clips.silent.any(axis=1).sum()), **summary,
                  "ground_truth": ref, "bootstrap": {"resamples": BOOTSTRAP_RESAMPLES, "seed": BOOTSTRAP_SEED},
                  "definitions": {k: {"better": d, "definition": t} for k, (d, t) in M.METRICS.items()},
                  "per_clip": _per_clip_table(clips, scores), "command": command}
        write_json(tmp / "metrics.json", result)
        plots = _plots(tmp, clips, truth, picks, {"model": kept}, {"model": scores}, {"model": summary})
        (tmp / "report.md").write_text(_evaluate_report(result, plots))
    return result


def _evaluate_report(r: dict, plots: list[str]) -> str:
    c = r["checkpoint"]
    truth_col = {"mse": "0", "psnr": "∞", "ssim": "1", "temporal_error": "0", "flicker_index": "1",
                 "shuffle_gap": "—", "silence_response": fmt(r["ground_truth"]["silence_response"]),
                 "av_align": fmt(r["ground_truth"]["av_align"])}
    lines = [f"# Evaluation of `{c['path']}`", "",
             f"Model: {c['kind']}, {c['parameters']:,} parameters. Data: {r['data']}.", ""]
    if r.get("command"):
        lines += ["```bash", r["command"], "```", ""]
    lines += ["| metric | better | model | 95% CI | ground truth | clips |", "| --- | --- | --- | --- | --- | --- |"]
    for m in METRIC_NAMES:
        lines.append(f"| {m} | {M.METRICS[m][0]} | {fmt(r['metrics'][m])} | {_ci(r['ci95'][m])} | {truth_col[m]} "
                     f"| {r['clips_counted'][m]} |")
    lines += ["", f"silence_response is computed over the {r['clips_with_silence']} of {r['clips']} clips that have "
              "a silent segment; n/a means undefined (no silence, or the video does not move while sound plays — "
              "a fail, not a perfect score).", ""]
    lines += _plot_section(plots)
    lines += [""] + _definitions_md()
    return "\n".join(lines) + "\n"


def _plot_section(plots: list[str]) -> list[str]:
    lines = ["## Plots", "", "![metrics](metrics.png)", ""]
    for p in plots[1:]:
        kind = "Frames (ground truth on top)" if p.startswith("strip_") else "Onset envelope and motion curves"
        lines += [f"{kind}, {p.split('_', 1)[1].rsplit('.', 1)[0]}:", "", f"![{p}]({p})", ""]
    return lines


def default_labels(paths: Sequence[str | Path]) -> list[str]:
    """Short names: the run folder for `RUN/checkpoints/NAME` (plus NAME unless it is 'best'), else the folder."""
    labels = []
    for p in paths:
        p = Path(p).resolve()
        if p.parent.name == "checkpoints":
            label = p.parent.parent.name + ("" if p.name == "best" else f"/{p.name}")
        else:
            label = p.name
        labels.append(label)
    if len(set(labels)) != len(labels):
        labels = [chr(ord("A") + k) if k < 26 else f"M{k}" for k in range(len(paths))]
    return labels


def run_compare(checkpoints: Sequence[str | Path], out: str | Path, names: Sequence[str] | None = None, n: int = 64,
                data: str = "procedural", style: str = "audio", batch_size: int = 2, device: str = "auto",
                examples: int = 3,
                progress: bool = True, command: str = "") -> dict:
    """The same held-out clips through every checkpoint; each later checkpoint against the first (B − A)."""
    from .runtime import resolve_device

    if len(checkpoints) < 2:
        raise UserError("compare needs at least two checkpoints")
    labels = list(names) if names else default_labels(checkpoints)
    if len(labels) != len(checkpoints):
        raise UserError(f"--names gives {len(labels)} names for {len(checkpoints)} checkpoints")
    if len(set(labels)) != len(labels):
        raise UserError(f"--names must be distinct, not {', '.join(labels)}")
    check_eval_dependencies()
    dev = resolve_device(device)
    models = [load_checkpoint(c, dev) for c in checkpoints]
    first = models[0].config
    sizes = ("sample_rate", "clip_seconds", "frames", "frame_size")
    for path, m in zip(checkpoints[1:], models[1:]):
        diff = [s for s in sizes if getattr(m.config, s) != getattr(first, s)]
        if diff:
            raise UserError(f"{path}: makes different clips than {checkpoints[0]} ("
                            + ", ".join(f"{s} {getattr(m.config, s)} vs {getattr(first, s)}" for s in diff) + ")")
    if data != "procedural":
        video_files(data)
    with staged_output(out) as tmp:
        clips = load_clips(data, first, n, style, progress)
        picks = choose_examples(clips, examples)
        truth = score_truth(clips, progress)
        scores, kept = {}, {}
        for label, model in zip(labels, models):
            scores[label], kept[label] = score_model(model, clips, batch_size, dev, keep=picks, progress=progress,
                                                     label=label)
        idx = resample_indices(len(clips))
        summaries = {label: summarize(label, s, idx) for label, s in scores.items()}
        base = labels[0]
        differences = {}
        for label in labels[1:]:
            differences[f"{label} - {base}"] = {
                m: vars(paired_difference(m, scores[base].values, scores[label].values, idx, base, label))
                for m in METRIC_NAMES}
        ref = _truth_reference(truth)
        result = {"checkpoints": [_model_info(m, p, label) for m, p, label in zip(models, checkpoints, labels)],
                  "data": clips.description, "clips": len(clips), "device": str(dev),
                  "clips_with_silence": int(clips.silent.any(axis=1).sum()), "ground_truth": ref,
                  "models": {label: {**summaries[label], "per_clip": _per_clip_table(clips, scores[label])}
                             for label in labels},
                  "differences": differences,
                  "bootstrap": {"resamples": BOOTSTRAP_RESAMPLES, "seed": BOOTSTRAP_SEED, "paired": True},
                  "definitions": {k: {"better": d, "definition": t} for k, (d, t) in M.METRICS.items()},
                  "command": command}
        write_json(tmp / "metrics.json", result)
        plots = _plots(tmp, clips, truth, picks, kept, scores, summaries)
        videos = []
        for i in picks:
            videos.append(write_side_by_side(tmp / f"side_by_side_{clips.ids[i]}.mp4", clips.video[i],
                                             [kept[label][i] for label in labels], clips.audio[i, 0].numpy(),
                                             clips.sample_rate, clips.fps).name)
        (tmp / "report.md").write_text(_compare_report(result, labels, plots, videos))
    return result


def _compare_report(r: dict, labels: list[str], plots: list[str], videos: list[str]) -> str:
    base = labels[0]
    lines = ["# Comparison: " + " vs ".join(f"`{x}`" for x in labels), ""]
    for c in r["checkpoints"]:
        lines.append(f"- **{c['name']}**: `{c['path']}` — {c['kind']}, {c['parameters']:,} parameters")
    lines += ["", f"Data: {r['data']}.", ""]
    if r.get("command"):
        lines += ["```bash", r["command"], "```", ""]
    head = "| metric | better | " + " | ".join(labels) + " | ground truth |"
    lines += ["Each model's aggregate with its bootstrap 95% interval:", "", head,
              "| --- " * (len(labels) + 3) + "|"]
    truth_col = {"silence_response": fmt(r["ground_truth"]["silence_response"]),
                 "av_align": fmt(r["ground_truth"]["av_align"]), "ssim": "1", "mse": "0", "psnr": "∞",
                 "temporal_error": "0", "flicker_index": "1", "shuffle_gap": "—"}
    for m in METRIC_NAMES:
        cells = [f"{fmt(r['models'][x]['metrics'][m])} {_ci(r['models'][x]['ci95'][m])}" for x in labels]
        lines.append(f"| {m} | {M.METRICS[m][0]} | " + " | ".join(cells) + f" | {truth_col[m]} |")
    for key, diffs in r["differences"].items():
        label = key.split(" - ")[0]
        lines += ["", f"Paired differences {label} − {base} over the same clips (bootstrap 95% CI; the verdict "
                  "needs the interval of the improvement to exclude 0):", "",
                  f"| metric | better | {label} − {base} | 95% CI | verdict | clips |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for m in METRIC_NAMES:
            d = diffs[m]
            lines.append(f"| {m} | {M.METRICS[m][0]} | {fmt(d['point'])} | {_ci(d['ci95'])} | {d['verdict']} "
                         f"| {d['clips']} |")
    lines += ["", f"silence_response is computed over the {r['clips_with_silence']} of {r['clips']} clips that have a "
              "silent segment; n/a means undefined (no silence, or the video does not move while sound plays).", ""]
    lines += ["## Side-by-side videos (ground truth | " + " | ".join(labels) + ", with the audio)", ""]
    lines += [f"- [{v}]({v})" for v in videos] + [""]
    lines += _plot_section(plots)
    lines += [""] + _definitions_md()
    return "\n".join(lines) + "\n"


def command_line(words: Sequence[str]) -> str:
    """A shell command line from words, quoted where needed (for reports: how to reproduce them)."""
    import shlex

    return " ".join(shlex.quote(str(w)) for w in words)
