"""What every audio2video model shares: its config, shape checks, a registry of kinds, and save/load.

Weights on disk are a directory holding config.json + model.safetensors; never a pickle. A model class joins
the registry by subclassing `VideoModel` with a `kind`, so adding a model is one edit and nothing here names
the concrete classes.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from ..checks import require_memory
from ..errors import CheckpointError, ConfigError, first_line
from ..io.files import atomic_write, atomic_write_text
from .config import ModelConfig, register_kind

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
FORMAT_VERSION = 1

_REGISTRY: dict[str, type["VideoModel"]] = {}


class VideoModel(nn.Module):
    """Base of every model: (B, 1, samples) audio in [-1, 1] -> (B, frames, 3, H, W) video in [0, 1]."""

    kind: str = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.kind:
            _REGISTRY[cls.kind] = cls
            register_kind(cls.kind)

    def __init__(self, config: ModelConfig):
        super().__init__()
        if config.kind != self.kind:
            raise ValueError(f"{type(self).__name__} is the {self.kind!r} model; its config says kind "
                             f"{config.kind!r} (use build_model(config) to get the class the config names)")
        self.config = config

    def _check_audio(self, audio: torch.Tensor) -> torch.Tensor:
        if audio.dim() == 2:
            audio = audio.unsqueeze(1)
        n = self.config.num_samples
        if audio.dim() != 3 or audio.shape[1] != 1 or audio.shape[2] != n:
            raise ValueError(f"expected audio of shape (B, 1, {n}), got {tuple(audio.shape)}")
        return audio

    def stages(self) -> list[tuple[str, str, list[nn.Module]]]:
        """(stage name, component group, modules) in forward order, for `audio2video info`."""
        raise NotImplementedError

    def save_pretrained(self, directory: str | Path, dtype: torch.dtype | None = None,
                        extra: dict | None = None) -> Path:
        """Write config.json + model.safetensors into `directory` (created if needed), each file atomically.
        `dtype` (e.g. torch.float16) casts floating tensors for smaller files; `extra` joins config.json."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        state = {}
        for name, tensor in self.state_dict().items():
            tensor = tensor.detach().to("cpu")
            if dtype is not None and tensor.is_floating_point():
                tensor = tensor.to(dtype)
            state[name] = tensor.contiguous()
        meta = {"format_version": FORMAT_VERSION, "model_type": self.kind, "config": self.config.to_dict()}
        if extra:
            meta.update(extra)
        atomic_write(directory / WEIGHTS_NAME, lambda tmp: save_file(state, tmp, metadata={"model_type": self.kind}))
        atomic_write_text(directory / CONFIG_NAME, json.dumps(meta, indent=2) + "\n")
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | Path | None = None,
                        map_location: str | torch.device = "cpu") -> "VideoModel":
        """The model saved in `directory` (any kind from VideoModel itself, else only this class's kind)."""
        model = load_model(directory, map_location=map_location)
        if cls is not VideoModel and not isinstance(model, cls):
            raise CheckpointError(f"{directory}: holds a {model.kind!r} model, not a {cls.kind!r} one")
        return model


def model_kinds() -> list[str]:
    return sorted(_REGISTRY)


def least_memory(config: ModelConfig) -> int:
    """Bytes a model of `config` needs at the least, in float32: its weights (`ModelConfig.least_weights`, a
    lower bound computed from the sizes) plus one clip in and out."""
    return 4 * (config.least_weights() + config.num_samples + config.frames * 3 * config.frame_size ** 2)


def require_model_memory(config: ModelConfig) -> None:
    """Refuse (ConfigError) a config whose weights and one clip would not fit in the memory available."""
    require_memory(least_memory(config), f"the model config ({config.kind}, {config.frames} frames of "
                                         f"{config.frame_size}x{config.frame_size}, {config.num_samples} samples)")


def build_model(config: ModelConfig) -> VideoModel:
    """A freshly initialised model of the kind `config` names; refused (ConfigError) when its weights and one clip
    would not fit in the memory available."""
    require_model_memory(config)
    return _REGISTRY[config.kind](config)


def save_pretrained(model: VideoModel, directory: str | Path, dtype: torch.dtype | None = None,
                    extra: dict | None = None) -> Path:
    return model.save_pretrained(directory, dtype=dtype, extra=extra)


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
    except RecursionError:
        raise CheckpointError(f"{path}: nested too deeply to be a model config") from None
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: not an audio2video model config ({e})") from None


def shipped_model_dir() -> Path:
    """Where the trained weights that ship with the package live."""
    return Path(__file__).resolve().parent.parent / "weights" / "hybrid"


def has_shipped_model() -> bool:
    d = shipped_model_dir()
    return (d / CONFIG_NAME).is_file() and (d / WEIGHTS_NAME).is_file()


def load_model(directory: str | Path | None = None, map_location: str | torch.device = "cpu") -> VideoModel:
    """Restore the model saved in `directory` (either kind), in eval mode, with fp32 weights.

    With no directory, the trained hybrid model that ships with the package."""
    if directory is None:
        if not has_shipped_model():
            raise CheckpointError("no trained model ships with this installation of audio2video (its weights folder "
                                  "is missing); pass a checkpoint directory (--checkpoint DIR), e.g. one written by "
                                  "`audio2video train`")
        directory = shipped_model_dir()
    directory = Path(directory)
    config = read_config(directory)
    weights = directory / WEIGHTS_NAME
    if not weights.is_file():
        raise CheckpointError(f"{directory}: no {WEIGHTS_NAME} in the checkpoint directory")
    try:
        require_model_memory(config)
        held = _numbers_in(weights)
        need = config.least_weights(saved=True)
        if held < need:  # refused before building: 100,000 layers in a small config.json took minutes to build
            raise CheckpointError(f"{directory}: {CONFIG_NAME} does not match {WEIGHTS_NAME} (its sizes need at "
                                  f"least {need:,} weights; the file holds {held:,})")
        model = build_model(config)
    except ConfigError as e:
        raise CheckpointError(f"{directory / CONFIG_NAME}: {e}") from None
    try:
        state = load_file(str(weights), device="cpu")
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{weights}: corrupt or unreadable weights ({first_line(e)})") from None
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
    if (name := first_non_finite(state)) is not None:
        raise CheckpointError(f"{weights}: tensor {name} holds NaN or Inf values")
    model.load_state_dict(state)
    return model.to(map_location).eval()


def first_non_finite(state: dict[str, torch.Tensor]) -> str | None:
    """The name of the first floating-point tensor in `state` that holds a NaN or Inf, None if there is none. A
    tensor's sum is finite when all its numbers are, except where the sum overflows, which the exact test then
    decides: one pass that allocates nothing (at spec size 2 ms against `isfinite(...).all()`'s 25 ms)."""
    for name, tensor in state.items():
        if tensor.is_floating_point() and not (bool(torch.isfinite(tensor.sum()))
                                               or bool(torch.isfinite(tensor).all())):
            return name
    return None


def _numbers_in(weights: Path) -> int:
    """How many numbers a safetensors file holds, from its header (no tensor is read)."""
    try:
        with safe_open(str(weights), framework="pt") as f:
            return sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys())
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{weights}: corrupt or unreadable weights ({first_line(e)})") from None
