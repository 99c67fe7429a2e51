"""The spec's two models, their config, and save/load."""
from .base import VideoModel
from .config import MODEL_KINDS, ModelConfig
from .hub import build_model, load_model, save_pretrained
from .hybrid import AudioToVideoNet
from .legacy import AudioToVideoNetLegacy

__all__ = ["AudioToVideoNet", "AudioToVideoNetLegacy", "ModelConfig", "MODEL_KINDS", "VideoModel",
           "build_model", "load_model", "save_pretrained"]
