"""`visualize`: the visualizers over any audio file, full length, native size, seamless, audio muxed."""
import wave

import numpy as np

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
    # the whole mp3 track goes in as it is, as generate does (no second lossy encoding)
    assert info["audio_codec"] in ("mp3", "mp3float") and info["audio_rate"] == 44100 and info["audio_channels"] == 2
    assert abs(info["audio_seconds"] - info["video_seconds"]) <= 1 / 30 + 1e-6
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary files left behind"
    # drawn natively: the frames are the engine's own at 96 px (up to H.264), not an upscaled 128 render
    audio, _ = load_audio(src, 16000)
    spec = ClipSpec(height=96, width=96)
    expected = np.concatenate([to_uint8(b) for b in render_song(song_features(audio.reshape(-1), spec), spec)])
    decoded = np.stack(list(iter_video_frames(out)))
    assert np.abs(decoded[:len(expected)].astype(float) - expected.astype(float)).mean() < 4.0


def test_visualize_draws_only_the_asked_span(tmp_path, capsys):
    # noise bursts for 1.5 s, then near-silence: drawn from 1.5 s the picture is still, drawn from 0 it is not
    rate = 16000
    t = np.arange(5 * rate) / rate
    bursts = (t < 1.5) & ((t * 3) % 1 < 0.1)
    x = 0.5 * bursts * np.random.default_rng(0).standard_normal(len(t)) + 0.001 * np.sin(2 * np.pi * 440 * t)
    src = tmp_path / "bursts_then_quiet.wav"
    with wave.open(str(src), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((x * 32000).astype("<i2").tobytes())
    out = tmp_path / "part.mp4"
    assert main(["visualize", str(src), "-o", str(out), "--size", "32", "--start", "1.5", "--duration",
                 "2000ms", "-q"]) == 0
    info = read_video_info(out)
    assert info["frames"] == 60 and info["audio_codec"] == "aac"
    assert abs(info["audio_seconds"] - 2.0) < 0.05
    # the frames are the visualizers driven by that span of the audio, not by the song's start
    audio, _ = load_audio(src, rate)
    spec = ClipSpec(height=32, width=32)

    def drawn(part):
        return np.concatenate([to_uint8(b) for b in render_song(song_features(part, spec), spec)])[:60].astype(float)

    span, song_start = drawn(audio.reshape(-1)[24000:56000]), drawn(audio.reshape(-1)[:32000])
    decoded = np.stack(list(iter_video_frames(out))).astype(float)
    assert np.abs(decoded - span).mean() < 3.0 < np.abs(decoded - song_start).mean()
    # a start past the end is a one-line error, and nothing is written
    assert main(["visualize", str(src), "-o", str(tmp_path / "late.mp4"), "--size", "32", "--start", "9"]) == 2
    assert "--start" in capsys.readouterr().err and not (tmp_path / "late.mp4").exists()


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
