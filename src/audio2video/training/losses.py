"""Training objectives: reconstruction (MSE + optional L1 + temporal difference) and audio-dependence pressure."""
from __future__ import annotations

import torch

from ..metrics.temporal import frame_change
from .config import LossConfig


def per_clip_loss(pred: torch.Tensor, target: torch.Tensor, cfg: LossConfig, pairs: bool = False) -> torch.Tensor:
    """(B, T, 3, H, W) x2 -> (B,) weighted reconstruction loss of each clip. With `pairs`, the frames are pairs
    of adjacent frames (t, t + 1, t', t' + 1, ...) and the temporal term compares the change within each pair."""
    dims = tuple(range(1, pred.dim()))
    err = pred - target
    loss = cfg.mse * err.pow(2).mean(dims)
    if cfg.l1:
        loss = loss + cfg.l1 * err.abs().mean(dims)
    if cfg.temporal and pred.shape[1] > 1:
        if pairs:
            d_err = (pred[:, 1::2] - pred[:, 0::2]) - (target[:, 1::2] - target[:, 0::2])
        else:
            d_err = (pred[:, 1:] - pred[:, :-1]) - (target[:, 1:] - target[:, :-1])
        loss = loss + cfg.temporal * d_err.pow(2).mean(dims)
    if cfg.motion and pred.shape[1] > 1:
        loss = loss + cfg.motion * motion_envelope_loss(pred, target, pairs)
    return loss


def motion_envelope_loss(pred: torch.Tensor, target: torch.Tensor, pairs: bool = False) -> torch.Tensor:
    """(B,) squared error between the predicted and the true motion envelopes, relative to the true envelope's
    mean square. One number per frame pair, so it weighs when and how much the picture moves, not where: the
    per-pixel temporal term is dominated by spatial detail that the model cannot place yet."""
    p, t = frame_change(pred), frame_change(target)
    if pairs:  # frames t, t + 1, t', t' + 1, ...: keep the changes within each pair
        p, t = p[:, 0::2], t[:, 0::2]
    return (p - t).pow(2).mean(1) / (t.pow(2).mean(1) + 1e-4)


def control_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """MSE between the head's control signals and the teacher's, (B, T, C) each."""
    return (pred - target).pow(2).mean()


def derangement(batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """A random permutation that moves every clip: a cyclic shift by 1..B-1 of the batch."""
    shift = int(torch.randint(1, batch, (1,), generator=generator))
    return torch.roll(torch.arange(batch), shift)


def shuffled_loss(pred: torch.Tensor, target: torch.Tensor, cfg: LossConfig, perm: torch.Tensor,
                  pairs: bool = False) -> torch.Tensor:
    """The loss with audio shuffled within the batch, per clip.

    Each clip is decoded independently, so model(audio[perm]) == model(audio)[perm] up to BatchNorm batch
    statistics: the predictions already made stand in for a second forward pass.
    """
    return per_clip_loss(pred[perm.to(pred.device)], target, cfg, pairs)


def shuffle_hinge(loss_true: torch.Tensor, loss_shuffled: torch.Tensor, margin: float) -> torch.Tensor:
    """Zero once the shuffled-audio loss exceeds the true loss by `margin` (relative), positive before."""
    return torch.relu((1 + margin) * loss_true - loss_shuffled).mean()
