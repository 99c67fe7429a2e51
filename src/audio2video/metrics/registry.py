"""The one definition of every metric: its name, direction, per-clip values and aggregation over clips.

Training's validation and `evaluate` / `compare` both score predictions with a `Scorer` and aggregate with
`aggregate`, so a name always means one number: `val_psnr` in metrics.jsonl and `psnr` in an evaluation report
are the same computation on the same clips.

A metric is computed in two steps. Per clip, the Scorer records *columns* (plain numbers: the clip's MSE, its
shuffled MSE, its silent and active frame-change sums, ...). Over clips, the metric's aggregation turns columns
into one value, for all clips or for bootstrap resamples of them (indices of any shape (..., k)).
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .audio_dependence import gap_ratio, silence_ratio, silence_stats
from .av_align import AVAlign, av_align
from .reconstruction import mse, psnr, ssim
from .temporal import flicker_index, motion_corr, temporal_error

Columns = dict[str, np.ndarray]


@dataclass(frozen=True)
class Metric:
    name: str
    better: str  # "lower", "higher" or "closer to 1"
    definition: str
    columns: tuple[str, ...]  # the per-clip columns it is computed from
    aggregate: Callable[[Columns, np.ndarray], np.ndarray]  # columns, clip indices (..., k) -> value(s)
    per_clip: Callable[[Columns], np.ndarray]  # each clip's own value
    ideal: str  # what the ground truth itself scores, for report tables ("" when it depends on the clips)


def _nanmean(x: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(x, axis=-1)


def _mean_of(column: str) -> tuple[Callable, Callable]:
    return (lambda v, idx: _nanmean(v[column][idx])), (lambda v: v[column])


def _shuffle_gap(v: Columns, idx: np.ndarray) -> np.ndarray:
    return gap_ratio(v["shuffled_mse"][idx], v["mse"][idx])


def _silence_response(v: Columns, idx: np.ndarray) -> np.ndarray:
    has = v["silent_n"][idx] > 0
    s = (v["silent_sum"][idx] * has).sum(-1) / (v["silent_n"][idx] * has).sum(-1)
    a = (v["active_sum"][idx] * has).sum(-1) / (v["active_n"][idx] * has).sum(-1)
    return silence_ratio(s, a)


SILENCE_COLUMNS = ("silent_sum", "silent_n", "active_sum", "active_n")

METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("mse", "lower", "mean squared pixel error against the ground truth (pixels in [0, 1])", ("mse",),
           *_mean_of("mse"), "0"),
    Metric("psnr", "higher", "per-frame PSNR in dB, 10·log10(1/MSE), averaged over frames (+inf if identical)",
           ("psnr",), *_mean_of("psnr"), "∞"),
    Metric("ssim", "higher", "per-frame SSIM (Gaussian 11×11, σ 1.5), averaged over frames and channels; "
                             "1 = identical", ("ssim",), *_mean_of("ssim"), "1"),
    Metric("temporal_error", "lower", "MSE between predicted and true frame-to-frame differences; 0 = same motion",
           ("temporal_error",), *_mean_of("temporal_error"), "0"),
    Metric("flicker_index", "closer to 1", "mean |frame difference| of the prediction ÷ that of the ground truth",
           ("flicker_index",), *_mean_of("flicker_index"), "1"),
    Metric("motion_corr", "higher", "correlation over frames between the prediction's frame change and the "
                                    "truth's: moves when the teacher moves; 1 = in lockstep, 0 = unrelated",
           ("motion_corr",), *_mean_of("motion_corr"), "1"),
    Metric("shuffle_gap", "higher", "MSE against another clip's truth (audio shuffled) ÷ MSE against its own; "
                                    "1.0 = the audio is ignored", ("mse", "shuffled_mse"), _shuffle_gap,
           lambda v: v["shuffled_mse"] / v["mse"], "—"),
    Metric("silence_response", "lower", "mean visual change inside silent segments ÷ while sound plays; "
                                        "< 1 = calmer in silence, undefined if the video is still while sound plays",
           SILENCE_COLUMNS, _silence_response,
           lambda v: silence_ratio(v["silent_sum"] / v["silent_n"], v["active_sum"] / v["active_n"]), ""),
    Metric("av_align", "higher", "AV-Align: matched audio onsets and motion peaks ÷ their union, in [0, 1]",
           ("av_align",), *_mean_of("av_align"), ""),
)}
METRIC_NAMES = tuple(METRICS)

AGGREGATION_NOTE = ("Aggregates are means over clips (ignoring clips where a metric is undefined), except "
                    "shuffle_gap (sum of shuffled MSE ÷ sum of MSE; each clip's truth against the previous clip's "
                    "prediction, the last clip's for the first) and silence_response (pooled over the clips that "
                    "have silence).")


def metric(name: str) -> Metric:
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRIC_NAMES)}") from None


def aggregate(name: str, v: Columns, idx: np.ndarray | None = None) -> np.ndarray | float:
    """The aggregate of metric `name` over clips `idx` (any shape (..., k) of clip indices; all clips if None)."""
    if idx is None:
        idx = np.arange(len(next(iter(v.values()))))
    with np.errstate(invalid="ignore", divide="ignore"):
        result = metric(name).aggregate(v, idx)
    return float(result) if np.ndim(result) == 0 else result


def per_clip(name: str, v: Columns) -> np.ndarray:
    """Each clip's own value of a metric (for the pooled ratios: the clip's own ratio)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(metric(name).per_clip(v), dtype=np.float64)


def clips_counted(name: str, v: Columns) -> int:
    """Clips that contribute to the aggregate."""
    if name == "silence_response":
        return int((v["silent_n"] > 0).sum())
    if name == "shuffle_gap":
        return int(np.isfinite(v["shuffled_mse"]).sum())
    return int(np.isfinite(per_clip(name, v)).sum())


def goodness(name: str, value):
    """A number that grows as the metric gets better: for verdicts of "which model is better"."""
    better = metric(name).better
    if better == "lower":
        return -np.asarray(value)
    if better == "higher":
        return np.asarray(value)
    return -np.abs(np.asarray(value) - 1.0)  # closer to 1


class Scorer:
    """Scores a stream of predictions, clip by clip, into the columns the chosen metrics need.

    Feed clips in order with `add(pred, truth, ...)` ((T, 3, H, W) float in [0, 1]); memory holds the previous
    prediction and the first clip's truth, whatever the number of clips. The shuffle gap scores each clip's
    truth against the previous clip's prediction (a cyclic shift: the first clip takes the last prediction),
    which equals model(shuffled audio) because every clip is decoded independently in eval mode."""

    def __init__(self, names: Sequence[str] = METRIC_NAMES, sample_rate: int | None = None, fps: float | None = None):
        self.names = tuple(names)
        needed = {c for n in self.names for c in metric(n).columns}
        self.needed = needed
        self.sample_rate, self.fps = sample_rate, fps
        self.rows: list[dict[str, float]] = []
        self.av: list[AVAlign] = []  # AV-Align details (motion curve, peaks) per clip, when scored
        self._prev: torch.Tensor | None = None
        self._first_truth: torch.Tensor | None = None

    def add(self, pred: torch.Tensor, truth: torch.Tensor, audio: np.ndarray | None = None,
            silent: np.ndarray | None = None) -> dict[str, float]:
        need, row = self.needed, {}
        if "mse" in need:
            row["mse"] = mse(pred, truth).item()
        if "psnr" in need:
            row["psnr"] = psnr(pred, truth).item()
        if "ssim" in need:
            row["ssim"] = ssim(pred, truth).item()
        if "temporal_error" in need:
            row["temporal_error"] = temporal_error(pred, truth).item()
        if "flicker_index" in need:
            row["flicker_index"] = flicker_index(pred, truth).item()
        if "motion_corr" in need:
            row["motion_corr"] = motion_corr(pred, truth).item()
        if "shuffled_mse" in need:
            row["shuffled_mse"] = mse(self._prev, truth).item() if self._prev is not None else math.nan
            if self._first_truth is None:
                self._first_truth = truth
        if need & set(SILENCE_COLUMNS):
            if silent is None:
                raise ValueError("silence_response needs each clip's silent-frame mask")
            s = silence_stats(pred, silent)
            row.update(silent_sum=float(s.silent_sum[0]), silent_n=int(s.silent_n[0]),
                       active_sum=float(s.active_sum[0]), active_n=int(s.active_n[0]))
        if "av_align" in need:
            if audio is None or self.sample_rate is None or self.fps is None:
                raise ValueError("av_align needs each clip's audio, the sample rate and the fps")
            av = av_align(audio, self.sample_rate, pred, self.fps)
            row["av_align"] = av.score
            self.av.append(av)
        self._prev = pred
        self.rows.append(row)
        return row

    def columns(self) -> Columns:
        """The per-clip columns of every clip added (closing the shuffle cycle)."""
        if not self.rows:
            raise ValueError("no clips were scored")
        if "shuffled_mse" in self.needed and len(self.rows) > 1:
            self.rows[0]["shuffled_mse"] = mse(self._prev, self._first_truth).item()
        return {k: np.array([r[k] for r in self.rows], dtype=np.float64) for k in self.rows[0]}

    def results(self) -> dict[str, float]:
        """The aggregate of every chosen metric over all clips."""
        v = self.columns()
        return {n: aggregate(n, v) for n in self.names}
