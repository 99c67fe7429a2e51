"""The training recipe for real music: subset decoding, the control head, the user's music, warm starts and
a level-normalised input."""
import json
import subprocess

import numpy as np
import pytest
import torch

from audio2video.cli import main
from audio2video.data import ClipSpec, generate_music, normalize_level
from audio2video.data.music_files import MusicLibrary, music_sample, split_of
from audio2video.data.song import render_range, song_features
from audio2video.data.style import audio_style
from audio2video.models import AudioToVideoNet, ModelConfig, build_model
from audio2video.training.losses import motion_envelope_loss
from audio2video.training.net import TrainingNet, init_weights, pair_frames
from conftest import tiny_config, tiny_model, write_songs, write_wav
from test_train import MICRO, TINY, env1, final_weights, sets, train_cmd

SPEC = ClipSpec()


def test_pair_frames_are_adjacent_distinct_pairs():
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        idx = pair_frames(90, 8, g)
        assert idx.shape == (16,)
        assert torch.equal(idx[1::2], idx[0::2] + 1) and len(set(idx[0::2].tolist())) == 8
        assert idx.min() >= 0 and idx.max() <= 89


def test_subset_decoding_equals_the_full_decode_of_those_frames():
    model = tiny_model().eval()
    net = TrainingNet(model, controls=True)
    audio = torch.randn(2, 1, model.config.num_samples)
    frames = torch.tensor([3, 4, 17, 18])
    with torch.no_grad():
        part, controls = net(audio, frames)
        full = model(audio)
    assert torch.allclose(part, full[:, frames], atol=1e-6)
    assert controls.shape == (2, model.config.frames, 11)


def test_warm_start_keeps_the_weights_and_a_new_path_starts_silent(tmp_path):
    source = tiny_model().eval()
    source.save_pretrained(tmp_path / "src")
    grown = build_model(tiny_config(audio_features="logmel"))
    fresh = init_weights(grown, tmp_path / "src")
    assert fresh and all(name.startswith("dsp.") for name in fresh)
    grown.eval()
    audio = torch.randn(1, 1, source.config.num_samples)
    with torch.no_grad():
        assert torch.allclose(grown(audio), source(audio), atol=1e-6), "the zero-initialised path adds nothing"
    with pytest.raises(Exception, match="do not fit"):
        init_weights(build_model(tiny_config(frame_size=64, decoder_channels=(16, 8, 8, 8))), tmp_path / "src")


def test_motion_envelope_loss_weighs_when_the_picture_moves_not_where():
    g = torch.Generator().manual_seed(0)
    target = torch.rand(2, 8, 3, 8, 8, generator=g)
    target[:, 1::2] = target[:, 0::2]  # pairs (t, t + 1): only pairs 1 and 3 of each clip move
    target[:, 3] += 0.3
    target[:, 7] += 0.1
    assert torch.allclose(motion_envelope_loss(target, target, pairs=True), torch.zeros(2))
    # the same amount of motion in other pixels, at the same times: still the teacher's envelope
    moved_elsewhere = target.clone()
    moved_elsewhere[:, 3] = target[:, 2] + 0.3 * torch.sign(torch.randn(3, 8, 8, generator=g))
    moved_elsewhere[:, 7] = target[:, 6] - 0.1
    assert motion_envelope_loss(moved_elsewhere, target, pairs=True).max() < 1e-6
    # the right amount at the wrong time, and no motion at all, are both penalised
    wrong_time = target.clone()
    wrong_time[:, 3], wrong_time[:, 5] = target[:, 2], target[:, 4] + 0.3
    still = target.clone()
    still[:, 1::2] = still[:, 0::2]
    assert (motion_envelope_loss(wrong_time, target, pairs=True) > 0.5).all()
    assert (motion_envelope_loss(still, target, pairs=True) > 0.5).all()
    # without pairs every adjacent change counts
    assert motion_envelope_loss(target, target).abs().max() < 1e-6
    assert (motion_envelope_loss(still, target) > 0).all()


def test_level_norm_in_torch_matches_the_data_engine():
    model = AudioToVideoNet(ModelConfig(input_norm="level"))
    x = generate_music(4, SPEC).waveform * 6.0           # a loud mix
    ours = model.level(torch.from_numpy(x).view(1, 1, -1)).numpy().ravel()
    assert np.abs(ours - normalize_level(x, 16000)).max() < 2e-3
    assert sum(p.numel() for p in AudioToVideoNet().parameters()) == 8_236_611, "the spec model is unchanged"


def test_music_library_windows_are_the_songs_own_frames(tmp_path):
    folder = write_songs(tmp_path / "music", n=3, seconds=7.0)
    lib = MusicLibrary([folder], SPEC, cache_dir=tmp_path / "cache")
    assert sum(lib.count(s) for s in ("train", "heldout")) == 3
    side = "train" if lib.count("train") else "heldout"
    a, b = music_sample(lib, 0, 5, side), music_sample(lib, 0, 5, side)
    assert np.array_equal(a.video, b.video) and a.path == b.path and a.start == b.start
    audio = lib.tracks[side][[t.path for t in lib.tracks[side]].index(a.path)].audio
    f0 = int(round(a.start * 30))
    tl = song_features(np.asarray(audio), SPEC)
    assert np.abs(render_range(tl, audio_style(), SPEC, f0, f0 + 90) - a.video).max() < 1e-4
    assert np.array_equal(a.audio[0], np.asarray(audio)[int(round(a.start * 16000)):][:48000])
    again = MusicLibrary([folder], SPEC, cache_dir=tmp_path / "cache")          # from the cache
    assert np.array_equal(music_sample(again, 0, 5, side).video, a.video)
    assert {split_of(p) for p in folder.iterdir()} <= {"train", "heldout"}


def test_music_library_skips_sound_effects_shorter_than_a_clip(tmp_path):
    # game-music packages ship their sound effects beside the music: a 0.01 s click has no timeline to analyse
    folder = write_songs(tmp_path / "music", n=2, seconds=4.0)
    write_wav(folder / "click.wav", np.full(160, 0.3, np.float32), 16000)
    write_wav(folder / "roar.wav", np.zeros(int(2.9 * 16000), np.float32), 16000)
    lines = []
    lib = MusicLibrary([folder], SPEC, cache_dir=tmp_path / "cache", log=lines.append)
    assert sum(lib.count(s) for s in ("train", "heldout")) == 2
    assert lines == ["skipped 2 file(s) shorter than one 3 s clip"]
    assert sorted(p.name for p, _ in lib.skipped) == ["click.wav", "roar.wav"]


def test_train_on_music_with_pairs_and_controls_resumes_exactly(tmp_path):
    folder = write_songs(tmp_path / "music", n=8, seconds=4.0)
    recipe = [*MICRO, f"data.music=[{folder}]", f"data.music_cache={tmp_path / 'cache'}", "data.music_ratio=0.5",
              "data.val_music_clips=2", "decode_pairs=4", "loss.controls=1.0", "loss.temporal=0.5", "loss.motion=1.0",
              "model.input_norm=level", "steps=8", "ckpt_every=4", "schedule.min_lr_ratio=1.0"]
    subprocess.run(train_cmd(tmp_path / "a", *sets(*recipe)), check=True, env=env1(), timeout=300)
    # b trains 4 steps, then resumes to 8 (a constant learning rate after warm-up: the same schedule as a's)
    subprocess.run(train_cmd(tmp_path / "b", *sets(*recipe, "steps=4")), check=True, env=env1(), timeout=300)
    subprocess.run(train_cmd(tmp_path / "b", *sets(*recipe), "--resume"), check=True, env=env1(), timeout=300)
    logs = [json.loads(line) for line in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    assert any("control_loss" in r for r in logs) and any("clips" in r for r in logs)
    a, b = final_weights(tmp_path / "a"), final_weights(tmp_path / "b")
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_a_warm_started_run_resumes_without_repeating_init_from(tmp_path):
    assert main(["train", "--config", str(TINY), "--run-dir", str(tmp_path / "first"), "-q",
                 *sets(*MICRO, "steps=2")]) == 0
    src = tmp_path / "first" / "checkpoints" / "step_00000002"
    run = tmp_path / "run"
    assert main(["train", "--config", str(TINY), "--run-dir", str(run), "-q", *sets(*MICRO, "steps=2"),
                 "--init-from", str(src)]) == 0
    assert main(["train", "--config", str(TINY), "--run-dir", str(run), "-q", *sets(*MICRO, "steps=3"),
                 "--resume"]) == 0
    assert (run / "checkpoints" / "step_00000003").is_dir()


def test_init_from_flag(tmp_path, tiny_checkpoint, capsys):
    run = tmp_path / "run"
    assert main(["train", "--config", str(TINY), "--run-dir", str(run), "-q", *sets(*MICRO, "steps=2"),
                 "--init-from", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err
