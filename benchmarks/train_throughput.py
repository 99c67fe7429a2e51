"""Training throughput at spec size: clips/s, peak RSS, and data time vs compute time per step.

    python benchmarks/train_throughput.py [--batch-size 4] [--steps 3] [--kinds hybrid legacy]

Prints JSON. Each model kind runs in its own subprocess (so peak RSS is its own). The baseline, measured in
the same run, is this machine's fp32 matmul rate (2048x2048), so figures from different machines or
different moments on a shared machine can be compared as a share of what the CPU could do.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import torch


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    t = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n ** 3 * repeats / (time.perf_counter() - t) / 1e9


CHILD = r"""
import json, resource, sys, time
import torch
from audio2video.training.config import load_config
from audio2video.data.procedural import make_sample
from audio2video.training.losses import per_clip_loss
from audio2video.models import build_model
from audio2video.training.data import engine_config

kind, batch, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cfg = load_config(None, [f"model.kind={kind}", f"batch_size={batch}"])
engine = engine_config(cfg)
model = build_model(cfg.model).train()
opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
data_s, compute_s = [], []
for step in range(steps + 1):  # the first step warms up allocators and is not counted
    t0 = time.perf_counter()
    samples = [make_sample(0, step * batch + i, "train", engine) for i in range(batch)]
    audio = torch.stack([torch.from_numpy(s.audio) for s in samples])
    video = torch.stack([torch.from_numpy(s.video) for s in samples])
    t1 = time.perf_counter()
    loss = per_clip_loss(model(audio), video, cfg.loss).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    t2 = time.perf_counter()
    if step:
        data_s.append(t1 - t0)
        compute_s.append(t2 - t1)
d, c = sum(data_s) / steps, sum(compute_s) / steps
print(json.dumps({"kind": kind, "batch_size": batch, "steps_measured": steps,
                  "parameters": sum(p.numel() for p in model.parameters()),
                  "data_s_per_step": d, "compute_s_per_step": c,
                  "clips_per_s_serial": batch / (d + c), "clips_per_s_data_overlapped": batch / max(d, c),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--kinds", nargs="+", default=["hybrid", "legacy"])
    args = ap.parse_args()
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(),
              "baseline_matmul_gflops": matmul_gflops(), "models": []}
    for kind in args.kinds:
        out = subprocess.run([sys.executable, "-c", CHILD, kind, str(args.batch_size), str(args.steps)],
                             capture_output=True, text=True, check=True)
        result["models"].append(json.loads(out.stdout.strip().splitlines()[-1]))
    result["baseline_matmul_gflops_after"] = matmul_gflops()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
