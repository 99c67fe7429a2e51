"""`generate`: any decodable input, any length, exact frame counts, original audio muxed, batches of inputs."""
import os
import re

import numpy as np
import pytest
import torch

from audio2video.cli import main
from audio2video.pipelines.generate import CrossFader, GenerateOptions, plan_windows, render_frames
from audio2video.io.media import load_audio, read_video_info
from audio2video.models import load_model
from conftest import write_audio, write_video


def check_output(path, seconds, rate=None, channels=None, audio_codecs=("aac",)):
    info = read_video_info(path)
    assert info["frames"] == round(seconds * 30)
    assert info["fps"] == 30 and info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert info["audio_codec"] in audio_codecs
    assert abs(info["audio_seconds"] - info["video_seconds"]) <= 1 / 30 + 1e-6
    if rate:
        assert info["audio_rate"] == rate
    if channels:
        assert info["audio_channels"] == channels
    return info


@pytest.mark.parametrize("suffix,rate,channels", [(".mp3", 44100, 2), (".wav", 48000, 1), (".flac", 22050, 2),
                                                  (".ogg", 44100, 2), (".opus", 48000, 2), (".m4a", 32000, 1)])
def test_generate_from_audio_formats(tmp_path, tiny_checkpoint, suffix, rate, channels):
    src = write_audio(tmp_path / f"in{suffix}", seconds=7.3, rate=rate, channels=channels)
    out = tmp_path / "out.mp4"
    assert main(["generate", str(src), "-o", str(out), "--checkpoint", str(tiny_checkpoint), "-q"]) == 0
    # MP3 (like AAC) goes into the mp4 as it is; the rest is encoded as AAC
    codecs = ("mp3", "mp3float") if suffix == ".mp3" else ("aac",)
    check_output(out, 7.3, rate=rate, channels=channels, audio_codecs=codecs)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary files left behind"
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask, "the output gets a normal file's permissions"


def test_generate_from_video_audio_track_with_upscaling(tmp_path, tiny_checkpoint):
    src = write_video(tmp_path / "clip.mp4", seconds=7.3)
    out = tmp_path / "out.mp4"
    assert main(["generate", str(src), "-o", str(out), "--checkpoint", str(tiny_checkpoint), "--size", "96",
                 "--crf", "30", "-q"]) == 0
    info = check_output(out, 7.3, rate=48000, channels=2)
    assert info["width"] == info["height"] == 96


def test_preset_reaches_the_encoder(tmp_path, tiny_checkpoint):
    src = write_audio(tmp_path / "in.wav", seconds=2.0, rate=16000, channels=1)
    subme = {}  # x264 records its settings in the stream: subme=0 for ultrafast, 2 for veryfast (the default)
    for preset in (None, "ultrafast"):
        out = tmp_path / f"{preset}.mp4"
        assert main(["generate", str(src), "-o", str(out), "--checkpoint", str(tiny_checkpoint), "-q",
                     *(["--preset", preset] if preset else [])]) == 0
        subme[preset] = re.search(rb"subme=(\d+)", out.read_bytes()).group(1)
    assert subme == {None: b"2", "ultrafast": b"0"}


@pytest.mark.parametrize("seconds", [0.05, 0.99, 1.0, 1.01, 2.5, 13.37])
@pytest.mark.parametrize("overlap", [0.0, 0.2, 0.5])
def test_exact_frame_count_for_any_length(seconds, overlap):
    model = load_model_tiny()
    audio = np.random.default_rng(0).standard_normal(int(seconds * 16000)).astype(np.float32) * 0.1
    total = round(seconds * 30)
    chunks = list(render_frames(model, audio, total, GenerateOptions(overlap=overlap, batch_size=3, progress=False)))
    assert sum(len(c) for c in chunks) == total
    # streamed: no chunk is bigger than one batch of windows
    assert max(len(c) for c in chunks) <= 3 * model.config.frames


def load_model_tiny():
    from conftest import tiny_model

    return tiny_model().eval()


def test_windows_cover_the_input_and_overlap():
    plan = plan_windows(total_frames=219, window_frames=90, fps=30, overlap_seconds=0.5)
    assert plan.overlap_frames == 15 and plan.hop == 75
    assert plan.starts == [0, 75, 150]
    assert plan.starts[-1] + 90 >= 219
    with pytest.raises(Exception, match="--overlap"):
        plan_windows(219, 90, 30, 2.0)


def test_crossfade_has_no_seam():
    """Two windows of constant value a and b: the overlap ramps from a to b in equal steps, no jump."""
    fader = CrossFader(overlap=4)
    a, b = torch.zeros(10, 1, 1, 1), torch.ones(10, 1, 1, 1)
    out = torch.cat([fader.push(a), fader.push(b), fader.flush()]).flatten()
    assert len(out) == 16
    steps = out.diff()
    assert steps.max() <= 0.2 + 1e-6 and (steps >= 0).all()
    assert out[:6].eq(0).all() and out[-6:].eq(1).all()


class WindowLevel(torch.nn.Module):
    """A stand-in model whose every frame is grey at the mean level of its window's audio: consecutive windows of
    a rising ramp differ by a known step, so any seam between them shows as a jump of that size."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.anchor = torch.nn.Parameter(torch.zeros(()))  # render_frames asks the model for its device

    def forward(self, audio):
        c = self.config
        level = audio.mean(dim=(1, 2)).view(-1, 1, 1, 1, 1)
        return level.expand(-1, c.frames, 3, c.frame_size, c.frame_size).clone()


def test_model_windows_join_smoothly():
    """The cross-fade spreads the change between two windows over the overlap: a frame-to-frame change of at most
    two fade steps (where one fade hands over to the next) plus rounding, where cut windows would jump by the
    whole window-to-window difference (19 levels here)."""
    from conftest import tiny_config

    cfg = tiny_config()  # 1 s windows of 30 frames
    model = WindowLevel(cfg)
    seconds, rate = 6, cfg.sample_rate
    audio = np.linspace(0.0, 0.9, seconds * rate, dtype=np.float32)
    options = GenerateOptions(overlap=0.5, progress=False)
    frames = np.concatenate(list(render_frames(model, audio, seconds * 30, options))).astype(np.float64)
    levels = frames.mean(axis=(1, 2, 3))
    plan = plan_windows(seconds * 30, cfg.frames, cfg.fps, 0.5)
    hop_seconds = plan.hop / cfg.fps
    window_step = 255 * 0.9 * hop_seconds / seconds  # level difference between consecutive windows, in 8-bit steps
    assert window_step > 15, "the test needs windows far enough apart for a seam to show"
    jumps = np.abs(np.diff(levels))
    assert jumps.max() <= 2 * window_step / (plan.overlap_frames + 1) + 1.0, jumps.max()
    assert levels[-1] - levels[0] > 0.5 * 255 * 0.9, "the video follows the ramp"


def test_resampling_to_16k_mono(tmp_path):
    src = write_audio(tmp_path / "in.wav", seconds=2.0, rate=44100, channels=2)
    audio, info = load_audio(src, 16000)
    assert info.sample_rate == 44100 and info.channels == 2
    assert abs(len(audio) - 32000) <= 2 and audio.dtype == np.float32
    assert abs(info.seconds - 2.0) < 1e-3


def test_batch_of_inputs_into_a_folder(tmp_path, tiny_checkpoint, capsys):
    src = tmp_path / "in"
    src.mkdir()
    write_audio(src / "a.wav", seconds=1.5, rate=16000, channels=1)
    write_audio(src / "b.mp3", seconds=2.0)
    (src / "broken.mp3").write_bytes(b"this is not audio at all" * 20)
    (src / "notes.txt").write_text("ignored: not a media suffix")
    out = tmp_path / "out"
    code = main(["generate", str(src), "-o", str(out), "--checkpoint", str(tiny_checkpoint), "-q"])
    captured = capsys.readouterr()
    assert code == 1
    assert sorted(p.name for p in out.iterdir()) == ["a.mp4", "b.mp4"]
    assert "2 generated" in captured.out and "1 failed" in captured.out
    assert "broken.mp3" in captured.err
    check_output(out / "b.mp4", 2.0, audio_codecs=("mp3", "mp3float"))
    # second run with --skip-existing leaves finished outputs alone
    before = (out / "a.mp4").stat().st_mtime_ns
    code = main(["generate", str(src / "a.wav"), str(src / "b.mp3"), "-o", str(out), "--checkpoint",
                 str(tiny_checkpoint), "--skip-existing", "-q"])
    assert code == 0 and (out / "a.mp4").stat().st_mtime_ns == before
    assert "2 skipped" in capsys.readouterr().out


def test_output_never_overwrites_its_input(tmp_path, tiny_checkpoint, capsys):
    src = write_video(tmp_path / "clip.mp4", seconds=1.0)
    size = src.stat().st_size
    code = main(["generate", str(src), "-o", str(tmp_path), "--checkpoint", str(tiny_checkpoint), "-q"])
    assert code == 2 and "overwrite its own input" in capsys.readouterr().err
    assert src.stat().st_size == size


def test_demo_writes_video_and_contact_sheet(tmp_path, tiny_checkpoint, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "-o", str(out), "--seconds", "2", "--checkpoint", str(tiny_checkpoint)]) == 0
    printed = capsys.readouterr().out
    assert str(out / "demo.mp4") in printed and "audio2video generate" in printed
    assert read_video_info(out / "demo.mp4")["frames"] == 60
    assert (out / "demo_contact_sheet.png").stat().st_size > 10_000


def test_untrained_demo_says_so_and_why(tmp_path, monkeypatch):
    """--untrained renders with a random model and says it was asked for (weights ship); with the weights folder
    missing the same fallback says that instead."""
    from audio2video.models import has_shipped_model, modeling
    from audio2video.pipelines.demo import run_demo

    assert has_shipped_model()
    lines = []
    result = run_demo(tmp_path / "d", seconds=1.0, untrained=True, size=128, log=lines.append)
    note = "\n".join(line for line in lines if line.startswith("NOTE"))
    assert not result.trained and "UNTRAINED" in result.source
    assert "--untrained" in note and "untrained, randomly initialised" in note
    assert "missing" not in note and "no trained weights ship" not in note, "weights do ship: the note must not say otherwise"
    trained = run_demo(tmp_path / "t", seconds=1.0, size=128, log=lambda line: None)
    assert trained.trained and trained.source.startswith("the trained model")
    a = read_video_info(result.video)["frames"]
    assert a == read_video_info(trained.video)["frames"] == 30

    monkeypatch.setattr(modeling, "shipped_model_dir", lambda: tmp_path / "nothing-here")
    lines = []
    fallback = run_demo(tmp_path / "f", seconds=1.0, size=128, log=lines.append)
    note = "\n".join(line for line in lines if line.startswith("NOTE"))
    assert not fallback.trained and "missing" in note and "--untrained" not in note


def test_missing_shipped_model_is_a_clear_error(tmp_path, monkeypatch):
    from audio2video.errors import CheckpointError
    from audio2video.models import modeling

    monkeypatch.setattr(modeling, "shipped_model_dir", lambda: tmp_path / "nothing-here")
    with pytest.raises(CheckpointError, match="no trained model ships"):
        load_model()
