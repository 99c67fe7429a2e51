"""Where a model's numbers are computed during generation: an `Engine` encodes windows of audio into per-frame
features and decodes features into frames, so a caller can cross-fade features in window overlaps and decode
each output frame exactly once. `pipelines.inference.TorchEngine` and `pipelines.onnx_backend.OnnxEngine`
implement it; `pipelines.inference.make_engine` picks one.
"""
from __future__ import annotations

import os

import numpy as np
import torch

from ..io.frames import to_uint8
from ..models.config import ModelConfig


class Engine:
    """The interface `render_frames` uses. Features are torch tensors (B, T, d) / (N, d); frames come back as
    uint8 numpy arrays (N, H, W, 3) or float tensors (N, 3, H, W) in [0, 1]."""

    config: ModelConfig
    name = "engine"
    has_features = True   # False: only whole windows (`video`), so only the pixel cross-fade applies
    decode_chunk = 32     # frames per decoder call
    workers = 1           # decoder calls that may run at once, on as many threads
    window_batch = 4      # windows per encoder call when the caller does not say

    def features(self, audio: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def frames(self, features: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def frames_uint8(self, features: torch.Tensor) -> np.ndarray:
        return to_uint8(self.frames(features))

    def video(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, 1, N) -> (B, T, 3, H, W) float."""
        feats = self.features(audio)
        b, t, d = feats.shape
        return self.frames(feats.reshape(b * t, d)).reshape(b, t, *self.frames_shape())

    def frames_shape(self) -> tuple[int, int, int]:
        return (3, self.config.frame_size, self.config.frame_size)

    def plan(self, total_frames: int) -> None:
        """Told the input's length before rendering: spend set-up time now (a fold, a compile) if that pays off."""

    def describe(self) -> str:
        return self.name


def cpu_cores() -> int:
    """The cores this process may use: OMP_NUM_THREADS when set (the user's cap), else the CPU affinity."""
    try:
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    except (KeyError, ValueError):
        pass
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)
