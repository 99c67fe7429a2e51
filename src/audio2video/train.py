"""`audio2video train`: one process or many (torchrun), exact resume, validation, logging.

    audio2video train --config configs/tiny.toml --run-dir runs/tiny [--set key=value ...] [--resume]
    torchrun --nproc_per_node=2 -m audio2video.train --config configs/tiny.toml --run-dir runs/ddp

Step s of rank r trains on procedural samples k = (s * world + r) * batch_size + i, and seeds its own
randomness (dropout, shuffles) from (seed, s, r): a run's batches and noise are a pure function of its config
and the step, so resuming from a checkpoint repeats exactly what the uninterrupted run would have done.
"""
from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from . import checkpoint as ckpt
from . import distributed
from .config import ConfigError, TrainConfig, load_config, save_config
from .data.procedural import ClipSizeError, EngineConfig, engine_config_for, heldout_set, make_sample
from .errors import UserError
from .losses import derangement, per_clip_loss, shuffle_hinge, shuffled_loss
from .models import VideoModel, build_model, load_model
from .runtime import autocast


class TrainingError(UserError):
    """The run cannot go on (e.g. the loss stays non-finite)."""


# ---- data -----------------------------------------------------------------------------------------------------

def engine_config(cfg: TrainConfig) -> EngineConfig:
    try:
        return engine_config_for(cfg.model, cfg.data.style)
    except ClipSizeError as e:
        raise ConfigError(str(e)) from None


class TrainClips(Dataset):
    """Map-style view of the training stream: item k is procedural sample k of the run's base seed."""

    def __init__(self, cfg: TrainConfig):
        self.seed, self.engine = cfg.data.seed, engine_config(cfg)

    def __len__(self) -> int:  # effectively unbounded
        return 2 ** 62

    def __getitem__(self, k: int):
        s = make_sample(self.seed, k, "train", self.engine)
        return torch.from_numpy(s.audio), torch.from_numpy(s.video)


class StepBatches:
    """Batch sampler: the indices of steps start..steps-1 for one rank."""

    def __init__(self, start: int, steps: int, batch: int, rank: int, world: int):
        self.start, self.steps, self.batch, self.rank, self.world = start, steps, batch, rank, world

    def __len__(self) -> int:
        return self.steps - self.start

    def __iter__(self):
        for s in range(self.start, self.steps):
            first = (s * self.world + self.rank) * self.batch
            yield list(range(first, first + self.batch))


def train_loader(cfg: TrainConfig, start: int, d: distributed.Dist) -> DataLoader:
    return DataLoader(TrainClips(cfg), batch_sampler=StepBatches(start, cfg.steps, cfg.batch_size, d.rank, d.world),
                      num_workers=cfg.data.num_workers, persistent_workers=False,
                      prefetch_factor=4 if cfg.data.num_workers else None)


@dataclass
class HeldOut:
    audio: torch.Tensor  # (N, 1, samples) float32
    video: torch.Tensor  # (N, T, 3, H, W) uint8 (float32 for all N would not fit at spec size)


def load_heldout(cfg: TrainConfig) -> HeldOut:
    ds = heldout_set(cfg.data.val_clips, engine_config(cfg))
    audio, video = zip(*(ds[k] for k in range(len(ds))))
    return HeldOut(torch.stack(audio), (torch.stack(video) * 255).round().to(torch.uint8))


# ---- schedule -------------------------------------------------------------------------------------------------

def lr_factor(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up to 1, then cosine decay to min_lr_ratio at the last step."""
    warm = cfg.schedule.warmup_steps
    if step < warm:
        return (step + 1) / warm
    progress = (step - warm) / max(1, cfg.steps - warm)
    floor = cfg.schedule.min_lr_ratio
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def step_seed(cfg: TrainConfig, step: int, rank: int) -> int:
    return int(np.random.SeedSequence([cfg.seed, step, rank]).generate_state(1)[0])


# ---- validation -----------------------------------------------------------------------------------------------

@torch.no_grad()
def validate(model: VideoModel, data: HeldOut, cfg: TrainConfig, device: torch.device) -> tuple[dict, torch.Tensor]:
    """Loss, MSE, PSNR and shuffle gap on the held-out set. Returns (metrics, first clip's prediction)."""
    was_training = model.training
    model.eval()
    preds = []
    for i in range(0, len(data.audio), cfg.batch_size):
        with autocast(device):
            preds.append(model(data.audio[i:i + cfg.batch_size].to(device)).float().cpu().half())
    model.train(was_training)
    pred = torch.cat(preds).float()
    target = data.video.float() / 255
    loss = per_clip_loss(pred, target, cfg.loss)
    mse = (pred - target).pow(2).mean(dim=(1, 2, 3, 4))
    metrics = {"val_loss": loss.mean().item(), "val_mse": mse.mean().item(),
               "val_psnr": (10 * torch.log10(1 / mse.clamp_min(1e-10))).mean().item()}
    if len(pred) > 1:
        perm = torch.roll(torch.arange(len(pred)), 1)
        metrics["shuffle_gap"] = per_clip_loss(pred[perm], target, cfg.loss).mean().item() / max(metrics["val_loss"], 1e-12)
    return metrics, pred[0]


def write_sample_video(path: Path, truth: torch.Tensor, pred: torch.Tensor, audio: torch.Tensor, cfg: TrainConfig):
    """Ground truth | prediction side by side, with the clip's audio."""
    from .generate import to_uint8_rgb
    from .media import Mp4Writer, audio_frames_from_array

    side = torch.cat([truth.float() / 255, pred], dim=-1)  # (T, 3, H, 2W)
    frames = to_uint8_rgb(side)
    m = cfg.model
    scale = max(1, 256 // m.frame_size)
    with Mp4Writer(path, m.fps, width=2 * m.frame_size * scale, height=m.frame_size * scale,
                   audio=audio_frames_from_array(audio.numpy(), m.sample_rate), audio_rate=m.sample_rate,
                   audio_channels=1, preset="veryfast") as w:
        w.write(frames)


# ---- logging --------------------------------------------------------------------------------------------------

class Logger:
    """metrics.jsonl (+ TensorBoard when installed). Only rank 0 creates one."""

    def __init__(self, run_dir: Path, resume_step: int):
        self.path = run_dir / "metrics.jsonl"
        if self.path.exists():  # drop what a killed run logged after its last checkpoint
            kept = [line for line in self.path.read_text().splitlines()
                    if line.strip() and json.loads(line).get("step", 0) <= resume_step]
            self.path.write_text("".join(line + "\n" for line in kept))
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


def plot_curves(run_dir: Path) -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
    train = [(r["step"], r["loss"]) for r in rows if "loss" in r]
    val = [(r["step"], r["val_loss"]) for r in rows if "val_loss" in r]
    if not train and not val:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    for points, label in ((train, "train loss"), (val, "validation loss")):
        if points:
            ax.plot(*zip(*points), label=label, marker="o" if label.startswith("val") else None)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out = run_dir / "loss_curve.png"
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


# ---- the run --------------------------------------------------------------------------------------------------

class StopSignal:
    """SIGINT/SIGTERM ask the loop to checkpoint and stop at the end of the current step."""

    def __init__(self):
        self.signum: int | None = None
        self.previous = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.previous[sig] = signal.signal(sig, self._handle)

    def _handle(self, signum, _frame):
        self.signum = signum

    def restore(self):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def prepare_run_dir(run_dir: Path, cfg: TrainConfig, resume: bool, overrides_given: bool) -> tuple[TrainConfig, Path | None]:
    """Check the run directory against --resume; return the config to use and the checkpoint to resume from."""
    saved = run_dir / "config.yaml"
    latest = ckpt.latest_checkpoint(run_dir)
    if not resume:
        if latest is not None or saved.exists():
            raise UserError(f"{run_dir}: already holds a run; pass --resume to continue it, or choose another --run-dir")
        return cfg, None
    if not saved.exists():
        raise UserError(f"{run_dir}: no run to resume here (no config.yaml)")
    previous = load_config(saved)
    if overrides_given:
        a, b = previous.to_dict(), cfg.to_dict()
        a.pop("steps"), b.pop("steps")
        if a != b:
            diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            raise UserError(f"{run_dir}: the config given differs from the run's own in {', '.join(diff)}; "
                            "only steps may change on --resume")
        previous.steps = cfg.steps
    return previous, latest


def train(cfg: TrainConfig, run_dir: str | Path, resume: bool = False, overrides_given: bool = True,
          progress: bool = True) -> dict:
    """Run (or resume) training. Returns the final metrics. Raises UserError for problems the user can fix."""
    run_dir = Path(run_dir)
    d, device = distributed.setup(cfg.device)
    stop = StopSignal()
    try:
        return _train(cfg, run_dir, resume, overrides_given, progress, d, device, stop)
    finally:
        stop.restore()
        distributed.teardown()


def _train(cfg, run_dir, resume, overrides_given, progress, d, device, stop) -> dict:
    if d.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
    cfg, latest = prepare_run_dir(run_dir, cfg, resume, overrides_given)
    distributed.barrier()  # every process has checked the run dir before rank 0 writes into it
    torch.manual_seed(cfg.seed)
    if latest is not None:
        model = load_model(latest).train()
        state = ckpt.load_state(latest)
        start = int(state["step"])
    else:
        model, state, start = build_model(cfg.model).train(), None, 0
    if d.enabled and cfg.sync_bn:
        model = distributed.convert_sync_batchnorm(model, device)
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.optim.lr, betas=tuple(cfg.optim.betas),
                                  weight_decay=cfg.optim.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, cfg))
    best = None
    if state is not None:
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        best = state.get("best_val_loss")
        if state.get("world_size", d.world) != d.world and d.is_main:
            warnings.warn(f"resuming a {state['world_size']}-process run with {d.world} processes: training goes on, "
                          "but the samples each step sees differ from the original run's", stacklevel=1)
    net = DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None) if d.enabled else model
    step_fn = torch.compile(net) if cfg.compile else net
    norm_buffers = [b for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
                    for b in m.buffers()]

    if d.is_main:
        save_config(cfg, run_dir / "config.yaml")
        logger = Logger(run_dir, start)
        heldout = load_heldout(cfg)
        n = sum(p.numel() for p in model.parameters())
        where = f"resuming from {latest.name}" if latest is not None else "from scratch"
        print(f"training {cfg.model.kind} ({n:,} parameters) on {device}, {d.world} process(es), "
              f"batch {cfg.batch_size}/process, steps {start}->{cfg.steps}, {where}; run dir {run_dir}", flush=True)

    if d.is_main and start == 0:  # the starting point of the validation curve
        metrics, _ = validate(model, heldout, cfg, device)
        logger.log(0, **{k: round(v, 6) for k, v in metrics.items()})

    bar = tqdm(total=cfg.steps, initial=start, unit="step", file=sys.stderr, dynamic_ncols=True,
               disable=not (progress and d.is_main))
    bad_steps, step, last = 0, start, {}
    data_time = compute_time = 0.0
    t_mark = time.perf_counter()

    def save(step: int, metrics: dict | None = None, is_best: bool = False) -> None:
        if d.is_main:
            st = {"step": step, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                  "rng_torch": torch.get_rng_state(), "data_position": step * d.world * cfg.batch_size,
                  "world_size": d.world, "best_val_loss": best}
            ckpt.save_checkpoint(run_dir, model, st, step, cfg.keep_last, metrics, best=is_best)

    for audio, video in train_loader(cfg, start, d):
        t_data = time.perf_counter()
        data_time += t_data - t_mark
        torch.manual_seed(step_seed(cfg, step, d.rank))
        audio, video = audio.to(device, non_blocking=True), video.to(device, non_blocking=True)
        if step in cfg.nan_steps:
            audio = audio.clone()
            audio[0, 0, 0] = float("nan")
        bn_state = [b.detach().clone() for b in norm_buffers]  # a skipped step must not touch BN statistics
        with autocast(device):
            pred = step_fn(audio)
        loss_true = per_clip_loss(pred.float(), video, cfg.loss)
        loss = loss_true.mean()
        logged = {"loss": loss.item()}
        if cfg.loss.shuffle_weight > 0 and torch.rand(()) < cfg.loss.shuffle_prob:
            loss_shuf = shuffled_loss(pred.float(), video, cfg.loss, derangement(len(audio)))
            hinge = shuffle_hinge(loss_true, loss_shuf, cfg.loss.shuffle_margin)
            loss = loss + cfg.loss.shuffle_weight * hinge
            logged["hinge"] = hinge.item()
        finite = distributed.all_agree(bool(torch.isfinite(loss)), device, any_=False)
        optimizer.zero_grad(set_to_none=True)
        if finite:
            bad_steps = 0
            loss.backward()
            if cfg.optim.grad_clip > 0:
                logged["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.grad_clip))
            optimizer.step()
        else:
            bad_steps += 1
            with torch.no_grad():
                for buf, saved in zip(norm_buffers, bn_state):
                    buf.copy_(saved)
            if d.is_main:
                warnings.warn(f"step {step}: non-finite loss, step skipped ({bad_steps} in a row)", stacklevel=1)
            if bad_steps >= cfg.max_bad_steps:
                raise TrainingError(f"loss was not finite for {bad_steps} steps in a row (last at step {step}); "
                                    "no checkpoint written for them. Lower optim.lr or check the data")
        scheduler.step()
        step += 1
        t_mark = time.perf_counter()
        compute_time += t_mark - t_data
        if d.is_main:
            bar.update(1)
            if step % cfg.log_every == 0 or step == cfg.steps:
                clips_s = cfg.log_every * cfg.batch_size * d.world / max(data_time + compute_time, 1e-9)
                logged.update(lr=scheduler.get_last_lr()[0], clips_per_s=clips_s,
                              data_s=data_time / cfg.log_every, compute_s=compute_time / cfg.log_every)
                logger.log(step, **logged)
                bar.set_postfix(loss=f"{logged['loss']:.4f}", clips_s=f"{clips_s:.2f}")
                data_time = compute_time = 0.0
            last = logged
        is_val = step % cfg.val_every == 0 or step == cfg.steps
        is_ckpt = step % cfg.ckpt_every == 0 or step == cfg.steps
        stopping = distributed.all_agree(stop.signum is not None, device)
        if d.is_main and is_val:
            metrics, first = validate(model, heldout, cfg, device)
            metrics = {k: round(v, 6) for k, v in metrics.items()}
            logger.log(step, **metrics)
            samples = run_dir / "samples"
            samples.mkdir(exist_ok=True)
            write_sample_video(samples / f"step_{step:08d}.mp4", heldout.video[0], first, heldout.audio[0, 0], cfg)
            is_best = best is None or metrics["val_loss"] < best
            best = metrics["val_loss"] if is_best else best
            last.update(metrics)
            bar.write(f"step {step}: " + ", ".join(f"{k} {v:.4g}" for k, v in metrics.items()))
            if is_ckpt or is_best:
                save(step, metrics, is_best=is_best)
        elif is_ckpt or stopping:
            save(step)
        if stopping:
            if d.is_main:
                bar.close()
                print(f"stopped by signal at step {step}; checkpoint saved; continue with --resume", flush=True)
            sys.exit(128 + (stop.signum or signal.SIGTERM))
    bar.close()
    if d.is_main:
        logger.close()
        plot_curves(run_dir)
        final = ckpt.latest_checkpoint(run_dir)
        print(f"done: step {step}; checkpoint {final} (loadable by `audio2video generate --checkpoint`)")
    return last


# ---- entry points ---------------------------------------------------------------------------------------------

def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="TOML or YAML config (see configs/); default: built-in defaults")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one setting, e.g. --set optim.lr=1e-4 --set model.kind=legacy (repeatable)")
    p.add_argument("--run-dir", required=True, metavar="DIR",
                   help="where checkpoints, metrics.jsonl, samples and plots go")
    p.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its latest checkpoint")
    p.add_argument("--device", help="auto (cuda, then mps, then cpu), cpu, cuda or mps; overrides the config")
    p.add_argument("--sync-bn", action="store_true",
                   help="under torchrun, BatchNorm statistics span all processes (same as --set sync_bn=true)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run_from_args(args: argparse.Namespace) -> int:
    overrides = (list(args.overrides) + ([f"device={args.device}"] if args.device else [])
                 + (["sync_bn=true"] if args.sync_bn else []))
    cfg = load_config(args.config, overrides)
    given = bool(args.config or overrides)
    train(cfg, args.run_dir, resume=args.resume, overrides_given=given, progress=not args.quiet)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m audio2video.train` (what torchrun launches)."""
    parser = argparse.ArgumentParser(prog="audio2video.train", description="Train audio2video (see `audio2video train`).")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_from_args(args)
    except UserError as e:
        print(f"audio2video train: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
