"""Training checkpoints: a model directory `generate` loads as it is, plus the state that resumes the run.

    RUN_DIR/checkpoints/step_00000500/        config.json  model.safetensors  train_state.pt
    RUN_DIR/checkpoints/best -> .best_00000500   a link to the checkpoint with the lowest validation loss so far

Crash safety, at any instant (SIGKILL included):
- a step checkpoint is written completely into a hidden temporary folder and then renamed to its final name
  (one atomic rename); the latest *complete* step checkpoint is what --resume uses, and old ones are pruned
  only after the new one is in place;
- `best` is a symbolic link: the new best is written completely into its own folder, and one atomic rename
  of a new link over `best` switches to it; the previous best's folder is removed only after the switch.
  So `best` always resolves to a complete, loadable model.
train_state.pt is written by this project itself and read back with weights_only=True.
"""
from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError
from ..io.files import replace_link, staged_dir
from ..models import VideoModel
from ..models.modeling import first_non_finite

STATE_NAME = "train_state.pt"
STEP_DIR = re.compile(r"^step_(\d{8})$")
BEST = "best"
BEST_TARGET = re.compile(r"^\.best_\d{8}\.")


def checkpoints_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "checkpoints"


def step_checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    """Complete step checkpoints, oldest first."""
    root = checkpoints_dir(run_dir)
    if not root.is_dir():
        return []
    found = []
    for p in root.iterdir():
        m = STEP_DIR.match(p.name)
        if m and (p / STATE_NAME).is_file() and (p / "model.safetensors").is_file():
            found.append((int(m.group(1)), p))
    return sorted(found)


def latest_checkpoint(run_dir: Path) -> Path | None:
    found = step_checkpoints(run_dir)
    return found[-1][1] if found else None


def _write_into(directory: Path, model: VideoModel, state: dict[str, Any], extra: dict[str, Any]) -> None:
    model.save_pretrained(directory, extra=extra)
    torch.save(state, directory / STATE_NAME)


def _write_step(target: Path, model: VideoModel, state: dict[str, Any], extra: dict[str, Any]) -> None:
    """Written in a hidden folder beside `target`, which becomes `target` in one rename when complete."""
    with staged_dir(target, overwrite=True) as tmp:  # the run directory is this run's own
        _write_into(tmp, model, state, extra)


def _write_best(root: Path, step: int, model: VideoModel, state: dict[str, Any], extra: dict[str, Any]) -> None:
    """A new folder, complete before the `best` link switches to it; the previous best's folder goes after."""
    folder = Path(tempfile.mkdtemp(prefix=f".best_{step:08d}.", dir=root))
    try:
        _write_into(folder, model, state, extra)
        replace_link(root / BEST, folder.name)  # relative, so a run directory can be moved
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _remove_stale(root, keep=folder.name)


def _remove_stale(root: Path, keep: str) -> None:
    """Folders of earlier bests and the leftovers of interrupted writes."""
    for p in root.iterdir():
        if p.name != keep and not p.is_symlink() and (BEST_TARGET.match(p.name) or p.name.startswith(".step_")
                                                      or p.name == f".{BEST}.before-link"):
            shutil.rmtree(p, ignore_errors=True)


def save_checkpoint(run_dir: Path, model: VideoModel, state: dict[str, Any], step: int, keep_last: int,
                    metrics: dict[str, float] | None = None, best: bool = False) -> Path:
    """Write step_<step> (and `best` if asked) and prune old step checkpoints. Refuses non-finite weights."""
    if (name := first_non_finite(model.state_dict())) is not None:
        raise CheckpointError(f"refusing to write a checkpoint at step {step}: {name} is not finite")
    root = checkpoints_dir(run_dir)
    root.mkdir(parents=True, exist_ok=True)
    extra = {"train": {"step": step, **(metrics or {})}}
    target = root / f"step_{step:08d}"
    _write_step(target, model, state, extra)
    if best:
        _write_best(root, step, model, state, extra)
    for _, old in step_checkpoints(run_dir)[:-keep_last]:
        shutil.rmtree(old, ignore_errors=True)
    return target


# what a train_state.pt this project wrote holds (and the trainer reads back)
STATE_TYPES = {"step": int, "optimizer": dict, "scheduler": dict}
OPTIONAL_TYPES = {"best_val_loss": (float, int, type(None)), "world_size": int, "control_head": dict}


def check_state(state: Any, directory: Path) -> dict[str, Any]:
    """`state` if it is a training state this project wrote, else a CheckpointError naming what is wrong."""
    path = Path(directory) / STATE_NAME
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: not a training state (it holds a {type(state).__name__}, not a dict)")
    for key, kind in STATE_TYPES.items():
        value = state.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise CheckpointError(f"{path}: not a training state of this project ({key!r} is missing or a "
                                  f"{type(value).__name__})")
    if state["step"] < 0:
        raise CheckpointError(f"{path}: step {state['step']} is negative")
    for key, kinds in OPTIONAL_TYPES.items():
        if key in state and not isinstance(state[key], kinds):
            raise CheckpointError(f"{path}: {key!r} is a {type(state[key]).__name__}")
    return state


def load_state(directory: Path) -> dict[str, Any]:
    path = Path(directory) / STATE_NAME
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no training state in this checkpoint") from None
    except Exception:  # noqa: BLE001 - any failure to read our own file is a corrupt checkpoint
        raise CheckpointError(f"{path}: cannot read training state (corrupt, or not written by audio2video)") from None
