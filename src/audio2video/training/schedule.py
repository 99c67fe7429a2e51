"""The learning-rate schedule and the per-step seeds that make a run a pure function of its config and step."""
from __future__ import annotations

import math

import numpy as np

from .config import TrainConfig


def lr_factor(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up to 1, then cosine decay to min_lr_ratio at the last step."""
    warm = cfg.schedule.warmup_steps
    if step < warm:
        return (step + 1) / warm
    progress = (step - warm) / max(1, cfg.steps - warm)
    floor = cfg.schedule.min_lr_ratio
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def step_seed(cfg: TrainConfig, step: int, rank: int) -> int:
    """The seed of step `step` on rank `rank` (dropout, shuffles): resuming repeats the same randomness."""
    return int(np.random.SeedSequence([cfg.seed, step, rank]).generate_state(1)[0])
