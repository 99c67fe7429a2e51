"""`audio2video evaluate` and `audio2video compare`: checkpoints on held-out clips -> metrics.json, report.md, plots.

Evaluate is a compare of one: both go through `_score_all`. The held-out clips (the procedural engine's held-out
seed space by default, never seen in training) are made once; each model predicts every clip; the metric
registry scores each prediction against its ground truth, and each clip's truth against the previous clip's
prediction for the shuffle gap (a cyclic shift, i.e. a derangement). The ground truth's own AV-Align and
silence response are reported beside the model's, as a reference.

`compare` reports, for every metric, the difference B − A with a paired bootstrap 95% interval (see
`bootstrap`). Per-clip paired differences go into metrics.json.
"""
from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import UserError, describe
from ..io.files import check_output_dir, staged_dir
from ..io.frames import write_side_by_side
from ..metrics import (METRIC_NAMES, METRICS, AVAlign, aggregate, av_align_file, clips_counted, per_clip,
                       require_eval_dependencies)
from ..models import VideoModel, load_model
from ..runtime import resolve_device
from .bootstrap import (BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, confidence_interval, paired_difference,
                        resample_indices)
from .clips import ClipSet, load_clips, video_files
from .plots import plot_frame_strip, plot_metric_bars, plot_sync
from .report import compare_report, evaluate_report, write_json
from .scoring import TRUTH_METRICS, Scores, score_model, score_truth

CLIP_SIZES = ("sample_rate", "clip_seconds", "frames", "frame_size")


@dataclass
class EvalOptions:
    """What both commands share; the checks are the commands' argument checks."""
    n: int = 64
    data: str = "procedural"
    style: str = "audio"
    batch_size: int = 2
    device: str = "auto"
    examples: int = 3
    progress: bool = True
    command: str = ""  # the command line that reproduces the report

    def __post_init__(self) -> None:
        if self.n < 1:
            raise UserError(f"-n must be a positive integer, not {self.n}")
        if self.batch_size < 1:
            raise UserError(f"--batch-size must be a positive integer, not {self.batch_size}")
        if self.examples < 0:
            raise UserError(f"--examples must be 0 or more, not {self.examples}")
        if self.style not in ("audio", "seed"):
            raise UserError(f"--style must be audio or seed, not {self.style!r}")


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


def summarize(scores: Scores, idx: np.ndarray) -> dict:
    return {"metrics": {m: aggregate(m, scores.values) for m in METRIC_NAMES},
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


def _model_info(model: VideoModel, path: str | Path, label: str) -> dict:
    return {"name": label, "path": str(path), "kind": model.config.kind,
            "parameters": sum(p.numel() for p in model.parameters())}


@dataclass
class Scored:
    """Everything both reports are made from."""
    clips: ClipSet
    picks: list[int]
    truth: Scores
    scores: dict[str, Scores]
    kept: dict[str, dict[int, torch.Tensor]]
    summaries: dict[str, dict]
    idx: np.ndarray
    ground_truth: dict[str, float] = field(default_factory=dict)


def _load_models(checkpoints: Sequence[str | Path], options: EvalOptions) -> tuple[list[VideoModel], torch.device]:
    require_eval_dependencies()
    dev = resolve_device(options.device)
    models = [load_checkpoint(c, dev) for c in checkpoints]
    first = models[0].config
    for path, m in zip(checkpoints[1:], models[1:]):
        diff = [s for s in CLIP_SIZES if getattr(m.config, s) != getattr(first, s)]
        if diff:
            raise UserError(f"{path}: makes different clips than {checkpoints[0]} ("
                            + ", ".join(f"{s} {getattr(m.config, s)} vs {getattr(first, s)}" for s in diff) + ")")
    if options.data != "procedural":
        video_files(options.data)  # a bad --data fails before any work
    return models, dev


def _score_all(models: list[VideoModel], labels: list[str], options: EvalOptions, dev: torch.device) -> Scored:
    clips = load_clips(options.data, models[0].config, options.n, options.style, options.progress)
    picks = choose_examples(clips, options.examples)
    truth = score_truth(clips, options.progress)
    scores, kept = {}, {}
    for label, model in zip(labels, models):
        scores[label], kept[label] = score_model(model, clips, options.batch_size, dev, keep=picks,
                                                 progress=options.progress, label=label)
    idx = resample_indices(len(clips))
    summaries = {label: summarize(s, idx) for label, s in scores.items()}
    ground_truth = {m: aggregate(m, truth.values) for m in TRUTH_METRICS}
    return Scored(clips, picks, truth, scores, kept, summaries, idx, ground_truth)


def _plots(tmp: Path, s: Scored) -> list[str]:
    clips, truth = s.clips, s.truth
    made = [plot_metric_bars(tmp / "metrics.png", s.summaries, s.ground_truth).name]
    for i in s.picks:
        made.append(plot_frame_strip(tmp / f"strip_{clips.ids[i]}.png", clips.truth(i),
                                     {label: p[i].float() / 255 for label, p in s.kept.items()}, clips.fps).name)
        curves = {"ground truth": (truth.motion[i], truth.video_peaks[i])}
        curves.update({label: (sc.motion[i], sc.video_peaks[i]) for label, sc in s.scores.items()})
        made.append(plot_sync(tmp / f"sync_{clips.ids[i]}.png", clips.audio[i, 0].numpy(), clips.sample_rate,
                              clips.fps, clips.silent[i], curves, truth.audio_peaks[i]).name)
    return made


def _common(s: Scored, dev: torch.device, options: EvalOptions) -> dict:
    return {"data": s.clips.description, "clips": len(s.clips), "device": str(dev),
            "clips_with_silence": int(s.clips.silent.any(axis=1).sum())}


def _definitions() -> dict:
    return {m.name: {"better": m.better, "definition": m.definition} for m in METRICS.values()}


def run_evaluate(checkpoint: str | Path, out: str | Path, n: int = 64, data: str = "procedural", style: str = "audio",
                 batch_size: int = 2, device: str = "auto", examples: int = 3, progress: bool = True,
                 command: str = "", overwrite: bool = False) -> dict:
    """Evaluate one checkpoint; writes metrics.json, report.md and PNGs to `out` (an existing, non-empty `out`
    needs `overwrite`). Returns the metrics dict."""
    options = EvalOptions(n, data, style, batch_size, device, examples, progress, command)
    check_output_dir(out, overwrite)
    (model,), dev = _load_models([checkpoint], options)
    with staged_dir(out, overwrite) as tmp:
        s = _score_all([model], ["model"], options, dev)
        result = {"checkpoint": _model_info(model, checkpoint, "model"), **_common(s, dev, options),
                  **s.summaries["model"], "ground_truth": s.ground_truth,
                  "bootstrap": {"resamples": BOOTSTRAP_RESAMPLES, "seed": BOOTSTRAP_SEED},
                  "definitions": _definitions(), "per_clip": _per_clip_table(s.clips, s.scores["model"]),
                  "command": command}
        write_json(tmp / "metrics.json", result)
        (tmp / "report.md").write_text(evaluate_report(result, _plots(tmp, s)))
    return result


def default_labels(paths: Sequence[str | Path]) -> list[str]:
    """Short names: the run folder for `RUN/checkpoints/NAME` (plus NAME unless it is 'best'), else the folder."""
    labels = []
    for p in paths:
        p = Path(os.path.abspath(p))  # not resolve(): checkpoints/best is a link, and its name is the label
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
                examples: int = 3, progress: bool = True, command: str = "", overwrite: bool = False) -> dict:
    """The same held-out clips through every checkpoint; each later checkpoint against the first (B − A)."""
    if len(checkpoints) < 2:
        raise UserError("compare needs at least two checkpoints")
    labels = list(names) if names else default_labels(checkpoints)
    if len(labels) != len(checkpoints):
        raise UserError(f"--names gives {len(labels)} names for {len(checkpoints)} checkpoints")
    if len(set(labels)) != len(labels):
        raise UserError(f"--names must be distinct, not {', '.join(labels)}")
    options = EvalOptions(n, data, style, batch_size, device, examples, progress, command)
    check_output_dir(out, overwrite)
    models, dev = _load_models(checkpoints, options)
    with staged_dir(out, overwrite) as tmp:
        s = _score_all(models, labels, options, dev)
        base = labels[0]
        differences = {f"{label} - {base}": {m: vars(paired_difference(m, s.scores[base].values,
                                                                       s.scores[label].values, s.idx, base, label))
                                             for m in METRIC_NAMES} for label in labels[1:]}
        result = {"checkpoints": [_model_info(m, p, label) for m, p, label in zip(models, checkpoints, labels)],
                  **_common(s, dev, options), "ground_truth": s.ground_truth,
                  "models": {label: {**s.summaries[label], "per_clip": _per_clip_table(s.clips, s.scores[label])}
                             for label in labels},
                  "differences": differences,
                  "bootstrap": {"resamples": BOOTSTRAP_RESAMPLES, "seed": BOOTSTRAP_SEED, "paired": True},
                  "definitions": _definitions(), "command": command}
        write_json(tmp / "metrics.json", result)
        plots = _plots(tmp, s)
        videos = [write_side_by_side(tmp / f"side_by_side_{s.clips.ids[i]}.mp4",
                                     [s.clips.video[i], *(s.kept[label][i] for label in labels)],
                                     s.clips.audio[i, 0].numpy(), s.clips.sample_rate, s.clips.fps).name
                  for i in s.picks]
        (tmp / "report.md").write_text(compare_report(result, labels, plots, videos))
    return result


@dataclass
class FileScores:
    """AV-Align of several video files: each file's result or error (one line, naming the file), and the mean of
    the defined scores."""
    results: dict[str, AVAlign | str]

    @property
    def failed(self) -> int:
        return sum(isinstance(r, str) for r in self.results.values())

    @property
    def defined(self) -> list[float]:
        return [r.score for r in self.results.values() if isinstance(r, AVAlign) and not math.isnan(r.score)]

    @property
    def mean(self) -> float:
        return sum(self.defined) / len(self.defined) if self.defined else math.nan


def av_align_files(paths: Sequence[str | Path]) -> FileScores:
    """AV-Align of each file; with several files a bad one, whatever its failure, is recorded and skipped (Ctrl-C
    and SIGTERM are not caught); a single bad file raises."""
    results: dict[str, AVAlign | str] = {}
    for path in paths:
        try:
            results[str(path)] = av_align_file(path)
        except Exception as e:  # noqa: BLE001 - one bad file must not end the loop; describe() words any failure
            if len(paths) == 1:
                raise
            message = describe(e)
            results[str(path)] = message if str(path) in message else f"{path}: {message}"
    return FileScores(results)
