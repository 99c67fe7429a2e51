"""AudioToVideoNetLegacy: the same CNN encoder (ReLU) and a per-frame MLP decoder, no transformer.

Kept for A/B tests of what the transformer and the CNN decoder bring to temporal coherence.
"""
from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig
from .layers import AudioEncoder, conv_stages
from .modeling import VideoModel


class AudioToVideoNetLegacy(VideoModel):
    """(B, 1, 48000) -> (B, 90, 3, 128, 128) with an MLP 256 -> 512 -> 1024 -> 3*128*128; 51,213,728 parameters."""

    kind = "legacy"

    def __init__(self, config: ModelConfig | None = None):
        super().__init__(config or ModelConfig(kind="legacy"))
        cfg = self.config
        self.encoder = AudioEncoder(cfg, activation=nn.ReLU)
        layers: list[nn.Module] = []
        width = cfg.d_model
        for hidden in cfg.mlp_hidden:
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        layers += [nn.Linear(width, 3 * cfg.frame_size * cfg.frame_size), nn.Sigmoid()]
        self.decoder = nn.Sequential(*layers)

    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        return self.encoder(self._check_audio(audio))

    def decode(self, features: torch.Tensor) -> torch.Tensor:
        b, t, _ = features.shape
        size = self.config.frame_size
        return self.decoder(features).view(b, t, 3, size, size)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(audio))

    def stages(self) -> list[tuple[str, str, list[nn.Module]]]:
        linears = [i for i, m in enumerate(self.decoder) if isinstance(m, nn.Linear)]
        mlp = [(f"mlp{n + 1}", "decoder", list(self.decoder[i:i + 2])) for n, i in enumerate(linears)]
        return (conv_stages(self.encoder.convs, "conv", "encoder")
                + [("interpolate", "encoder", [self.encoder.to_frames])] + mlp)
