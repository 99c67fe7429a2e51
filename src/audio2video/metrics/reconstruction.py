"""Reconstruction: how close each predicted frame is to the ground truth (MSE, PSNR, SSIM).

Videos are float tensors in [0, 1], shaped (T, 3, H, W) for one clip or (B, T, 3, H, W) for a batch; every
function returns one value per clip (a (B,) tensor).
"""
from __future__ import annotations

import torch


def as_batch(video: torch.Tensor) -> torch.Tensor:
    if video.dim() == 4:
        return video[None]
    if video.dim() != 5:
        raise ValueError(f"expected a video (T, 3, H, W) or a batch (B, T, 3, H, W), not shape {tuple(video.shape)}")
    return video


def as_pair(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    pred, target = as_batch(pred).float(), as_batch(target).float()
    if pred.shape != target.shape:
        raise ValueError(f"prediction {tuple(pred.shape)} and ground truth {tuple(target.shape)} differ in shape")
    return pred, target


def frame_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B, T): the mean squared error of each frame."""
    pred, target = as_pair(pred, target)
    return (pred - target).pow(2).mean(dim=(2, 3, 4))


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B,): mean squared error of each clip (equal-sized frames: the per-frame mean averaged). Lower is better."""
    return frame_mse(pred, target).mean(dim=1)


def psnr(pred: torch.Tensor, target: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """(B,): per-frame PSNR 10·log10(range² / MSE_t) in dB, averaged over frames. A frame predicted exactly has
    infinite PSNR, and so has the clip's average. Higher is better."""
    per_frame = 10 * torch.log10(data_range ** 2 / frame_mse(pred, target).double())  # 1/0 -> +inf
    return per_frame.mean(dim=1).float()


def _gaussian_window(size: int, sigma: float) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-x ** 2 / (2 * sigma ** 2))
    return g / g.sum()


def _valid_filter_matrix(n: int, g: torch.Tensor) -> torch.Tensor:
    """(n - k + 1, n) matrix whose product with a signal of length n is its 'valid' correlation with g."""
    k = len(g)
    m = torch.zeros(n - k + 1, n, dtype=torch.float64)
    for i in range(n - k + 1):
        m[i, i:i + k] = g
    return m.float()


def ssim(pred: torch.Tensor, target: torch.Tensor, data_range: float = 1.0, window: int = 11,
         sigma: float = 1.5) -> torch.Tensor:
    """(B,): SSIM (Wang et al. 2004) of each frame, averaged over frames. Gaussian-weighted local statistics
    (window 11, sigma 1.5; smaller frames use the largest odd window that fits), K1 = 0.01, K2 = 0.03, no
    sample-covariance correction, the map averaged over the valid region and the three colour channels.
    1 for identical frames; higher is better."""
    pred, target = as_pair(pred, target)
    b, t, c, h, w = pred.shape
    size = min(window, h - (h + 1) % 2, w - (w + 1) % 2)
    g = _gaussian_window(size, sigma)
    rows, cols = _valid_filter_matrix(h, g), _valid_filter_matrix(w, g).T  # separable blur as two matmuls
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    out = torch.empty(b, t)
    for i in range(b):  # one clip at a time bounds memory at spec size
        x, y = pred[i], target[i]
        stats = rows @ torch.stack([x, y, x * x, y * y, x * y]) @ cols  # (5, T, C, H', W')
        mx, my, exx, eyy, exy = stats
        sxx, syy, sxy = exx - mx * mx, eyy - my * my, exy - mx * my
        s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
        out[i] = s.mean(dim=(1, 2, 3))
    return out.mean(dim=1)
