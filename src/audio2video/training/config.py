"""Training configuration: dataclasses loaded from TOML or YAML, overridable with `--set key=value`.

Every section is a dataclass; an unknown key or a value of the wrong type is a ConfigError whose one-line
message names the key and lists what is valid.
"""
from __future__ import annotations

import dataclasses
import sys
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from ..errors import UserError
from ..models.config import ModelConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


class ConfigError(UserError):
    pass


@dataclass
class DataConfig:
    source: str = "procedural"  # the procedural engine (real-video shards plug in later)
    seed: int = 0  # base seed of the training stream; sample k is always the same clip
    style: str = "audio"  # "audio": the look follows the audio (learnable); "seed": random looks
    val_clips: int = 16  # size of the fixed held-out set (seeds disjoint from training)
    num_workers: int = 0  # DataLoader worker processes per rank
    music: list[str] = field(default_factory=list)  # your audio files and folders: real music as training data
    music_ratio: float = 0.5  # share of training clips that are windows of data.music (the rest: procedural)
    music_cache: str = ""  # where decoded audio and its features are cached (default ~/.cache/audio2video/music)
    val_music_clips: int = 8  # held-out windows of data.music's held-out files, scored at each validation
    gain_db: float = 0.0  # random gain of each training clip's audio, uniform in +-gain_db dB (clipped to [-1, 1])


@dataclass
class OptimConfig:
    lr: float = 3e-4
    weight_decay: float = 0.01
    betas: tuple[float, ...] = (0.9, 0.999)
    grad_clip: float = 1.0  # max global gradient norm; 0 disables clipping


@dataclass
class ScheduleConfig:
    warmup_steps: int = 200  # linear warm-up from 0 to optim.lr
    min_lr_ratio: float = 0.1  # cosine decay ends at lr * min_lr_ratio


@dataclass
class LossConfig:
    mse: float = 1.0
    l1: float = 0.0
    temporal: float = 0.0  # MSE between predicted and true frame-to-frame differences
    # audio-dependence pressure: a hinge that asks the loss with audio shuffled within the batch to exceed the
    # true loss by `shuffle_margin` (relative): relu((1 + margin) * loss_true - loss_shuffled)
    shuffle_weight: float = 0.0
    shuffle_margin: float = 0.5
    shuffle_prob: float = 1.0  # share of steps that apply the hinge
    # a training-only head regressing the teacher's per-frame control signals (data.CONTROL_NAMES) from the
    # transformer's features; not part of the saved model
    controls: float = 0.0


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    steps: int = 10000
    batch_size: int = 4  # clips per step per process
    seed: int = 0  # initialisation and per-step randomness (dropout, shuffles)
    device: str = "auto"
    compile: bool = False  # torch.compile the model (pays a compile at start)
    sync_bn: bool = False  # SyncBatchNorm across DDP processes
    log_every: int = 10
    val_every: int = 500
    ckpt_every: int = 500
    keep_last: int = 3  # checkpoints kept besides the best
    max_bad_steps: int = 5  # consecutive non-finite losses before the run aborts
    # decode only this many random pairs of adjacent frames of each clip (0: all frames); the encoder and
    # transformer always see the whole clip, and validation always decodes every frame
    decode_pairs: int = 0
    init_from: str = ""  # a model directory whose weights start a new run (fresh optimizer and schedule)

    def validate(self) -> None:
        problems = []
        for name in ("steps", "batch_size", "log_every", "val_every", "ckpt_every", "max_bad_steps"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1")
        if self.keep_last < 1:
            problems.append("keep_last must be >= 1")
        if self.data.source != "procedural":
            problems.append(f"data.source must be 'procedural', not {self.data.source!r}")
        if self.data.style not in ("audio", "seed"):
            problems.append(f"data.style must be 'audio' or 'seed', not {self.data.style!r}")
        if self.loss.shuffle_weight > 0 and self.batch_size < 2:
            problems.append("loss.shuffle_weight needs batch_size >= 2 (it shuffles audio within the batch)")
        if not 0 <= self.loss.shuffle_prob <= 1:
            problems.append("loss.shuffle_prob must be in [0, 1]")
        if self.optim.lr <= 0:
            problems.append("optim.lr must be positive")
        if not 0 <= self.data.music_ratio <= 1:
            problems.append("data.music_ratio must be in [0, 1]")
        if self.data.val_music_clips < 0 or self.data.gain_db < 0 or self.loss.controls < 0:
            problems.append("data.val_music_clips, data.gain_db and loss.controls must be >= 0")
        if self.decode_pairs < 0 or 2 * self.decode_pairs > self.model.frames:
            problems.append(f"decode_pairs must be in [0, {self.model.frames // 2}] (model.frames / 2)")
        if problems:
            raise ConfigError("invalid config: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return _to_plain(self)


def _to_plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        return {f.name: _to_plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, (tuple, list)):
        return [_to_plain(v) for v in obj]
    return obj


# ---- reading files and overrides -------------------------------------------------------------------------------

def read_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    text = path.read_text()
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
        else:
            raise ConfigError(f"{path}: config files are .toml or .yaml, not {path.suffix or 'no suffix'}")
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as e:
        raise ConfigError(f"{path}: cannot parse ({str(e).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a table of settings")
    return data


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply one `section.key=value` (value parsed as YAML: 3e-4, true, [1, 2], hybrid)."""
    key, sep, raw = assignment.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {assignment!r}: expected key=value, e.g. optim.lr=1e-4")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    *parents, leaf = key.strip().split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"--set {key}: {part} is not a section")
    node[leaf] = value


def build(cls: type, data: dict[str, Any], where: str = "") -> Any:
    """Build dataclass `cls` from plain data, checking keys and types."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'config'}: expected a section of settings, got {data!r}")
    hints = typing.get_type_hints(cls)
    valid = [f.name for f in fields(cls) if f.init]
    unknown = sorted(set(data) - set(valid))
    if unknown:
        place = f" in [{where}]" if where else ""
        raise ConfigError(f"unknown config key {where + '.' if where else ''}{unknown[0]}; valid keys{place}: "
                          f"{', '.join(valid)}")
    kwargs = {}
    for name, value in data.items():
        kwargs[name] = _coerce(hints[name], value, f"{where}.{name}" if where else name)
    try:
        return cls(**kwargs)
    except ValueError as e:
        raise ConfigError(str(e)) from None


def _coerce(hint: Any, value: Any, key: str) -> Any:
    if dataclasses.is_dataclass(hint):
        return build(hint, value, key)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _coerce(options[0], value, key)
    if origin in (tuple, list):
        (item,) = typing.get_args(hint)[:1]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        items = [_coerce(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, str):  # YAML reads 1e-4 (no dot) as a string
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported setting type {hint}")  # a bug in the dataclass, not the file


# Keys that configs written by earlier versions hold and that no longer exist, with the value that meant
# "unused": such a config still loads (e.g. a run directory resumed after an upgrade).
RETIRED = {"nan_steps": []}  # was a testing aid in the production config; tests now inject NaN themselves


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> TrainConfig:
    data = read_file(path) if path else {}
    for assignment in overrides:
        apply_override(data, assignment)
    for key, unused in RETIRED.items():
        if key in data and data[key] == unused:
            del data[key]
    config = build(TrainConfig, data)
    config.validate()
    return config


def save_config(config: TrainConfig, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
