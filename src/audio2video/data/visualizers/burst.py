"""A ring of soft spokes that bursts outward on every onset and falls back, its reach set by the highs."""
from __future__ import annotations

import numpy as np

from .base import Param, Visualizer, impulses, lit, lookup, polar_bins, polar_index

RMAX = 1.5


class Burst(Visualizer):
    name = "burst"
    drives = ("onset", "bands")
    params = {
        "spokes": Param(6, 16, integer=True),
        "jump": Param(0.2, 0.4),     # how far a full-strength onset throws the ring outward
        "width": Param(0.12, 0.25),
    }

    def render(self, tl, p, out, gain):
        height, width = out.shape[1:]
        T = tl.num_frames
        ANGLES, RBINS = polar_bins(height, width)
        theta = (np.arange(ANGLES) + 0.5) * (2 * np.pi / ANGLES) - np.pi
        r = (np.arange(RBINS) + 0.5) * (RMAX / RBINS)
        centre = 0.35 + 0.25 * tl.energy[:, 2] + p["jump"] * impulses(tl)                   # (T,)
        ring = np.exp(-((r[None, :] - centre[:, None]) / p["width"]) ** 2)                   # (T, R)
        spokes = ((0.5 + 0.5 * np.cos(p["spokes"] * theta)) ** 2).astype(np.float32)       # (A,)
        # spokes lit along the ring, with a faint full circle under them
        table = (0.75 * spokes[None, :, None] + 0.25) * (ring * (lit(tl) * gain)[:, None]).astype(np.float32)[:, None, :]
        lookup(table.reshape(T, -1), polar_index(height, width, ANGLES, RBINS, RMAX), out)
