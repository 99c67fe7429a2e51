"""docs/generation.md's side-by-side of the two cross-fades, and the seam figures beside it.

    python scripts/make_crossfade_preview.py [AUDIO] [--checkpoint DIR] [--seconds 60] [--out PNG]

Renders AUDIO (default: a procedural track, so the picture can be regenerated anywhere) with `--crossfade
pixel` and `--crossfade feature`, draws the frames around the first window boundary (the 15 shared frames and
a few either side) for both, with their difference, and prints JSON over every overlap of the input:
- seam: mean frame-to-frame change inside overlaps / elsewhere (1.0: the joins are as smooth as the rest);
- contrast: mean per-frame pixel standard deviation inside overlaps / elsewhere (below 1.0: the blend washes
  the picture out, the double exposure of two different frames);
- fast_vs_eager: the default (fast) path against the plain eager model through the same pipeline, frame by
  frame: the largest difference in 8-bit levels and the share of values that differ at all.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from audio2video.data import ClipSpec, generate_music
from audio2video.io.media import load_audio
from audio2video.models import load_model
from audio2video.pipelines.generate import GenerateOptions, plan_windows, render_frames
from audio2video.pipelines.inference import TorchEngine


def seam_figures(frames: np.ndarray, shared: np.ndarray) -> dict:
    f = frames.astype(np.float32) / 255
    change = np.abs(np.diff(f, axis=0)).mean(axis=(1, 2, 3))        # change into frame i + 1
    into_shared = shared[1:]
    contrast = f.reshape(len(f), -1).std(axis=1)
    return {"seam": float(change[into_shared].mean() / change[~into_shared].mean()),
            "contrast": float(contrast[shared].mean() / contrast[~shared].mean())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("audio", nargs="?", help="any audio file (default: a procedural track)")
    ap.add_argument("--checkpoint", help="model directory (default: the shipped model)")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--offset", type=float, default=0.0, help="start this many seconds into the audio")
    ap.add_argument("--out", default="docs/images/crossfade_side_by_side.png")
    args = ap.parse_args()
    model = load_model(args.checkpoint)
    cfg = model.config
    if args.audio:
        audio, _ = load_audio(args.audio, cfg.sample_rate)
    else:
        audio = np.concatenate([generate_music(seed, ClipSpec()).waveform for seed in range(1, 22)])
    start = int(args.offset * cfg.sample_rate)
    audio = audio[start:start + int(args.seconds * cfg.sample_rate)]
    total = int(round(len(audio) / cfg.sample_rate * cfg.fps))
    rendered = {mode: np.concatenate(list(render_frames(model, audio, total, GenerateOptions(crossfade=mode,
                                                                                             progress=False))))
                for mode in ("pixel", "feature")}
    plan = plan_windows(total, cfg.frames, cfg.fps, 0.5)
    shared = np.zeros(total, bool)
    for s in plan.starts[1:]:
        shared[s:s + plan.overlap_frames] = True
    figures = {mode: seam_figures(frames, shared) for mode, frames in rendered.items()}
    eager = np.concatenate(list(render_frames(TorchEngine(model, fast=False), audio, total,
                                              GenerateOptions(progress=False))))
    diff = np.abs(eager.astype(np.int16) - rendered["feature"].astype(np.int16))
    figures["fast_vs_eager"] = {"frames": total, "max_levels": int(diff.max()),
                                "share_of_values_differing": float((diff > 0).mean())}

    first = plan.starts[1]
    picks = list(range(first - 4, min(first + plan.overlap_frames + 4, total), 2))
    rows = [np.concatenate(list(rendered[m][picks]), axis=1) for m in ("pixel", "feature")]
    diff = np.abs(rows[0].astype(np.int16) - rows[1].astype(np.int16))
    rows.append(np.clip(diff * 4, 0, 255).astype(np.uint8))
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(len(picks) * 1.1, 3 * 1.25 + 0.6), dpi=110)
    labels = ["pixel cross-fade", "feature cross-fade (default)", "|difference| x 4"]
    for i, (row, label) in enumerate(zip(rows, labels)):
        ax = fig.add_subplot(3, 1, i + 1)
        ax.imshow(row, interpolation="nearest")
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
        size = cfg.frame_size
        ax.set_xticks([size * (k + 0.5) for k in range(len(picks))])
        ax.set_xticklabels([str(p) + ("*" if shared[p] else "") for p in picks], fontsize=7)
    fig.suptitle(f"frames {picks[0]}-{picks[-1]} (* = shared by two windows, blended)", fontsize=9)
    fig.tight_layout()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    print(json.dumps({"audio": args.audio or "procedural", "seconds": len(audio) / cfg.sample_rate,
                      "checkpoint": args.checkpoint or "shipped", "image": str(out), **figures}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
