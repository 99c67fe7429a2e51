"""Benchmark the procedural data engine on one core: clips per second for generation + rendering.

    .venv/bin/python benchmarks/data_engine.py [--n 200] [--size 128] [--seconds 3]

Prints JSON: clips/s overall (the default `audio` style and the `seed` style), per visualizer (music +
features + that visualizer alone, composited), and baselines measured in the same run - allocating and
filling one clip's output array, the music generator alone, the feature timeline alone - so figures taken
on a busy or different machine can be compared by their ratios.
"""
from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):   # one core, before numpy loads
    os.environ[var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from audio2video.data import (VISUALIZERS, ClipSpec, EngineConfig, Layer, Style, audio_style,  # noqa: E402
                              composite, compute_features, generate_music, make_sample, sample_rng)


def rate(fn, n: int, repeats: int = 3) -> float:
    """Calls per second of fn(i) over n distinct i, best of `repeats` (the least disturbed by other work)."""
    fn(0)
    best = float("inf")
    for r in range(repeats):
        t = time.perf_counter()
        for i in range(n):
            fn(1000 * (r + 1) + i)
        best = min(best, time.perf_counter() - t)
    return n / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="clips per measurement (default 100)")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    spec = ClipSpec(duration=args.seconds, height=args.size, width=args.size)
    T = spec.num_frames
    n = args.n

    def alloc(i):       # the floor: a fresh clip-sized float32 array, written once, handed to torch
        out = np.empty((T, 3, spec.height, spec.width), dtype=np.float32)
        out.fill(i % 7 / 7)
        return torch.from_numpy(out)

    songs = {}

    def music(i):
        songs[i % 50] = generate_music(sample_rng(0, i), spec)

    waves = [generate_music(sample_rng(1, i), spec).waveform for i in range(50)]
    baseline = {"alloc_output_clips_per_s": rate(alloc, n), "music_only_clips_per_s": rate(music, n),
                "features_only_clips_per_s": rate(lambda i: compute_features(waves[i % 50], spec), n)}

    overall = {}
    for mode in ("audio", "seed"):
        cfg = EngineConfig(spec=spec, style=mode)
        overall[mode] = rate(lambda i: torch.from_numpy(make_sample(0, i, config=cfg).video), n)

    per_vis = {}
    for name in VISUALIZERS:
        def one_layer(i, name=name):
            song = generate_music(sample_rng(2, i), spec)
            tl = compute_features(song.waveform, spec)
            base = audio_style(tl)
            style = Style("audio", base.palette, [Layer(name, base.layers[0].params if base.layers[0].visualizer == name
                                                         else {k: p.value(0.5) for k, p in VISUALIZERS[name].params.items()})])
            return composite(tl, style, spec)
        per_vis[name] = rate(one_layer, max(20, n // 2))

    result = {
        "what": "clips/s on one core: music generation + feature timeline + rendering (+ float32 output)",
        "clip": spec.to_dict(),
        "overall_clips_per_s": round(overall["audio"], 1),
        "overall_by_style": {k: round(v, 1) for k, v in overall.items()},
        "target_clips_per_s": 50,
        "per_visualizer_clips_per_s": {k: round(v, 1) for k, v in per_vis.items()},
        "baseline": {k: round(v, 1) for k, v in baseline.items()},
        "overall_ms_per_clip": round(1000 / overall["audio"], 2),
        "overall_over_alloc_baseline_time": round(baseline["alloc_output_clips_per_s"] / overall["audio"], 2),
        "machine": {"python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
                    "processor": platform.processor() or platform.machine(), "torch_threads": torch.get_num_threads()},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
