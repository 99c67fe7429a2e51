"""The procedural dataset: (audio, video) pairs made on the fly, reproducibly.

Sample k of base seed s is a pure function of (s, k, split, config): its generator is seeded from
SeedSequence(entropy=s, spawn_key=(split, k)). Training and held-out samples use different spawn keys, so the
two seed spaces never meet. In `__iter__` the sample indices are dealt out across DDP ranks and DataLoader
workers (k = start + shard + i * n_shards, shard = rank * num_workers + worker), so each sample is yielded
exactly once, and sample k is the same sample whatever the number of workers or ranks (the caller passes
rank and world size explicitly).

    ds = ProceduralDataset(length=1000, base_seed=0)     # finite; length=None streams forever
    audio, video = ds[0]                                 # also works in a DataLoader with any num_workers
    val = heldout_set(64)                                # the fixed validation set
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from .clip import ClipSpec
from .controls import control_signals
from .features import FeatureTimeline, compute_features
from .music import MusicConfig, Song, generate_music
from .style import STYLE_MODES, make_style
from .visualizers.compositor import Style, composite

SPLITS = {"train": 0, "heldout": 1}
HELDOUT_SEED = 20240917


@dataclass
class EngineConfig:
    spec: ClipSpec = field(default_factory=ClipSpec)
    music: MusicConfig = field(default_factory=MusicConfig)
    style: str = "audio"            # "audio" (the look follows the sound; the default) or "seed" (random looks)
    n_bands: int = 12

    def __post_init__(self):
        if self.style not in STYLE_MODES:
            raise ValueError(f"unknown style mode {self.style!r}; choose from {STYLE_MODES}")


def engine_config_for(clip, style: str = "audio") -> EngineConfig:
    """The engine settings that make clips of geometry `clip`: a ClipSpec, or anything that converts to one with
    `clip_spec()` (a ModelConfig). Training and evaluation both use it, so a model is always scored on clips made
    exactly like the ones it learned from."""
    spec = clip if isinstance(clip, ClipSpec) else clip.clip_spec()
    return EngineConfig(spec=spec, style=style)


@dataclass
class Sample:
    audio: np.ndarray               # (1, num_samples) float32
    video: np.ndarray               # (num_frames, 3, H, W) float32 in [0, 1]
    song: Song
    timeline: FeatureTimeline
    style: Style
    meta: dict
    controls: np.ndarray            # (num_frames, len(CONTROL_NAMES)) float32: what drives the layers, per frame


def sample_rng(base_seed: int, k: int, split: str = "train") -> np.random.Generator:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose from {tuple(SPLITS)}")
    return np.random.default_rng(np.random.SeedSequence(entropy=int(base_seed), spawn_key=(SPLITS[split], int(k))))


def make_sample(base_seed: int, k: int, split: str = "train", config: EngineConfig | None = None) -> Sample:
    """Sample k of a base seed: music, features, style, then the rendered clip."""
    cfg = config or EngineConfig()
    rng = sample_rng(base_seed, k, split)
    music_rng, style_rng = rng.spawn(2)
    song = generate_music(music_rng, cfg.spec, cfg.music)
    tl = compute_features(song.waveform, cfg.spec, cfg.n_bands)
    style = make_style(cfg.style, tl, style_rng)
    video = composite(tl, style, cfg.spec)
    meta = {"base_seed": int(base_seed), "index": int(k), "split": split,
            "visualizers": [layer.visualizer for layer in style.layers], "events": song.events,
            "music": song.metadata(), "features": tl.summary(), "style": style.to_dict(), "spec": cfg.spec.to_dict()}
    return Sample(song.waveform[None, :], video, song, tl, style, meta, control_signals(tl))


def _shard() -> tuple[int, int]:
    info = get_worker_info()
    return (info.id, info.num_workers) if info is not None else (0, 1)


class ProceduralDataset(IterableDataset):
    """Yields (audio (1, N) float32, video (T, 3, H, W) float32 in [0, 1]), plus a metadata dict when
    `return_meta` (batch those with `collate_with_meta`). `length=None` streams forever.

    `rank` / `world_size` deal the indices across processes (default 0 / 1): the caller that knows the process
    group passes them; the dataset never reads global distributed state."""

    def __init__(self, length: int | None = None, base_seed: int = 0, split: str = "train",
                 config: EngineConfig | None = None, rank: int = 0, world_size: int = 1,
                 start: int = 0, return_meta: bool = False):
        super().__init__()
        if length is not None and length < 0:
            raise ValueError("length must be >= 0 or None")
        sample_rng(base_seed, 0, split)  # validates the split
        self.length, self.base_seed, self.split = length, int(base_seed), split
        self.config = config or EngineConfig()
        self.rank, self.world_size, self.start, self.return_meta = rank, world_size, int(start), return_meta

    def __len__(self) -> int:
        if self.length is None:
            raise TypeError("an infinite ProceduralDataset has no length")
        return self.length

    def _rank_world(self) -> tuple[int, int]:
        rank, world = self.rank, self.world_size
        if not 0 <= rank < world:
            raise ValueError(f"rank {rank} is not in [0, {world})")
        return rank, world

    def sample(self, k: int) -> Sample:
        return make_sample(self.base_seed, k, self.split, self.config)

    def _item(self, k: int):
        s = self.sample(k)
        audio, video = torch.from_numpy(s.audio), torch.from_numpy(s.video)
        return (audio, video, s.meta) if self.return_meta else (audio, video)

    def __getitem__(self, k: int):
        if k < 0 or (self.length is not None and k >= self.length):
            raise IndexError(k)
        return self._item(k)

    def indices(self):
        """The sample indices this process (this rank and DataLoader worker) yields, in order."""
        rank, world = self._rank_world()
        worker, workers = _shard()
        shard, n_shards = rank * workers + worker, world * workers
        k = self.start + shard
        while self.length is None or k < self.length:
            yield k
            k += n_shards

    def __iter__(self):
        for k in self.indices():
            yield self._item(k)


def heldout_set(n: int = 64, config: EngineConfig | None = None, return_meta: bool = False) -> ProceduralDataset:
    """The fixed validation set: n samples from the held-out seed space (never produced by training)."""
    return ProceduralDataset(length=n, base_seed=HELDOUT_SEED, split="heldout", config=config,
                             return_meta=return_meta)


def collate_with_meta(batch):
    """Stack audio and video; keep the metadata dicts as a list."""
    audio, video, meta = zip(*batch)
    return torch.stack(audio), torch.stack(video), list(meta)
