"""Training configuration: dataclasses loaded from TOML or YAML, overridable with `--set key=value`.

Every section is a dataclass; an unknown key, a value of the wrong type (checks.build) or out of its range
(RANGES below, and the memory a batch needs at the least) is a ConfigError whose one-line message names the key
and says what is valid.
"""
from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from ..checks import Range, build, check_ranges, require_memory
from ..errors import ConfigError
from ..io.files import atomic_write_text, file_problem
from ..models.config import ModelConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


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
    motion: float = 0.0  # relative squared error of the per-frame motion envelope (mean |frame difference|)
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
        problems = [p for section, ranges in RANGES.items()
                    for p in check_ranges(getattr(self, section) if section else self, ranges,
                                          f"{section}." if section else "")]
        if self.data.source != "procedural":
            problems.append(f"data.source must be 'procedural', not {self.data.source!r}")
        if self.data.style not in ("audio", "seed"):
            problems.append(f"data.style must be 'audio' or 'seed', not {self.data.style!r}")
        if self.loss.shuffle_weight > 0 and self.batch_size < 2:
            problems.append("loss.shuffle_weight needs batch_size >= 2 (it shuffles audio within the batch)")
        if self.decode_pairs < 0 or 2 * self.decode_pairs > self.model.frames:
            problems.append(f"decode_pairs must be in [0, {self.model.frames // 2}] (model.frames / 2)")
        if problems:
            raise ConfigError("invalid config: " + "; ".join(problems))
        m = self.model
        clip = 4 * (m.num_samples + m.frames * 3 * m.frame_size ** 2)  # one clip's audio and video, float32
        # at the least: a batch's clips and predictions (again in each DataLoader worker), and the held-out set
        least = clip * (2 * self.batch_size * (1 + self.data.num_workers) + self.data.val_clips
                        + self.data.val_music_clips)
        require_memory(least, f"batch_size {self.batch_size} with data.num_workers {self.data.num_workers} and "
                              f"data.val_clips {self.data.val_clips} (clips of {m.frames} frames of {m.frame_size}²)")

    def to_dict(self) -> dict[str, Any]:
        return _to_plain(self)


# Each setting's range, section by section ("" is the top level); types are the dataclasses' annotations.
SEED = Range(0, 2 ** 64 - 1)  # what every generator the project seeds accepts
_UNIT, _NONNEG, _POSITIVE = Range(0, 1), Range(0), Range(1)
RANGES = {
    "": {"steps": _POSITIVE, "batch_size": _POSITIVE, "seed": SEED, "log_every": _POSITIVE, "val_every": _POSITIVE,
         "ckpt_every": _POSITIVE, "keep_last": _POSITIVE, "max_bad_steps": _POSITIVE, "decode_pairs": _NONNEG},
    "data": {"seed": SEED, "val_clips": _POSITIVE, "num_workers": _NONNEG, "music_ratio": _UNIT,
             "val_music_clips": _NONNEG, "gain_db": _NONNEG},
    "optim": {"lr": Range(0, low_open=True), "weight_decay": _NONNEG, "betas": Range(0, 1, high_open=True, items=(2, 2)),
              "grad_clip": _NONNEG},
    "schedule": {"warmup_steps": _NONNEG, "min_lr_ratio": _UNIT},
    "loss": {"mse": _NONNEG, "l1": _NONNEG, "temporal": _NONNEG, "motion": _NONNEG, "shuffle_weight": _NONNEG, "shuffle_margin": _NONNEG,
             "shuffle_prob": _UNIT, "controls": _NONNEG},
}


def _to_plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        return {f.name: _to_plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, (tuple, list)):
        return [_to_plain(v) for v in obj]
    return obj


# ---- reading files and overrides -------------------------------------------------------------------------------

def read_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    problem = file_problem(path)
    if problem:
        raise ConfigError(f"{path}: config file not found" if problem == "no such file" else f"{path}: {problem}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not a text file in UTF-8 (byte {e.start}: {e.reason})") from None
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
        else:
            raise ConfigError(f"{path}: config files are .toml or .yaml, not {path.suffix or 'no suffix'}")
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as e:
        raise ConfigError(f"{path}: cannot parse ({str(e).splitlines()[0]})") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a config") from None
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
    try:
        config = build(TrainConfig, data)
    except RecursionError:
        raise ConfigError(f"{path or 'the --set values'}: nested too deeply to be a config") from None
    config.validate()
    return config


def save_config(config: TrainConfig, path: str | Path) -> None:
    atomic_write_text(Path(path), yaml.safe_dump(config.to_dict(), sort_keys=False))
