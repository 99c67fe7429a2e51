"""The spec's two models, their config, and save/load (a registry of kinds that model classes join)."""
from .config import MODEL_KINDS, ClipSizeError, ModelConfig
from .modeling import (VideoModel, build_model, has_shipped_model, load_model, model_kinds, read_config,
                       save_pretrained, shipped_model_dir)
from .hybrid import AudioToVideoNet  # noqa: E402  (importing a model class registers its kind)
from .legacy import AudioToVideoNetLegacy  # noqa: E402

__all__ = ["AudioToVideoNet", "AudioToVideoNetLegacy", "ClipSizeError", "ModelConfig", "MODEL_KINDS", "VideoModel",
           "build_model", "has_shipped_model", "load_model", "model_kinds", "read_config", "save_pretrained",
           "shipped_model_dir"]
