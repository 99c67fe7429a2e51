"""The procedural data engine: seeded music -> feature timeline -> visualizers -> (audio, video) pairs.

    from audio2video.data import ProceduralDataset, heldout_set
    train = ProceduralDataset(length=10_000, base_seed=0)     # (audio (1, 48000), video (90, 3, 128, 128))
    val = heldout_set(64)                                      # fixed, disjoint from any training seed
"""
from .clip import ClipSpec
from .features import FeatureTimeline, compute_features
from .music import MusicConfig, Song, generate_music
from .procedural import (HELDOUT_SEED, EngineConfig, ProceduralDataset, Sample, collate_with_meta, heldout_set,
                         make_sample, sample_rng)
from .style import STYLE_MODES, audio_cues, audio_style, make_style, seed_style
from .visualizers import VISUALIZERS, Param, Visualizer
from .visualizers.compositor import BLENDS, Layer, Style, composite
from .visualizers.palettes import Palette

__all__ = ["BLENDS", "ClipSpec", "EngineConfig", "FeatureTimeline", "HELDOUT_SEED", "Layer", "MusicConfig", "Palette",
           "Param", "ProceduralDataset", "STYLE_MODES", "Sample", "Song", "Style", "VISUALIZERS", "Visualizer",
           "audio_cues", "audio_style", "collate_with_meta", "composite", "compute_features", "generate_music",
           "heldout_set", "make_sample", "make_style", "sample_rng", "seed_style"]
