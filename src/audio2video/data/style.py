"""Where the look comes from: `seed` style (drawn at random) or `audio` style (a function of the sound).

A model that sees only audio cannot guess a look drawn at random: trained on random looks it learns their
blurry average. So there are two modes:

* `seed`  - palette, 1-3 layers, blend modes and every parameter drawn from the sample's RNG. Diversity, for
            models that will get a style input.
* `audio` - the look is a deterministic, local function of the feature timeline, so an audio-only model can
            learn it: three large, soft layers (bloom: rings that zoom on kicks; petals that twist on hi-hats
            and snares; burst: spokes thrown outward on every onset), each lit by its band region, coloured
            around the harmony's hue (chroma on the circle of fifths, smoothed over +-1.5 s). Every onset moves
            them, by as much as it is strong, and the motion decays monotonically until the next one.
"""
from __future__ import annotations

import numpy as np

from .features import FeatureTimeline
from .visualizers import VISUALIZERS
from .visualizers.compositor import BLENDS, Layer, Style
from .visualizers.palettes import SCHEMES, Palette

STYLE_MODES = ("audio", "seed")


# The audio style's layers: (visualizer, parameters, blend, palette slot, opacity, band region that lights it).
# Every parameter is fixed: what differs between songs and moments comes from the sound, frame by frame.
AUDIO_LAYERS = (
    ("bloom", {"rings": 2.2, "size": 0.95, "kick": 0.14}, "add", 0, 0.95, "low"),
    ("petals", {"folds": 5, "twist": 0.22, "bend": 0.35, "reach": 0.75}, "screen", 1, 0.85, "mid"),
    ("burst", {"spokes": 10, "jump": 0.3, "width": 0.18}, "screen", 2, 0.8, "high"),
)


def audio_style(tl: FeatureTimeline | None = None) -> Style:
    """The look as a function of the sound, and only of the sound near each frame: colours turn with the
    harmony's hue (smoothed over +-1.5 s), each layer is lit by its band region (smoothed over +-0.5 s), sizes
    follow the slow loudness and every onset moves the layers (kicks the rings, hi-hats the petals and spokes).
    No clip-level statistic enters, so any window of a song looks like the same moment of the whole song.
    (`tl` is accepted for symmetry with `make_style`; the style itself is the same for every timeline.)"""
    palette = Palette.build(hue=0.0, scheme="audio", saturation=0.85)
    layers = [Layer(name, dict(params), blend, slot, opacity, gate)
              for name, params, blend, slot, opacity, gate in AUDIO_LAYERS]
    return Style("audio", palette, layers, hue_drift=0.0, follow_harmony=True)


def seed_style(rng: np.random.Generator) -> Style:
    palette = Palette.build(hue=rng.random(), scheme=str(rng.choice([k for k in SCHEMES if k != "audio"])),
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
