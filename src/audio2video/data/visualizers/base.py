"""What every visualizer shares: the interface, style parameters, coordinate grids and timeline helpers.

A visualizer is a pure function of (feature timeline, parameters, frame size) that returns a scalar field
(T, H, W) float32 in [0, 1]: how lit each pixel is. Colour, blending and layering are the compositor's job.
Every frame of a clip is rendered at once. Most visualizers are a lookup: a per-frame table (T, K) computed
from the timeline (cheap: K is a few thousand) indexed by a per-pixel map (H*W,) into K that depends only on
the frame size and the parameters (cached), so the per-pixel cost is a single gather, written straight into the caller's buffer.

Parameters are declared as `Param`s. In `seed` style they are drawn at random; the `audio` style fixes them
(style.AUDIO_LAYERS), so what changes the picture is the sound, frame by frame.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..features import FeatureTimeline
from ..onsets import hann_smooth

@dataclass(frozen=True)
class Param:
    lo: float
    hi: float
    integer: bool = False

    def value(self, u: float):
        """The parameter at position u in [0, 1] of its range."""
        v = self.lo + (self.hi - self.lo) * float(np.clip(u, 0.0, 1.0))
        return int(round(v)) if self.integer else round(v, 4)

    def draw(self, rng: np.random.Generator):
        return self.value(rng.random())


class Visualizer:
    name: str = ""
    drives: tuple[str, ...] = ()         # what moves it: "loudness", "onset", "bands"
    params: dict[str, Param] = {}

    def render(self, tl: FeatureTimeline, p: dict, out: np.ndarray, gain: np.ndarray) -> None:
        """Write the field times the per-frame `gain` (T,) into `out`, a contiguous (T, H, W) float32 array
        whose contents are garbage. (Folding the gain into a per-frame table is far cheaper than a pass over
        the field, so each visualizer applies it itself.)"""
        raise NotImplementedError

    def __call__(self, tl: FeatureTimeline, p: dict | None = None, height: int = 128, width: int = 128,
                 out: np.ndarray | None = None, gain: np.ndarray | None = None) -> np.ndarray:
        """The (T, H, W) field; parameters not given take the middle of their range."""
        full = {k: v.value(0.5) for k, v in self.params.items()}
        full.update(p or {})
        if out is None:
            out = np.empty((tl.num_frames, height, width), dtype=np.float32)
        assert out.shape == (tl.num_frames, height, width) and out.dtype == np.float32 and out.flags.c_contiguous
        gain = np.ones(tl.num_frames, np.float32) if gain is None else np.asarray(gain, np.float32)
        self.render(tl, full, out, gain)
        return out


# ----------------------------------------------------------------------------------------------------------
# coordinate grids, cached per size

@lru_cache(maxsize=32)
def grid(height: int, width: int):
    """Pixel-centre coordinates, the shorter side spanning [-1, 1]: x (W,), y (H,) (y grows downwards),
    radius r (H, W) and angle theta (H, W) in (-pi, pi]."""
    s = min(height, width) / 2
    x = ((np.arange(width) + 0.5 - width / 2) / s).astype(np.float32)
    y = ((np.arange(height) + 0.5 - height / 2) / s).astype(np.float32)
    r = np.sqrt(x[None, :] ** 2 + y[:, None] ** 2).astype(np.float32)
    theta = np.arctan2(y[:, None], x[None, :]).astype(np.float32)
    for a in (x, y, r, theta):
        a.flags.writeable = False
    return x, y, r, theta


# How many frames of the timeline before and after a frame its picture may depend on (`impulses`, `lit`).
RENDER_CONTEXT = (12, 3)
FADE = RENDER_CONTEXT[1]
BINS, DMAX = 256, 1.6      # radius bins of the radial lookups, and the radius they span (past the corners)


@lru_cache(maxsize=16)
def radius_index(height: int, width: int) -> np.ndarray:
    """Per pixel, its radius bin (BINS bins over [0, DMAX]): for fields that depend on the radius only."""
    return bin_index(grid(height, width)[2].reshape(-1), 0.0, DMAX, BINS)


def radii() -> np.ndarray:
    """The radius at the centre of each of the BINS bins: (BINS,)."""
    return ((np.arange(BINS) + 0.5) * (DMAX / BINS)).astype(np.float32)


@lru_cache(maxsize=16)
def polar_index(height: int, width: int, angles: int, rbins: int, rmax: float) -> np.ndarray:
    """Per pixel: angle bin (of `angles` over the full turn, 0 at theta = -pi) * rbins + radius bin."""
    _, _, r, theta = grid(height, width)
    a = bin_index(theta.reshape(-1), -np.pi, np.pi, angles)
    return a * rbins + bin_index(r.reshape(-1), 0.0, rmax, rbins)


def polar_bins(height: int, width: int) -> tuple[int, int]:
    """(angle bins, radius bins) of a polar lookup over radius [0, 1.5]: 128 x 48 at 128 pixels (about 2
    pixels a bin at the rim), finer for larger frames so a native 512 or 1080 render shows no steps."""
    size = min(height, width)
    return (128, 48) if size <= 128 else (2 * size, 3 * size // 8)


def bin_index(values: np.ndarray, lo: float, hi: float, bins: int) -> np.ndarray:
    """Map values to integer bins 0..bins-1 over [lo, hi] (clamped)."""
    return np.clip(((values - lo) / (hi - lo) * bins).astype(np.int64), 0, bins - 1)


def lookup(table: np.ndarray, index: np.ndarray, out: np.ndarray) -> None:
    """Gather a per-frame table (T, K) through a per-pixel index (H*W,) into a field `out` (T, H, W)."""
    np.take(table, index, axis=1, out=out.reshape(len(table), -1))


# ----------------------------------------------------------------------------------------------------------
# timeline helpers: smoothing, onset hits, audio clock, presence

def follow(x: np.ndarray, attack: float = 1.0, release: float = 0.3) -> np.ndarray:
    """Envelope follower: moves a fraction `attack` of the way up and `release` of the way down per frame."""
    out = np.empty_like(x, dtype=np.float32)
    acc = 0.0
    for i, v in enumerate(np.asarray(x, dtype=np.float64)):
        acc += (v - acc) * (attack if v > acc else release)
        out[i] = acc
    return out


def strength(tl: FeatureTimeline, floor: float = 0.5) -> np.ndarray:
    """Per frame, how hard onset visualizers fire: 0 off the onset peaks, floor..1 on them (even a soft onset
    shows clearly, a hard one more)."""
    return (tl.peaks * (floor + (1.0 - floor) * tl.strength)).astype(np.float32)


def hits(tl: FeatureTimeline, half_life: float = 3.0) -> np.ndarray:
    """An impulse at each onset peak (see `strength`), decaying with `half_life` frames."""
    return follow(strength(tl), 1.0, 1.0 - 0.5 ** (1.0 / half_life))


def impulses(tl: FeatureTimeline, weight: np.ndarray | None = None, decay: float = 0.55,
             span: int = RENDER_CONTEXT[0]) -> np.ndarray:
    """How far an onset-driven layer is displaced: at each onset an impulse of 0.4 + 0.6 * strength (times
    `weight`, per frame), decaying geometrically by `decay` per frame and gone after `span` frames. Because the
    displacement relaxes geometrically, the motion (its frame-to-frame change) jumps on the onset and then
    decays monotonically: one motion peak per onset, none of its own. Finite, so a frame depends only on the
    last `span` frames (RENDER_CONTEXT)."""
    amount = tl.peaks * (0.4 + 0.6 * tl.strength)
    if weight is not None:
        amount = amount * weight
    # r^k - r^span rather than r^k cut off: the last step down is geometric too, so motion never rises again
    kernel = (decay ** np.arange(span) - decay ** span) / (1 - decay ** span)
    return np.convolve(amount.astype(np.float64), kernel)[:tl.num_frames].astype(np.float32)


def kick_drive(tl: FeatureTimeline) -> np.ndarray:
    """Impulses weighted towards low onsets (kicks): what zooms the bloom."""
    return impulses(tl, 0.35 + 0.65 * tl.low)


def twist_drive(tl: FeatureTimeline) -> np.ndarray:
    """Impulses weighted towards high onsets (hi-hats, snares): what turns the petals."""
    return impulses(tl, 1.0 - 0.65 * tl.low)


def lit(tl: FeatureTimeline) -> np.ndarray:
    """How visible the onset-driven layers are: the slow loudness (smoothed over +-0.5 s), times a quick fade
    (+-FADE frames) to 0 in silence, so a silence goes still within a few frames."""
    sounding = hann_smooth((tl.loudness > 0.02).astype(np.float32), FADE)
    return (np.clip(tl.level / 0.25, 0.0, 1.0) * np.clip(2 * sounding - 1, 0.0, 1.0)).astype(np.float32)


def presence(tl: FeatureTimeline) -> np.ndarray:
    """1 while there is sound, falling to 0 within a few frames of silence."""
    return follow((tl.loudness > 0.02).astype(np.float32), 1.0, 0.5)


def clock(tl: FeatureTimeline, speed: float = 1.0) -> np.ndarray:
    """Seconds of loud sound so far: drives every continuous motion, so silence freezes it."""
    return (np.cumsum(tl.loudness, dtype=np.float64) * (speed / tl.fps)).astype(np.float32)


def band_groups(tl: FeatureTimeline, groups: int) -> np.ndarray:
    """The bands averaged into `groups` contiguous groups: (T, groups)."""
    edges = np.linspace(0, tl.bands.shape[1], groups + 1).round().astype(int)
    return np.stack([tl.bands[:, a:b].mean(axis=1) for a, b in zip(edges[:-1], edges[1:])], axis=1)


def resample_bands(tl: FeatureTimeline, n: int) -> np.ndarray:
    """The bands linearly interpolated onto n points: (T, n)."""
    B = tl.bands.shape[1]
    pos = np.linspace(0, B - 1, n)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, B - 1)
    f = (pos - i0).astype(np.float32)
    return tl.bands[:, i0] * (1 - f) + tl.bands[:, i1] * f
