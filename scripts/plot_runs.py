"""Plot validation curves of one or more training runs side by side (for docs/model_card.md).

    python scripts/plot_runs.py runs/hybrid-cpu runs/legacy-cpu -o docs/model_card/training_curves.png
    python scripts/plot_runs.py runs/music -o curves.png --panels music_val_motion_corr,music_shuffle_gap,val_psnr
"""
from __future__ import annotations

import argparse
from pathlib import Path

from audio2video.training.logging import PANELS, plot_runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--panels", help="comma-separated keys of metrics.jsonl's validation rows "
                    "(default: val_loss,val_psnr,shuffle_gap)")
    args = ap.parse_args()
    panels = PANELS if not args.panels else [(k, k, k.endswith("loss")) for k in args.panels.split(",")]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    print(f"wrote {plot_runs(args.runs, args.out, panels)}")


if __name__ == "__main__":
    main()
