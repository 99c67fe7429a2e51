"""What a run records: metrics.jsonl (+ TensorBoard when installed) and loss_curve.png."""
from __future__ import annotations

import json
from pathlib import Path

from ..io.files import atomic_write


def _row(line: str) -> dict | None:
    """One metrics.jsonl line, or None for a blank or torn one (a run killed mid-write)."""
    try:
        row = json.loads(line)
    except ValueError:
        return None
    return row if isinstance(row, dict) and isinstance(row.get("step", 0), (int, float)) else None


class Logger:
    """metrics.jsonl (+ TensorBoard when installed). Only rank 0 creates one."""

    def __init__(self, run_dir: Path, resume_step: int):
        self.path = run_dir / "metrics.jsonl"
        if self.path.exists():  # drop what a killed run logged after its last checkpoint (and a torn last line)
            kept = [line for line in self.path.read_text(errors="replace").splitlines()
                    if (row := _row(line)) is not None and row.get("step", 0) <= resume_step]
            atomic_write(self.path, lambda tmp: Path(tmp).write_text("".join(line + "\n" for line in kept)))
        self.file = self.path.open("a")
        self.tb = None
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(run_dir / "tensorboard"))
        except ImportError:
            pass

    def log(self, step: int, **values: float) -> None:
        self.file.write(json.dumps({"step": step, **values}) + "\n")
        self.file.flush()
        if self.tb is not None:
            for k, v in values.items():
                self.tb.add_scalar(k, v, step)

    def close(self) -> None:
        self.file.close()
        if self.tb is not None:
            self.tb.close()


def read_metrics(run_dir: Path) -> list[dict]:
    lines = (Path(run_dir) / "metrics.jsonl").read_text(errors="replace").splitlines()
    return [row for line in lines if (row := _row(line)) is not None]


PANELS = (("val_loss", "validation loss", True), ("val_psnr", "validation PSNR (dB)", False),
          ("shuffle_gap", "shuffle gap (shuffled MSE ÷ own MSE)", False))


def plot_runs(run_dirs: list[Path], out: Path, panels=PANELS) -> Path:
    """Validation curves of one or more runs side by side, one panel per metric (scripts/plot_runs.py)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5 * len(panels), 4))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for run in run_dirs:
        val = [r for r in read_metrics(run) if "val_loss" in r]
        for ax, (key, title, log) in zip(axes, panels):
            ax.plot([r["step"] for r in val], [r.get(key) for r in val], marker="o", label=Path(run).name)
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("step")
            ax.grid(alpha=0.3)
            if log:
                ax.set_yscale("log")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_write(Path(out), lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    return Path(out)


def plot_loss_curve(run_dir: Path) -> Path | None:
    """loss_curve.png: the training loss and the validation loss against the step, log scale."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = read_metrics(run_dir)
    train = [(r["step"], r["loss"]) for r in rows if "loss" in r]
    val = [(r["step"], r["val_loss"]) for r in rows if "val_loss" in r]
    if not train and not val:
        return None
    fig = Figure(figsize=(7, 4))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for points, label in ((train, "train loss"), (val, "validation loss")):
        if points:
            ax.plot(*zip(*points), label=label, marker="o" if label.startswith("val") else None)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out = Path(run_dir) / "loss_curve.png"
    atomic_write(out, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    return out
