"""Validation during training: the loss and the registry's metrics on the fixed held-out set.

val_mse, val_psnr, shuffle_gap and val_motion_corr are the metric registry's mse, psnr, shuffle_gap and
motion_corr (see metrics.registry),
computed exactly as `audio2video evaluate` computes them, so a run's curve and an evaluation of its checkpoint
on the same clips report the same numbers. val_loss is the training objective (losses.per_clip_loss),
averaged over clips.
"""
from __future__ import annotations

from pathlib import Path

import torch

from ..io.frames import write_side_by_side
from ..metrics import Scorer
from ..models import VideoModel
from ..runtime import autocast, eval_mode
from .config import TrainConfig
from .data import HeldOut
from .losses import per_clip_loss

# metrics.jsonl key -> registry metric
LOGGED = {"val_mse": "mse", "val_psnr": "psnr", "shuffle_gap": "shuffle_gap", "val_motion_corr": "motion_corr"}


@torch.no_grad()
def validate(model: VideoModel, data: HeldOut, cfg: TrainConfig, device: torch.device) -> tuple[dict, torch.Tensor]:
    """Loss, MSE, PSNR, shuffle gap and motion correlation on the held-out set. Returns (metrics, first clip's prediction)."""
    scorer = Scorer(tuple(LOGGED.values()))
    losses, first = [], None
    with eval_mode(model):
        for i in range(0, len(data.audio), cfg.batch_size):
            with autocast(device):
                preds = model(data.audio[i:i + cfg.batch_size].to(device)).float().cpu().clamp_(0, 1)
            for j, pred in enumerate(preds):
                truth = data.truth(i + j)
                scorer.add(pred, truth)
                losses.append(per_clip_loss(pred[None], truth[None], cfg.loss))
                first = pred if first is None else first
    results = scorer.results()
    metrics = {"val_loss": torch.cat(losses).mean().item()}
    metrics.update({key: results[name] for key, name in LOGGED.items()})
    if len(data.audio) < 2:  # a shuffle needs two clips
        metrics.pop("shuffle_gap")
    return metrics, first


def write_sample_video(path: Path, truth: torch.Tensor, pred: torch.Tensor, audio: torch.Tensor,
                       cfg: TrainConfig) -> Path:
    """Ground truth | prediction side by side, with the clip's audio."""
    m = cfg.model
    return write_side_by_side(path, [truth, pred], audio.numpy(), m.sample_rate, m.fps)
