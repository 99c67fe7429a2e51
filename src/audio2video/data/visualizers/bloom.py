"""Concentric soft rings that zoom out on every onset, kicks most, and settle back; as large as the music
is loud (slowly)."""
from __future__ import annotations

import numpy as np

from .base import Param, Visualizer, kick_drive, lit, lookup, radii, radius_index


class Bloom(Visualizer):
    name = "bloom"
    drives = ("onset", "loudness")
    params = {
        "rings": Param(1.5, 3.5),   # rings from the centre to the rim
        "size": Param(0.7, 1.1),      # rim radius at full loudness (the shorter side spans [-1, 1])
        "kick": Param(0.1, 0.2),         # relative zoom of a full-strength kick
    }

    def render(self, tl, p, out, gain):
        height, width = out.shape[1:]
        # low onsets push hardest; every onset pushes a little, so each one moves the picture
        push = kick_drive(tl)
        scale = p["size"] * (0.75 + 0.25 * tl.level) * (1.0 + p["kick"] * push)            # (T,)
        rho = radii()[None, :] / scale[:, None]                                              # (T, BINS)
        rings = 0.5 + 0.5 * np.cos(2 * np.pi * p["rings"] * rho)
        rim = np.exp(-(rho / 1.0) ** 4)                                                      # soft outer edge
        table = (rings * rim) * (lit(tl) * gain)[:, None]
        lookup(table.astype(np.float32), radius_index(height, width), out)
