"""Layer 1-3 visualizer fields into an RGB clip with blend modes and a palette.

Every blend mode here keeps the picture a weighted sum of colours, one term per layer plus the background:
    out[t, :, pixel] = sum_k colour_k[t] * weight_k[t, pixel]
so layering costs a few scalar-field operations and one batched matrix product at the end, instead of many
passes over the full RGB clip. With a = the layer's field (times its opacity and gate) and c its colour:

    add       out + c * a
    screen    out + c * a * (1 - coverage)     screen computed on the scalar coverage (how lit each pixel
              already is, itself combined by screening): a layer lights what is not lit yet, never past 1
              (on the background alone, screen and add are the same)
    over      out * (1 - a) + c * a            the layer covers what is below it
    mask      what is below shows only where the layer is lit, and the layer glows faintly itself
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..clip import ClipSpec
from ..features import FeatureTimeline
from . import VISUALIZERS
from ...io.frames import LUMA
from .base import grid
from .palettes import Palette, hsv_to_rgb

BLENDS = ("add", "screen", "over", "mask")


@dataclass
class Layer:
    visualizer: str
    params: dict
    blend: str = "add"
    slot: int = 0                      # which palette colour
    opacity: float = 1.0
    gate: str | None = None            # audio style: "low", "mid" or "high": the layer fades with that band region

    def to_dict(self) -> dict:
        return {"visualizer": self.visualizer, "params": self.params, "blend": self.blend, "slot": self.slot,
                "opacity": round(self.opacity, 3), "gate": self.gate}


@dataclass
class Style:
    mode: str                          # "seed" or "audio"
    palette: Palette
    layers: list[Layer] = field(default_factory=list)
    hue_drift: float = 0.06            # how far (turns) colours follow the spectral centroid
    follow_harmony: bool = False       # audio style: every colour turns with the harmony's hue, frame by frame

    def to_dict(self) -> dict:
        return {"mode": self.mode, "palette": self.palette.to_dict(), "hue_drift": round(self.hue_drift, 3),
                "follow_harmony": self.follow_harmony, "layers": [layer.to_dict() for layer in self.layers]}


@lru_cache(maxsize=16)
def _vignette(height: int, width: int) -> np.ndarray:
    r = grid(height, width)[2]
    return (1.0 - 0.55 * np.clip(r / 1.5, 0, 1) ** 2).reshape(-1).astype(np.float32)


def gate_curve(tl: FeatureTimeline, region: str) -> np.ndarray:
    """How much a band region ("low", "mid" or "high") is playing, per frame, in [0.2, 1]: its energy smoothed
    over +-0.5 s, so a layer fades in and out with its part instead of flickering with it."""
    e = tl.energy[:, {"low": 0, "mid": 1, "high": 2}[region]]
    return (0.2 + 0.8 * np.clip((e - 0.1) / 0.4, 0.0, 1.0)).astype(np.float32)


def layer_colors(tl: FeatureTimeline, style: Style) -> tuple[np.ndarray, np.ndarray]:
    """(T, 3 slots, 3 RGB) layer colours and (T, 3) background. Seed style: the palette's colours, hue nudged by
    the (held) spectral centroid. Audio style (`follow_harmony`): the palette's hue offsets around the
    harmony's hue of each frame (itself smoothed over +-1.5 s), so colours drift with the song."""
    pal = style.palette
    if style.follow_harmony:
        base = tl.hue.astype(np.float64)
        background = hsv_to_rgb(base + 0.55, 0.6, 0.07)
        colors = hsv_to_rgb(base[:, None] + pal.hues[None, :], pal.sats[None, :], pal.values[None, :])
        return even_luma(colors), background
    b = tl.brightness.copy()
    sounding = tl.loudness > 0.02
    if sounding.any():   # hold the last sounding value through silence so colours do not jump there
        idx = np.maximum.accumulate(np.where(sounding, np.arange(len(b)), 0))
        b = b[idx]
        b = np.where(np.arange(len(b)) < np.argmax(sounding), b[np.argmax(sounding)], b)
        centre = float(np.median(b[sounding]))
    else:
        centre = 0.5
    shift = style.hue_drift * np.clip((b - centre) * 4, -1, 1)                  # (T,)
    colors = hsv_to_rgb(pal.hues[None, :] + shift[:, None], pal.sats[None, :], pal.values[None, :])
    return colors, np.broadcast_to(pal.background, (len(b), 3))


def even_luma(colors: np.ndarray, target: float = 0.4, strength: float = 0.8) -> np.ndarray:
    """Colours scaled most of the way (`strength`) towards one grey level `target` (and never past 1). Optical
    flow sees the grey picture (LUMA), in which a pure yellow is eight times a pure blue: evened out, a hue
    drifting through the wheel changes the grey picture little and makes no motion of its own, while the
    colours keep their character (full evening would darken yellows to olive)."""
    luma = np.maximum(colors @ LUMA, 1e-6)[..., None]
    scaled = colors * (target / luma) ** strength
    return (scaled / np.maximum(scaled.max(axis=-1, keepdims=True), 1.0)).astype(np.float32)


class _Scratch(threading.local):
    """Per-thread reusable work buffers: fresh multi-megabyte arrays each clip would cost page faults."""

    def __init__(self):
        self.buffers: dict[tuple, np.ndarray] = {}

    def get(self, name: str, shape: tuple) -> np.ndarray:
        key = (name, shape)
        if key not in self.buffers:
            self.buffers = {k: v for k, v in self.buffers.items() if k[0] != name}  # keep one size per name
            self.buffers[key] = np.empty(shape, dtype=np.float32)
        return self.buffers[key]


_scratch = _Scratch()


def composite(tl: FeatureTimeline, style: Style, spec: ClipSpec | None = None) -> np.ndarray:
    """Render the clip: a new (T, 3, H, W) float32 array in [0, 1]."""
    spec = spec or ClipSpec()
    T, H, W = tl.num_frames, spec.height, spec.width
    K = 1 + len(style.layers)
    weights = _scratch.get("weights", (4, T, H * W))[:K]      # term k's weight field is weights[k]
    room = _scratch.get("room", (T, H * W))                   # 1 - coverage: how unlit each pixel still is
    tmp = _scratch.get("tmp", (T, H * W))
    colors = np.empty((T, 3, K), dtype=np.float32)
    weights[0] = _vignette(H, W)
    palette, background = layer_colors(tl, style)
    colors[:, :, 0] = background
    # layer colours leave headroom for the background, so add-then-screen chains never pass 1 and need no clip
    palette = palette * (0.999 * (1.0 - background.max(axis=1)))[:, None, None].astype(np.float32)
    needs_clip = False
    for k, layer in enumerate(style.layers, start=1):
        a = weights[k]                                          # every visualizer field is in [0, 1]
        gain = np.full(T, layer.opacity, dtype=np.float32)
        if layer.gate:
            gain *= gate_curve(tl, layer.gate)
        VISUALIZERS[layer.visualizer](tl, layer.params, H, W, out=a.reshape(T, H, W), gain=gain)
        colors[:, :, k] = palette[:, layer.slot]
        first, last = k == 1, k == len(style.layers)
        blend = "screen" if first and layer.blend == "add" else layer.blend   # on the background they agree
        if blend == "screen":
            if not first:
                a *= room
            if first and not last:
                np.subtract(1.0, a, out=room)
            elif not last:
                room -= a
        elif blend == "add":
            needs_clip = True
            if not last:
                room -= a
                np.maximum(room, 0.0, out=room)
        elif blend == "over":
            np.subtract(1.0, a, out=tmp)
            weights[:k] *= tmp
            if first and not last:
                room[:] = tmp
            elif not last:
                room *= tmp
        elif blend == "mask":
            needs_clip = True
            np.multiply(a, 0.85, out=tmp)
            tmp += 0.15                                         # lit: what shows of the layers below
            weights[1:k] *= tmp
            a *= 0.35
            if not last:                                        # coverage' = coverage * lit + a
                if first:
                    np.subtract(1.0, a, out=room)
                else:
                    np.subtract(1.0, room, out=room)
                    room *= tmp
                    room += a
                    np.subtract(1.0, room, out=room)
                    np.maximum(room, 0.0, out=room)
        else:
            raise ValueError(f"unknown blend mode {layer.blend!r}; choose from {BLENDS}")
    out = np.empty((T, 3, H * W), dtype=np.float32)
    np.matmul(colors, weights.transpose(1, 0, 2), out=out)
    if needs_clip:
        np.clip(out, 0.0, 1.0, out=out)
    return out.reshape(T, 3, H, W)
