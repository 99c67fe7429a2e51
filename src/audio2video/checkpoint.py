"""Training checkpoints: a model directory `generate` loads as it is, plus the state that resumes the run.

    RUN_DIR/checkpoints/step_00000500/   config.json  model.safetensors  train_state.pt
    RUN_DIR/checkpoints/best/            the same, for the lowest validation loss so far

Each checkpoint is written into a temporary directory and renamed into place, so a crash (even SIGKILL)
leaves either the complete previous set or the complete new one. The last `keep_last` step checkpoints are
kept, plus `best`. train_state.pt is written by this project itself and read back with weights_only=True.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import torch

from .errors import CheckpointError
from .models import VideoModel
from .models.hub import save_pretrained

STATE_NAME = "train_state.pt"
STEP_DIR = re.compile(r"^step_(\d{8})$")


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


def _write_dir(target: Path, model: VideoModel, state: dict[str, Any], extra: dict[str, Any]) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    save_pretrained(model, tmp, extra=extra)
    torch.save(state, tmp / STATE_NAME)
    old = target.with_name(f".{target.name}.old")
    if target.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def save_checkpoint(run_dir: Path, model: VideoModel, state: dict[str, Any], step: int, keep_last: int,
                    metrics: dict[str, float] | None = None, best: bool = False) -> Path:
    """Write step_<step> (and `best` if asked) and prune old step checkpoints. Refuses non-finite weights."""
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise CheckpointError(f"refusing to write a checkpoint at step {step}: {name} is not finite")
    root = checkpoints_dir(run_dir)
    root.mkdir(parents=True, exist_ok=True)
    extra = {"train": {"step": step, **(metrics or {})}}
    target = root / f"step_{step:08d}"
    _write_dir(target, model, state, extra)
    if best:
        _write_dir(root / "best", model, state, extra)
    for _, old in step_checkpoints(run_dir)[:-keep_last]:
        shutil.rmtree(old, ignore_errors=True)
    return target


def load_state(directory: Path) -> dict[str, Any]:
    path = Path(directory) / STATE_NAME
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any failure to read our own file is a corrupt checkpoint
        raise CheckpointError(f"{path}: cannot read training state ({str(e).splitlines()[0]})") from None

