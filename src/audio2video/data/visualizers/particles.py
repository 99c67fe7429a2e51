"""Bursts of particles on every onset: flung outwards, slowed by drag, pulled by gravity, fading."""
from __future__ import annotations

import numpy as np

from .base import Param, Visualizer, presence, strength

_R = np.arange(-2, 3)
SPRITE = np.exp(-(_R[:, None] ** 2 + _R[None, :] ** 2) / 2.0).astype(np.float32)   # 5x5 soft dot


class Particles(Visualizer):
    name = "particles"
    drives = ("onset",)
    params = {
        "count": Param(24, 72, integer=True),
        "speed": Param(0.6, 1.5),
        "drag": Param(1.5, 4.0),
        "gravity": Param(-0.5, 1.0),
        "life": Param(0.35, 0.8),
        "spread": Param(0.0, 0.5),               # how far from the centre bursts start
        "seed": Param(0, 9999, integer=True),
    }

    def render(self, tl, p, out, gain):
        T, height, width = out.shape
        out.fill(0.0)
        flat = out.reshape(-1)
        ks = np.nonzero(tl.peaks)[0]
        if len(ks):
            rng = np.random.default_rng(int(p["seed"]))
            K, N, L = len(ks), int(p["count"]), max(2, int(p["life"] * tl.fps))
            power = strength(tl)[ks]
            origin = rng.uniform(-1, 1, (K, 2)) * p["spread"]
            angle = rng.uniform(0, 2 * np.pi, (K, N))
            speed = p["speed"] * (0.35 + 0.65 * rng.random((K, N))) * (0.5 + power[:, None])
            glint = 0.6 + 0.4 * rng.random((K, N))
            tau = np.arange(L) / tl.fps                                             # (L,) seconds since burst
            travel = 0.12 + (1 - np.exp(-p["drag"] * tau)) / p["drag"]                # they pop out at once
            x = origin[:, None, None, 0] + np.cos(angle)[:, None, :] * speed[:, None, :] * travel[None, :, None]
            y = (origin[:, None, None, 1] + np.sin(angle)[:, None, :] * speed[:, None, :] * travel[None, :, None]
                 + 0.5 * p["gravity"] * tau[None, :, None] ** 2)                     # (K, L, N)
            frame = ks[:, None] + np.arange(L)[None, :]                             # (K, L)
            alive = frame < T
            fade = (1 - np.arange(L) / L) ** 2 * (0.2 + 0.8 * np.exp(-np.arange(L) / 2.0))   # a pop, then embers
            val = power[:, None, None] * fade[None, :, None] * glint[:, None, :]
            val = val * presence(tl)[np.minimum(frame, T - 1)][:, :, None] * alive[:, :, None]
            s = min(height, width) / 2
            col = np.round(x * s + width / 2 - 0.5).astype(np.int64)
            row = np.round(y * s + height / 2 - 0.5).astype(np.int64)
            ok = (col >= 2) & (col < width - 2) & (row >= 2) & (row < height - 2) & (val > 1e-3)
            base = (np.broadcast_to(frame[:, :, None], ok.shape)[ok] * height + row[ok]) * width + col[ok]
            offsets = (_R[:, None] * width + _R[None, :]).reshape(-1)
            np.add.at(flat, (base[:, None] + offsets[None, :]).reshape(-1),
                      (val[ok][:, None] * SPRITE.reshape(-1)[None, :]).reshape(-1).astype(np.float32))
            np.minimum(out, 1.0, out=out)
            out *= gain[:, None, None]
