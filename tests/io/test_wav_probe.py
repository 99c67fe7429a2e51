"""A wav opens with a short stream analysis (`io.media.WAV_PROBE_BYTES`): the same samples and facts as FFmpeg's
full analysis, whatever the codec inside the wav."""
import numpy as np
import pytest

from audio2video.io import media
from conftest import write_audio


@pytest.mark.parametrize("codec", ["pcm_s16le", "pcm_s24le", "pcm_f32le", "adpcm_ms", "libmp3lame"])
def test_a_wav_decodes_the_same_with_the_short_probe(tmp_path, monkeypatch, codec):
    path = write_audio(tmp_path / "a.wav", seconds=12.0, codec=codec)  # past what the full analysis reads
    assert media._probe_options(path) == {"probesize": str(media.WAV_PROBE_BYTES)}
    short, info = media.load_audio(path)
    monkeypatch.setattr(media, "WAV_PROBE_BYTES", 50_000_000)
    full, full_info = media.load_audio(path)
    assert np.array_equal(short, full)
    assert vars(info) == vars(full_info)
    assert abs(info.seconds - 12.0) < 0.1


def test_only_a_wav_gets_the_short_probe(tmp_path):
    assert media._probe_options(write_audio(tmp_path / "a.flac")) == {}
    assert media._probe_options(write_audio(tmp_path / "a.m4a")) == {}
    (tmp_path / "riff.wav").write_bytes(b"RIFF\0\0\0\0AVI ")  # a RIFF of another kind
    assert media._probe_options(tmp_path / "riff.wav") == {}
    assert media._probe_options(tmp_path / "missing.wav") == {}  # av.open says why
