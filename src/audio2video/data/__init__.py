"""The procedural data engine: seeded music -> feature timeline -> visualizers -> (audio, video) pairs.

    from audio2video.data import ProceduralDataset, heldout_set
    train = ProceduralDataset(length=10_000, base_seed=0)     # (audio (1, 48000), video (90, 3, 128, 128))
    val = heldout_set(64)                                      # fixed, disjoint from any training seed
"""
from .clip import ClipSpec
from .controls import CONTROL_NAMES, control_signals
from .features import FeatureTimeline, compute_features
from .music import MusicConfig, Song, generate_music
from .onsets import normalize_level
from .procedural import (HELDOUT_SEED, EngineConfig, ProceduralDataset, Sample, collate_with_meta, heldout_set,
                         make_sample, sample_rng)
from .style import AUDIO_LAYERS, STYLE_MODES, audio_style, make_style, seed_style
from .visualizers import VISUALIZERS, Param, Visualizer
from .visualizers.compositor import BLENDS, Layer, Style, composite
from .visualizers.palettes import Palette

__all__ = ["BLENDS", "CONTROL_NAMES", "ClipSpec", "EngineConfig", "FeatureTimeline", "HELDOUT_SEED", "Layer", "MusicConfig", "Palette",
           "Param", "ProceduralDataset", "STYLE_MODES", "Sample", "Song", "Style", "VISUALIZERS", "Visualizer",
           "AUDIO_LAYERS", "audio_style", "collate_with_meta", "composite", "control_signals", "compute_features", "generate_music",
           "heldout_set", "make_sample", "make_style", "normalize_level", "sample_rng", "seed_style"]
