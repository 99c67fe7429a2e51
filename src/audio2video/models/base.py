"""What every audio2video model shares: its config, shape checks and save/load."""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .config import ModelConfig


class VideoModel(nn.Module):
    """Base of both models: (B, 1, samples) audio in [-1, 1] -> (B, frames, 3, H, W) video in [0, 1]."""

    kind: str = ""

    def __init__(self, config: ModelConfig):
        super().__init__()
        if config.kind != self.kind:
            config = config.replace(kind=self.kind)
        self.config = config

    def _check_audio(self, audio: torch.Tensor) -> torch.Tensor:
        if audio.dim() == 2:
            audio = audio.unsqueeze(1)
        n = self.config.num_samples
        if audio.dim() != 3 or audio.shape[1] != 1 or audio.shape[2] != n:
            raise ValueError(f"expected audio of shape (B, 1, {n}), got {tuple(audio.shape)}")
        return audio

    def stages(self) -> list[tuple[str, str, list[nn.Module]]]:
        """(stage name, component group, modules) in forward order, for `audio2video info`."""
        raise NotImplementedError

    def save_pretrained(self, directory: str | Path) -> Path:
        """Write config.json + model.safetensors into `directory` (created if needed), atomically."""
        from .hub import save_pretrained

        return save_pretrained(self, directory)

    @classmethod
    def from_pretrained(cls, directory: str | Path, map_location: str | torch.device = "cpu") -> "VideoModel":
        from .hub import load_model

        model = load_model(directory, map_location=map_location)
        if cls is not VideoModel and not isinstance(model, cls):
            from ..errors import CheckpointError

            raise CheckpointError(f"{directory}: holds a {model.kind!r} model, not a {cls.kind!r} one")
        return model
