"""The mp4's audio: the source's packets copied when mp4 players accept its codec and nothing is cut, re-encoded
as AAC otherwise (other codecs, or a span cut at exact samples)."""
from pathlib import Path

import av
import pytest

from audio2video.cli import main
from audio2video.io.media import read_video_info
from conftest import write_audio, write_video


def packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(container.streams.audio[0]) if p.size]


def generate(src, out, checkpoint, *flags):
    assert main(["generate", str(src), "-o", str(out), "--checkpoint", str(checkpoint), "-q", *flags]) == 0
    return read_video_info(out)


def test_aac_is_copied_packet_for_packet(tmp_path, tiny_checkpoint):
    src = write_audio(tmp_path / "song.m4a", seconds=2.3, rate=44100, channels=2)
    info = generate(src, tmp_path / "out.mp4", tiny_checkpoint)
    assert info["audio_codec"] == "aac" and info["audio_rate"] == 44100 and info["audio_channels"] == 2
    assert packets(tmp_path / "out.mp4") == packets(src), "the same packets: no re-encoding"
    assert info["audio_seconds"] == pytest.approx(2.3, abs=1 / 44100), "the priming edit survives the copy"


def test_aac_track_of_a_video_is_copied(tmp_path, tiny_checkpoint):
    src = write_video(tmp_path / "clip.mp4", seconds=2.0)
    info = generate(src, tmp_path / "out.mp4", tiny_checkpoint, "--aspect", "16:9")
    assert packets(tmp_path / "out.mp4") == packets(src)
    assert info["frames"] == 60 and info["audio_seconds"] == pytest.approx(2.0, abs=1 / 48000)


def test_mp3_is_copied(tmp_path, tiny_checkpoint):
    src = write_audio(tmp_path / "song.mp3", seconds=2.0, rate=44100, channels=2)
    info = generate(src, tmp_path / "out.mp4", tiny_checkpoint)
    assert info["audio_codec"] in ("mp3", "mp3float")
    assert packets(tmp_path / "out.mp4") == packets(src)
    # the encoder's priming stays trimmed, so sound and picture start together; only the codec's end padding remains
    assert 2.0 <= info["audio_seconds"] < 2.0 + 1152 / 44100


def test_alac_is_copied(tmp_path, tiny_checkpoint):
    src = write_audio(tmp_path / "song.m4a", seconds=2.0, codec="alac")  # Apple Lossless, as iTunes rips it
    info = generate(src, tmp_path / "out.mp4", tiny_checkpoint)
    assert info["audio_codec"] == "alac" and info["audio_rate"] == 44100 and info["audio_channels"] == 2
    assert packets(tmp_path / "out.mp4") == packets(src), "lossless and copied: not re-encoded as AAC"
    assert info["audio_seconds"] == pytest.approx(2.0, abs=1 / 44100) and info["frames"] == 60


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".opus"])
def test_other_codecs_are_encoded_as_aac(tmp_path, tiny_checkpoint, suffix):
    src = write_audio(tmp_path / f"song{suffix}", seconds=1.5, rate=48000, channels=2)
    info = generate(src, tmp_path / "out.mp4", tiny_checkpoint)
    assert info["audio_codec"] == "aac" and info["audio_seconds"] == pytest.approx(1.5, abs=1e-3)


def test_a_cut_aac_track_is_re_encoded_to_the_exact_span(tmp_path, tiny_checkpoint):
    src = write_audio(tmp_path / "song.m4a", seconds=3.0, rate=44100, channels=2)
    info = generate(src, tmp_path / "out.mp4", tiny_checkpoint, "--start", "0.5", "--duration", "1.25")
    assert info["audio_codec"] == "aac" and info["audio_rate"] == 44100 and info["audio_channels"] == 2
    assert info["audio_seconds"] == pytest.approx(1.25, abs=1 / 44100)
    assert info["frames"] == round(1.25 * 30)
    assert packets(tmp_path / "out.mp4") != packets(src)[:len(packets(tmp_path / "out.mp4"))]


def test_the_cut_is_the_right_part_of_the_sound(tmp_path):
    """Samples [start, start + count) exactly: a ramp cut anywhere starts and ends at the ramp's values there."""
    import numpy as np

    from audio2video.io.audio_track import cut_frames
    from audio2video.io.media import audio_frames_from_array

    ramp = np.arange(10_000, dtype=np.float32).reshape(1, -1) / 10_000
    for start, count in ((0, 10_000), (1234, 5000), (4095, 1), (9000, 5000)):
        cut = np.concatenate([f.to_ndarray() for f in cut_frames(audio_frames_from_array(ramp, 16000, chunk=1024),
                                                                 16000, start, count)], axis=1)
        assert np.array_equal(cut[0], ramp[0, start:start + count]), (start, count)
