"""Plots of an evaluation: metric bars with intervals, frame strips, and onset/motion sync curves.

Drawn with matplotlib's object API on an Agg canvas: no global backend is switched.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from ..metrics import METRIC_NAMES, METRICS, PEAK_THRESHOLD, onset_envelope
from .report import fmt


def _figure(**kwargs):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


REFERENCE_LINES = {"ssim": 1.0, "flicker_index": 1.0, "shuffle_gap": 1.0}


def plot_metric_bars(path: Path, results: dict[str, dict], truth: dict[str, float]) -> Path:
    """One panel per metric: a bar per model with its bootstrap 95% interval; dashed: the ground truth (or, for
    the shuffle gap, the 1.0 of a model that ignores the audio)."""
    from matplotlib import rcParams

    cols = 5
    rows = -(-len(METRIC_NAMES) // cols)
    fig = _figure(figsize=(3.2 * cols, 3 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat[len(METRIC_NAMES):]:
        ax.set_visible(False)
    colors = rcParams["axes.prop_cycle"].by_key()["color"]
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
        ax.set_title(f"{name} ({METRICS[name].better})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return path


def plot_frame_strip(path: Path, truth: torch.Tensor, preds: dict[str, torch.Tensor], fps: float,
                     count: int = 8) -> Path:
    """Evenly spaced frames: the ground truth on top, each model's prediction below."""
    rows = {"ground truth": truth, **preds}
    t = truth.shape[0]
    picks = np.linspace(0, t - 1, min(count, t)).round().astype(int)
    fig = _figure(figsize=(1.4 * len(picks), 1.5 * len(rows)))
    axes = fig.subplots(len(rows), len(picks), squeeze=False)
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
    return path


def plot_sync(path: Path, audio: np.ndarray, sample_rate: int, fps: float, silent: np.ndarray,
              curves: dict[str, tuple[np.ndarray, np.ndarray]], audio_peaks: np.ndarray) -> Path:
    """Top: the audio's onset envelope with its AV-Align peaks; bottom, on the same time axis: the motion curve
    (mean optical-flow magnitude) of the ground truth and each model, with their peaks. Silence is shaded."""
    env, times = onset_envelope(audio, sample_rate)
    fig = _figure(figsize=(10, 4.5))
    top, bottom = fig.subplots(2, 1, sharex=True)
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
    bottom.axhline(PEAK_THRESHOLD, color="k", ls=":", lw=0.8)
    for ax in (top, bottom):
        for start, end in _runs(silent):
            ax.axvspan(start / fps, end / fps, color="0.85", zorder=0)
    bottom.set_ylabel("motion (px/frame)")
    bottom.set_xlabel("time (s)")
    bottom.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
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
