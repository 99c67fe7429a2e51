"""`audio2video synth`: wav + mp4 (with audio) + json + contact sheet per sample."""
import json
import wave

import av
import numpy as np
import pytest

from audio2video.cli import main
from audio2video.data import ClipSpec, EngineConfig, make_sample
from audio2video.errors import UserError
from audio2video.pipelines.synth import write_samples

SMALL = EngineConfig(spec=ClipSpec(duration=1.0, height=48, width=48))


def test_write_samples(tmp_path):
    paths = write_samples(2, tmp_path, seed=3, config=SMALL)
    assert [p.name for p in paths] == ["sample_0000.mp4", "sample_0001.mp4"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"sample_000{k}.{ext}" for k in range(2) for ext in ("wav", "mp4", "json", "png"))
    meta = json.loads((tmp_path / "sample_0001.json").read_text())
    assert meta["index"] == 1 and meta["base_seed"] == 3 and meta["visualizers"]
    with wave.open(str(tmp_path / "sample_0001.wav")) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()) == (16000, 1, 2, 16000)
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2") / 32767
    assert np.allclose(pcm, make_sample(3, 1, config=SMALL).audio[0], atol=1e-4)
    with av.open(str(tmp_path / "sample_0001.mp4")) as c:
        kinds = {s.type for s in c.streams}
        frames = sum(1 for _ in c.decode(video=0))
    assert kinds == {"video", "audio"} and frames == 30
    assert (tmp_path / "sample_0000.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".*"))                       # no temporary files left behind


def test_bad_arguments(tmp_path):
    with pytest.raises(UserError):
        write_samples(0, tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError):
        write_samples(1, tmp_path / "file")


def test_cli(tmp_path, capsys):
    assert main(["synth", "-n", "1", "-o", str(tmp_path / "out"), "--seed", "2", "-q"]) == 0
    assert len(list((tmp_path / "out").iterdir())) == 4
    (tmp_path / "f").write_text("x")
    assert main(["synth", "-n", "1", "-o", str(tmp_path / "f"), "-q"]) == 2
    assert "not a folder" in capsys.readouterr().err
