"""The training stream and the held-out sets, made at the model's clip geometry by the procedural engine and,
with data.music, from the user's own audio files drawn by the same visualizers.

Step s of rank r trains on samples k = (s * world + r) * batch_size + i; whether sample k is a window of
data.music (with probability data.music_ratio), and its random gain, come from an RNG seeded by (seed, k): a
run's batches are a pure function of its config and the step, whatever the number of DataLoader workers.
Each item is (audio, video, controls): controls are the teacher's per-frame control signals.
"""
from __future__ import annotations

import signal
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..data.music_files import MusicLibrary, music_sample
from ..data.procedural import EngineConfig, engine_config_for, heldout_set, make_sample
from ..models import ClipSizeError
from .config import ConfigError, TrainConfig
from .signals import STOP_SIGNALS


def engine_config(cfg: TrainConfig) -> EngineConfig:
    try:
        return engine_config_for(cfg.model.clip_spec(), cfg.data.style)
    except (ClipSizeError, ValueError) as e:
        raise ConfigError(str(e)) from None


def music_library(cfg: TrainConfig, log=None) -> MusicLibrary | None:
    """The run's data.music files, decoded and analysed (cached on disk), or None without data.music."""
    if not cfg.data.music:
        return None
    return MusicLibrary(cfg.data.music, engine_config(cfg).spec, cache_dir=cfg.data.music_cache or None, log=log)


class TrainClips(Dataset):
    """Map-style view of the training stream: item k is sample k of the run's base seed (see the module doc)."""

    def __init__(self, cfg: TrainConfig):
        self.cfg, self.seed, self.engine = cfg, cfg.data.seed, engine_config(cfg)
        self._library: MusicLibrary | None = None       # opened lazily in each process (memory-mapped files)

    def __len__(self) -> int:  # effectively unbounded
        return 2 ** 62

    def library(self) -> MusicLibrary | None:
        if self._library is None and self.cfg.data.music:
            self._library = music_library(self.cfg)
        return self._library

    def __getstate__(self):  # DataLoader workers reopen the cache rather than receive copies of the files
        return {**self.__dict__, "_library": None}

    def __getitem__(self, k: int):
        rng = np.random.default_rng((self.seed, k, 0xA2F))
        use_music = bool(self.cfg.data.music) and rng.random() < self.cfg.data.music_ratio
        if use_music:
            s = music_sample(self.library(), self.seed, k, "train")
        else:
            s = make_sample(self.seed, k, "train", self.engine)
        audio = s.audio
        if self.cfg.data.gain_db > 0:
            gain = 10 ** (rng.uniform(-self.cfg.data.gain_db, self.cfg.data.gain_db) / 20)
            audio = np.clip(audio * np.float32(gain), -1.0, 1.0)
        return torch.from_numpy(audio), torch.from_numpy(s.video), torch.from_numpy(s.controls)


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


def leave_signals_to_the_trainer(_worker_id: int) -> None:
    """A SIGTERM or SIGINT sent to the whole process group (Ctrl-C, a scheduler's stop, `kill -- -PGID`) must
    reach only the trainer, which saves a checkpoint and then shuts its workers down: a worker that died of the
    signal first would crash the trainer before it could save. The worker starts with the signals blocked
    (`workers_started`), so one that arrives before this runs stays pending and is discarded here."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def workers_started(loader: DataLoader):
    """iter(loader) with SIGTERM/SIGINT blocked while its workers are forked: between a worker's start and its
    worker_init_fn, PyTorch's own SIGTERM handler would let it die of a signal meant for the trainer. The
    trainer receives a signal that arrived meanwhile as soon as the workers exist."""
    if not loader.num_workers or not hasattr(signal, "pthread_sigmask"):
        return iter(loader)
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        return iter(loader)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def train_loader(cfg: TrainConfig, start: int, rank: int, world: int) -> DataLoader:
    return DataLoader(TrainClips(cfg), batch_sampler=StepBatches(start, cfg.steps, cfg.batch_size, rank, world),
                      num_workers=cfg.data.num_workers, persistent_workers=False,
                      prefetch_factor=4 if cfg.data.num_workers else None,
                      worker_init_fn=leave_signals_to_the_trainer)


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


def load_heldout_music(cfg: TrainConfig, library: MusicLibrary | None) -> HeldOut | None:
    """data.val_music_clips windows of data.music's held-out files (None without any)."""
    if library is None or not library.count("heldout") or cfg.data.val_music_clips == 0:
        return None
    clips = [music_sample(library, cfg.data.seed, k, "heldout") for k in range(cfg.data.val_music_clips)]
    return HeldOut(torch.from_numpy(np.stack([c.audio for c in clips])),
                   (torch.from_numpy(np.stack([c.video for c in clips])) * 255).round().to(torch.uint8))
