"""Building blocks shared by the hybrid and legacy models, and the grouping of layers into summary stages."""
from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F

from .config import ModelConfig, encoder_padding


class AudioEncoder(nn.Module):
    """Conv1d stack 1 -> 32 -> 64 -> 128 -> 256 with stride 4, each conv followed by activation then BatchNorm.

    (B, 1, 48000) -> (B, 256, 187) at the spec's sizes; then linearly interpolated to (B, 256, frames).
    """

    def __init__(self, cfg: ModelConfig, activation: type[nn.Module] = nn.GELU):
        super().__init__()
        layers: list[nn.Module] = []
        in_ch = 1
        for i, (out_ch, k) in enumerate(zip(cfg.encoder_channels, cfg.encoder_kernels)):
            pad = encoder_padding(k, cfg.encoder_stride, i)
            layers += [nn.Conv1d(in_ch, out_ch, k, stride=cfg.encoder_stride, padding=pad), activation(),
                       nn.BatchNorm1d(out_ch)]
            in_ch = out_ch
        self.convs = nn.Sequential(*layers)
        self.to_frames = FrameInterpolation(cfg.frames)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, 1, samples) -> (B, frames, d_model), one feature vector per video frame."""
        return self.to_frames(self.convs(audio))


class FrameInterpolation(nn.Module):
    """(B, C, T_compressed) -> (B, frames, C): linear interpolation onto the video frame grid."""

    def __init__(self, frames: int):
        super().__init__()
        self.frames = frames

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, size=self.frames, mode="linear", align_corners=False).transpose(1, 2)


class SinusoidalPositionalEncoding(nn.Module):
    """The fixed sin/cos table of "Attention Is All You Need", added to a (B, T, d) sequence."""

    def __init__(self, d_model: int, max_len: int = 256):
        super().__init__()
        position = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
        inv_freq = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
        table = torch.zeros(max_len, d_model)
        table[:, 0::2] = torch.sin(position * inv_freq)
        table[:, 1::2] = torch.cos(position * inv_freq[: d_model // 2])
        # not a parameter and not saved: it is a pure function of (max_len, d_model)
        self.register_buffer("table", table, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.table[: x.shape[1]]


def conv_stages(seq: nn.Sequential, prefix: str, group: str) -> list[tuple[str, str, list[nn.Module]]]:
    """Group a conv/activation/norm Sequential into one summary stage per conv (for `audio2video info`)."""
    blocks: list[list[nn.Module]] = []
    for m in seq:
        if isinstance(m, (nn.Conv1d, nn.ConvTranspose2d)):
            blocks.append([])
        blocks[-1].append(m)
    return [(f"{prefix}{i + 1}", group, block) for i, block in enumerate(blocks)]
