"""Soft petals around the centre that twist on every onset, hi-hats and snares most, and turn back."""
from __future__ import annotations

import numpy as np

from .base import Param, Visualizer, lit, lookup, polar_bins, polar_index, twist_drive

RMAX = 1.5


class Petals(Visualizer):
    name = "petals"
    drives = ("onset", "bands")
    params = {
        "folds": Param(3, 8, integer=True),
        "twist": Param(0.15, 0.3),       # radians of turn on a full-strength onset
        "bend": Param(0.0, 0.7),    # how much the petals curl with the radius
        "reach": Param(0.55, 0.95),   # where the petals are brightest (radius)
    }

    def render(self, tl, p, out, gain):
        height, width = out.shape[1:]
        T = tl.num_frames
        ANGLES, RBINS = polar_bins(height, width)
        theta = (np.arange(ANGLES) + 0.5) * (2 * np.pi / ANGLES) - np.pi                    # (A,)
        r = (np.arange(RBINS) + 0.5) * (RMAX / RBINS)                                       # (R,)
        turn = p["twist"] * twist_drive(tl)                               # (T,)
        # cos(k (theta - turn - bend r)) split into an angle part and a (time, radius) part: the petals bend
        # with the radius, so a twist moves every part of them
        k = p["folds"]
        shift = k * (turn[:, None] + p["bend"] * r[None, :])                                # (T, R)
        reach = p["reach"] * (0.8 + 0.2 * tl.level)
        radial = np.exp(-((r[None, :] - reach[:, None]) / 0.45) ** 2) * (lit(tl) * gain)[:, None]
        cos_a = np.cos(k * theta).astype(np.float32)[None, :, None]
        sin_a = np.sin(k * theta).astype(np.float32)[None, :, None]
        u = cos_a * (0.5 * np.cos(shift)).astype(np.float32)[:, None, :]
        u += sin_a * (0.5 * np.sin(shift)).astype(np.float32)[:, None, :]
        u += 0.5                                                                            # (T, A, R) in [0, 1]
        u *= u                                                                              # narrower petals
        u *= radial.astype(np.float32)[:, None, :]
        lookup(u.reshape(T, -1), polar_index(height, width, ANGLES, RBINS, RMAX), out)
