"""Plot the shipped model's lineage: held-out scores after each training stage against the clips seen in all.

    python scripts/plot_lineage.py                 # docs/model_card/lineage.json -> docs/model_card/lineage.png
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PANELS = [("sync_ratio", "held-out music: sync ratio"), ("motion_corr", "held-out music: motion corr. with teacher"),
          ("psnr", "procedural: PSNR (dB)"), ("shuffle_gap", "procedural: shuffle gap")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("lineage", nargs="?", type=Path, default=ROOT / "docs" / "model_card" / "lineage.json")
    ap.add_argument("-o", "--out", type=Path, default=ROOT / "docs" / "model_card" / "lineage.png")
    args = ap.parse_args()
    record = json.loads(args.lineage.read_text())
    stages = record["stages"]
    seen, total = [], 0
    for s in stages:
        total += s["clips"]
        seen.append(total)
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4 * len(PANELS), 3.4))
    for ax, (key, title) in zip(axes, PANELS):
        points = [(x, s[key], s["stage"]) for x, s in zip(seen, stages) if s.get(key) is not None]
        ax.plot([p[0] for p in points], [p[1] for p in points], "o-", color="tab:blue")
        for x, y, stage in points:
            ax.annotate(str(stage), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        if key in record.get("bars", {}):
            ax.axhline(record["bars"][key], color="tab:red", linestyle="--", linewidth=1, label="bar")
        if key in record.get("teacher", {}):
            ax.axhline(record["teacher"][key], color="tab:green", linestyle=":", linewidth=1, label="teacher")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("clips seen, all stages")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("The shipped model after each stage (numbers: stage)", fontsize=11)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
