"""The rules of a run directory: a new run needs an empty one; --resume needs one, and keeps its config
(only `steps` may change; `init_from` may be left out)."""
from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from .checkpoint import latest_checkpoint
from .config import TrainConfig, load_config


def prepare_run_dir(run_dir: Path, cfg: TrainConfig, resume: bool, overrides_given: bool
                    ) -> tuple[TrainConfig, Path | None]:
    """Check the run directory against --resume; return the config to use and the checkpoint to resume from."""
    saved = run_dir / "config.yaml"
    latest = latest_checkpoint(run_dir)
    if not resume:
        if latest is not None or saved.exists():
            raise UserError(f"{run_dir}: already holds a run; pass --resume to continue it, or choose another --run-dir")
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
