"""A plasma texture that flows only while there is sound, as bright as the sound is loud."""
from __future__ import annotations

import numpy as np

from .base import BINS, DMAX, Param, Visualizer, clock, grid, lookup, radius_index


class Texture(Visualizer):
    name = "texture"
    drives = ("loudness",)
    params = {
        "scale": Param(2.0, 5.0),  # spatial frequency
        "speed": Param(0.3, 1.0),       # cycles per second of sound
        "skew": Param(0.6, 1.6),          # ratio of the vertical to the horizontal frequency
    }

    def render(self, tl, p, out, gain):
        height, width = out.shape[1:]
        x, y, _, _ = grid(height, width)
        c = 2 * np.pi * clock(tl, p["speed"])[:, None]
        k = p["scale"]
        # three waves; the horizontal one carries a +2.5 offset, so their sum is in [-0.5, 5.5]
        sx = (np.sin(k * x[None, :] + c) + 2.5).astype(np.float32)                        # (T, W)
        sy = np.sin(k * p["skew"] * y[None, :] - 0.7 * c + 1.0).astype(np.float32)         # (T, H)
        d = ((np.arange(BINS) + 0.5) * (DMAX / BINS)).astype(np.float32)
        sr = np.sin(1.7 * k * d[None, :] - 1.3 * c).astype(np.float32)                     # (T, BINS)
        v = out
        lookup(sr, radius_index(height, width), v)
        v += sx[:, None, :]
        v += sy[:, :, None]                                                                # in [-0.5, 5.5]; squared / 5.5**2: [0, 1]
        np.multiply(v, v, out=v)
        v *= (tl.loudness ** 2 / 30.25 * gain)[:, None, None]                                    # square for contrast
