"""The one dataclass that sizes both models. Its defaults are the spec's."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any

from ..checks import Range, check_ranges, coerce_fields
from ..errors import ConfigError
from ..data.clip import ClipSpec

# Filled by the model classes themselves (VideoModel subclasses register their kind when they are defined),
# so adding a model is one edit: its module.
MODEL_KINDS: list[str] = []


def register_kind(kind: str) -> None:
    if kind not in MODEL_KINDS:
        MODEL_KINDS.append(kind)


class ClipSizeError(ValueError):
    """A model config whose clip length and frame count give no whole number of frames per second."""


@dataclass
class ModelConfig:
    """Sizes of AudioToVideoNet (kind "hybrid") and AudioToVideoNetLegacy (kind "legacy").

    The defaults reproduce the spec: 3 s of 16 kHz audio -> 90 frames of 128x128 RGB (30 fps).
    """

    kind: str = "hybrid"
    # clip geometry
    sample_rate: int = 16000
    clip_seconds: float = 3.0
    frames: int = 90
    frame_size: int = 128
    # CNN audio encoder: Conv1d 1 -> 32 -> 64 -> 128 -> 256, stride 4
    encoder_channels: tuple[int, ...] = (32, 64, 128, 256)
    encoder_kernels: tuple[int, ...] = (80, 4, 4, 4)
    encoder_stride: int = 4
    # temporal transformer (hybrid only); d_model is the encoder's last width
    layers: int = 4
    heads: int = 8
    ff_dim: int = 1024
    dropout: float = 0.1
    pos_max_len: int = 256
    # the spec's final LayerNorm after the transformer layers suits pre-norm layers (the stabler choice)
    norm_first: bool = True
    # CNN frame decoder (hybrid only): spatial seed of seed_channels x (frame_size / 2**4), then ConvTranspose2d
    seed_channels: int = 256
    decoder_channels: tuple[int, ...] = (128, 64, 32)
    # per-frame MLP decoder (legacy only)
    mlp_hidden: tuple[int, ...] = (512, 1024)
    # Beyond the spec, off by default (a model saved without these keys loads as it was trained):
    input_norm: str = "none"        # "level": the input is level-normalised first (the data engine's AGC, in torch)
    audio_features: str = "none"    # "logmel": a fixed log-mel + spectral-flux path added to the encoder's output

    def __post_init__(self) -> None:
        """Every field checked by type (lists become tuples, 30.0 becomes 30) and by range (MODEL_RANGES)."""
        for name, value in coerce_fields(type(self), {f.name: getattr(self, f.name) for f in fields(self)}).items():
            setattr(self, name, value)
        self.validate()

    # derived sizes ---------------------------------------------------------------------------------
    @property
    def num_samples(self) -> int:
        return int(round(self.sample_rate * self.clip_seconds))

    @property
    def fps(self) -> float:
        return self.frames / self.clip_seconds

    @property
    def d_model(self) -> int:
        return self.encoder_channels[-1]

    @property
    def seed_size(self) -> int:
        return self.frame_size // 2 ** (len(self.decoder_channels) + 1)

    def clip_spec(self) -> ClipSpec:
        """The model's clip as the data engine's one clip-geometry type (square frames, whole frames per second)."""
        fps = int(round(self.fps))
        spec = ClipSpec(sample_rate=self.sample_rate, duration=self.clip_seconds, fps=fps, height=self.frame_size,
                        width=self.frame_size)
        if spec.num_samples != self.num_samples or spec.num_frames != self.frames:
            raise ClipSizeError("model.frames / model.clip_seconds must give a whole number of frames per second")
        return spec

    def encoder_lengths(self) -> list[int]:
        """Time steps after each encoder conv (12000, 3000, 750, 187 for the spec)."""
        lengths, n = [], self.num_samples
        for i, k in enumerate(self.encoder_kernels):
            n = (n + 2 * encoder_padding(k, self.encoder_stride, i) - k) // self.encoder_stride + 1
            lengths.append(n)
        return lengths

    def least_weights(self, saved: bool = False) -> int:
        """A lower bound of the numbers the model holds (parameters and buffers), from the sizes alone: the weight
        matrices of every layer the config sizes, biases and norms aside. Nothing is allocated or built, so a
        config.json asking for a 275 GB model is refused in microseconds (models.modeling.build_model);
        tests/models/test_models.py checks it stays within a few percent of the real models' count. With
        `saved`, of what model.safetensors holds (the tables the model computes, positions and the log-mel
        filter bank, aside): a weights file holding fewer numbers cannot belong to this config."""
        d, widths = self.d_model, (1, *self.encoder_channels)
        n = sum(a * b * k for a, b, k in zip(widths, widths[1:], self.encoder_kernels))
        if self.kind == "legacy":
            dims = (d, *self.mlp_hidden, 3 * self.frame_size ** 2)
            return n + sum(a * b for a, b in zip(dims, dims[1:]))
        chans = (self.seed_channels, *self.decoder_channels, 3)
        n += (0 if saved else self.pos_max_len * d) + self.layers * (4 * d * d + 2 * d * self.ff_dim)
        n += d * self.seed_channels * self.seed_size ** 2 + sum(16 * a * b for a, b in zip(chans, chans[1:]))
        if self.audio_features == "logmel":  # its filter bank and window (buffers) and projection
            n_fft = int(0.025 * self.sample_rate)
            n += (0 if saved else 41 * (n_fft // 2 + 1)) + 3 * d * (80 + d)
        return n

    def validate(self) -> None:
        problems = []
        if self.kind not in MODEL_KINDS:
            problems.append(f"kind must be one of {', '.join(MODEL_KINDS)}, not {self.kind!r}")
        if len(self.encoder_channels) != len(self.encoder_kernels) or not self.encoder_channels:
            problems.append("encoder_channels and encoder_kernels must have the same, non-zero length")
        problems += check_ranges(self, MODEL_RANGES)
        if self.input_norm not in ("none", "level"):
            problems.append(f"input_norm must be 'none' or 'level', not {self.input_norm!r}")
        if self.audio_features not in ("none", "logmel"):
            problems.append(f"audio_features must be 'none' or 'logmel', not {self.audio_features!r}")
        if self.kind == "hybrid":
            if self.encoder_channels and self.d_model % max(self.heads, 1):
                problems.append(f"heads ({self.heads}) must divide d_model ({self.d_model})")
            if self.frames > self.pos_max_len:
                problems.append(f"frames ({self.frames}) exceeds pos_max_len ({self.pos_max_len})")
            step = 2 ** (len(self.decoder_channels) + 1)
            if self.frame_size % step:
                problems.append(f"frame_size ({self.frame_size}) must be a multiple of {step}")
        if not problems and self.encoder_lengths()[-1] < 1:
            problems.append(f"clip of {self.num_samples} samples is too short for the encoder")
        if problems:
            raise ConfigError("invalid model config: " + "; ".join(problems))

    # (de)serialisation ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown model config keys {unknown}; valid keys: {', '.join(sorted(known))}")
        return cls(**data)

    def replace(self, **changes: Any) -> "ModelConfig":
        return dataclasses.replace(self, **changes)


# Each field's range (types are the annotations'). Sizes have no fixed upper bound: building a model checks that
# its weights and one clip fit in the memory available (models.modeling.build_model).
_POSITIVE = Range(1)
MODEL_RANGES = {
    "sample_rate": _POSITIVE, "clip_seconds": Range(0, low_open=True), "frames": _POSITIVE, "frame_size": _POSITIVE,
    "encoder_channels": Range(1, items=(1, None)), "encoder_kernels": Range(1, items=(1, None)),
    "encoder_stride": _POSITIVE, "layers": _POSITIVE, "heads": _POSITIVE, "ff_dim": _POSITIVE,
    "dropout": Range(0, 1, high_open=True), "pos_max_len": _POSITIVE, "seed_channels": _POSITIVE,
    "decoder_channels": _POSITIVE, "mlp_hidden": _POSITIVE,
}


def encoder_padding(kernel: int, stride: int, index: int) -> int:
    """Conv1 pads (80 - 4) / 2 = 38, so 48000 samples give exactly 12000 steps; the later convs pad 0."""
    return (kernel - stride) // 2 if index == 0 else 0
