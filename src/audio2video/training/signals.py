"""SIGINT / SIGTERM during training: finish the step, checkpoint, then stop by raising `TrainingStopped`."""
from __future__ import annotations

import signal


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # end a run with a checkpoint (Ctrl-C, a scheduler's stop)


class TrainingStopped(Exception):
    """Training stopped on a signal after saving a checkpoint. The CLI exits with 128 + signum; a Python caller
    may catch it and carry on (train() never exits the interpreter)."""

    def __init__(self, signum: int, step: int):
        super().__init__(f"stopped by signal {signum} at step {step}; checkpoint saved; continue with --resume")
        self.signum, self.step = signum, step


class StopSignal:
    """While installed, SIGINT/SIGTERM only set `signum`: the loop checks it at the end of each step."""

    def __init__(self):
        self.signum: int | None = None
        self.previous = {}
        for sig in STOP_SIGNALS:
            self.previous[sig] = signal.signal(sig, self._handle)

    def _handle(self, signum, _frame):
        self.signum = signum

    def restore(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
