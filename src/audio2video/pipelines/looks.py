"""Looks: named colour gradings applied to uint8 frames after the model, before the frames are shaped and encoded.

A look is a contrast curve (about mid-grey), then optionally a gradient map (each pixel's luminance, dark to
light, picks a colour along a palette), then a colour matrix (hue rotation about the grey axis and saturation).
`none` is no look at all: the frames pass through untouched. `audio2video looks` lists the presets.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import UserError
from ..io.frames import LUMA


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


@dataclass(frozen=True)
class Look:
    name: str
    description: str
    contrast: float = 1.0  # slope of the tone curve about mid-grey: 1 leaves it, above 1 spreads tones apart
    palette: tuple[str, ...] = ()  # gradient map, dark to light, colours evenly spaced; empty: no gradient map
    hue: float = 0.0  # degrees of rotation about the grey axis
    saturation: float = 1.0  # 0 grey, 1 as it is, above 1 more colourful

    @property
    def identity(self) -> bool:
        return self.contrast == 1 and not self.palette and self.hue % 360 == 0 and self.saturation == 1

    def tone_curve(self) -> np.ndarray:
        """uint8 -> uint8 lookup table of the contrast curve."""
        x = np.arange(256, dtype=np.float64) / 255
        return np.clip(np.rint(((x - 0.5) * self.contrast + 0.5) * 255), 0, 255).astype(np.uint8)

    def gradient(self) -> np.ndarray:
        """(256, 3) uint8: the palette, interpolated linearly over luminance 0..255."""
        stops = np.array([_rgb(c) for c in self.palette], dtype=np.float64)
        at = np.linspace(0, 255, len(stops))
        x = np.arange(256)
        return np.stack([np.rint(np.interp(x, at, stops[:, c])) for c in range(3)], axis=1).astype(np.uint8)

    def colour_matrix(self) -> np.ndarray:
        """3x3: hue rotation about the grey axis (1, 1, 1), then saturation about each pixel's luminance."""
        t = math.radians(self.hue)
        k = np.full(3, 1 / math.sqrt(3))
        cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
        rotate = math.cos(t) * np.eye(3) + math.sin(t) * cross + (1 - math.cos(t)) * np.outer(k, k)
        grey = np.outer(np.ones(3), LUMA.astype(np.float64))  # every channel <- the pixel's luminance
        saturate = self.saturation * np.eye(3) + (1 - self.saturation) * grey
        return saturate @ rotate

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """uint8 (..., 3) frames -> graded uint8 frames of the same shape."""
        if self.identity:
            return frames
        out = self.tone_curve()[frames] if self.contrast != 1 else frames
        if self.palette:
            luma = np.rint(out.astype(np.float32) @ LUMA).clip(0, 255).astype(np.uint8)
            out = self.gradient()[luma]
        if self.hue % 360 or self.saturation != 1:
            out = np.rint(out.astype(np.float32) @ self.colour_matrix().T.astype(np.float32))
            out = out.clip(0, 255).astype(np.uint8)
        return out


LOOKS = {look.name: look for look in (
    Look("none", "the model's own colours, untouched (the default)"),
    Look("neon", "gradient map: black, violet, magenta, pink, cyan, white", contrast=1.25,
         palette=("#000000", "#2d0a5a", "#b4179e", "#ff4fa3", "#4ff0ff", "#ffffff")),
    Look("ember", "gradient map: black, deep red, orange, gold, cream", contrast=1.2,
         palette=("#000000", "#3b0a02", "#a3200b", "#f26b1d", "#ffc94a", "#fff6d8")),
    Look("ocean", "gradient map: ink, navy, teal, aquamarine, foam white", contrast=1.2,
         palette=("#02040f", "#06245c", "#0b6a8f", "#2fc1b4", "#b8f5e4", "#ffffff")),
    Look("noir", "black and white, hard contrast", contrast=1.6, palette=("#000000", "#ffffff")),
    Look("vivid", "stronger contrast and saturation", contrast=1.3, saturation=1.8),
    Look("complement", "every hue turned to its opposite, a little more saturated", contrast=1.1, hue=180,
         saturation=1.4),
)}


def get_look(name: str) -> Look:
    if name not in LOOKS:
        raise UserError(f"unknown --look {name!r}; choose one of {', '.join(LOOKS)} (`audio2video looks` shows them)")
    return LOOKS[name]
