"""`audio2video train`: exact resume after SIGKILL, DDP on CPU, bad configs, NaN guard, signals, smoke run."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from audio2video.training.checkpoint import step_checkpoints
from audio2video.cli import main
from audio2video.training.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "configs" / "tiny.toml"
# smaller and shorter than configs/tiny.toml, for tests that only check mechanics
MICRO = ["steps=12", "batch_size=4", "val_every=1000", "ckpt_every=4", "log_every=2", "data.val_clips=4",
         "model.layers=1", "schedule.warmup_steps=2"]


def sets(*pairs):
    return [arg for p in pairs for arg in ("--set", p)]


def train_cmd(run_dir, *extra, module=False):
    entry = ["-m", "audio2video.train"] if module else ["-m", "audio2video.cli", "train"]
    return [sys.executable, *entry, "--config", str(TINY), "--run-dir", str(run_dir), "-q", *extra]


def env1():
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def final_weights(run_dir):
    (_, last), = step_checkpoints(run_dir)[-1:]
    return load_file(str(last / "model.safetensors"))


def test_kill9_then_resume_is_bitwise_identical(tmp_path):
    steps = ["steps=24", "ckpt_every=4"]
    subprocess.run(train_cmd(tmp_path / "a", *sets(*MICRO, *steps)), check=True, env=env1(), timeout=300)
    proc = subprocess.Popen(train_cmd(tmp_path / "b", *sets(*MICRO, *steps)), env=env1(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 200
    while time.time() < deadline and not any(s >= 12 for s, _ in step_checkpoints(tmp_path / "b")):
        time.sleep(0.05)
    time.sleep(0.3)  # land somewhere between checkpoints
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = max(s for s, _ in step_checkpoints(tmp_path / "b"))
    assert 12 <= done < 24, "the kill must land mid-run"
    # the same command again, plus --resume
    subprocess.run(train_cmd(tmp_path / "b", *sets(*MICRO, *steps), "--resume"), check=True, env=env1(), timeout=300)
    a, b = final_weights(tmp_path / "a"), final_weights(tmp_path / "b")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    steps_logged = [json.loads(l)["step"] for l in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert steps_logged == sorted(steps_logged), "no duplicate log lines from the killed run"


def test_resume_guards(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--config", str(TINY), "--run-dir", str(run), "-q", *sets(*MICRO, "steps=4")]) == 0
    assert main(["train", "--config", str(TINY), "--run-dir", str(run), "-q", *sets(*MICRO, "steps=4")]) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert main(["train", "--config", str(TINY), "--run-dir", str(run), "--resume", "-q",
                 *sets(*MICRO, "steps=4", "optim.lr=0.1")]) == 2
    assert "optim" in capsys.readouterr().err
    # extending the step budget is allowed
    assert main(["train", "--config", str(TINY), "--run-dir", str(run), "--resume", "-q", *sets(*MICRO, "steps=6")]) == 0
    assert max(s for s, _ in step_checkpoints(run)) == 6


def test_checkpoint_works_in_generate(tmp_path):
    from conftest import write_audio
    from audio2video.io.media import read_video_info

    run = tmp_path / "run"
    assert main(["train", "--config", str(TINY), "--run-dir", str(run), "-q", *sets(*MICRO, "steps=4")]) == 0
    for name in ("config.yaml", "metrics.jsonl", "loss_curve.png", "samples/step_00000004.mp4"):
        assert (run / name).exists(), name
    src = write_audio(tmp_path / "song.mp3", seconds=2.0)
    ckpt = run / "checkpoints" / "best"
    assert main(["generate", str(src), "-o", str(tmp_path / "out.mp4"), "--checkpoint", str(ckpt), "-q"]) == 0
    assert read_video_info(tmp_path / "out.mp4")["frames"] == 60


@pytest.mark.parametrize("overrides,message", [
    (["optim.lrr=1"], "unknown config key optim.lrr; valid keys in [optim]: lr, weight_decay"),
    (["optim.lr=fast"], "optim.lr: expected a number"),
    (["steps=1.5"], "steps: expected an integer"),
    (["model.kind=diffusion"], "kind must be one of"),
    (["modell.frames=3"], "unknown config key modell"),
    (["loss.shuffle_weight=1", "batch_size=1"], "needs batch_size >= 2"),
])
def test_bad_configs_fail_with_one_clear_line(tmp_path, overrides, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(TINY, overrides)
    proc = subprocess.run(train_cmd(tmp_path / "r", *sets(*overrides)), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_bad_config_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("steps = [unclosed\n")
    with pytest.raises(ConfigError, match="cannot parse"):
        load_config(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    yml = tmp_path / "ok.yaml"
    yml.write_text("steps: 7\noptim:\n  lr: 1.0e-3\nmodel:\n  kind: legacy\n")
    cfg = load_config(yml)
    assert cfg.steps == 7 and cfg.optim.lr == 1e-3 and cfg.model.kind == "legacy"


def nan_on_steps(monkeypatch, steps, batch_size=4):
    """Training samples of these steps get a NaN in their audio (sample k belongs to step k // batch_size on one
    process): the test's own fault injection, not a setting of the production config."""
    from audio2video.training.data import TrainClips

    real = TrainClips.__getitem__

    def poisoned(self, k):
        audio, video, controls = real(self, k)
        if k // batch_size in steps and k % batch_size == 0:
            audio = audio.clone()
            audio[0, 0] = float("nan")
        return audio, video, controls

    monkeypatch.setattr(TrainClips, "__getitem__", poisoned)


def test_nan_batch_is_skipped_and_repeated_nans_abort(tmp_path, capsys, monkeypatch):
    run = tmp_path / "one"
    nan_on_steps(monkeypatch, {2})
    with pytest.warns(UserWarning, match="step 2: non-finite loss, step skipped"):
        assert main(["train", "--config", str(TINY), "--run-dir", str(run), "-q", *sets(*MICRO, "steps=4")]) == 0
    weights = final_weights(run)
    assert all(torch.isfinite(v).all() for v in weights.values() if v.is_floating_point())
    run = tmp_path / "many"
    nan_on_steps(monkeypatch, {5, 6, 7})
    with pytest.warns(UserWarning):
        code = main(["train", "--config", str(TINY), "--run-dir", str(run), "-q",
                     *sets(*MICRO, "steps=8", "max_bad_steps=3")])
    assert code == 2
    assert "loss was not finite for 3 steps in a row" in capsys.readouterr().err
    assert max(s for s, _ in step_checkpoints(run)) == 4, "nothing written after the NaN steps"


def test_train_called_from_python_raises_instead_of_exiting(tmp_path, monkeypatch):
    """A stop signal ends train() with TrainingStopped (after a checkpoint), never SystemExit."""
    from audio2video.training import TrainingStopped, train
    from audio2video.training.signals import StopSignal

    def stop_at_once(self):  # as if SIGTERM arrived during the first step
        self.signum, self.previous = signal.SIGTERM, {}

    monkeypatch.setattr(StopSignal, "__init__", stop_at_once)
    cfg = load_config(TINY, [*MICRO, "steps=100", "ckpt_every=1000"])
    with pytest.raises(TrainingStopped) as info:
        train(cfg, tmp_path / "run", progress=False)
    assert info.value.signum == signal.SIGTERM and info.value.step == 1
    assert [s for s, _ in step_checkpoints(tmp_path / "run")] == [1]


@pytest.mark.parametrize("workers", [0, 1])
def test_sigterm_saves_a_checkpoint_and_exits_cleanly(tmp_path, workers):
    """With a data worker the signal goes to the whole process group, as a scheduler or Ctrl-C sends it."""
    run = tmp_path / "run"
    proc = subprocess.Popen(train_cmd(run, *sets(*MICRO, "steps=100000", "ckpt_every=100000",
                                                 f"data.num_workers={workers}")), env=env1(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 120
    metrics = run / "metrics.jsonl"
    while time.time() < deadline and not (metrics.exists() and metrics.read_text().strip()):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert "Traceback" not in err and "checkpoint saved" in out
    assert step_checkpoints(run), "a checkpoint was written on SIGTERM"


def _slow_worker_start(worker_id):
    """Widens the window between a worker's start and its worker_init_fn to a second."""
    time.sleep(1.0)
    from audio2video.training.data import leave_signals_to_the_trainer
    leave_signals_to_the_trainer(worker_id)


def test_a_stop_signal_during_worker_start_up_does_not_kill_the_worker():
    """The race behind a flaky SIGTERM run: a signal sent to the process group while a worker was starting hit
    it before its worker_init_fn could ignore it, and the trainer died of 'worker exited unexpectedly'."""
    from torch.utils.data import DataLoader
    from audio2video.training.data import workers_started

    loader = DataLoader(list(range(8)), batch_size=2, num_workers=1, worker_init_fn=_slow_worker_start)
    batches = workers_started(loader)
    os.kill(batches._workers[0].pid, signal.SIGTERM)  # the worker is still in its start-up
    assert [b.tolist() for b in batches] == [[0, 1], [2, 3], [4, 5], [6, 7]]


def torchrun(run_dir, nproc, *overrides, extra=()):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           "-m", "audio2video.train", "--config", str(TINY), "--run-dir", str(run_dir), "-q", *sets(*overrides),
           *extra]
    return subprocess.run(cmd, env=env1(), capture_output=True, text=True, timeout=300)


def test_two_process_ddp_trains_and_sync_bn_matches_one_process(tmp_path):
    common = [*MICRO, "steps=3", "ckpt_every=1000", "model.dropout=0.0", "loss.shuffle_weight=0.0"]
    two = torchrun(tmp_path / "two", 2, *common, "batch_size=2", extra=["--sync-bn"])
    assert two.returncode == 0, two.stderr[-2000:]
    assert [s for s, _ in step_checkpoints(tmp_path / "two")] == [3], "rank 0 alone writes, once"
    assert "2 process(es)" in two.stdout
    one = subprocess.run(train_cmd(tmp_path / "one", *sets(*common, "batch_size=4", "sync_bn=true")), env=env1(),
                         capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr[-2000:]
    a, b = final_weights(tmp_path / "two"), final_weights(tmp_path / "one")
    # Tolerance: float32 reductions in a different order (all-reduce of sums vs one batch), over 3 AdamW steps.
    worst = max((a[k].double() - b[k].double()).abs().max().item() for k in a if a[k].is_floating_point())
    assert worst < 1e-4, worst
    # the control: without sync BN each process normalises over its own half batch, and the runs differ
    plain = torchrun(tmp_path / "plain", 2, *common, "batch_size=2")
    assert plain.returncode == 0, plain.stderr[-2000:]
    c = final_weights(tmp_path / "plain")
    assert max((c[k].double() - b[k].double()).abs().max().item() for k in c if c[k].is_floating_point()) > 1e-3


def test_smoke_tiny_config_learns_and_depends_on_audio(tmp_path):
    """configs/tiny.toml as shipped: validation loss falls clearly and the shuffle gap ends above 1."""
    run = tmp_path / "run"
    assert main(["train", "--config", str(TINY), "--run-dir", str(run), "-q"]) == 0
    rows = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    val = [r for r in rows if "val_loss" in r]
    assert len(val) >= 3
    assert val[-1]["val_loss"] < 0.6 * val[0]["val_loss"], [r["val_loss"] for r in val]
    assert val[-1]["shuffle_gap"] > 1.0


def test_configs_written_by_earlier_versions_still_load():
    """A run directory's config.yaml from before nan_steps left the config (the model card's) still resumes."""
    cfg = load_config(ROOT / "docs" / "model_card" / "hybrid-cpu_config.yaml")
    assert cfg.steps == 800 and cfg.model.kind == "hybrid"
    with pytest.raises(ConfigError, match="unknown config key nan_steps"):
        load_config(TINY, ["nan_steps=[2]"])
