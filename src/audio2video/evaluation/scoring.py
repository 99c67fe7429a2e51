"""Scoring: every prediction of a model (and the ground truth itself) through the metric registry's Scorer."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm import tqdm

from ..metrics import METRIC_NAMES, AVAlign, Scorer
from ..runtime import autocast, eval_mode
from .clips import ClipSet

TRUTH_METRICS = ("silence_response", "av_align")  # what the ground truth scores against itself


@dataclass
class Scores:
    """Per-clip columns (arrays of length N) for one video source (a model, or the ground truth)."""
    values: dict[str, np.ndarray]
    motion: list[np.ndarray] = field(default_factory=list)  # motion curve per clip
    video_peaks: list[np.ndarray] = field(default_factory=list)
    audio_peaks: list[np.ndarray] = field(default_factory=list)

    @classmethod
    def from_scorer(cls, scorer: Scorer) -> "Scores":
        av: list[AVAlign] = scorer.av
        return cls(scorer.columns(), [a.motion for a in av], [a.video_peaks for a in av], [a.audio_peaks for a in av])


def score_truth(clips: ClipSet, progress: bool = False) -> Scores:
    """The ground truth's own AV-Align and silence statistics: what a perfect model would score."""
    scorer = Scorer(TRUTH_METRICS, clips.sample_rate, clips.fps)
    for i in tqdm(range(len(clips)), desc="ground truth", unit="clip", disable=not progress, leave=False):
        scorer.add(clips.truth(i), clips.truth(i), audio=clips.audio[i, 0].numpy(), silent=clips.silent[i])
    return Scores.from_scorer(scorer)


@torch.no_grad()
def score_model(model: torch.nn.Module, clips: ClipSet, batch_size: int = 2, device: torch.device | str = "cpu",
                keep: Sequence[int] = (), progress: bool = False, label: str = "model",
                names: Sequence[str] = METRIC_NAMES) -> tuple[Scores, dict[int, torch.Tensor]]:
    """Run `model` (in eval mode; its mode is restored afterwards) on every clip and score each prediction.
    Returns the scores and the predictions (uint8 (T, 3, H, W)) of the clips in `keep`. Memory holds one batch
    of predictions (plus the previous clip's, for the shuffle gap), whatever the number of clips."""
    device = torch.device(device)
    scorer = Scorer(names, clips.sample_rate, clips.fps)
    kept: dict[int, torch.Tensor] = {}
    bar = tqdm(total=len(clips), desc=label, unit="clip", disable=not progress, leave=False)
    with eval_mode(model), bar:
        for start in range(0, len(clips), batch_size):
            with autocast(device):
                preds = model(clips.audio[start:start + batch_size].to(device)).float().cpu().clamp_(0, 1)
            for j, pred in enumerate(preds):
                i = start + j
                scorer.add(pred, clips.truth(i), audio=clips.audio[i, 0].numpy(), silent=clips.silent[i])
                if i in keep:
                    kept[i] = pred.mul(255).round_().to(torch.uint8)
            bar.update(len(preds))
    return Scores.from_scorer(scorer), kept
