"""Plot validation curves of one or more training runs side by side (for docs/model_card.md).

    python scripts/plot_runs.py runs/hybrid-cpu runs/legacy-cpu -o docs/model_card/training_curves.png
"""
from __future__ import annotations

import argparse
from pathlib import Path

from audio2video.training.logging import plot_runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("-o", "--out", type=Path, required=True)
    args = ap.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    print(f"wrote {plot_runs(args.runs, args.out)}")


if __name__ == "__main__":
    main()
