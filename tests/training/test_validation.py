"""Training's validation and `evaluate` are one definition: the same checkpoint on the same clips gives the same
PSNR, MSE and shuffle gap in metrics.jsonl as in the evaluation report."""
import json
import math
from pathlib import Path

import pytest

from audio2video.cli import main
from audio2video.evaluation.run import run_evaluate
from audio2video.training.validation import LOGGED

TINY = Path(__file__).resolve().parents[2] / "configs" / "tiny.toml"


def test_validation_curve_and_evaluate_report_the_same_numbers(tmp_path):
    run = tmp_path / "run"
    sets = ["steps=4", "batch_size=4", "val_every=4", "ckpt_every=4", "data.val_clips=5", "model.layers=1",
            "schedule.warmup_steps=2"]
    assert main(["train", "--config", str(TINY), "--run-dir", str(run), "-q",
                 *[a for s in sets for a in ("--set", s)]]) == 0
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    logged = [r for r in rows if r["step"] == 4 and "val_psnr" in r][0]
    best = run / "checkpoints" / "best"
    assert json.loads((best / "config.json").read_text())["train"]["step"] == 4
    report = run_evaluate(best, tmp_path / "eval", n=5, batch_size=2, device="cpu", examples=0, progress=False)
    for key, name in LOGGED.items():
        assert logged[key] == pytest.approx(report["metrics"][name], rel=1e-5, abs=1e-6), key
    # the check can tell definitions apart: the old training PSNR (of each clip's MSE) is a different number
    clip_psnr = [10 * math.log10(1 / row["mse"]) for row in report["per_clip"]]
    assert sum(clip_psnr) / len(clip_psnr) != pytest.approx(logged["val_psnr"], rel=1e-5, abs=1e-6)
