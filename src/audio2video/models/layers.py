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


class LevelNorm(nn.Module):
    """The data engine's automatic gain (`data.onsets.normalize_level`) in torch: per video frame, the gain
    that brings the mean power of the surrounding second (Hann, +-0.5 s) to -20 dBFS, limited to [-30, +12] dB,
    interpolated between frame centres. A loud master and a quiet mix reach the encoder at the same level."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.frames = cfg.frames
        half = max(1, int(round(0.5 * cfg.fps)))
        w = torch.hann_window(2 * half + 3, periodic=False)[1:-1]
        self.register_buffer("window", w.view(1, 1, -1), persistent=False)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        b, _, n = audio.shape
        power = F.adaptive_avg_pool1d(audio.pow(2), self.frames)                       # (B, 1, frames)
        half = self.window.shape[-1] // 2
        num = F.conv1d(power, self.window, padding=half)
        den = F.conv1d(torch.ones_like(power[:1]), self.window, padding=half)
        db = 10 * torch.log10((num / den).clamp_min(1e-12))
        gain = torch.pow(10.0, (-20.0 - db).clamp(-30.0, 12.0) / 20)                     # (B, 1, frames)
        return audio * F.interpolate(gain, size=n, mode="linear", align_corners=False)


class LogMelPath(nn.Module):
    """Fixed DSP features as a second input path: log-mel (40 bands, 25 ms window, 10 ms hop) and its positive
    time difference (spectral flux: onsets, ready-made), projected to d_model by two convolutions and
    max-pooled onto the frame grid: (B, 1, N) -> (B, frames, d_model). The last projection starts at zero, so a
    model warm-started from one without this path begins exactly where it was."""

    def __init__(self, cfg: ModelConfig, n_mels: int = 40):
        super().__init__()
        sr = cfg.sample_rate
        self.n_fft, self.hop, self.frames = int(0.025 * sr), int(0.010 * sr), cfg.frames
        freqs = torch.linspace(0, sr / 2, self.n_fft // 2 + 1)
        mel = lambda f: 2595 * math.log10(1 + f / 700)
        pts = torch.linspace(mel(30.0), mel(sr / 2), n_mels + 2)
        edges = 700 * (torch.pow(10.0, pts / 2595) - 1)
        lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
        self.register_buffer("fb", torch.clamp(torch.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)),
                                               min=0), persistent=False)
        self.register_buffer("stft_window", torch.hann_window(self.n_fft), persistent=False)
        d = cfg.d_model
        self.proj = nn.Sequential(nn.Conv1d(2 * n_mels, d, 3, padding=1), nn.GELU(), nn.Conv1d(d, d, 3, padding=1))
        nn.init.zeros_(self.proj[2].weight)
        nn.init.zeros_(self.proj[2].bias)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(audio[:, 0], self.n_fft, self.hop, window=self.stft_window, return_complex=True)
        logmel = torch.log1p(100 * (self.fb @ (spec.real.pow(2) + spec.imag.pow(2))))   # (B, mels, steps)
        flux = F.relu(torch.diff(logmel, dim=2, prepend=logmel[:, :, :1]))
        return F.adaptive_max_pool1d(self.proj(torch.cat([logmel, flux], 1)), self.frames).transpose(1, 2)
