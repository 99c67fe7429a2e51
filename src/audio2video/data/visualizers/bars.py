"""Spectrum bars: one bar per (interpolated) band, rising from the bottom or mirrored about the middle."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .base import Param, Visualizer, follow, lookup, presence, resample_bands

ROWS = 64


@lru_cache(maxsize=64)
def _bar_index(height: int, width: int, count: int, gap: float, mirror: bool) -> np.ndarray:
    """Per pixel: bar * ROWS + height bin, or count * ROWS (always dark) in the gaps between bars."""
    pos = (np.arange(width) + 0.5) / width * count
    bar = np.floor(pos).astype(np.int64)
    in_bar = np.abs(pos - bar - 0.5) < (1 - gap) / 2
    y = (np.arange(height) + 0.5) / height                     # 0 at the top
    u = np.abs(1 - 2 * y) if mirror else 1 - y                 # height coordinate: 0 at the base, 1 at the tip
    level = np.clip((u * ROWS).astype(np.int64), 0, ROWS - 1)
    index = bar[None, :] * ROWS + level[:, None]
    return np.where(in_bar[None, :], index, count * ROWS).reshape(-1)


class Bars(Visualizer):
    name = "bars"
    drives = ("bands",)
    params = {
        "count": Param(8, 32, integer=True),
        "gap": Param(0.15, 0.45),
        "mirror": Param(0, 1, integer=True),
        "gamma": Param(1.0, 2.0),
    }

    def render(self, tl, p, out, gain):
        height, width = out.shape[1:]
        count = int(p["count"])
        energy = np.clip((resample_bands(tl, count) - 0.15) / 0.8, 0, 1) ** p["gamma"]
        h = np.stack([follow(e, 1.0, 0.35) for e in energy.T], axis=1) * presence(tl)[:, None]   # (T, count)
        u = ((np.arange(ROWS) + 0.5) / ROWS).astype(np.float32)
        body = (u[None, None, :] < h[:, :, None]) * (0.35 + 0.5 * u[None, None, :])
        cap = np.exp(-(((h[:, :, None] - u[None, None, :]) * ROWS / 1.5) ** 2)) * (h[:, :, None] > 0.02)
        table = (np.minimum(body + 0.6 * cap, 1.0) * gain[:, None, None]).reshape(len(h), -1)
        table = np.concatenate([table, np.zeros((len(h), 1))], axis=1).astype(np.float32)
        lookup(table, _bar_index(height, width, count, float(p["gap"]), bool(p["mirror"])), out)
