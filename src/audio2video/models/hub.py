"""Weights on disk: a directory holding config.json + model.safetensors. Never a pickle."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..errors import CheckpointError
from ..files import atomic_write
from .base import VideoModel
from .config import ModelConfig

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
FORMAT_VERSION = 1


def model_class(kind: str) -> type[VideoModel]:
    from .hybrid import AudioToVideoNet
    from .legacy import AudioToVideoNetLegacy

    return {"hybrid": AudioToVideoNet, "legacy": AudioToVideoNetLegacy}[kind]


def build_model(config: ModelConfig) -> VideoModel:
    return model_class(config.kind)(config)


def save_pretrained(model: VideoModel, directory: str | Path, dtype: torch.dtype | None = None,
                    extra: dict | None = None) -> Path:
    """Write `model` to `directory`. `dtype` (e.g. torch.float16) casts floating tensors for smaller files."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {}
    for name, tensor in model.state_dict().items():
        tensor = tensor.detach().to("cpu")
        if dtype is not None and tensor.is_floating_point():
            tensor = tensor.to(dtype)
        state[name] = tensor.contiguous()
    meta = {"format_version": FORMAT_VERSION, "model_type": model.kind, "config": model.config.to_dict()}
    if extra:
        meta.update(extra)
    atomic_write(directory / WEIGHTS_NAME, lambda tmp: save_file(state, tmp, metadata={"model_type": model.kind}))
    atomic_write(directory / CONFIG_NAME, lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=2) + "\n"))
    return directory


def read_config(directory: str | Path) -> ModelConfig:
    directory = Path(directory)
    if not directory.exists():
        raise CheckpointError(f"{directory}: checkpoint directory does not exist")
    if not directory.is_dir():
        raise CheckpointError(f"{directory}: a checkpoint is a directory holding {CONFIG_NAME} and {WEIGHTS_NAME}")
    path = directory / CONFIG_NAME
    if not path.is_file():
        raise CheckpointError(f"{directory}: no {CONFIG_NAME} in the checkpoint directory")
    try:
        meta = json.loads(path.read_text())
        config = dict(meta["config"])
        config["kind"] = meta.get("model_type", config.get("kind", "hybrid"))
        return ModelConfig.from_dict(config)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: not valid JSON ({e})") from None
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: not an audio2video model config ({e})") from None


def shipped_model_dir() -> Path:
    """Where the trained weights that ship with the package live (they may not exist in this version)."""
    return Path(__file__).resolve().parent.parent / "weights" / "hybrid"


def has_shipped_model() -> bool:
    d = shipped_model_dir()
    return (d / CONFIG_NAME).is_file() and (d / WEIGHTS_NAME).is_file()


def load_model(directory: str | Path | None = None, map_location: str | torch.device = "cpu") -> VideoModel:
    """Restore the model saved in `directory` (either kind), in eval mode, with fp32 weights.

    With no directory, the trained hybrid model that ships with the package."""
    if directory is None:
        if not has_shipped_model():
            raise CheckpointError("no trained model ships with this version of audio2video yet; "
                                  "pass a checkpoint directory (--checkpoint DIR), e.g. one written by `audio2video train`")
        directory = shipped_model_dir()
    directory = Path(directory)
    config = read_config(directory)
    weights = directory / WEIGHTS_NAME
    if not weights.is_file():
        raise CheckpointError(f"{directory}: no {WEIGHTS_NAME} in the checkpoint directory")
    try:
        state = load_file(str(weights), device="cpu")
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{weights}: corrupt or unreadable weights ({_first_line(e)})") from None
    model = build_model(config)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if expected[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        detail = "; ".join(f"{label}: {', '.join(keys[:3])}{' …' if len(keys) > 3 else ''}"
                           for label, keys in (("missing", missing), ("unexpected", unexpected),
                                               ("wrong shape", wrong)) if keys)
        raise CheckpointError(f"{directory}: {CONFIG_NAME} does not match {WEIGHTS_NAME} ({detail})")
    state = {k: v.to(expected[k].dtype) for k, v in state.items()}
    for name, tensor in state.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise CheckpointError(f"{weights}: tensor {name} holds NaN or Inf values")
    model.load_state_dict(state)
    return model.to(map_location).eval()


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
