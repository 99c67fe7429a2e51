"""audio2video: turn sound into video with a hybrid CNN + Transformer network."""
from .models import (AudioToVideoNet, AudioToVideoNetLegacy, ModelConfig, VideoModel, build_model, load_model,
                     save_pretrained)

__version__ = "0.1.0"

__all__ = ["AudioToVideoNet", "AudioToVideoNetLegacy", "ModelConfig", "VideoModel", "build_model", "load_model",
           "save_pretrained", "__version__"]
