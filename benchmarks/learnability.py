"""What makes the model learn the audio -> motion mapping early? Trains small hybrids with different recipes on
the same stream of clips and records, over clips seen, how well their motion follows the teacher's on
held-out music.

    python benchmarks/learnability.py MUSIC_DIR --recipes pixel,controls,dsp --minutes 8 --out runs/learnability

Every recipe sees the same clips in the same order (real-music windows of MUSIC_DIR's training files, mixed
half and half with procedural clips), decodes only a random subset of each clip's frames (`--pairs` pairs of
adjacent frames), and is scored every `--eval-every` clips on held-out music windows (files on the held-out
side of the split): the Pearson correlation between the model's per-frame motion (mean absolute frame
difference) and the teacher's, averaged over clips; the MSE; and the controls' MSE where a head exists.
Recipes (combinable with '+', e.g. controls+dsp):
    pixel      MSE + L1 on the decoded frames (the baseline)
    controls   + a training-only linear head regressing the teacher's per-frame control signals from the
               transformer's features (weight --control-weight)
    motion     + MSE between predicted and true frame differences of each pair, weighted x4
    dsp        + fixed DSP features (log-mel and its positive flux, 10 ms hop) as an extra input path added to
               the encoder's per-frame features
Writes curves.json and curves.png in --out; prints the final figures as JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from audio2video.data import CONTROL_NAMES, ClipSpec, EngineConfig, make_sample, normalize_level
from audio2video.data.music_files import MusicLibrary, music_sample
from audio2video.models import AudioToVideoNet, ModelConfig


class LogMelPath(nn.Module):
    """Fixed log-mel (40 bands, 25 ms window, 10 ms hop) and its positive time difference, projected to the
    model width and pooled onto the frame grid: (B, 1, N) -> (B, frames, d)."""

    def __init__(self, cfg: ModelConfig, n_mels: int = 40):
        super().__init__()
        sr = cfg.sample_rate
        self.n_fft, self.hop, self.frames = 400 * sr // 16000, 160 * sr // 16000, cfg.frames
        freqs = torch.linspace(0, sr / 2, self.n_fft // 2 + 1)
        mel = lambda f: 2595 * torch.log10(1 + f / 700)
        edges = 700 * (10 ** (torch.linspace(mel(torch.tensor(30.0)), mel(torch.tensor(sr / 2)), n_mels + 2) / 2595) - 1)
        lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
        fb = torch.clamp(torch.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), min=0)
        self.register_buffer("fb", fb, persistent=False)
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)
        self.proj = nn.Sequential(nn.Conv1d(2 * n_mels, cfg.d_model, 3, padding=1), nn.GELU(),
                                  nn.Conv1d(cfg.d_model, cfg.d_model, 3, padding=1))

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(audio[:, 0], self.n_fft, self.hop, window=self.window, return_complex=True)
        logmel = torch.log1p(100 * (self.fb @ spec.abs().pow(2)))                     # (B, mels, steps)
        flux = F.relu(torch.diff(logmel, dim=2, prepend=logmel[:, :, :1]))
        x = self.proj(torch.cat([logmel, flux], 1))
        return F.adaptive_max_pool1d(x, self.frames).transpose(1, 2)


class Student(nn.Module):
    def __init__(self, cfg: ModelConfig, recipe: set[str]):
        super().__init__()
        self.net = AudioToVideoNet(cfg)
        self.dsp = LogMelPath(cfg) if "dsp" in recipe else None
        self.head = nn.Linear(cfg.d_model, len(CONTROL_NAMES)) if "controls" in recipe else None

    def encode(self, audio):
        net = self.net
        local = net.encoder(audio)
        if self.dsp is not None:
            local = local + self.dsp(audio)
        return net.transformer(net.pos_enc(local)) + local

    def forward(self, audio, frames=None):
        feats = self.encode(audio)
        chosen = feats if frames is None else torch.gather(
            feats, 1, frames[:, :, None].expand(-1, -1, feats.shape[2]))
        return self.net.decode(chosen), (self.head(feats) if self.head is not None else None)


def pair_indices(b: int, frames: int, pairs: int, g: torch.Generator) -> torch.Tensor:
    """(b, 2 * pairs): random adjacent pairs (t, t + 1), sorted."""
    starts = torch.stack([torch.randperm(frames - 1, generator=g)[:pairs] for _ in range(b)])
    return torch.stack([starts, starts + 1], 2).reshape(b, -1)


def motion(video: torch.Tensor) -> torch.Tensor:
    """(B, T, 3, H, W) -> (B, T - 1) mean absolute frame difference."""
    return (video[:, 1:] - video[:, :-1]).abs().mean(dim=(2, 3, 4))


def pearson(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    a, b = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1)).clamp_min(1e-9)


def batch_of(lib, spec, k0, n, split="train"):
    audio, video, controls = [], [], []
    for k in range(k0, k0 + n):
        if split == "train" and k % 2:
            s = make_sample(0, k, config=EngineConfig(spec=spec))
            a, v, c = s.audio, s.video, s.controls
        else:
            m = music_sample(lib, 0, k, split)
            a, v, c = m.audio, m.video, m.controls
        audio.append(normalize_level(a, spec.sample_rate, spec.fps))
        video.append(v)
        controls.append(c)
    return (torch.from_numpy(np.stack(audio)), torch.from_numpy(np.stack(video)),
            torch.from_numpy(np.stack(controls)))


@torch.no_grad()
def evaluate(model, held):
    model.eval()
    audio, video, controls = held
    pred, ctl = [], []
    for i in range(0, len(audio), 8):
        p, c = model(audio[i:i + 8])
        pred.append(p)
        ctl.append(c)
    pred = torch.cat(pred)
    model.train()
    out = {"motion_corr": float(torch.nan_to_num(pearson(motion(pred), motion(video))).mean()),
           "mse": float(F.mse_loss(pred, video)),
           "mse_clip_mean": float(F.mse_loss(video.mean(1, keepdim=True).expand_as(video), video))}
    if ctl[0] is not None:
        out["control_mse"] = float(F.mse_loss(torch.cat(ctl), controls))
    return out


def run(recipe: str, args, lib, spec, cfg, held) -> list[dict]:
    parts = set(recipe.split("+"))
    torch.manual_seed(0)
    model = Student(cfg, parts)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    g = torch.Generator().manual_seed(1)
    curve, seen, t0, next_eval = [], 0, time.perf_counter(), 0
    while True:
        if seen >= next_eval:
            point = {"clips": seen, "seconds": round(time.perf_counter() - t0, 1), **evaluate(model, held)}
            curve.append(point)
            print(recipe, json.dumps(point), file=sys.stderr, flush=True)
            next_eval += args.eval_every
            if time.perf_counter() - t0 > args.minutes * 60:
                return curve
        audio, video, controls = batch_of(lib, spec, seen, args.batch)
        idx = pair_indices(len(audio), spec.num_frames, args.pairs, g)
        target = torch.gather(video, 1, idx[:, :, None, None, None].expand(-1, -1, *video.shape[2:]))
        pred, ctl = model(audio, idx)
        loss = F.mse_loss(pred, target) + 0.5 * F.l1_loss(pred, target)
        if "motion" in parts:
            d_pred, d_true = pred[:, 1::2] - pred[:, 0::2], target[:, 1::2] - target[:, 0::2]
            loss = loss + 4.0 * F.mse_loss(d_pred, d_true)
        if ctl is not None:
            loss = loss + args.control_weight * F.mse_loss(ctl, controls)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        seen += len(audio)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("music", type=Path)
    ap.add_argument("--recipes", default="pixel,controls,dsp,controls+dsp")
    ap.add_argument("--minutes", type=float, default=8.0, help="wall time per recipe")
    ap.add_argument("--size", type=int, default=64, help="frame size of the small model and its teacher")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--pairs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--control-weight", type=float, default=1.0)
    ap.add_argument("--eval-every", type=int, default=400)
    ap.add_argument("--heldout", type=int, default=32, help="held-out music windows")
    ap.add_argument("--cache-dir", type=Path)
    ap.add_argument("--out", type=Path, default=Path("runs/learnability"))
    args = ap.parse_args(argv)
    spec = ClipSpec(height=args.size, width=args.size)
    widths = {128: (128, 64, 32), 64: (128, 64), 32: (64,)}[args.size]
    cfg = ModelConfig(frame_size=args.size, decoder_channels=widths, layers=2, ff_dim=512, seed_channels=128)
    lib = MusicLibrary([args.music], spec, cache_dir=args.cache_dir)
    held = batch_of(lib, spec, 0, args.heldout, split="heldout")
    result = {"config": {k: (v if not isinstance(v, Path) else str(v)) for k, v in vars(args).items()},
              "curves": {}}
    args.out.mkdir(parents=True, exist_ok=True)
    for recipe in args.recipes.split(","):
        result["curves"][recipe] = run(recipe, args, lib, spec, cfg, held)
        (args.out / "curves.json").write_text(json.dumps(result, indent=1))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for recipe, curve in result["curves"].items():
            x = [p["clips"] for p in curve]
            axes[0].plot(x, [p["motion_corr"] for p in curve], label=recipe)
            axes[1].plot(x, [p["mse"] for p in curve], label=recipe)
        axes[0].set(xlabel="clips seen", ylabel="motion correlation with the teacher (held-out music)")
        axes[1].set(xlabel="clips seen", ylabel="MSE (held-out music)")
        axes[0].legend()
        fig.tight_layout()
        fig.savefig(args.out / "curves.png", dpi=100)
    except ImportError:
        pass
    print(json.dumps({r: c[-1] for r, c in result["curves"].items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
