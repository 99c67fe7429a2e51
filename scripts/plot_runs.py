"""Plot validation curves of one or more training runs side by side (for docs/model_card.md).

    python scripts/plot_runs.py runs/hybrid-cpu runs/legacy-cpu -o docs/model_card/training_curves.png
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PANELS = (("val_loss", "validation loss (MSE + 0.5 temporal)", True), ("val_psnr", "validation PSNR (dB)", False),
          ("shuffle_gap", "shuffle gap (loss shuffled / loss true)", False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("-o", "--out", type=Path, required=True)
    args = ap.parse_args()
    fig, axes = plt.subplots(1, len(PANELS), figsize=(15, 4))
    for run in args.runs:
        rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
        val = [r for r in rows if "val_loss" in r]
        for ax, (key, title, log) in zip(axes, PANELS):
            ax.plot([r["step"] for r in val], [r[key] for r in val], marker="o", label=run.name)
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("step (batch 4)")
            ax.grid(alpha=0.3)
            if log:
                ax.set_yscale("log")
    axes[0].legend()
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
