"""A kaleidoscope: petals and rings in a mirrored wedge, lit by the bands (low at the centre, high outside)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .base import Param, Visualizer, bin_index, clock, grid, lookup, resample_bands

ANGLES, RADII, RMAX = 32, 72, 1.45


@lru_cache(maxsize=64)
def _wedge_index(height: int, width: int, folds: int) -> np.ndarray:
    """Per pixel: angle bin within the mirrored wedge (0 at its centre line, 1 at its edge) * RADII + radius bin."""
    _, _, r, theta = grid(height, width)
    wedge = 2 * np.pi / folds
    a = np.abs(np.mod(theta + np.pi / 2, wedge) - wedge / 2) / (wedge / 2)
    return (bin_index(a.reshape(-1), 0.0, 1.0, ANGLES) * RADII + bin_index(r.reshape(-1), 0.0, RMAX, RADII))


class Kaleido(Visualizer):
    name = "kaleido"
    drives = ("bands",)
    params = {
        "folds": Param(3, 9, integer=True),
        "rings": Param(2.0, 5.0),
        "petals": Param(1.0, 3.0),
        "speed": Param(0.2, 0.7),
    }

    def render(self, tl, p, out, gain):
        height, width = out.shape[1:]
        a = ((np.arange(ANGLES) + 0.5) / ANGLES).astype(np.float32)
        r = ((np.arange(RADII) + 0.5) * (RMAX / RADII)).astype(np.float32)
        energy = np.clip((resample_bands(tl, RADII) - 0.15) / 0.75, 0, 1)              # (T, R)
        phase = 2 * np.pi * clock(tl, p["speed"])[:, None]
        ring = 0.5 + 0.5 * np.cos(2 * np.pi * p["rings"] * r[None, :] - phase)          # (T, R)
        spin = 0.5 + 0.5 * np.cos(np.pi * p["petals"] * a[None, :, None] * 2 + 3 * r[None, None, :]
                                  - 0.5 * phase[:, :, None])                            # (T, A, R)
        table = (energy * ring)[:, None, :] * (0.35 + 0.65 * spin) * (tl.loudness ** 0.5)[:, None, None]
        table = (np.minimum(table * 1.4, 1.0) * gain[:, None, None]).astype(np.float32).reshape(len(energy), -1)
        lookup(table, _wedge_index(height, width, int(p["folds"])), out)
