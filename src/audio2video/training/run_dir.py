"""The rules of a run directory.

A new run needs a folder that is absent or empty, or -y (`overwrite`): then a previous run's files are set aside,
put back if the new run fails before its first checkpoint, and deleted once it has one; other files are left
alone. Whatever a new run writes is removed again if it fails before its first checkpoint (so the same command
can simply be run again). --resume needs a run, and keeps its config (only `steps` may change; `init_from` may be
left out).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ..errors import UserError
from ..io.files import file_problem, make_dirs, remove_empty
from .checkpoint import latest_checkpoint
from .config import TrainConfig, load_config

# what a run writes into its directory (training.logging, training.checkpoint, the trainer)
RUN_ENTRIES = ("config.yaml", "metrics.jsonl", "tensorboard", "samples", "loss_curve.png", "checkpoints")


def _check_folder(run_dir: Path) -> None:
    if os.path.lexists(run_dir) and not run_dir.is_dir():
        problem = file_problem(run_dir)
        raise UserError(f"{run_dir}: --run-dir must be a folder; this is " + (
            "a file" if problem is None else problem))


def prepare_run_dir(run_dir: Path, cfg: TrainConfig, resume: bool, overrides_given: bool, overwrite: bool = False
                    ) -> tuple[TrainConfig, Path | None]:
    """Check the run directory against --resume and -y; return the config to use and the checkpoint to resume
    from. Writes nothing."""
    _check_folder(run_dir)
    if resume and overwrite:
        raise UserError("--resume continues the run in --run-dir and -y replaces it: choose one")
    saved = run_dir / "config.yaml"
    latest = latest_checkpoint(run_dir)
    if not resume:
        if not overwrite and (latest is not None or saved.exists()):
            raise UserError(f"{run_dir}: already holds a run; pass --resume to continue it, -y to replace it, or "
                            "choose another --run-dir")
        if not overwrite and run_dir.is_dir() and any(run_dir.iterdir()):
            raise UserError(f"{run_dir}: exists and is not empty; choose another --run-dir, or pass -y to train "
                            "in it anyway")
        return cfg, None
    if not saved.exists():
        raise UserError(f"{run_dir}: no run to resume here (no config.yaml)")
    previous = load_config(saved)
    if overrides_given:
        a, b = previous.to_dict(), cfg.to_dict()
        a.pop("steps"), b.pop("steps")
        if not b["init_from"]:  # the starting weights matter only at the start: resuming need not repeat them
            b["init_from"] = a["init_from"]
        if a != b:
            diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            raise UserError(f"{run_dir}: the config given differs from the run's own in {', '.join(diff)}; "
                            "only steps may change on --resume")
        previous.steps = cfg.steps
    return previous, latest


class NewRun:
    """A new run's claim on its directory, taken by the process that writes (rank 0) before it writes anything.
    `kept()` after the first checkpoint; `undo()` when the run fails before it."""

    def __init__(self, run_dir: Path, replace: bool):
        self.run_dir = run_dir
        self.created = make_dirs(run_dir)
        self.aside: Path | None = None
        previous = [name for name in RUN_ENTRIES if os.path.lexists(run_dir / name)]
        if replace and previous:
            self.aside = Path(tempfile.mkdtemp(prefix=".replaced-run.", dir=run_dir))
            for name in previous:
                os.replace(run_dir / name, self.aside / name)
        self.before = set(os.listdir(run_dir))
        self.done = False

    def kept(self) -> None:
        """The run has a checkpoint: from now on it is resumable, and what it replaced is gone."""
        if not self.done:
            self.done = True
            if self.aside is not None:
                shutil.rmtree(self.aside, ignore_errors=True)

    def undo(self) -> None:
        """Remove what the run wrote, put back what it set aside, and remove the folder if it made it."""
        if self.done:
            return
        for name in set(os.listdir(self.run_dir)) - self.before:
            path = self.run_dir / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        if self.aside is not None:
            for entry in self.aside.iterdir():
                os.replace(entry, self.run_dir / entry.name)
            self.aside.rmdir()
        remove_empty(self.created)
