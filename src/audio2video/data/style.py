"""Where the look comes from: `seed` style (drawn at random) or `audio` style (a function of the sound).

A model that sees only audio cannot guess a look drawn at random: trained on random looks it learns their
blurry average. So there are two modes:

* `seed`  - palette, 1-3 layers, blend modes and every parameter drawn from the sample's RNG. Diversity, for
            models that will get a style input.
* `audio` - the look is a deterministic function of the feature timeline, so an audio-only model can learn it:
            hue from the pitch content (chroma on the circle of fifths), colour scheme from the mean spectral
            centroid, saturation from loudness, one layer per band region (low: bass and kick, mid: lead and
            pad, high: hats and snare) whose visualizer is picked by tempo / onset density / brightness and
            which fades in and out as that region plays, and every parameter set by its audio cue.
"""
from __future__ import annotations

import numpy as np

from .features import FeatureTimeline
from .visualizers import VISUALIZERS
from .visualizers.compositor import BLENDS, Layer, Style
from .visualizers.palettes import SCHEMES, Palette

STYLE_MODES = ("audio", "seed")
LOW_ROLE = ("texture", "kaleido", "pulse")       # picked by tempo
MID_ROLE = ("scope", "bars", "kaleido")          # picked by brightness
HIGH_ROLE = ("grid", "rings", "particles")       # picked by onset density


def audio_cues(tl: FeatureTimeline) -> dict[str, float]:
    """Clip-level descriptors of the sound, each in [0, 1]."""
    sounding = tl.loudness > 0.02
    if not sounding.any():
        return {"tempo": 0.5, "brightness": 0.5, "loudness": 0.0, "density": 0.0, "key": 0.0, "fixed": 0.5}
    seconds = sounding.sum() / tl.fps
    fifths = (7 * np.arange(12)) % 12                                      # pitch class -> circle-of-fifths slot
    z = np.sum(tl.chroma * np.exp(2j * np.pi * fifths / 12))
    # ranges chosen so that each cue spreads over [0, 1] across generated songs
    cue = {
        "tempo": np.log2(tl.tempo / 80.0) % 1.0 if tl.tempo > 0 else 0.5,   # octave-folded: 80 and 160 BPM agree
        "brightness": (float(np.median(tl.brightness[sounding])) - 0.5) / 0.2,
        "loudness": (float(tl.loudness[sounding].mean()) - 0.66) / 0.1,
        "density": (tl.peaks.sum() / seconds - 3.0) / 3.0,                   # onset peaks per second of sound
        "key": (np.angle(z) / (2 * np.pi)) % 1.0 if abs(z) > 0 else 0.0,
        "fixed": 0.5,
    }
    return {k: float(np.clip(v, 0.0, 1.0)) for k, v in cue.items()}


def _pick(options: tuple[str, ...], u: float) -> str:
    return options[min(int(u * len(options)), len(options) - 1)]


def audio_style(tl: FeatureTimeline) -> Style:
    cue = audio_cues(tl)
    schemes = list(SCHEMES)
    palette = Palette.build(hue=cue["key"], scheme=_pick(tuple(schemes), cue["brightness"]),
                            saturation=0.6 + 0.35 * cue["loudness"])
    params = lambda name: {k: p.value(cue[p.cue]) for k, p in VISUALIZERS[name].params.items()}
    low = _pick(LOW_ROLE, cue["tempo"])
    mid = _pick(tuple(v for v in MID_ROLE if v != low), cue["brightness"])
    high = _pick(HIGH_ROLE, cue["density"])
    layers = [Layer(low, params(low), "add", 0, 0.9, "low"),
              Layer(mid, params(mid), "screen", 1, 0.9, "mid"),
              Layer(high, params(high), "screen", 2, 1.0, "high")]
    return Style("audio", palette, layers, hue_drift=0.08)


def seed_style(rng: np.random.Generator) -> Style:
    palette = Palette.build(hue=rng.random(), scheme=str(rng.choice(list(SCHEMES))),
                            saturation=rng.uniform(0.55, 0.95), bg_level=rng.uniform(0.03, 0.12))
    n = int(rng.integers(1, 4))
    names = rng.choice(list(VISUALIZERS), size=n, replace=False)
    slots = rng.permutation(3)
    layers = []
    for i, name in enumerate(names):
        blend = str(rng.choice(["add", "over"])) if i == 0 else str(rng.choice(BLENDS, p=[0.3, 0.35, 0.15, 0.2]))
        params = {k: p.draw(rng) for k, p in VISUALIZERS[name].params.items()}
        layers.append(Layer(str(name), params, blend, int(slots[i]), float(rng.uniform(0.75, 1.0))))
    return Style("seed", palette, layers, hue_drift=float(rng.uniform(0.0, 0.12)))


def make_style(mode: str, tl: FeatureTimeline, rng: np.random.Generator) -> Style:
    if mode == "audio":
        return audio_style(tl)
    if mode == "seed":
        return seed_style(rng)
    raise ValueError(f"unknown style mode {mode!r}; choose from {STYLE_MODES}")
