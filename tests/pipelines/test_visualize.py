"""`visualize`: the visualizers over any audio file, full length, native size, seamless, audio muxed."""
import numpy as np
import pytest

from audio2video.cli import main
from audio2video.data import ClipSpec
from audio2video.data.song import render_song, song_features
from audio2video.io.frames import to_uint8
from audio2video.io.media import iter_video_frames, load_audio, read_video_info
from conftest import write_audio


def test_visualize_writes_the_whole_song_at_the_asked_size(tmp_path):
    src = write_audio(tmp_path / "song.mp3", seconds=4.3, rate=44100, channels=2)
    out = tmp_path / "vis.mp4"
    assert main(["visualize", str(src), "-o", str(out), "--size", "96", "-q"]) == 0
    info = read_video_info(out)
    assert info["frames"] == round(4.3 * 30) and info["width"] == info["height"] == 96
    assert info["audio_codec"] == "aac" and info["audio_rate"] == 44100 and info["audio_channels"] == 2
    assert abs(info["audio_seconds"] - info["video_seconds"]) <= 1 / 30 + 1e-6
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary files left behind"
    # drawn natively: the frames are the engine's own at 96 px (up to H.264), not an upscaled 128 render
    audio, _ = load_audio(src, 16000)
    spec = ClipSpec(height=96, width=96)
    expected = np.concatenate([to_uint8(b) for b in render_song(song_features(audio.reshape(-1), spec), spec)])
    decoded = np.stack(list(iter_video_frames(out)))
    assert np.abs(decoded[:len(expected)].astype(float) - expected.astype(float)).mean() < 4.0


def test_visualize_batch_and_errors(tmp_path, capsys):
    a = write_audio(tmp_path / "a.wav", seconds=1.2)
    bad = tmp_path / "b.wav"
    bad.write_bytes(b"not audio at all")
    out = tmp_path / "out"
    assert main(["visualize", str(a), str(bad), "-o", str(out), "--size", "32", "-q"]) == 1
    assert (out / "a.mp4").exists() and not (out / "b.mp4").exists()
    err = capsys.readouterr().err
    assert "b.wav" in err and "Traceback" not in err
    assert main(["visualize", str(a), "-o", str(tmp_path / "x.mp4"), "--size", "33"]) == 2
    assert "--size" in capsys.readouterr().err and not (tmp_path / "x.mp4").exists()
