"""Training throughput at spec size: a plain eager full-frame step against the project's own training paths,
all measured in one run, so their ratio holds on any machine.

    python benchmarks/train_throughput.py [--batch-size 4] [--steps 4] [--pairs 8] [--legacy]

Prints JSON:
  plain_full      the baseline: a bare eager loop, the spec model decoding all 90 frames, MSE, AdamW, on one
                  pre-made batch (no data cost)
  bare_pairs      the same bare loop decoding only `--pairs` random pairs of adjacent frames per clip
  train_command   `audio2video train --config configs/music.toml` itself, end to end (its data engine in a
                  DataLoader worker, loss terms, control head, level-normalised input and log-mel path,
                  logging; procedural clips only, as no music is assumed), decode_pairs=--pairs, read from its
                  metrics.jsonl after warm-up
and each one's clips/s as a multiple of plain_full's; peak RSS per path (each runs in its own process); the
fp32 matmul rate (2048x2048) before and after, so runs on busy or different machines compare by ratios.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

RECIPE = Path(__file__).resolve().parents[1] / "configs" / "music.toml"


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    t = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n ** 3 * repeats / (time.perf_counter() - t) / 1e9


BARE = r"""
import json, resource, sys, time
import torch
import torch.nn.functional as F
from audio2video.data.procedural import make_sample
from audio2video.models import ModelConfig, build_model
from audio2video.training.net import TrainingNet, pair_frames

kind, batch, steps, pairs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.manual_seed(0)
model = build_model(ModelConfig(kind=kind)).train()
net = TrainingNet(model)
opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
samples = [make_sample(0, i) for i in range(batch)]
audio = torch.stack([torch.from_numpy(s.audio) for s in samples])
video = torch.stack([torch.from_numpy(s.video) for s in samples])
times = []
for step in range(steps + 1):  # the first step warms up allocators and is not counted
    t0 = time.perf_counter()
    frames = pair_frames(video.shape[1], pairs) if pairs else None
    pred, _ = net(audio, frames)
    loss = F.mse_loss(pred, video if frames is None else video.index_select(1, frames))
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step:
        times.append(time.perf_counter() - t0)
s = sum(times) / steps
print(json.dumps({"seconds_per_step": s, "clips_per_s": batch / s,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def bare(kind: str, batch: int, steps: int, pairs: int) -> dict:
    out = subprocess.run([sys.executable, "-c", BARE, kind, str(batch), str(steps), str(pairs)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def train_command(kind: str, batch: int, steps: int, pairs: int) -> dict:
    """`audio2video train` for 2 + steps * 2 steps, logging every 2; clips/s of the logs after the first."""
    with tempfile.TemporaryDirectory() as tmp:
        total = 2 + 2 * steps
        sets = [f"model.kind={kind}", f"batch_size={batch}", f"steps={total}", "log_every=2",
                f"val_every={10 ** 6}", f"ckpt_every={10 ** 6}", "data.val_clips=1", f"decode_pairs={pairs}",
                "data.music=[]", "data.music_ratio=0"]
        cmd = [sys.executable, "-m", "audio2video.train", "--config", str(RECIPE), "--run-dir", str(Path(tmp) / "run"),
               "-q"]
        for s in sets:
            cmd += ["--set", s]
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t
        if proc.returncode:
            raise SystemExit(f"train failed: {proc.stderr.strip().splitlines()[-1]}")
        logs = [json.loads(line) for line in (Path(tmp) / "run" / "metrics.jsonl").read_text().splitlines()]
        rates = [r["clips_per_s"] for r in logs if "clips_per_s" in r][1:]
        data = [r["data_s"] for r in logs if "data_s" in r][1:]
    return {"clips_per_s": sum(rates) / len(rates), "data_s_per_step": sum(data) / len(data),
            "wall_s_incl_startup": wall,
            "peak_rss_mb_any_child_so_far": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--pairs", type=int, default=8)
    ap.add_argument("--legacy", action="store_true", help="also the legacy model's plain full-frame step")
    args = ap.parse_args()
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "batch_size": args.batch_size,
              "pairs": args.pairs, "baseline_matmul_gflops": matmul_gflops()}
    paths = {"plain_full": lambda: bare("hybrid", args.batch_size, args.steps, 0),
             "bare_pairs": lambda: bare("hybrid", args.batch_size, args.steps, args.pairs),
             "train_command": lambda: train_command("hybrid", args.batch_size, args.steps, args.pairs)}
    if args.legacy:
        paths["legacy_plain_full"] = lambda: bare("legacy", args.batch_size, args.steps, 0)
    for name, run in paths.items():
        result[name] = run()
    base = result["plain_full"]["clips_per_s"]
    result["speedup_vs_plain_full"] = {k: round(result[k]["clips_per_s"] / base, 2) for k in paths}
    result["baseline_matmul_gflops_after"] = matmul_gflops()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
