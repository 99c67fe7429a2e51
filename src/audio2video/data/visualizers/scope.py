"""An oscilloscope-like line: a sum of sinusoids whose amplitudes are band energies, scrolling with sound."""
from __future__ import annotations

import numpy as np

from .base import Param, Visualizer, band_groups, clock, grid


class Scope(Visualizer):
    name = "scope"
    drives = ("loudness", "bands")
    params = {
        "waves": Param(2, 5, integer=True),
        "thickness": Param(0.012, 0.03),
        "speed": Param(0.4, 1.6),
        "amp": Param(0.35, 0.8),
        "freq": Param(1.0, 3.0),
    }

    def render(self, tl, p, out, gain):
        height, width = out.shape[1:]
        x, y, _, _ = grid(height, width)
        n = int(p["waves"])
        g = np.clip((band_groups(tl, n) - 0.2) / 0.7, 0, 1) ** 1.5                   # (T, n)
        k = np.arange(1, n + 1, dtype=np.float32)
        phase = 2 * np.pi * clock(tl, p["speed"])[:, None] * k * np.where(k % 2 == 1, 1, -1)      # (T, n)
        u = (np.arange(width) + 0.5) / width
        waves = np.sin(2 * np.pi * p["freq"] * k[None, :, None] * u[None, None, :] + phase[:, :, None])
        curve = p["amp"] * np.sin(np.pi * u)[None, :] * (g[:, :, None] * waves).sum(axis=1) * (1.6 / np.sqrt(n))
        # a Lorentzian line profile: a crisp core with a soft glow
        d = out
        np.subtract(y[None, :, None], curve[:, None, :].astype(np.float32), out=d)
        d *= np.float32(1.0 / p["thickness"])
        np.multiply(d, d, out=d)
        d += 1.0
        np.reciprocal(d, out=d)
        d *= (tl.loudness ** 1.5 * gain)[:, None, None]
