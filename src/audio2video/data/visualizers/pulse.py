"""A shape (circle or regular polygon) whose size and brightness follow loudness, kicked by onsets."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .base import Param, Visualizer, bin_index, grid, hits, lookup

BINS, DMAX = 256, 1.6


@lru_cache(maxsize=64)
def _shape_index(height: int, width: int, sides: int, angle: float) -> np.ndarray:
    """Per pixel, the bin of its 'polygon radius' (the radius of the polygon passing through it)."""
    _, _, r, theta = grid(height, width)
    if sides < 3:
        d = r
    else:
        wedge = 2 * np.pi / sides
        a = np.mod(theta - angle * wedge, wedge) - wedge / 2
        d = r * np.cos(a) / np.cos(np.pi / sides)
    return bin_index(d.reshape(-1), 0.0, DMAX, BINS)


class Pulse(Visualizer):
    name = "pulse"
    drives = ("loudness",)
    params = {
        "sides": Param(2, 8, integer=True),      # 2 means a circle
        "size": Param(0.35, 0.75),
        "edge": Param(0.015, 0.06),
        "glow": Param(0.15, 0.5),
        "angle": Param(0.0, 1.0),
    }

    def render(self, tl, p, out, gain):
        height, width = out.shape[1:]
        d = ((np.arange(BINS) + 0.5) * (DMAX / BINS)).astype(np.float32)[None, :]
        level = tl.loudness[:, None]
        radius = p["size"] * (0.25 + 0.75 * level) + 0.1 * hits(tl, 2.0)[:, None]
        inside = np.clip((radius - d) / p["edge"] + 0.5, 0.0, 1.0)
        shade = 0.55 + 0.45 * np.clip(1.0 - d / np.maximum(radius, 1e-3), 0.0, 1.0)   # brighter at the centre
        halo = p["glow"] * np.exp(-np.maximum(d - radius, 0.0) / 0.1)
        table = (np.minimum((inside * shade + halo) * level ** 1.5, 1.0) * gain[:, None]).astype(np.float32)
        lookup(table, _shape_index(height, width, int(p["sides"]), float(p["angle"])), out)
