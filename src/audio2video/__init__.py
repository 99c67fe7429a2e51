"""audio2video: turn sound into video with a hybrid CNN + Transformer network.

The model classes and helpers below are imported on first use, so `audio2video --help` (and any command that
does not need torch yet) starts without importing torch."""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

__all__ = ["AudioToVideoNet", "AudioToVideoNetLegacy", "ModelConfig", "VideoModel", "build_model", "load_model",
           "save_pretrained", "__version__"]


def __getattr__(name: str):
    if name in __all__:
        value = getattr(importlib.import_module(".models", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
