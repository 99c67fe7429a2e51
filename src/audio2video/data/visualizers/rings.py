"""Rings spawned at the centre on every onset, expanding and fading."""
from __future__ import annotations

import numpy as np

from .base import BINS, DMAX, Param, Visualizer, hits, lookup, presence, radius_index, strength


class Rings(Visualizer):
    name = "rings"
    drives = ("onset",)
    params = {
        "speed": Param(0.9, 2.2),       # radius units per second
        "width": Param(0.02, 0.06),
        "life": Param(0.2, 0.45),     # seconds to fade to 1/e
        "flash": Param(0.4, 0.9),    # brightness of the centre flash on each onset
    }

    def render(self, tl, p, out, gain):
        height, width = out.shape[1:]
        T = tl.num_frames
        d = ((np.arange(BINS) + 0.5) * (DMAX / BINS)).astype(np.float32)
        table = np.zeros((T, BINS), dtype=np.float32)
        life = max(1, int(4 * p["life"] * tl.fps))                                    # frames until it is gone
        age = np.arange(life) / tl.fps                                                 # (L,) seconds
        r = (0.04 + p["speed"] * age).astype(np.float32)
        # a ring dims as it spreads (its light shared over a longer circumference), so the burst at the onset,
        # not the expansion after it, is what moves most
        fade = np.exp(-age / p["life"]) / (1.0 + 3.0 * r)
        shape = np.exp(-(((d[None, :] - r[:, None]) / p["width"]) ** 2)) * fade[:, None]
        shown, power = presence(tl), strength(tl)
        for k in np.nonzero(tl.peaks)[0]:                                               # each ring over its life
            n = min(life, T - k)
            table[k:k + n] += (power[k] * shown[k:k + n])[:, None] * shape[:n]
        table += (p["flash"] * hits(tl, 1.2))[:, None] * np.exp(-((d / 0.4) ** 2))[None, :]
        np.minimum(table, 1.0, out=table)
        table *= gain[:, None]
        lookup(table, radius_index(height, width), out)
