"""The training loop: one process or many (torchrun), exact resume, validation, logging, checkpoints.

Step s of rank r trains on procedural samples k = (s * world + r) * batch_size + i, and seeds its own
randomness (dropout, shuffles) from (seed, s, r): a run's batches and noise are a pure function of its config
and the step, so resuming from a checkpoint repeats exactly what the uninterrupted run would have done.

`train()` returns the last logged values, raises UserError for problems the user can fix and TrainingStopped
after a SIGINT/SIGTERM checkpoint; it never exits the interpreter.
"""
from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from ..errors import CheckpointError, UserError
from ..models import build_model, load_model
from ..runtime import autocast
from . import checkpoint as ckpt
from . import distributed
from .config import TrainConfig, save_config
from .data import load_heldout, load_heldout_music, music_library, train_loader, workers_started
from .logging import Logger, plot_loss_curve
from .losses import control_loss, derangement, per_clip_loss, shuffle_hinge, shuffled_loss
from .net import TrainingNet, init_weights, pair_frames
from .run_dir import NewRun, prepare_run_dir
from .schedule import lr_factor, step_seed
from .signals import StopSignal, TrainingStopped
from .validation import validate, write_sample_video


class TrainingError(UserError):
    """The run cannot go on (e.g. the loss stays non-finite)."""


def train(cfg: TrainConfig, run_dir: str | Path, resume: bool = False, overrides_given: bool = True,
          progress: bool = True, overwrite: bool = False) -> dict:
    """Run (or resume) training. Returns the final metrics. A new run that fails before its first checkpoint
    leaves its run directory as it found it (see run_dir.NewRun); `overwrite` (-y) lets it replace a run."""
    d, device = distributed.setup(cfg.device)
    stop = StopSignal()
    trainer = None
    try:
        trainer = Trainer(cfg, Path(run_dir), d, device, stop, progress)
        trainer.prepare(resume, overrides_given, overwrite)
        return trainer.run()
    except BaseException:
        if trainer is not None and trainer.claim is not None:
            trainer.claim.undo()
        raise
    finally:
        stop.restore()
        distributed.teardown()


class Trainer:
    """One run: `prepare` builds (or restores) the model, optimizer and schedule; `run` trains to cfg.steps."""

    def __init__(self, cfg: TrainConfig, run_dir: Path, d: distributed.Dist, device: torch.device, stop: StopSignal,
                 progress: bool = True):
        self.cfg, self.run_dir, self.d, self.device, self.stop, self.progress = cfg, run_dir, d, device, stop, progress
        self.best: float | None = None
        self.start = 0
        self.claim: NewRun | None = None

    # ---- set-up -----------------------------------------------------------------------------------------------
    def prepare(self, resume: bool, overrides_given: bool, overwrite: bool = False) -> None:
        d, run_dir = self.d, self.run_dir
        self.cfg, latest = prepare_run_dir(run_dir, self.cfg, resume, overrides_given, overwrite)
        cfg = self.cfg
        distributed.barrier()  # every process has checked the run dir before rank 0 writes into it
        if d.is_main and not resume:
            self.claim = NewRun(run_dir, replace=overwrite)
        torch.manual_seed(cfg.seed)
        state = None
        if latest is not None:
            model = load_model(latest).train()
            state = ckpt.check_state(ckpt.load_state(latest), latest)
            self.start = state["step"]
        else:
            model = build_model(cfg.model).train()
            if cfg.init_from:
                fresh = init_weights(model, cfg.init_from)
                if d.is_main:
                    print(f"weights from {cfg.init_from}" + (f" ({len(fresh)} new tensors start fresh: "
                                                               f"{', '.join(fresh[:3])}{' …' if len(fresh) > 3 else ''})"
                                                               if fresh else ""), flush=True)
        if d.enabled and cfg.sync_bn:
            model = distributed.convert_sync_batchnorm(model, self.device)
        self.model = model.to(self.device)
        self.net = TrainingNet(self.model, controls=cfg.loss.controls > 0).to(self.device)
        self.optimizer = torch.optim.AdamW(self.net.parameters(), lr=cfg.optim.lr, betas=tuple(cfg.optim.betas),
                                           weight_decay=cfg.optim.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda s: lr_factor(s, cfg))
        if state is not None:
            try:
                if self.net.head is not None and "control_head" in state:
                    self.net.head.load_state_dict(state["control_head"])
                self.optimizer.load_state_dict(state["optimizer"])
                self.scheduler.load_state_dict(state["scheduler"])
                for p, st in self.optimizer.state.items():
                    for v in st.values():
                        if isinstance(v, torch.Tensor) and v.dim() and v.shape != p.shape:
                            raise ValueError(f"a moment of shape {tuple(v.shape)} for a parameter {tuple(p.shape)}")
            except (ValueError, KeyError, TypeError, RuntimeError, IndexError) as e:
                raise CheckpointError(f"{latest / ckpt.STATE_NAME}: does not fit this run's model and optimizer "
                                      f"({str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__})"
                                      ) from None
            self.best = state.get("best_val_loss")
            if state.get("world_size", d.world) != d.world and d.is_main:
                warnings.warn(f"resuming a {state['world_size']}-process run with {d.world} processes: training "
                              "goes on, but the samples each step sees differ from the original run's", stacklevel=1)
        net = self.net
        if d.enabled:
            net = DistributedDataParallel(net, device_ids=[self.device] if self.device.type == "cuda" else None)
        self.step_fn = torch.compile(net) if cfg.compile else net
        self.norm_buffers = [b for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
                             for b in m.buffers()]
        if d.is_main:
            save_config(cfg, run_dir / "config.yaml")
            self.logger = Logger(run_dir, self.start)
            self.heldout = load_heldout(cfg)
            library = music_library(cfg, log=lambda m: print(m, flush=True))
            self.heldout_music = load_heldout_music(cfg, library)
            if library is not None:
                print(f"data.music: {library.count('train')} training files, {library.count('heldout')} held out, "
                      f"{len(library.skipped)} skipped; music_ratio {cfg.data.music_ratio}", flush=True)
            n = sum(p.numel() for p in model.parameters())
            where = (f"resuming from {latest.name}" if latest is not None
                     else f"from the weights of {cfg.init_from}" if cfg.init_from else "from scratch")
            print(f"training {cfg.model.kind} ({n:,} parameters) on {self.device}, {d.world} process(es), "
                  f"batch {cfg.batch_size}/process, steps {self.start}->{cfg.steps}, {where}; run dir {run_dir}",
                  flush=True)

    # ---- the loop ---------------------------------------------------------------------------------------------
    def run(self) -> dict:
        cfg, d = self.cfg, self.d
        if d.is_main and self.start == 0:  # the starting point of the validation curve
            self.logger.log(0, clips=0, **{k: round(v, 6) for k, v in self.validate_all()[0].items()})
        self.bar = tqdm(total=cfg.steps, initial=self.start, unit="step", file=sys.stderr, dynamic_ncols=True,
                        disable=not (self.progress and d.is_main))
        self.bad_steps, step, last = 0, self.start, {}
        self.data_time = self.compute_time = 0.0
        t_mark = time.perf_counter()
        for audio, video, controls in workers_started(train_loader(cfg, self.start, d.rank, d.world)):
            t_data = time.perf_counter()
            self.data_time += t_data - t_mark
            logged = self.train_step(step, audio, video, controls)
            step += 1
            t_mark = time.perf_counter()
            self.compute_time += t_mark - t_data
            if d.is_main:
                last = self.log_step(step, logged)
            self.after_step(step, last)
        self.bar.close()
        distributed.quiesce()
        if d.is_main:
            self.logger.close()
            plot_loss_curve(self.run_dir)
            final = ckpt.latest_checkpoint(self.run_dir)
            print(f"done: step {step}; checkpoint {final} (loadable by `audio2video generate --checkpoint`)")
        return last

    def train_step(self, step: int, audio: torch.Tensor, video: torch.Tensor, controls: torch.Tensor) -> dict:
        """One optimisation step; a non-finite loss skips it (BatchNorm statistics restored)."""
        cfg, device = self.cfg, self.device
        torch.manual_seed(step_seed(cfg, step, self.d.rank))
        frames = pair_frames(video.shape[1], cfg.decode_pairs) if cfg.decode_pairs else None
        if frames is not None:
            video = video.index_select(1, frames)
            frames = frames.to(device)
        audio, video = audio.to(device, non_blocking=True), video.to(device, non_blocking=True)
        bn_state = [b.detach().clone() for b in self.norm_buffers]  # a skipped step must not touch BN statistics
        with autocast(device):
            pred, pred_controls = self.step_fn(audio, frames)
        loss_true = per_clip_loss(pred.float(), video, cfg.loss, pairs=frames is not None)
        loss = loss_true.mean()
        logged = {"loss": loss.item()}
        if pred_controls is not None:
            c_loss = control_loss(pred_controls.float(), controls.to(device))
            loss = loss + cfg.loss.controls * c_loss
            logged["control_loss"] = c_loss.item()
        if cfg.loss.shuffle_weight > 0 and torch.rand(()) < cfg.loss.shuffle_prob:
            loss_shuf = shuffled_loss(pred.float(), video, cfg.loss, derangement(len(audio)), pairs=frames is not None)
            hinge = shuffle_hinge(loss_true, loss_shuf, cfg.loss.shuffle_margin)
            loss = loss + cfg.loss.shuffle_weight * hinge
            logged["hinge"] = hinge.item()
        finite = distributed.all_agree(bool(torch.isfinite(loss)), device, any_=False)
        self.optimizer.zero_grad(set_to_none=True)
        if finite:
            self.bad_steps = 0
            loss.backward()
            if cfg.optim.grad_clip > 0:
                logged["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(self.net.parameters(),
                                                                           cfg.optim.grad_clip))
            self.optimizer.step()
        else:
            self.bad_steps += 1
            with torch.no_grad():
                for buf, saved in zip(self.norm_buffers, bn_state):
                    buf.copy_(saved)
            if self.d.is_main:
                warnings.warn(f"step {step}: non-finite loss, step skipped ({self.bad_steps} in a row)", stacklevel=1)
            if self.bad_steps >= cfg.max_bad_steps:
                raise TrainingError(f"loss was not finite for {self.bad_steps} steps in a row (last at step {step}); "
                                    "no checkpoint written for them. Lower optim.lr or check the data")
        self.scheduler.step()
        return logged

    def log_step(self, step: int, logged: dict) -> dict:
        cfg = self.cfg
        self.bar.update(1)
        if step % cfg.log_every == 0 or step == cfg.steps:
            clips_s = cfg.log_every * cfg.batch_size * self.d.world / max(self.data_time + self.compute_time, 1e-9)
            logged.update(lr=self.scheduler.get_last_lr()[0], clips_per_s=clips_s,
                          clips=step * cfg.batch_size * self.d.world,
                          data_s=self.data_time / cfg.log_every, compute_s=self.compute_time / cfg.log_every)
            self.logger.log(step, **logged)
            self.bar.set_postfix(loss=f"{logged['loss']:.4f}", clips_s=f"{clips_s:.2f}")
            self.data_time = self.compute_time = 0.0
        return logged

    def after_step(self, step: int, last: dict) -> None:
        """Validation, checkpoints and the stop signal, at the end of a step."""
        cfg, d = self.cfg, self.d
        is_val = step % cfg.val_every == 0 or step == cfg.steps
        is_ckpt = step % cfg.ckpt_every == 0 or step == cfg.steps
        stopping = distributed.all_agree(self.stop.signum is not None, self.device)
        if d.is_main and is_val:
            metrics, first = self.validate_all()
            metrics = {k: round(v, 6) for k, v in metrics.items()}
            self.logger.log(step, clips=step * cfg.batch_size * d.world, **metrics)
            samples = self.run_dir / "samples"
            samples.mkdir(exist_ok=True)
            write_sample_video(samples / f"step_{step:08d}.mp4", self.heldout.video[0], first,
                               self.heldout.audio[0, 0], cfg)
            is_best = self.best is None or metrics["val_loss"] < self.best
            self.best = metrics["val_loss"] if is_best else self.best
            last.update(metrics)
            self.bar.write(f"step {step}: " + ", ".join(f"{k} {v:.4g}" for k, v in metrics.items()))
            if is_ckpt or is_best or stopping:
                self.save(step, metrics, is_best=is_best)
        elif is_ckpt or stopping:
            self.save(step)
        if stopping:
            self.bar.close()
            distributed.quiesce()
            raise TrainingStopped(self.stop.signum, step)

    def validate_all(self) -> tuple[dict, torch.Tensor]:
        """The procedural held-out set's metrics, and data.music's held-out windows' as music_* (if any)."""
        metrics, first = validate(self.model, self.heldout, self.cfg, self.device)
        if self.heldout_music is not None:
            music, _ = validate(self.model, self.heldout_music, self.cfg, self.device)
            metrics.update({f"music_{k}": v for k, v in music.items()})
        return metrics, first

    def save(self, step: int, metrics: dict | None = None, is_best: bool = False) -> None:
        if not self.d.is_main:
            return
        st = {"step": step, "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
              "rng_torch": torch.get_rng_state(), "data_position": step * self.d.world * self.cfg.batch_size,
              "world_size": self.d.world, "best_val_loss": self.best}
        if self.net.head is not None:
            st["control_head"] = self.net.head.state_dict()
        ckpt.save_checkpoint(self.run_dir, self.model, st, step, self.cfg.keep_last, metrics, best=is_best)
        if self.claim is not None:
            self.claim.kept()
