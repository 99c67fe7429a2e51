"""evaluate / compare / av-align: the model-evaluation core, reports, bootstrap intervals and user errors."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from conftest import tiny_config, write_audio, write_video

from audio2video.evaluation import bootstrap as B
from audio2video.evaluation import clips as C
from audio2video.evaluation import run as E
from audio2video.evaluation import scoring as S
from audio2video.metrics import METRIC_NAMES, aggregate
from audio2video.cli import main
from audio2video.io.frames import write_mp4
from audio2video.io.media import read_video_info
from audio2video.models import build_model


class IgnoresAudio(torch.nn.Module):
    """Wraps a model so that it never sees its input: the output is the same for every clip."""

    def __init__(self, model):
        super().__init__()
        self.model, self.config = model, model.config

    def forward(self, audio):
        return self.model(torch.zeros_like(audio))


class Constant(torch.nn.Module):
    def __init__(self, config, value=0.5):
        super().__init__()
        self.config, self.value = config, value

    def forward(self, audio):
        c = self.config
        return torch.full((len(audio), c.frames, 3, c.frame_size, c.frame_size), self.value)


class Oracle(torch.nn.Module):
    """Knows the held-out clips: returns each clip's ground truth (matched by its audio)."""

    def __init__(self, clips):
        super().__init__()
        self.clips, self.config = clips, None

    def forward(self, audio):
        out = []
        for a in audio:
            i = next(k for k in range(len(self.clips)) if torch.equal(self.clips.audio[k], a))
            out.append(self.clips.truth(i))
        return torch.stack(out)


# 2 s clips: long enough for some of the held-out clips to hold a silent segment
CFG = tiny_config(clip_seconds=2.0, frames=60)


@pytest.fixture(scope="module")
def clips():
    return C.procedural_clips(CFG, 12)


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return build_model(CFG).eval()


def test_held_out_clips_are_the_engines_held_out_set(clips):
    from audio2video.data.procedural import engine_config_for, heldout_set

    ds = heldout_set(12, engine_config_for(CFG))
    audio, video = ds[3]
    assert torch.equal(clips.audio[3], audio)
    assert torch.equal(clips.video[3], video.mul(255).round().to(torch.uint8))
    assert clips.silent.shape == (12, 60) and clips.silent.any(axis=1).sum() >= 3, "some clips have silence"


def test_a_model_that_ignores_its_input_has_shuffle_gap_one(clips, tiny_model):
    scores, _ = S.score_model(IgnoresAudio(tiny_model), clips.subset(6))
    assert aggregate("shuffle_gap", scores.values) == pytest.approx(1.0, abs=0.01)


def test_the_oracle_scores_perfectly_and_depends_on_its_audio(clips):
    scores, _ = S.score_model(Oracle(clips), clips)
    v = scores.values
    assert np.isinf(v["psnr"]).all() and np.allclose(v["ssim"], 1, atol=1e-5)
    assert (v["mse"] == 0).all() and (v["temporal_error"] == 0).all()
    assert np.allclose(v["flicker_index"], 1)
    assert math.isnan(aggregate("shuffle_gap", v)) or aggregate("shuffle_gap", v) > 100
    truth = S.score_truth(clips)
    # the prediction is the ground truth: identical AV-Align and silence response
    assert np.array_equal(v["av_align"], truth.values["av_align"], equal_nan=True)
    assert aggregate("silence_response", v) == pytest.approx(aggregate("silence_response", truth.values))
    assert aggregate("silence_response", truth.values) < 0.8, "the engine's videos calm down in silence"


class Jitter(Constant):
    """Grey with a flicker far below MOTION_FLOOR: to the eye and to the metric, a still video."""

    def forward(self, audio):
        out = super().forward(audio)
        g = torch.Generator().manual_seed(len(audio))
        return out + 1e-5 * torch.rand(out.shape, generator=g)


def test_a_still_model_fails_the_silence_response(clips):
    """On clips that do have silence (the oracle, calm in silence, gets a finite score below 1 on them), a model
    whose output never moves - exactly constant, or jittering invisibly - is undefined (a fail), never 0."""
    from audio2video.metrics import clips_counted

    oracle, _ = S.score_model(Oracle(clips), clips)
    assert clips_counted("silence_response", oracle.values) >= 3, "the test must score clips that have silence"
    assert aggregate("silence_response", oracle.values) < 0.8
    for still in (Constant(CFG), Jitter(CFG)):
        scores, _ = S.score_model(still, clips)
        assert clips_counted("silence_response", scores.values) >= 3
        assert math.isnan(aggregate("silence_response", scores.values)), type(still).__name__
        assert aggregate("shuffle_gap", scores.values) == pytest.approx(1.0, abs=1e-6)
    assert np.all(scores.values["av_align"] == 0) or np.isnan(scores.values["av_align"]).all()


def test_score_model_keeps_only_the_requested_predictions(clips, tiny_model):
    few = clips.subset(4)
    scores, kept = S.score_model(tiny_model, few, batch_size=3, keep=[0, 3])
    assert sorted(kept) == [0, 3] and kept[3].dtype == torch.uint8 and kept[3].shape == (60, 3, 32, 32)
    with torch.no_grad():
        pred = tiny_model(clips.audio[3:4])[0]
    assert torch.equal(kept[3], pred.mul(255).round().to(torch.uint8))
    # batch size changes nothing (eval mode): scores are per clip
    again, _ = S.score_model(tiny_model, few, batch_size=2)
    for k in scores.values:
        assert np.allclose(scores.values[k], again.values[k], equal_nan=True, rtol=1e-5, atol=1e-7), k


def test_bootstrap_interval_covers_a_known_difference():
    rng = np.random.default_rng(0)
    n = 40
    a = {"mse": rng.uniform(0.01, 0.02, n)}
    b = {"mse": a["mse"] + 0.005 + rng.normal(0, 0.001, n)}
    idx = B.resample_indices(n)
    d = B.paired_difference("mse", a, b, idx, "A", "B")
    assert d.point == pytest.approx(0.005, abs=0.001)
    assert d.ci95[0] < d.point < d.ci95[1] and d.ci95[0] > 0.004 and d.ci95[1] < 0.006
    assert d.verdict == "A better" and len(d.per_clip) == n
    same = B.paired_difference("mse", a, {"mse": a["mse"].copy()}, idx)
    assert same.ci95 == (0.0, 0.0) and same.verdict == "no clear difference"
    # the interval is real: it comes from resampling, and the same seed gives the same interval
    assert B.paired_difference("mse", a, b, B.resample_indices(n)).ci95 == d.ci95
    assert B.paired_difference("mse", a, b, B.resample_indices(n, seed=1)).ci95 != d.ci95


def test_flicker_verdict_prefers_the_one_closer_to_one():
    n = 30
    a = {"flicker_index": np.full(n, 1.6)}
    b = {"flicker_index": np.linspace(0.9, 1.1, n)}
    d = B.paired_difference("flicker_index", a, b, B.resample_indices(n), "A", "B")
    assert d.point < 0 and d.verdict == "B better"


def test_evaluate_writes_metrics_report_and_plots(tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / "eval"
    assert main(["evaluate", "--checkpoint", str(tiny_checkpoint), "-o", str(out), "-n", "4", "--examples",
                 "2", "-q"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert {"metrics.json", "report.md", "metrics.png"} <= set(names)
    assert len([n for n in names if n.startswith("strip_")]) == 2
    assert len([n for n in names if n.startswith("sync_")]) == 2
    r = json.loads((out / "metrics.json").read_text())  # strict JSON: no NaN/Infinity
    assert set(r["metrics"]) == set(METRIC_NAMES) and len(r["per_clip"]) == 4
    assert r["ground_truth"]["av_align"] is not None
    assert r["command"].startswith("audio2video evaluate --checkpoint")
    report = (out / "report.md").read_text()
    for name in METRIC_NAMES:
        assert f"| {name} |" in report
    assert "![metrics](metrics.png)" in report
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no staging folder left behind"


def test_compare_writes_paired_table_side_by_side_videos(tiny_checkpoint, tmp_path):
    torch.manual_seed(1)
    other = build_model(tiny_config(kind="legacy")).save_pretrained(tmp_path / "legacy")
    out = tmp_path / "ab"
    assert main(["compare", str(tiny_checkpoint), str(other), "--names", "hybrid", "legacy", "-o", str(out),
                 "-n", "4", "--examples", "1", "-q"]) == 0
    r = json.loads((out / "metrics.json").read_text())
    diffs = r["differences"]["legacy - hybrid"]
    assert set(diffs) == set(METRIC_NAMES)
    mse = diffs["mse"]
    a, b = (np.array([c["mse"] for c in r["models"][m]["per_clip"]]) for m in ("hybrid", "legacy"))
    assert mse["per_clip"] == pytest.approx((b - a).tolist())
    assert mse["point"] == pytest.approx((b - a).mean())
    assert mse["ci95"][0] <= mse["point"] <= mse["ci95"][1]
    videos = sorted(out.glob("side_by_side_*.mp4"))
    assert len(videos) == 1
    info = read_video_info(videos[0])
    assert info["frames"] == 30 and info["width"] == 3 * info["height"] and info["audio_seconds"] > 0.9
    report = (out / "report.md").read_text()
    assert "| mse | lower |" in report and "legacy − hybrid" in report


def test_av_align_command_prints_each_file_and_the_mean(tmp_path, capsys):
    files = []
    for k, shift in enumerate((0, 3)):
        frames = np.zeros((30, 32, 32, 3), dtype=np.uint8)
        frames[:, :, :16] = 200
        frames[10 + shift:, 8:24] = 90
        audio = np.zeros(16000, dtype=np.float32)
        audio[5333:5400] = 0.8
        files.append(write_mp4(tmp_path / f"v{k}.mp4", [frames], 30, audio=audio, sample_rate=16000))
    assert main(["av-align", *map(str, files)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith(str(files[0])) and lines[2].startswith("mean")
    # several files: a bad one is reported and skipped, the others scored, and the exit is non-zero
    assert main(["av-align", str(files[0]), str(tmp_path / "missing.mp4"), str(files[1])]) == 1
    captured = capsys.readouterr()
    assert len(captured.out.strip().splitlines()) == 3 and "1 failed" in captured.out
    assert "missing.mp4: no such file" in captured.err and len(captured.err.strip().splitlines()) == 1


@pytest.mark.parametrize("case", ["missing", "no_audio", "no_video"])
def test_av_align_user_errors_are_one_line(tmp_path, capsys, case):
    path = {"missing": lambda: tmp_path / "nope.mp4",
            "no_audio": lambda: write_video(tmp_path / "mute.mp4", seconds=0.5, with_audio=False),
            "no_video": lambda: write_audio(tmp_path / "a.wav", seconds=0.5)}[case]()
    assert main(["av-align", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err and "Traceback" not in err


def test_evaluate_user_errors_leave_no_output(tmp_path, tiny_checkpoint, capsys):
    out = tmp_path / "out"
    for argv, needle in (
            (["evaluate", "--checkpoint", str(tmp_path / "missing"), "-o", str(out)], "does not exist"),
            (["evaluate", "--checkpoint", str(tmp_path), "-o", str(out)], "config.json"),
            (["compare", str(tiny_checkpoint), "-o", str(out)], "at least two"),
            (["compare", str(tiny_checkpoint), str(tiny_checkpoint), "--names", "a", "-o", str(out)], "--names")):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err
        assert not out.exists()
    (tmp_path / "file").write_text("x")
    assert main(["evaluate", "--checkpoint", str(tiny_checkpoint), "-o", str(tmp_path / "file"), "-n", "2"]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_compare_refuses_checkpoints_that_make_different_clips(tmp_path, tiny_checkpoint, capsys):
    other = build_model(tiny_config(frame_size=16, decoder_channels=(16, 8))).save_pretrained(tmp_path / "small")
    assert main(["compare", str(tiny_checkpoint), str(other), "-o", str(tmp_path / "ab"), "-q"]) == 2
    assert "frame_size" in capsys.readouterr().err and not (tmp_path / "ab").exists()


def test_a_failure_midway_leaves_no_half_written_output(tmp_path, tiny_checkpoint, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(E, "plot_sync", boom)
    work = tmp_path / "work"
    with pytest.raises(RuntimeError):
        E.run_evaluate(tiny_checkpoint, work / "out", n=2, examples=1, progress=False)
    assert list(work.iterdir()) == [], "neither the output nor its staging folder remains"


def test_evaluate_on_video_files(tmp_path, tiny_checkpoint):
    folder = tmp_path / "videos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for k in range(2):  # 25 fps, 48x64, 1.5 s with a second of silence at the end: resampled to the model's clips
        frames = rng.integers(0, 255, (38, 48, 64, 3), dtype=np.uint8)
        audio = np.zeros(24000, dtype=np.float32)
        audio[:8000] = 0.3 * np.sin(np.arange(8000) * 0.1)
        write_mp4(folder / f"clip{k}.mp4", [frames], 25, audio=audio, sample_rate=16000)
    clips = C.file_clips(folder, tiny_config())
    assert clips.video.shape == (2, 30, 3, 32, 32) and clips.audio.shape == (2, 1, 16000)
    assert clips.ids == ["clip0", "clip1"]
    assert not clips.silent[:, :14].any() and clips.silent[:, 17:].all()
    out = tmp_path / "eval"
    assert main(["evaluate", "--checkpoint", str(tiny_checkpoint), "--data", str(folder), "-o", str(out),
                 "--examples", "1", "-q"]) == 0
    assert json.loads((out / "metrics.json").read_text())["clips"] == 2


def test_evaluate_skips_a_bad_video_in_a_folder(tmp_path, tiny_checkpoint, capsys):
    folder = tmp_path / "videos"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for k in (0, 2):
        write_mp4(folder / f"clip{k}.mp4", [rng.integers(0, 255, (30, 32, 32, 3), dtype=np.uint8)], 30,
                  audio=0.1 * rng.standard_normal(16000).astype(np.float32), sample_rate=16000)
    (folder / "clip1.mp4").write_bytes(b"\x00not a video" * 100)  # sorts between the two good files
    out = tmp_path / "eval"
    assert main(["evaluate", "--checkpoint", str(tiny_checkpoint), "--data", str(folder), "-o", str(out),
                 "--examples", "0", "-q"]) == 0
    err = capsys.readouterr().err
    assert "skipped:" in err and "clip1.mp4" in err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["clips"] == 2
    (folder / "clip0.mp4").write_bytes(b"junk")
    (folder / "clip2.mp4").write_bytes(b"junk")
    assert main(["evaluate", "--checkpoint", str(tiny_checkpoint), "--data", str(folder), "-o",
                 str(tmp_path / "none"), "-q"]) == 2
    assert "none of its 3 video files" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()


def test_evaluate_rejects_bad_data(tmp_path, tiny_checkpoint, capsys):
    (tmp_path / "empty").mkdir()
    short = write_mp4(tmp_path / "short.mp4", [np.zeros((6, 32, 32, 3), np.uint8)], 30,
                      audio=np.zeros(3200, np.float32), sample_rate=16000)
    for data, needle in ((tmp_path / "nope", "no such file"), (tmp_path / "empty", "no video files"),
                         (short, "shorter than")):
        out = tmp_path / "out"
        assert main(["evaluate", "--checkpoint", str(tiny_checkpoint), "--data", str(data), "-o", str(out),
                     "-q"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and needle in err, err
        assert not out.exists()
