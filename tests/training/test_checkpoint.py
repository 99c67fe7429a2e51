"""Checkpoint crash safety: a SIGKILL at any instant of a save leaves a loadable `best` and a resumable latest;
non-finite weights are never written."""
import os
import re
import signal
import subprocess
import sys
import textwrap

import pytest
import torch

from audio2video.errors import CheckpointError
from audio2video.models import load_model
from audio2video.training.checkpoint import latest_checkpoint, load_state, save_checkpoint
from conftest import tiny_model

# Saves step 1 (also best), then step 2 (also best, pruning step 1), and is SIGKILLed just before the K-th
# file-system change of the second save (every rename, link, unlink and tree removal counts).
CHILD = textwrap.dedent("""
    import os, shutil, signal, sys
    sys.path.insert(0, {tests!r})
    import torch
    from conftest import tiny_model
    from audio2video.training.checkpoint import save_checkpoint

    run_dir, kill_at = sys.argv[1], int(sys.argv[2])
    model = tiny_model()
    save_checkpoint(run_dir, model, {{"step": 1}}, 1, keep_last=1, best=True)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    calls = [0]

    def counted(fn):
        def wrapper(*args, **kwargs):
            calls[0] += 1
            if calls[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return fn(*args, **kwargs)
        return wrapper

    for mod, name in ((os, "replace"), (os, "rename"), (os, "symlink"), (os, "unlink"), (shutil, "rmtree")):
        setattr(mod, name, counted(getattr(mod, name)))
    save_checkpoint(run_dir, model, {{"step": 2}}, 2, keep_last=1, best=True)
    print("operations", calls[0])
""")


def test_a_kill_at_any_instant_leaves_a_loadable_best_and_a_resumable_latest(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(tests=os.path.dirname(os.path.dirname(__file__))))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = None
    k = 1
    while True:
        run_dir = tmp_path / f"run{k}"
        proc = subprocess.run([sys.executable, str(script), str(run_dir), str(k)], env=env, capture_output=True,
                              text=True, timeout=120)
        if proc.returncode == 0:
            assert k > 5, "the save must have been interrupted at several points"
            break
        assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
        best = load_model(run_dir / "checkpoints" / "best")  # loads: complete, consistent, finite
        latest = latest_checkpoint(run_dir)
        assert latest is not None, f"killed before operation {k}: nothing to resume from"
        step = load_state(latest)["step"]
        assert latest.name == f"step_{step:08d}" and step in (1, 2)
        weights = load_model(latest).state_dict()
        bump = 0.0 if step == 1 else 1.0
        if first is None:
            first = {n: t - 0.0 for n, t in best.state_dict().items()}
        name = next(n for n, t in weights.items() if t.is_floating_point() and "running" not in n)
        assert torch.allclose(weights[name], first[name] + bump) or step == 1
        k += 1
    assert load_state(latest_checkpoint(run_dir))["step"] == 2
    assert os.path.islink(run_dir / "checkpoints" / "best")
    leftovers = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert len(leftovers) == 3 and leftovers[1:] == ["best", "step_00000002"], leftovers


def test_weights_that_are_not_finite_are_never_written(tmp_path):
    model = tiny_model()
    name, param = next((n, p) for n, p in model.named_parameters() if p.numel() > 4)
    with torch.no_grad():
        param.view(-1)[3] = float("inf")
    with pytest.raises(CheckpointError, match=re.escape(f"at step 7: {name} is not finite")):
        save_checkpoint(tmp_path, model, {"step": 7}, 7, keep_last=1)
    assert latest_checkpoint(tmp_path) is None
