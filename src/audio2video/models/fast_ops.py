"""Exact, export-friendly forms of the few ops whose PyTorch versions ONNX cannot express or runtimes run slowly.

Each helper reproduces one PyTorch op to float rounding with matmuls, gathers and convolutions only:
- linear interpolation (`F.interpolate(mode="linear", align_corners=False)`) as fixed indices and weights,
- adaptive average / max pooling over windows whose sizes do not divide evenly, as one gather,
- the STFT power spectrum (`torch.stft`, centred, reflect-padded, Hann window) as a Conv1d over a DFT basis;
- a strided Conv1d over a waveform as a stride-1 Conv1d over blocks of samples (faster in oneDNN).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F


def linear_resize_taps(n_in: int, n_out: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(idx0, idx1, w1) of PyTorch's linear interpolation n_in -> n_out (align_corners=False):
    out[i] = x[idx0[i]] * (1 - w1[i]) + x[idx1[i]] * w1[i]."""
    scale = np.float32(n_in) / np.float32(n_out)
    src = ((np.arange(n_out, dtype=np.float32) + np.float32(0.5)) * scale - np.float32(0.5)).clip(min=0)
    idx0 = np.floor(src).astype(np.int64).clip(max=n_in - 1)
    idx1 = np.minimum(idx0 + 1, n_in - 1)
    w1 = (src - idx0).astype(np.float32)
    return torch.from_numpy(idx0), torch.from_numpy(idx1), torch.from_numpy(w1)


def linear_resize_matrix(n_in: int, n_out: int) -> torch.Tensor:
    """(n_out, n_in) matrix M with M @ x == linear interpolation of x along its first axis."""
    idx0, idx1, w1 = linear_resize_taps(n_in, n_out)
    m = torch.zeros(n_out, n_in)
    rows = torch.arange(n_out)
    m[rows, idx0] += 1 - w1
    m[rows, idx1] += w1
    return m


def pool_windows(n_in: int, n_out: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Adaptive pooling's windows [floor(i n_in / n_out), ceil((i + 1) n_in / n_out)) as an index matrix
    (n_out, longest) padded by repeating each window's last index, and each window's length."""
    i = np.arange(n_out, dtype=np.int64)
    starts, ends = (i * n_in) // n_out, -(-((i + 1) * n_in) // n_out)
    idx = np.minimum(starts[:, None] + np.arange((ends - starts).max()), ends[:, None] - 1)
    return torch.from_numpy(idx), torch.from_numpy((ends - starts).astype(np.float32))


class AdaptivePool1d(nn.Module):
    """`F.adaptive_avg_pool1d` / `F.adaptive_max_pool1d` over the last axis as one gather: (B, C, n_in) -> (B, C, n_out)."""

    def __init__(self, n_in: int, n_out: int, mode: str):
        super().__init__()
        idx, counts = pool_windows(n_in, n_out)
        self.mode = mode
        mask = (torch.arange(idx.shape[1])[None, :] < counts[:, None]).float()  # repeated indices count once
        self.register_buffer("idx", idx.flatten(), persistent=False)
        self.register_buffer("weight", (mask / counts[:, None]), persistent=False)
        self.shape = tuple(idx.shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = x.index_select(-1, self.idx).unflatten(-1, self.shape)        # (B, C, n_out, longest)
        if self.mode == "max":
            return g.amax(-1)
        return (g * self.weight).sum(-1)


class LinearUpsample1d(nn.Module):
    """`F.interpolate(x, size=n_out, mode="linear", align_corners=False)` on (B, C, n_in) as two gathers."""

    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        idx0, idx1, w1 = linear_resize_taps(n_in, n_out)
        self.register_buffer("idx0", idx0, persistent=False)
        self.register_buffer("idx1", idx1, persistent=False)
        self.register_buffer("w1", w1, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = x.index_select(-1, self.idx0), x.index_select(-1, self.idx1)
        return a + (b - a) * self.w1


class PowerSpectrum(nn.Module):
    """|torch.stft(x, n_fft, hop, hann window, center=True, reflect)|^2 as one Conv1d over a DFT basis:
    (B, 1, N) -> (B, 2, n_fft // 2 + 1, steps) holding the squared real and imaginary parts (sum them for power)."""

    def __init__(self, n_fft: int, hop: int, window: torch.Tensor):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        n = torch.arange(n_fft, dtype=torch.float64)
        k = torch.arange(n_fft // 2 + 1, dtype=torch.float64)[:, None]
        angle = 2 * math.pi * k * n / n_fft
        basis = torch.cat([torch.cos(angle), -torch.sin(angle)]) * window.double()
        self.register_buffer("basis", basis.float().unsqueeze(1), persistent=False)  # (2 * bins, 1, n_fft)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        half = self.n_fft // 2
        x = F.pad(audio, (half, half), mode="reflect")
        parts = F.conv1d(x, self.basis, stride=self.hop)                     # (B, 2 * bins, steps)
        return parts.pow(2).unflatten(1, (2, -1))


class BlockConv1d(nn.Module):
    """A Conv1d over a waveform (one input channel, the kernel a multiple of the stride s) as a stride-1 Conv1d over
    blocks of s samples, one input channel per sample of a block (space to depth): the same products and sums,
    in a shape that oneDNN runs about twice as fast (a wide kernel over one channel is its slow case). The input
    length is fixed (the model's window), so the padding and the block count are too."""

    @staticmethod
    def suits(conv: nn.Conv1d) -> bool:
        (k,), (s,), (d,) = conv.kernel_size, conv.stride, conv.dilation
        return (conv.in_channels == 1 and conv.groups == 1 and d == 1 and s > 1 and k % s == 0
                and isinstance(conv.padding, tuple) and conv.padding_mode == "zeros")

    def __init__(self, conv: nn.Conv1d, length: int):
        super().__init__()
        (k,), (s,), (p,) = conv.kernel_size, conv.stride, conv.padding
        self.stride, self.left = s, p
        padded = length + 2 * p
        self.out_length = (padded - k) // s + 1
        self.blocks = -(-padded // s)
        self.right = p + self.blocks * s - padded  # the zeros past the last block's end feed no kept output
        # w[o, 0, q s + r] -> w2[o, r, q]: block channel r at block t + q is sample (t + q) s + r
        self.weight = nn.Parameter(conv.weight.detach().view(conv.out_channels, k // s, s).transpose(1, 2)
                                   .contiguous().clone(), requires_grad=False)
        self.bias = nn.Parameter(conv.bias.detach().clone() if conv.bias is not None
                                 else torch.zeros(conv.out_channels), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (self.left, self.right)).reshape(-1, self.blocks, self.stride).transpose(1, 2)
        return F.conv1d(x, self.weight, self.bias)[..., :self.out_length]
