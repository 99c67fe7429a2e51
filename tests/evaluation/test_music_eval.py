"""`evaluate --data FOLDER_OF_AUDIO`: real music without ground truth, the model beside its teacher."""
import json

import numpy as np

from audio2video.cli import main
from audio2video.data import ClipSpec
from audio2video.data.song import render_song, song_features
from audio2video.evaluation.music import score_videos
from audio2video.io.files import write_wav
from audio2video.io.frames import to_uint8
from audio2video.io.media import load_audio
from audio2video.metrics.appearance import saturation, uniform_frames, white_frames
from conftest import write_songs


def test_appearance_statistics():
    black = np.zeros((10, 16, 16, 3), np.uint8)
    white = np.full((10, 16, 16, 3), 250, np.uint8)
    red = np.zeros((10, 16, 16, 3), np.uint8)
    red[..., 0] = 200
    assert uniform_frames(black) == 1.0 and white_frames(white) == 1.0 and white_frames(black) == 0.0
    assert saturation(red) == 1.0 and saturation(white) == 0.0
    noisy = np.random.default_rng(0).integers(0, 255, (10, 16, 16, 3)).astype(np.uint8)
    assert uniform_frames(noisy) == 0.0


def test_the_teacher_follows_its_own_song_and_a_still_video_does_not(tmp_path):
    folder = write_songs(tmp_path / "music", n=4, seconds=12.0)
    spec = ClipSpec(height=64, width=64)
    paths = sorted(folder.iterdir())
    segments = [load_audio(p, 16000)[0].reshape(-1) for p in paths]
    teacher = [np.concatenate([to_uint8(b) for b in render_song(song_features(a, spec), spec)]) for a in segments]
    still = [np.repeat(v[:1], len(v), axis=0) for v in teacher]
    result = score_videos(paths, segments, {"teacher": teacher, "still": still})
    t, s = result["renderers"]["teacher"]["overall"], result["renderers"]["still"]["overall"]
    assert t["sync_ratio"] > 2.0 and t["av_align_own"] > 0.4, t
    assert abs(t["motion_corr"] - 1) < 1e-6 and abs(t["flicker"] - 1) < 1e-6 and t["white_frames"] == 0.0
    assert not s["av_align_own"] > 0 and s["flicker"] == 0.0


def test_evaluate_on_a_folder_of_audio(tmp_path, tiny_checkpoint):
    folder = write_songs(tmp_path / "music", n=3, seconds=5.0)
    out = tmp_path / "eval"
    assert main(["evaluate", "--checkpoint", str(tiny_checkpoint), "--data", str(folder), "-o", str(out),
                 "--seconds", "4", "--offset", "0", "-q"]) == 0
    result = json.loads((out / "metrics.json").read_text())
    assert set(result["renderers"]) == {"model", "teacher"} and len(result["files"]) == 3
    assert "sync_ratio" in (out / "report.md").read_text()
    write_wav(tmp_path / "only.wav", np.zeros(16000 * 5, np.float32), 16000)
    assert main(["evaluate", "--checkpoint", str(tiny_checkpoint), "--data", str(tmp_path / "only.wav"),
                 "-o", str(tmp_path / "e2"), "--seconds", "4", "-q"]) == 2
    assert not (tmp_path / "e2").exists()
