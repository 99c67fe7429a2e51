"""The procedural data engine: seeded music -> feature timeline -> visualizers -> (audio, video) pairs.

    from audio2video.data import ProceduralDataset, heldout_set
    train = ProceduralDataset(length=10_000, base_seed=0)     # (audio (1, 48000), video (90, 3, 128, 128))
    val = heldout_set(64)                                      # fixed, disjoint from any training seed

The names below load their module on first use (PEP 562), so a caller that needs only `data.clip` (the model's
config does) does not import the engine, and torch with it, at start-up.
"""
from __future__ import annotations

import importlib

_HOMES = {
    "clip": ["ClipSpec"],
    "controls": ["CONTROL_NAMES", "control_signals"],
    "features": ["FeatureTimeline", "compute_features"],
    "music": ["MusicConfig", "Song", "generate_music"],
    "onsets": ["normalize_level"],
    "procedural": ["HELDOUT_SEED", "EngineConfig", "ProceduralDataset", "Sample", "collate_with_meta", "heldout_set",
                   "make_sample", "sample_rng"],
    "style": ["AUDIO_LAYERS", "STYLE_MODES", "audio_style", "make_style", "seed_style"],
    "visualizers": ["VISUALIZERS", "Param", "Visualizer"],
    "visualizers.compositor": ["BLENDS", "Layer", "Style", "composite"],
    "visualizers.palettes": ["Palette"],
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
