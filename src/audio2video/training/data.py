"""The training stream and the held-out set, both made by the procedural engine at the model's clip geometry.

Step s of rank r trains on procedural samples k = (s * world + r) * batch_size + i: a run's batches are a pure
function of its config and the step, whatever the number of DataLoader workers.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader, Dataset

from ..data.procedural import EngineConfig, engine_config_for, heldout_set, make_sample
from ..models import ClipSizeError
from .config import ConfigError, TrainConfig


def engine_config(cfg: TrainConfig) -> EngineConfig:
    try:
        return engine_config_for(cfg.model.clip_spec(), cfg.data.style)
    except (ClipSizeError, ValueError) as e:
        raise ConfigError(str(e)) from None


class TrainClips(Dataset):
    """Map-style view of the training stream: item k is procedural sample k of the run's base seed."""

    def __init__(self, cfg: TrainConfig):
        self.seed, self.engine = cfg.data.seed, engine_config(cfg)

    def __len__(self) -> int:  # effectively unbounded
        return 2 ** 62

    def __getitem__(self, k: int):
        s = make_sample(self.seed, k, "train", self.engine)
        return torch.from_numpy(s.audio), torch.from_numpy(s.video)


class StepBatches:
    """Batch sampler: the indices of steps start..steps-1 for one rank."""

    def __init__(self, start: int, steps: int, batch: int, rank: int, world: int):
        self.start, self.steps, self.batch, self.rank, self.world = start, steps, batch, rank, world

    def __len__(self) -> int:
        return self.steps - self.start

    def __iter__(self):
        for s in range(self.start, self.steps):
            first = (s * self.world + self.rank) * self.batch
            yield list(range(first, first + self.batch))


def train_loader(cfg: TrainConfig, start: int, rank: int, world: int) -> DataLoader:
    return DataLoader(TrainClips(cfg), batch_sampler=StepBatches(start, cfg.steps, cfg.batch_size, rank, world),
                      num_workers=cfg.data.num_workers, persistent_workers=False,
                      prefetch_factor=4 if cfg.data.num_workers else None)


@dataclass
class HeldOut:
    audio: torch.Tensor  # (N, 1, samples) float32
    video: torch.Tensor  # (N, T, 3, H, W) uint8 (float32 for all N would not fit at spec size)

    def truth(self, i: int) -> torch.Tensor:
        return self.video[i].float() / 255


def load_heldout(cfg: TrainConfig) -> HeldOut:
    """The first data.val_clips clips of the engine's held-out set: the same clips `evaluate -n N` scores."""
    ds = heldout_set(cfg.data.val_clips, engine_config(cfg))
    audio, video = zip(*(ds[k] for k in range(len(ds))))
    return HeldOut(torch.stack(audio), (torch.stack(video) * 255).round().to(torch.uint8))
