"""Palettes: a dark background and three layer colours built from one base hue and a colour-harmony scheme."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# hue offsets (in turns) of the three layer colours for each scheme
SCHEMES = {
    "analogous": (0.0, 0.08, -0.08),
    "complementary": (0.0, 0.5, 0.06),
    "triadic": (0.0, 1 / 3, 2 / 3),
    "split": (0.0, 0.42, 0.58),
    "monochrome": (0.0, 0.0, 0.02),
    "audio": (0.0, 0.1, -0.12),          # the audio style's: close hues, so screened layers stay colourful
}


def hsv_to_rgb(h, s, v) -> np.ndarray:
    """Vectorised HSV -> RGB; h in turns, s and v in [0, 1]; returns (..., 3) float32."""
    h, s, v = np.broadcast_arrays(np.asarray(h, np.float64) % 1.0, np.asarray(s, np.float64), np.asarray(v, np.float64))
    i = np.floor(h * 6).astype(int) % 6
    f = h * 6 - np.floor(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    r = np.choose(i, [v, q, p, p, t, v])
    g = np.choose(i, [t, v, v, q, p, p])
    b = np.choose(i, [p, p, t, v, v, q])
    return np.stack([r, g, b], axis=-1).astype(np.float32)


@dataclass
class Palette:
    hue: float                 # base hue, turns
    scheme: str
    saturation: float
    background: np.ndarray     # (3,) RGB
    hues: np.ndarray           # (3,) turns, one per layer slot
    sats: np.ndarray           # (3,)
    values: np.ndarray         # (3,)

    @classmethod
    def build(cls, hue: float, scheme: str, saturation: float = 0.8, bg_level: float = 0.07) -> "Palette":
        hues = (hue + np.array(SCHEMES[scheme])) % 1.0
        sats = saturation * (np.array([1.0, 0.75, 0.5]) if scheme == "monochrome" else np.ones(3))
        values = np.array([1.0, 0.95, 0.9])
        background = hsv_to_rgb(hue + 0.55, 0.6, bg_level)
        return cls(float(hue) % 1.0, scheme, float(saturation), background, hues, sats, values)

    @property
    def colors(self) -> np.ndarray:
        """(3, 3): RGB of each layer slot."""
        return hsv_to_rgb(self.hues, self.sats, self.values)

    def to_dict(self) -> dict:
        return {"hue": round(self.hue, 4), "scheme": self.scheme, "saturation": round(self.saturation, 3),
                "background": [round(float(c), 3) for c in self.background],
                "colors": [[round(float(c), 3) for c in row] for row in self.colors]}
