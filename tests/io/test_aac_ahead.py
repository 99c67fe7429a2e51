"""A long track's AAC is encoded by a child process (`io.aac_ahead`), started before the model loads: the same
bytes as encoding in process, a failure as one line, and no child left behind when a write fails."""
from pathlib import Path

import pytest

from audio2video.cli import main
from audio2video.cli.generate import first_sound
from audio2video.errors import MediaError
from audio2video.io import audio_track
from audio2video.io.aac_ahead import AacAhead
from audio2video.io.audio_frames import EncodedAac
from audio2video.io.media import Mp4Writer, probe_audio, read_video_info
from audio2video.pipelines.batch import Job
from audio2video.pipelines.generate_options import GenerateOptions
from conftest import SAME_BYTES, assert_same_file, write_audio

LONG = audio_track.AHEAD_MIN_SECONDS + 1.5


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory) -> Path:
    return write_audio(tmp_path_factory.mktemp("ahead") / "long.wav", seconds=LONG, rate=44100, channels=2)


def test_a_long_track_goes_to_a_child_and_a_short_one_stays_in_process(long_wav, tmp_path):
    sound = audio_track.audio_for_mp4(long_wav, probe_audio(long_wav))["audio"]
    assert isinstance(sound, AacAhead)
    sound.close()
    short = write_audio(tmp_path / "short.wav", seconds=2.0)
    assert isinstance(audio_track.audio_for_mp4(short, probe_audio(short))["audio"], EncodedAac)
    # a span of a long track that is itself short is encoded in process too
    info = probe_audio(long_wav)
    assert isinstance(audio_track.audio_for_mp4(long_wav, info, 1.0, 2.0)["audio"], EncodedAac)


@pytest.mark.parametrize("span", [[], ["--start", "0.75", "--duration", str(LONG - 1)]], ids=["whole", "span"])
def test_the_child_writes_the_same_file_as_encoding_in_process(long_wav, tmp_path, tiny_checkpoint, monkeypatch,
                                                               span):
    made = []
    real = audio_track.AacAhead

    def counted(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(audio_track, "AacAhead", counted)
    args = ["generate", str(long_wav), "--checkpoint", str(tiny_checkpoint), "-q", *SAME_BYTES, *span]
    assert main([*args, "-o", str(tmp_path / "child.mp4")]) == 0
    assert len(made) == 1 and made[0]._child.returncode == 0
    monkeypatch.setattr(audio_track, "AHEAD_MIN_SECONDS", float("inf"))
    assert main([*args, "-o", str(tmp_path / "here.mp4")]) == 0
    assert len(made) == 1
    assert_same_file(tmp_path / "child.mp4", tmp_path / "here.mp4")
    seconds = LONG - 1 if span else LONG
    assert read_video_info(tmp_path / "child.mp4")["audio_seconds"] == pytest.approx(seconds, abs=1e-3)


def test_the_cli_starts_the_first_inputs_sound_before_the_model(long_wav, tmp_path):
    jobs = [Job(long_wav, tmp_path / "a.mp4")]
    early = first_sound(jobs, GenerateOptions(), skip_existing=False)
    assert isinstance(early[long_wav]["audio"], AacAhead)
    early[long_wav]["audio"].close()
    # a span is cut where the decoded length says, so it waits for the model's own decode
    assert first_sound(jobs, GenerateOptions(start=1.0), skip_existing=False) == {}
    assert first_sound([Job(tmp_path / "missing.wav", tmp_path / "b.mp4")], GenerateOptions(), False) == {}


def test_a_failing_child_is_one_line(tmp_path):
    bad = tmp_path / "gone.wav"
    sound = AacAhead(bad, 44100, 2)  # the child finds no file: its MediaError, word for word
    with pytest.raises(MediaError, match="gone.wav") as err:
        list(sound)
    assert "\n" not in str(err.value) and "Traceback" not in str(err.value)


def test_a_failed_write_stops_the_child(long_wav, tmp_path):
    sound = AacAhead(long_wav, 44100, 2)
    with pytest.raises(RuntimeError):
        with Mp4Writer(tmp_path / "out.mp4", 30, 32, 32, audio=sound):
            raise RuntimeError("the model failed")
    assert sound._child.returncode is not None, "the child is stopped and reaped"
    assert not (tmp_path / "out.mp4").exists()


def test_closing_early_lets_a_blocked_reader_finish(long_wav, monkeypatch):
    import time

    from audio2video.io import aac_ahead

    monkeypatch.setattr(aac_ahead, "MAX_QUEUED", 4)
    sound = AacAhead(long_wav, 44100, 2)
    deadline = time.monotonic() + 10
    while not sound._packets.full() and time.monotonic() < deadline:  # the reader now waits on the full queue
        time.sleep(0.01)
    assert sound._packets.full()
    sound.close()
    assert not sound._reader.is_alive(), "no thread left waiting on a queue nobody reads"
