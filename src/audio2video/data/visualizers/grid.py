"""A grid of glowing cells, each lit by one band: low bands in the middle, or scattered."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .base import Param, Visualizer, follow, hits, lookup

SUB = 6  # brightness steps from a cell's centre to its edge


@lru_cache(maxsize=64)
def _cell_index(height: int, width: int, cells: int, gap: float) -> np.ndarray:
    """Per pixel: cell * SUB + distance-from-centre step, or cells**2 * SUB (dark) in the gaps."""
    def axis(n):
        pos = (np.arange(n) + 0.5) / n * cells
        i = np.floor(pos).astype(np.int64)
        return i, np.abs(pos - i - 0.5) * 2                   # cell, distance from the cell centre in [0, 1]
    ci, di = axis(height)
    cj, dj = axis(width)
    dist = np.maximum(di[:, None], dj[None, :]) / (1 - gap)
    sub = np.clip((dist * SUB).astype(np.int64), 0, SUB - 1)
    index = (ci[:, None] * cells + cj[None, :]) * SUB + sub
    return np.where(dist < 1, index, cells * cells * SUB).reshape(-1)


class Grid(Visualizer):
    name = "grid"
    drives = ("bands",)
    params = {
        "cells": Param(4, 10, integer=True),
        "gap": Param(0.1, 0.35),
        "scatter": Param(0, 1, integer=True),  # 0: bands by distance from the centre, 1: scattered
        "flash": Param(0.0, 0.5),
    }

    def render(self, tl, p, out, gain):
        height, width = out.shape[1:]
        n, B = int(p["cells"]), tl.bands.shape[1]
        ci, cj = np.divmod(np.arange(n * n), n)
        dist = np.hypot(ci - (n - 1) / 2, cj - (n - 1) / 2)
        band = np.round(dist / dist.max() * (B - 1)).astype(int) if n > 1 else np.zeros(1, int)
        if p["scatter"]:
            band = np.random.default_rng(n).permutation(n * n) % B
        energy = np.clip((tl.bands[:, band] - 0.2) / 0.7, 0, 1) ** 1.5                   # (T, cells)
        energy = np.stack([follow(e, 1.0, 0.4) for e in energy.T], axis=1)
        lit = np.minimum(energy + p["flash"] * hits(tl, 2.0)[:, None] * (energy > 0.05), 1.0)
        falloff = 1.0 - 0.6 * (np.arange(SUB) / SUB) ** 2
        table = ((lit * gain[:, None])[:, :, None] * falloff[None, None, :]).reshape(len(lit), -1)
        table = np.concatenate([table, np.zeros((len(lit), 1))], axis=1).astype(np.float32)
        lookup(table, _cell_index(height, width, n, float(p["gap"])), out)
