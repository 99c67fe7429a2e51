"""Temporal consistency: whether the prediction moves as the ground truth does."""
from __future__ import annotations

import math

import torch

from .reconstruction import as_batch, as_pair


def frame_change(video: torch.Tensor) -> torch.Tensor:
    """(B, T-1): mean absolute difference between consecutive frames (entry t is frame t+1 minus frame t)."""
    video = as_batch(video).float()
    return (video[:, 1:] - video[:, :-1]).abs().mean(dim=(2, 3, 4))


def temporal_error(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B,): mean squared difference between predicted and true frame-to-frame differences. 0 when the
    prediction changes exactly as the truth does (even if offset by a constant); lower is better."""
    pred, target = as_pair(pred, target)
    d = (pred[:, 1:] - pred[:, :-1]) - (target[:, 1:] - target[:, :-1])
    return d.pow(2).mean(dim=(1, 2, 3, 4))


def flicker_index(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B,): mean |frame difference| of the prediction ÷ that of the ground truth. 1 = as much change as the
    truth; above 1 the prediction flickers more, below it is too still. NaN where the truth does not move."""
    pred, target = as_pair(pred, target)
    p, q = frame_change(pred).mean(dim=1), frame_change(target).mean(dim=1)
    return torch.where(q > 0, p / q.clamp_min(1e-12), torch.full_like(p, math.nan))


def motion_corr(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B,): Pearson correlation, over a clip's frames, between the prediction's frame change and the truth's:
    whether the video moves when (and as much as) the teacher's does, whatever its pictures look like. 1 =
    motion in lockstep, 0 = unrelated; NaN where either does not move at all. Higher is better."""
    pred, target = as_pair(pred, target)
    p, q = frame_change(pred).double(), frame_change(target).double()
    p, q = p - p.mean(dim=1, keepdim=True), q - q.mean(dim=1, keepdim=True)
    den = p.norm(dim=1) * q.norm(dim=1)
    return torch.where(den > 1e-12, (p * q).sum(dim=1) / den.clamp_min(1e-12), torch.full_like(den, math.nan)).float()
