"""A wav opens with a short stream analysis (`io.audio_frames.WAV_PROBE_BYTES`): the same samples and facts as
FFmpeg's full analysis, whatever the codec inside the wav."""
import numpy as np
import pytest

from audio2video.io import audio_frames, media
from conftest import write_audio


@pytest.mark.parametrize("name, codec", [("a.wav", "pcm_s16le"), ("a.wav", "pcm_s24le"), ("a.wav", "pcm_f32le"),
                                         ("a.wav", "adpcm_ms"), ("a.wav", "libmp3lame"), ("a.w64", None)])
def test_a_wav_decodes_the_same_with_the_short_probe(tmp_path, monkeypatch, name, codec):
    path = write_audio(tmp_path / name, seconds=12.0, codec=codec)  # past what the full analysis reads
    assert audio_frames.wav_probe_options(path) == {"probesize": str(audio_frames.WAV_PROBE_BYTES)}
    short, info = media.load_audio(path)
    monkeypatch.setattr(audio_frames, "WAV_PROBE_BYTES", 50_000_000)
    full, full_info = media.load_audio(path)
    assert np.array_equal(short, full)
    assert vars(info) == vars(full_info)
    assert abs(info.seconds - 12.0) < 0.1


def test_only_a_wav_gets_the_short_probe(tmp_path):
    assert audio_frames.wav_probe_options(write_audio(tmp_path / "a.flac")) == {}
    assert audio_frames.wav_probe_options(write_audio(tmp_path / "a.m4a")) == {}
    assert audio_frames.wav_probe_options(write_audio(tmp_path / "a.aiff")) == {}
    (tmp_path / "riff.wav").write_bytes(b"RIFF\0\0\0\0AVI ")  # a RIFF of another kind
    assert audio_frames.wav_probe_options(tmp_path / "riff.wav") == {}
    assert audio_frames.wav_probe_options(tmp_path / "missing.wav") == {}  # av.open says why
