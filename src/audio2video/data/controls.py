"""The per-frame control signals that drive the audio style's layers: what a model must get right for its
pictures to move like the teacher's, and what training can supervise directly.

Each column is exactly what the visualizers read. The drives are 0 between onsets and about 1 right at a
full-strength onset (overlapping onsets add up, to at most 2.2); hue is cos/sin in [-1, 1]; the rest are in [0, 1]:
    onset      the onset's strength on frames holding one, else 0
    kick       the bloom's zoom drive (`impulses` weighted towards low onsets)
    twist      the petals' turn drive (weighted towards high onsets)
    drive      the burst's throw (every onset alike)
    lit        how visible the layers are (slow loudness times a quick fade in silence)
    loudness   per-frame loudness (level-normalised)
    low, mid, high   the band regions' smoothed energy (which layers are lit)
    hue_cos, hue_sin the harmony's hue on the colour circle
"""
from __future__ import annotations

import numpy as np

from .features import FeatureTimeline
from .visualizers.base import impulses, kick_drive, lit, twist_drive

CONTROL_NAMES = ("onset", "kick", "twist", "drive", "lit", "loudness", "low", "mid", "high", "hue_cos", "hue_sin")


def control_signals(tl: FeatureTimeline) -> np.ndarray:
    """(T, len(CONTROL_NAMES)) float32, one row per frame."""
    angle = 2 * np.pi * tl.hue
    columns = [tl.strength, kick_drive(tl), twist_drive(tl), impulses(tl),
               lit(tl), tl.loudness, tl.energy[:, 0], tl.energy[:, 1], tl.energy[:, 2], np.cos(angle), np.sin(angle)]
    return np.stack(columns, axis=1).astype(np.float32)
