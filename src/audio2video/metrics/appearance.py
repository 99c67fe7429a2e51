"""How a video looks, without a ground truth: colour, flat frames, blown-out frames. Frames are uint8 RGB
(N, H, W, 3), as decoded or as `io.frames.to_uint8` makes them.

| statistic | definition | wanted |
| --- | --- | --- |
| saturation | mean HSV saturation (max - min) / max over every pixel (0 for black pixels) | colourful: high |
| uniform_frames | share of frames whose grey level varies by less than UNIFORM_STD (std, in [0, 1] units) | ~0 |
| white_frames | share of frames with at least WHITE_SHARE of their pixels near white (every channel >= 0.9): the blown-out blob a model makes of input it was never trained on | ~0 |
"""
from __future__ import annotations

import numpy as np

from ..io.frames import LUMA

UNIFORM_STD = 0.02
WHITE_LEVEL, WHITE_SHARE = 0.9, 0.1


def saturation(frames: np.ndarray) -> float:
    v = np.asarray(frames, dtype=np.float32)
    hi, lo = v.max(axis=-1), v.min(axis=-1)
    return float(np.mean(np.where(hi > 0, (hi - lo) / np.maximum(hi, 1e-6), 0.0)))


def uniform_frames(frames: np.ndarray) -> float:
    grey = (np.asarray(frames, dtype=np.float32) / 255) @ LUMA
    return float(np.mean(grey.reshape(len(grey), -1).std(axis=1) < UNIFORM_STD))


def white_frames(frames: np.ndarray) -> float:
    white = np.asarray(frames).min(axis=-1) >= round(WHITE_LEVEL * 255)
    return float(np.mean(white.reshape(len(white), -1).mean(axis=1) >= WHITE_SHARE))
