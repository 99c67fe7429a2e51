"""A whole song through the procedural engine: features computed in pieces, frames rendered in pieces, and
every piece identical to what the whole song at once would give.

Features are local (`features.CONTEXT_SECONDS`) and the onset detector's grid puts every whole second on a
hop, so the song is cut at whole seconds and each piece is computed with CONTEXT_SECONDS of audio on either
side, then trimmed. Rendering is local too: a frame's picture depends on the timeline of the last
RENDER_CONTEXT frames before it and the next few after it, so each block is rendered with that context around it.
Memory stays bounded whatever the song's length: one piece of audio and one block of frames at a time.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .clip import ClipSpec
from .features import CONTEXT_SECONDS, FeatureTimeline, compute_features
from .style import audio_style
from .visualizers.base import RENDER_CONTEXT
from .visualizers.compositor import Style, composite

def song_features(waveform: np.ndarray, spec: ClipSpec, piece_seconds: int = 30,
                  n_bands: int = 12) -> FeatureTimeline:
    """The feature timeline of a mono waveform of any length at spec.sample_rate (spec.duration is ignored)."""
    x = np.asarray(waveform, dtype=np.float32).reshape(-1)
    seconds = len(x) / spec.sample_rate
    if seconds <= piece_seconds + 2 * CONTEXT_SECONDS:
        return compute_features(x, spec, n_bands)
    sr, fps = spec.sample_rate, spec.fps
    total = int(round(seconds * fps))
    parts = []
    for a in range(0, int(np.ceil(seconds)), piece_seconds):
        lo = max(0, a - CONTEXT_SECONDS)
        hi = min(len(x), (a + piece_seconds + CONTEXT_SECONDS) * sr)
        tl = compute_features(x[lo * sr:hi], spec, n_bands)
        first = (a - lo) * fps
        parts.append(tl.slice(first, first + min(piece_seconds * fps, total - a * fps)))
    return concatenate(parts)


def concatenate(parts: list[FeatureTimeline]) -> FeatureTimeline:
    """One timeline from consecutive pieces (per-clip values: the first piece's, tempo averaged)."""
    first = parts[0]
    fields = {k: (np.concatenate([getattr(p, k) for p in parts]) if isinstance(v, np.ndarray) and k != "band_edges"
                  else v) for k, v in vars(first).items()}
    fields["tempo"] = float(np.mean([p.tempo for p in parts]))
    return FeatureTimeline(**fields)


def render_range(tl: FeatureTimeline, style: Style, spec: ClipSpec, start: int, stop: int) -> np.ndarray:
    """Frames [start, stop) of the song whose timeline is `tl`, exactly as rendering it whole would give them:
    (stop - start, 3, H, W) float32 in [0, 1]."""
    before, after = RENDER_CONTEXT
    lo, hi = max(0, start - before), min(tl.num_frames, stop + after)
    return composite(tl.slice(lo, hi), style, spec)[start - lo:stop - lo]


def render_song(tl: FeatureTimeline, spec: ClipSpec, style: Style | None = None,
                block: int = 90) -> Iterator[np.ndarray]:
    """The song's frames, `block` at a time: (n, 3, H, W) float32 arrays in [0, 1]."""
    style = style or audio_style(tl)
    for start in range(0, tl.num_frames, block):
        yield render_range(tl, style, spec, start, min(start + block, tl.num_frames))
