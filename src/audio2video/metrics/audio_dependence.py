"""Audio dependence: whether the video follows its own audio (shuffle gap) and calms down in silence."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .reconstruction import as_pair, mse
from .temporal import frame_change

# Below this mean absolute frame change (a quarter of one 8-bit grey level) a video counts as still.
MOTION_FLOOR = 1e-3


def shuffle_gap(pred: torch.Tensor, target: torch.Tensor, perm: torch.Tensor | None = None) -> float:
    """Error with the audio shuffled across the batch ÷ error with the right audio, errors being MSE summed
    over clips: sum_i MSE(pred[perm[i]], target[i]) / sum_i MSE(pred[i], target[i]).

    `pred` must be model(audio) for the whole batch; since every clip is decoded independently (eval mode),
    model(audio[perm]) == model(audio)[perm], so no second forward pass is needed. `perm` must be a derangement
    (default: every clip takes the previous clip's prediction). 1.0 means the output ignores the audio; higher
    is better. NaN if the predictions are exact (0 / 0) or the batch has a single clip."""
    pred, target = as_pair(pred, target)
    n = len(pred)
    if n < 2:
        return math.nan
    perm = torch.roll(torch.arange(n), 1) if perm is None else torch.as_tensor(perm)
    if (perm == torch.arange(n)).any():
        raise ValueError("perm must move every clip (a derangement)")
    right, wrong = mse(pred, target).double().numpy(), mse(pred[perm], target).double().numpy()
    return float(gap_ratio(wrong, right)) if right.sum() > 0 else math.nan


def gap_ratio(shuffled_mse: np.ndarray, own_mse: np.ndarray) -> np.ndarray:
    """The shuffle gap of per-clip errors (last axis: clips): sum of shuffled MSE ÷ sum of own MSE."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(shuffled_mse).sum(-1) / np.asarray(own_mse).sum(-1)


@dataclass
class SilenceStats:
    """Sums of frame change over transitions inside silence and inside sound, per clip (arrays of length B)."""
    silent_sum: np.ndarray
    silent_n: np.ndarray
    active_sum: np.ndarray
    active_n: np.ndarray

    def ratio(self, clips: np.ndarray | slice = slice(None)) -> float:
        """Pooled silence response over the chosen clips (those without silence contribute nothing)."""
        sn, an = self.silent_n[clips].sum(), self.active_n[clips].sum()
        if sn == 0 or an == 0:
            return math.nan
        return silence_ratio(self.silent_sum[clips].sum() / sn, self.active_sum[clips].sum() / an)

    def per_clip(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return silence_ratio(self.silent_sum / self.silent_n, self.active_sum / self.active_n)


def silence_ratio(silent_change, active_change):
    """silent ÷ active mean change (floats or arrays); NaN (undefined: the video does not move while sound
    plays) where the active change is below MOTION_FLOOR or either is NaN."""
    s, a = np.asarray(silent_change, dtype=np.float64), np.asarray(active_change, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(a >= MOTION_FLOOR, s / a, math.nan)
    return float(r) if r.ndim == 0 else r


def silence_stats(video: torch.Tensor, silent: np.ndarray | torch.Tensor) -> SilenceStats:
    """Frame change (see `frame_change`) summed over transitions t -> t+1 where both frames are silent, and
    over those where both frames have sound (transitions into or out of silence count for neither).
    `silent`: (T,) or (B, T) bool, True for frames inside a silent segment."""
    change = frame_change(video).double().numpy()
    silent = np.asarray(silent, dtype=bool).reshape(change.shape[0], -1)
    if silent.shape[1] != change.shape[1] + 1:
        raise ValueError(f"silent has {silent.shape[1]} frames, the video {change.shape[1] + 1}")
    both_silent = silent[:, 1:] & silent[:, :-1]
    both_active = ~silent[:, 1:] & ~silent[:, :-1]
    return SilenceStats((change * both_silent).sum(1), both_silent.sum(1), (change * both_active).sum(1),
                        both_active.sum(1))


def silence_response(video: torch.Tensor, silent: np.ndarray | torch.Tensor) -> float:
    """Mean visual change inside silent segments ÷ mean visual change while sound plays, pooled over the
    clips given. Below 1 the video calms down when the sound stops (lower is better); about 1 it does not care.
    NaN (a failure, not a perfect score) when there is no silence, or the video is still while sound plays:
    a constant video has nothing to calm down from."""
    return silence_stats(video, silent).ratio()
