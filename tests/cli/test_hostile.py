"""Hostile inputs (issue 13): the whole table, one parametrised case each, under one contract.

Every case ends cleanly: exit 0 where the input is valid, else exactly one line on stderr that names the problem,
exit 2 (1 for a batch that finished with failures), never a traceback, never exit 70 (an internal error), no
hang, no temporary file left behind, and every file that existed before the command intact (unless the case says
the command may replace it). The media are made here, with PyAV and numpy. See docs/reliability.md.
"""
from __future__ import annotations

import hashlib
import os
import resource
import signal
import subprocess
import sys
import time
import warnings
import wave
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import av
import numpy as np
import pytest
import torch

from audio2video.cli import main
from audio2video.io.media import audio_frames_from_array, read_video_info
from audio2video.models import build_model
from audio2video.training.checkpoint import save_checkpoint
from audio2video.training.config import load_config, save_config
from conftest import tiny_config, tiny_model, tone, with_pts, write_audio, write_float_wav, write_video

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "configs" / "tiny.toml"
# the smallest training run that reaches a checkpoint
MICRO = ["steps=1", "batch_size=2", "val_every=1000", "ckpt_every=1", "log_every=1", "data.val_clips=1",
         "model.layers=1", "schedule.warmup_steps=1"]


def sets(*pairs: str) -> list[str]:
    return [arg for p in pairs for arg in ("--set", p)]


# ---- media made here ------------------------------------------------------------------------------------------

def write_pcm(path: Path, channels: int, rate: int, seconds: float) -> Path:
    """16-bit PCM wav by hand (the wave module takes any channel count and rate, FFmpeg's encoders do not)."""
    n = max(1, int(rate * seconds))
    x = (np.sin(np.arange(n)[:, None] * 0.05 * (1 + np.arange(channels))) * 8000).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(x.tobytes())
    return path


def _mp3_part(path: Path, seconds: float, bit_rate: int, rate: int = 44100) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    x = (0.3 * np.sin(2 * np.pi * 440 * t) * (1 + np.sin(2 * np.pi * 0.5 * t))).astype(np.float32)
    with av.open(str(path), "w", format="mp3", options={"write_xing": "0", "id3v2_version": "0"}) as c:
        s = c.add_stream("libmp3lame", rate=rate)
        s.layout, s.bit_rate = "mono", bit_rate
        for frame in with_pts(audio_frames_from_array(x, rate, chunk=1152)):
            for packet in s.encode(frame):
                c.mux(packet)
        for packet in s.encode(None):
            c.mux(packet)
    return path.read_bytes()


def write_vbr_mp3(path: Path) -> Path:
    """A valid mp3 whose bit rate varies (32 kbps, then 320 kbps) and that has no Xing header: FFmpeg's length
    estimate from the first frame's bit rate says 27.7 s, while 9.1 s decode."""
    low = _mp3_part(path.with_suffix(".low"), 1.0, 32000)
    high = _mp3_part(path.with_suffix(".high"), 8.0, 320000)
    path.with_suffix(".low").unlink()
    path.with_suffix(".high").unlink()
    path.write_bytes(low + high)
    return path


def _ts_part(path: Path, size: int, seconds: float = 1.0, fps: int = 25) -> bytes:
    with av.open(str(path), "w", format="mpegts") as c:
        v = c.add_stream("libx264", rate=fps)
        v.width = v.height = size
        v.pix_fmt = "yuv420p"
        a = c.add_stream("aac", rate=16000)
        a.layout = "mono"
        for i in range(int(seconds * fps)):
            img = np.full((size, size, 3), (i * 37) % 255, np.uint8)
            img[: (i * 7) % size] = 255 - img[0, 0]
            for packet in v.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(packet)
        for packet in v.encode(None):
            c.mux(packet)
        for frame in with_pts(audio_frames_from_array(tone(seconds, 16000, 1), 16000, chunk=1024)):
            for packet in a.encode(frame):
                c.mux(packet)
        for packet in a.encode(None):
            c.mux(packet)
    return path.read_bytes()


def write_resolution_change_ts(path: Path) -> Path:
    """An MPEG-TS whose picture goes from 64x64 to 96x96 mid-stream (two streams back to back, as broadcast)."""
    first, second = _ts_part(path.with_suffix(".a"), 64), _ts_part(path.with_suffix(".b"), 96)
    path.with_suffix(".a").unlink()
    path.with_suffix(".b").unlink()
    path.write_bytes(first + second)
    return path


@dataclass
class Assets:
    dir: Path
    ckpt: Path
    good: Path  # 1 s, 16 kHz mono wav
    video: Path  # 1 s mp4 with audio


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> Assets:
    d = tmp_path_factory.mktemp("assets")
    ckpt = tiny_model().save_pretrained(d / "ckpt")
    good = write_audio(d / "good.wav", seconds=1.0, rate=16000, channels=1)
    video = write_video(d / "clip.mp4", seconds=1.0)
    return Assets(d, ckpt, good, video)


# ---- the contract ---------------------------------------------------------------------------------------------

@dataclass
class Case:
    argv: list
    outcome: str = "error"  # "ok" (exit 0), "error" (exit 2, one line), "partial" (exit 1: a batch with failures),
    #                         "terminated" (exit 143 after SIGTERM, one line)
    words: tuple = ()  # in the error line ("error"), or in stdout + stderr ("ok", "partial")
    may_change: tuple = ()  # files that existed and that the command may replace
    fsize: int | None = None  # run under this RLIMIT_FSIZE: every write past it fails (a stand-in for a full disk)
    terminate_when: Path | None = None  # run as a process; SIGTERM it once a file appears in this folder
    check: Callable[[], None] | None = None  # more assertions afterwards
    no_warnings: bool = False


def snapshot(folder: Path) -> dict[Path, str]:
    return {p: hashlib.sha1(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*")) if not p.is_symlink() and (p.is_file() or p.is_dir())}


@contextmanager
def watchdog(seconds: int):
    """A hang fails the test instead of hanging the suite."""
    def fire(signum, frame):
        raise TimeoutError(f"the command did not finish within {seconds} s")
    previous = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def file_size_limit(limit: int | None):
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    if limit is not None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def run_in_process(argv: list[str], capsys, case: Case) -> tuple[int, str, str, list]:
    with watchdog(120), file_size_limit(case.fsize), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for category in (DeprecationWarning, PendingDeprecationWarning, ResourceWarning):
            warnings.simplefilter("ignore", category)
        code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err, caught


def run_and_terminate(argv: list[str], folder: Path) -> tuple[int, str, str]:
    """The command as a process of its own, sent SIGTERM as soon as a (temporary) file appears in `folder`."""
    proc = subprocess.Popen([sys.executable, "-m", "audio2video.cli", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and not any(p.name.startswith(".") for p in folder.iterdir()):
        time.sleep(0.005)
    assert proc.poll() is None, "the command ended before it could be terminated: " + proc.stderr.read()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def check_contract(case: Case, code: int, out: str, err: str, caught: list, before: dict, after: dict) -> None:
    assert "Traceback" not in err, err
    assert code != 70, f"internal error: {err}"
    assert code == {"ok": 0, "partial": 1, "error": 2, "terminated": 128 + signal.SIGTERM}[case.outcome], (code, err)
    if case.outcome in ("error", "terminated"):
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        text = lines[0]
    else:
        text = out + err
    for word in case.words:
        assert word in text, text
    leftovers = [p for p in after if p not in before and any(part.startswith(".") for part in p.parts[-3:])]
    assert not leftovers, f"left behind: {leftovers}"
    for path, digest in before.items():
        if path in case.may_change:
            continue
        assert path in after, f"lost: {path}"
        assert after[path] == digest, f"changed: {path}"
    if case.outcome in ("error", "terminated"):
        new = [p for p in after if p not in before]
        assert not new, f"a failed command wrote {new}"
    if case.no_warnings:
        assert not caught, [str(w.message) for w in caught]


# ---- the table --------------------------------------------------------------------------------------------------

CASES: dict[str, Callable[[Path, Assets, pytest.MonkeyPatch], Case]] = {}


def case(name: str):
    def register(build):
        CASES[name] = build
        return build
    return register


def gen(a: Assets, src, out, *flags) -> list:
    return ["generate", *([src] if not isinstance(src, list) else src), "-o", out, "--checkpoint", a.ckpt, "-q",
            *flags]


# data loss ------------------------------------------------------------------------------------------------------

@case("generate: two inputs with the same name in different folders")
def _(d, a, mp):
    for sub in ("d1", "d2"):
        (d / sub).mkdir()
        write_pcm(d / sub / "x.wav", 1, 16000, 0.5)
    return Case(gen(a, [d / "d1" / "x.wav", d / "d2" / "x.wav"], d / "out"), words=("would both be written",),
                check=lambda: not (d / "out").exists() or pytest.fail("out/ was created"))


@case("generate: the stem_suffix fallback collides with a real stem")
def _(d, a, mp):
    src = [write_pcm(d / "a.wav", 1, 16000, 0.5), write_audio(d / "a.mp3", 0.5), write_pcm(d / "a_wav.wav", 1, 16000, 0.5)]
    return Case(gen(a, src, d / "out"), words=("a_wav.mp4", "would both be written"))


@case("generate: the same input named twice is rendered once")
def _(d, a, mp):
    return Case(gen(a, [a.good, a.good], d / "out"), outcome="ok", words=("1 generated",),
                check=lambda: [p.name for p in (d / "out").iterdir()] == ["good.mp4"] or pytest.fail("outputs"))


@case("export: into an unrelated folder holding its own config.json")
def _(d, a, mp):
    (d / "mine").mkdir()
    (d / "mine" / "config.json").write_text('{"my": "settings"}')
    return Case(["export", a.ckpt, "-o", d / "mine"], words=("not empty", "-y"))


@case("export: a checkpoint onto itself with --fp16")
def _(d, a, mp):
    run = d / "ckpt"
    build_model(tiny_config()).save_pretrained(run)
    torch.save({"step": 1}, run / "train_state.pt")
    return Case(["export", run, "-o", run, "--fp16", "-y"], words=("is the checkpoint being exported",))


@case("export: over another training checkpoint, even with -y")
def _(d, a, mp):
    (d / "other").mkdir()
    torch.save({"step": 1}, d / "other" / "train_state.pt")
    return Case(["export", a.ckpt, "-o", d / "other", "-y"], words=("training checkpoint",))


@case("export: the size it reports counts the files it wrote")
def _(d, a, mp):
    def check():
        size = sum(p.stat().st_size for p in (d / "half").iterdir()) / 1e6
        assert sorted(p.name for p in (d / "half").iterdir()) == ["config.json", "model.safetensors"]
        assert size < 1
    return Case(["export", a.ckpt, "-o", d / "half", "--fp16"], outcome="ok", words=("fp16 weights",), check=check)


@case("generate: an existing output is refused without -y")
def _(d, a, mp):
    (d / "out.mp4").write_bytes(b"an earlier render")
    return Case(gen(a, a.good, d / "out.mp4"), words=("out.mp4", "exists", "-y"))


@case("generate: -y replaces an existing output")
def _(d, a, mp):
    (d / "out.mp4").write_bytes(b"an earlier render")
    return Case(gen(a, a.good, d / "out.mp4", "-y"), outcome="ok", may_change=(d / "out.mp4",),
                check=lambda: read_video_info(d / "out.mp4")["frames"] == 30 or pytest.fail("frames"))


@case("generate: with -y, a failing run leaves the original intact")
def _(d, a, mp):
    (d / "out.mp4").write_bytes(b"an earlier render")
    x = np.zeros(16000, np.float32)
    x[100] = np.nan
    return Case(gen(a, write_float_wav(d / "nan.wav", x), d / "out.mp4", "-y"), words=("NaN",))


@case("generate: with -y, the disk fills up mid-render and the original stays intact")
def _(d, a, mp):
    (d / "o.mp4").write_bytes(b"an earlier render")  # the new file fails after it has been started, frames written
    return Case(gen(a, write_pcm(d / "in.wav", 1, 16000, 3.0), d / "o.mp4", "--size", "256", "-y"), fsize=16_000,
                words=("o.mp4", "File too large"))


@case("export: with -y, the disk fills up and the folder's own files stay intact")
def _(d, a, mp):
    (d / "out").mkdir()
    for name in ("config.json", "model.safetensors"):  # the names the export would replace
        (d / "out" / name).write_text("an earlier export")
    return Case(["export", a.ckpt, "-o", d / "out", "-y"], fsize=16_000, words=("model.safetensors", "File too large"))


@case("visualize: an existing output is refused without -y")
def _(d, a, mp):
    (d / "v.mp4").write_bytes(b"an earlier render")
    return Case(["visualize", a.good, "-o", d / "v.mp4", "--size", "32", "-q"], words=("exists",))


@case("generate: a batch whose outputs exist is refused before any work")
def _(d, a, mp):
    (d / "out").mkdir()
    (d / "out" / "good.mp4").write_bytes(b"an earlier render")
    return Case(gen(a, [a.good, a.video], d / "out"), words=("exists", "--skip-existing"))


@case("evaluate: an --out folder holding other files is refused")
def _(d, a, mp):
    (d / "notes").mkdir()
    (d / "notes" / "todo.txt").write_text("mine")
    return Case(["evaluate", "--checkpoint", a.ckpt, "-o", d / "notes", "-n", "1"], words=("not empty",))


@case("synth: an output folder holding other files is refused")
def _(d, a, mp):
    (d / "notes").mkdir()
    (d / "notes" / "sample_0000.wav").write_text("mine")
    return Case(["synth", "-n", "1", "-o", d / "notes", "-q"], words=("not empty",))


@case("demo: an output folder holding other files is refused")
def _(d, a, mp):
    (d / "notes").mkdir()
    (d / "notes" / "demo.mp4").write_text("mine")
    return Case(["demo", "-o", d / "notes", "--checkpoint", a.ckpt], words=("not empty",))


@case("train: a --run-dir holding other files is refused")
def _(d, a, mp):
    (d / "run").mkdir()
    (d / "run" / "notes.txt").write_text("mine")
    return Case(["train", "--config", TINY, "--run-dir", d / "run", "-q", *sets(*MICRO)], words=("not empty",))


# wrong answers --------------------------------------------------------------------------------------------------

@case("generate: a VBR mp3 without a Xing header is valid")
def _(d, a, mp):
    src = write_vbr_mp3(d / "vbr.mp3")
    return Case(gen(a, src, d / "vbr.mp4"), outcome="ok",
                check=lambda: read_video_info(d / "vbr.mp4")["frames"] == 273 or pytest.fail("frames"))


@case("train: a negative schedule.min_lr_ratio")
def _(d, a, mp):
    return Case(["train", "--config", TINY, "--run-dir", d / "r", "-q", *sets("schedule.min_lr_ratio=-3")],
                words=("min_lr_ratio",))


@case("av-align: a .ts whose resolution changes mid-stream")
def _(d, a, mp):
    return Case(["av-align", write_resolution_change_ts(d / "res.ts")], outcome="ok", words=("res.ts",))


@case('generate: an empty string as input (a script\'s unset "$FILE"), not the current folder')
def _(d, a, mp):
    write_pcm(d / "song.wav", 1, 16000, 0.5)
    mp.chdir(d)  # Path("") is ".": this folder's song.wav would be rendered
    return Case(gen(a, "", d / "out"), words=("INPUT", "empty string"))


@case('generate: an empty string as -o, not the current folder')
def _(d, a, mp):
    mp.chdir(d)
    return Case(gen(a, a.good, ""), words=("--output", "empty string"))


@case("generate: an output name of 255 bytes, the most a file system takes, is written")
def _(d, a, mp):
    out = d / ("x" * 251 + ".mp4")  # its temporary's name must not be longer than the limit
    return Case(gen(a, a.good, out), outcome="ok", check=lambda: out.is_file() or pytest.fail("no output"))


@case("synth: an output folder name of 255 bytes")
def _(d, a, mp):
    return Case(["synth", "-n", "1", "-o", d / ("s" * 255), "-q"], outcome="ok")


@case('export: an empty string as -o')
def _(d, a, mp):
    mp.chdir(d)
    return Case(["export", a.ckpt, "-o", "", "-y"], words=("--output", "empty string"))


# hangs and leftovers --------------------------------------------------------------------------------------------

@case("generate: a FIFO as input")
def _(d, a, mp):
    os.mkfifo(d / "pipe.wav")
    return Case(gen(a, d / "pipe.wav", d / "o.mp4"), words=("named pipe",))


@case("train: a FIFO as --config")
def _(d, a, mp):
    os.mkfifo(d / "pipe.toml")
    return Case(["train", "--config", d / "pipe.toml", "--run-dir", d / "r"], words=("named pipe",))


@case("generate: SIGTERM mid-render")
def _(d, a, mp):
    src = write_pcm(d / "long.wav", 1, 16000, 30.0)
    (d / "out").mkdir()
    return Case(gen(a, src, d / "out" / "o.mp4", "--size", "512"), outcome="terminated",
                words=("terminated by signal 15",), terminate_when=d / "out")


@case("generate: a SIGTERM that library code swallowed, then a second one")
def _(d, a, mp):
    import audio2video.pipelines.batch as B
    real = B.load_audio

    def load(*args, **kwargs):
        try:  # what a Cython module's import does to an exception raised inside it: the first stop is lost
            signal.raise_signal(signal.SIGTERM)
        except BaseException:
            pass
        signal.raise_signal(signal.SIGTERM)  # asked again, the command must stop
        return real(*args, **kwargs)
    mp.setattr(B, "load_audio", load)
    return Case(gen(a, a.good, d / "o.mp4"), outcome="terminated", words=("terminated by signal 15",))


@case("generate: a device (/dev/zero) as input")
def _(d, a, mp):
    return Case(gen(a, "/dev/zero", d / "o.mp4"), words=("not a regular file",))


@case("generate: a FIFO as output")
def _(d, a, mp):
    os.mkfifo(d / "o.mp4")
    return Case(gen(a, a.good, d / "o.mp4", "-y"), words=("named pipe",))


@case("av-align: a FIFO")
def _(d, a, mp):
    os.mkfifo(d / "v.mp4")
    return Case(["av-align", d / "v.mp4"], words=("named pipe",))


@case("generate: --size 4294967296")
def _(d, a, mp):
    return Case(gen(a, a.good, d / "o.mp4", "--size", "4294967296"), words=("--size",))


@case("generate: the encoder fails after the temporary file exists")
def _(d, a, mp):
    import audio2video.io.media as media

    def fail(self, *args):
        raise av.error.ArgumentError(22, "Invalid argument")  # what FFmpeg says to a size it cannot encode
    mp.setattr(media.Mp4Writer, "_open", fail)
    return Case(gen(a, a.good, d / "o.mp4"), words=("o.mp4", "cannot encode"))


@case("generate: the disk fills up")
def _(d, a, mp):
    return Case(gen(a, write_pcm(d / "in.wav", 1, 16000, 3.0), d / "o.mp4", "--size", "256"), fsize=16_000,
                words=("o.mp4", "File too large"))


@case("export: the disk fills up")
def _(d, a, mp):
    return Case(["export", a.ckpt, "-o", d / "out"], fsize=16_000, words=("model.safetensors", "File too large"))


@case("synth: the disk fills up")
def _(d, a, mp):
    return Case(["synth", "-n", "1", "-o", d / "s", "-q"], fsize=16_000, words=("File too large",))


@case("train: the disk fills up before the first checkpoint; the same command then runs")
def _(d, a, mp):
    argv = ["train", "--config", TINY, "--run-dir", d / "run", "-q", *sets(*MICRO)]
    return Case(argv, fsize=64_000, words=("File too large",),
                check=lambda: not (d / "run").exists() or pytest.fail("the run dir remains"))


@case("train: a run that fails before its first checkpoint leaves nothing")
def _(d, a, mp):
    (d / "music").mkdir()
    argv = ["train", "--config", TINY, "--run-dir", d / "run", "-q", *sets(*MICRO, f'data.music=["{d / "music"}"]')]

    def again():  # the same command fails the same way, not with "already holds a run"
        assert main([str(x) for x in argv]) == 2
    return Case(argv, words=("no audio files",), check=again)


for _music, _words in (("~no-such-user-here/music", ("no such user",)),
                       ("/dev/zero", ("/dev/zero", "not a regular file"))):
    case(f"train: data.music names {_music}")(lambda d, a, mp, m=_music, w=_words: Case(
        ["train", "--config", TINY, "--run-dir", d / "run", "-q", *sets(*MICRO, f'data.music=["{m}"]')], words=w))


def fake_run(run: Path, state) -> Path:
    """A run directory as `train` leaves it (config.yaml, a checkpoint), with `state` as its train_state.pt."""
    cfg = load_config(TINY, MICRO)
    run.mkdir()
    save_config(cfg, run / "config.yaml")
    save_checkpoint(run, build_model(cfg.model), state, 1, keep_last=1)
    return run


@case("train: with -y, a new run that fails puts the previous run back")
def _(d, a, mp):
    run = fake_run(d / "run", {"step": 1})
    (d / "music").mkdir()
    return Case(["train", "--config", TINY, "--run-dir", run, "-y", "-q",
                 *sets(*MICRO, f'data.music=["{d / "music"}"]')], words=("no audio files",))


# one bad file must not kill a batch -------------------------------------------------------------------------------

@case("generate: a 64-channel file and a good one in a batch")
def _(d, a, mp):
    src = [write_pcm(d / "ch64.wav", 64, 16000, 0.5), a.good]
    return Case(gen(a, src, d / "out"), outcome="ok", words=("2 generated",))


@case("generate: an unexpected failure on one input of a batch")
def _(d, a, mp):
    import audio2video.pipelines.generate as G
    real = G.generate_video

    def flaky(model, src, dst, *args, **kwargs):
        if Path(src).name == "bad.wav":
            raise RuntimeError("a bug")
        return real(model, src, dst, *args, **kwargs)
    mp.setattr(G, "generate_video", flaky)
    src = [write_pcm(d / "bad.wav", 1, 16000, 0.5), a.good]
    return Case(gen(a, src, d / "out"), outcome="partial", words=("1 generated", "bad.wav", "RuntimeError"),
                check=lambda: (d / "out" / "good.mp4").exists() or pytest.fail("good.mp4"))


@case("av-align: one bad file among good ones")
def _(d, a, mp):
    (d / "bad.mp4").write_bytes(b"\x00" * 1000)
    return Case(["av-align", a.video, d / "bad.mp4"], outcome="partial", words=("clip.mp4", "bad.mp4", "1 failed"))


# tracebacks -------------------------------------------------------------------------------------------------------

for _key, _word in (("optim.weight_decay=-1", "weight_decay"), ("optim.betas=[]", "betas"),
                    ("optim.betas=[2, 0.999]", "betas"), ("data.val_clips=0", "val_clips"),
                    ("data.num_workers=-1", "num_workers"), ("seed=-1", "seed"), ("optim.lr=nan", "optim.lr"),
                    ("steps=1e30", "steps"), ("batch_size=1000000000", "memory"), ("model.frame_size=65536", "memory")):
    case(f"train: --set {_key}")(lambda d, a, mp, k=_key, w=_word: Case(
        ["train", "--config", TINY, "--run-dir", d / "r", "-q", *sets(k)], words=(w,)))


@case("synth: --seed -1")
def _(d, a, mp):
    return Case(["synth", "--seed", "-1", "-o", d / "s"], words=("--seed",))


for _value in ("nan", "inf"):
    case(f"generate: --overlap {_value}")(lambda d, a, mp, v=_value: Case(
        gen(a, a.good, d / "o.mp4", "--overlap", v), words=("--overlap", "finite")))

for _value in ("0", "-5", "nan"):
    case(f"demo: --seconds {_value}")(lambda d, a, mp, v=_value: Case(
        ["demo", "-o", d / "demo", "--checkpoint", a.ckpt, f"--seconds={v}"], words=("--seconds",)))


def edited_checkpoint(d: Path, a: Assets, text: Callable[[str], str]) -> Path:
    out = d / "edited"
    out.mkdir()
    (out / "config.json").write_text(text((a.ckpt / "config.json").read_text()))
    (out / "model.safetensors").write_bytes((a.ckpt / "model.safetensors").read_bytes())
    return out


@case('config.json: "frames": 30.0 (a whole number written as a float)')
def _(d, a, mp):
    ckpt = edited_checkpoint(d, a, lambda t: t.replace('"frames": 30', '"frames": 30.0'))
    return Case(["generate", a.good, "-o", d / "o.mp4", "--checkpoint", ckpt, "-q"], outcome="ok")


@case('config.json: "clip_seconds": Infinity')
def _(d, a, mp):
    ckpt = edited_checkpoint(d, a, lambda t: t.replace('"clip_seconds": 1.0', '"clip_seconds": Infinity'))
    return Case(["generate", a.good, "-o", d / "o.mp4", "--checkpoint", ckpt, "-q"], words=("clip_seconds", "finite"))


@case('config.json: "layers": 100000 beside small weights (minutes to build, then refused)')
def _(d, a, mp):
    ckpt = edited_checkpoint(d, a, lambda t: t.replace('"layers": 1,', '"layers": 100000,'))
    return Case(["info", "--checkpoint", ckpt], words=("does not match", "the file holds"))


@case("config.json: lists nested 100,000 deep")
def _(d, a, mp):
    ckpt = edited_checkpoint(d, a, lambda t: "[" * 100_000 + "]" * 100_000)
    return Case(["info", "--checkpoint", ckpt], words=("config.json", "nested too deeply"))


@case("train --config: a YAML list nested 50,000 deep")
def _(d, a, mp):
    cfg = d / "deep.yaml"
    cfg.write_text("steps: " + "[" * 50_000 + "]" * 50_000 + "\n")
    return Case(["train", "--config", cfg, "--run-dir", d / "run"], words=("deep.yaml", "nested too deeply"))


@case('config.json: "frame_size": 65536 (275 GB from a 600-byte file)')
def _(d, a, mp):
    ckpt = edited_checkpoint(d, a, lambda t: t.replace('"frame_size": 32', '"frame_size": 65536'))
    return Case(["info", "--checkpoint", ckpt], words=("config.json", "needs at least", "GB of memory"))


def onnx_checkpoint(d: Path, a: Assets, graph: Callable[[Path], None]) -> Path:
    """A copy of the tiny checkpoint with its ONNX export (`export --onnx`), then `graph(out)` done to it."""
    pytest.importorskip("onnxruntime")
    from audio2video.models import load_model
    from audio2video.models.onnx import save_onnx

    out = edited_checkpoint(d, a, lambda t: t)
    save_onnx(load_model(out), out)
    graph(out)
    return out


@case("generate --backend onnxruntime: a truncated encode.onnx")
def _(d, a, mp):
    def cut(out):
        (out / "encode.onnx").write_bytes((out / "encode.onnx").read_bytes()[:3000])
    ckpt = onnx_checkpoint(d, a, cut)
    return Case(["generate", a.good, "-o", d / "o.mp4", "--checkpoint", ckpt, "-q", "--backend", "onnxruntime"],
                words=("encode.onnx", "not a readable ONNX graph"))


@case("generate --backend onnxruntime: another model's encode.onnx")
def _(d, a, mp):
    def swap(out):
        from audio2video.models.onnx import export_graphs
        other = build_model(tiny_config(encoder_channels=(8, 16, 16, 64)))
        (out / "encode.onnx").write_bytes(export_graphs(other)["encode.onnx"])
    ckpt = onnx_checkpoint(d, a, swap)
    return Case(["generate", a.good, "-o", d / "o.mp4", "--checkpoint", ckpt, "-q", "--backend", "onnxruntime"],
                words=("encode.onnx", "config.json implies"))


@case("generate --backend onnxruntime: another model's decode.onnx, of another frame size")
def _(d, a, mp):
    def swap(out):
        from audio2video.models.onnx import export_graphs
        other = build_model(tiny_config(frame_size=64))
        (out / "decode.onnx").write_bytes(export_graphs(other)["decode.onnx"])
    ckpt = onnx_checkpoint(d, a, swap)
    return Case(["generate", a.good, "-o", d / "o.mp4", "--checkpoint", ckpt, "-q", "--backend", "onnxruntime"],
                words=("decode.onnx", "64x64 frames", "32x32"))


for _device in ("meta", "hpu"):
    case(f"generate: --device {_device}")(lambda d, a, mp, v=_device: Case(
        gen(a, a.good, d / "o.mp4", "--device", v), words=("unknown device",)))


@case("generate: --size 100000")
def _(d, a, mp):
    return Case(gen(a, a.good, d / "o.mp4", "--size", "100000"), words=("--size",))


@case("generate: a 64-channel input is downmixed")
def _(d, a, mp):
    return Case(gen(a, write_pcm(d / "ch64.wav", 64, 16000, 0.5), d / "o.mp4"), outcome="ok",
                check=lambda: read_video_info(d / "o.mp4")["audio_channels"] == 1 or pytest.fail("channels"))


@case("generate: a 1 Hz input")
def _(d, a, mp):
    return Case(gen(a, write_pcm(d / "hz1.wav", 1, 1, 20.0), d / "o.mp4"), words=("1 Hz",))


@case("generate: a symbolic link loop as input")
def _(d, a, mp):
    os.symlink(d / "loop.wav", d / "loop.wav")
    return Case(gen(a, d / "loop.wav", d / "o.mp4"), words=("symbolic link loop",))


@case("generate: a symbolic link loop as output")
def _(d, a, mp):
    os.symlink(d / "loop.mp4", d / "loop.mp4")
    return Case(gen(a, a.good, d / "loop.mp4"), words=("symbolic link loop",))


@case("train: a --config that is not UTF-8")
def _(d, a, mp):
    (d / "c.toml").write_bytes(b"steps = 3\n# \xff\xfe\n")
    return Case(["train", "--config", d / "c.toml", "--run-dir", d / "r"], words=("UTF-8",))


@case("train: a train_state.pt holding something else")
def _(d, a, mp):
    run = fake_run(d / "run", [1, 2, 3])
    return Case(["train", "--config", TINY, "--run-dir", run, "--resume", "-q", *sets(*MICRO, "steps=2")],
                words=("train_state.pt", "not a training state"))


@case("train: a train_state.pt whose optimizer does not fit")
def _(d, a, mp):
    run = fake_run(d / "run", {"step": 1, "optimizer": {"state": {}, "param_groups": []}, "scheduler": {}})
    return Case(["train", "--config", TINY, "--run-dir", run, "--resume", "-q", *sets(*MICRO, "steps=2")],
                words=("train_state.pt", "does not fit"))


@case("train: --run-dir is a file")
def _(d, a, mp):
    (d / "file").write_text("x")
    return Case(["train", "--config", TINY, "--run-dir", d / "file", "-q", *sets(*MICRO)], words=("a file",))


@case("train: a --run-dir where nothing can be written")
def _(d, a, mp):
    return Case(["train", "--config", TINY, "--run-dir", "/proc/audio2video-run", "-q", *sets(*MICRO)],
                words=("cannot create",))


@case("visualize: --size 100000")
def _(d, a, mp):
    return Case(["visualize", a.good, "-o", d / "v.mp4", "--size", "100000"], words=("--size",))


@case("evaluate: --seconds inf")
def _(d, a, mp):
    return Case(["evaluate", "--checkpoint", a.ckpt, "-o", d / "e", "--seconds", "inf"], words=("--seconds",))


@case("export: to a place that cannot be written")
def _(d, a, mp):
    return Case(["export", a.ckpt, "-o", "/proc/audio2video-export"], words=("cannot write",))


@case("export: OUT is an existing file")
def _(d, a, mp):
    (d / "file").write_text("x")
    return Case(["export", a.ckpt, "-o", d / "file"], words=("not a folder",))


# cosmetic ---------------------------------------------------------------------------------------------------------

@case("generate: a newline in the input's name")
def _(d, a, mp):
    (d / "two\nlines.mp3").write_text("not audio")
    return Case(gen(a, d / "two\nlines.mp3", d / "o.mp4"), words=("two\\nlines.mp3",))


@case("generate: a file name that is not UTF-8")
def _(d, a, mp):
    name = os.fsdecode(b"caf\xe9.wav")
    write_pcm(d / name, 1, 16000, 0.5)
    return Case(gen(a, d / name, d / "o.mp4"), outcome="ok")


@case("generate: a file whose tags are not valid UTF-8")
def _(d, a, mp):
    path = d / "tagged.m4a"
    with av.open(str(path), "w", format="mp4") as c:
        c.metadata["title"] = "PLACEHOLDER"
        s = c.add_stream("aac", rate=16000)
        s.layout = "mono"
        for frame in with_pts(audio_frames_from_array(tone(1.0, 16000, 1), 16000, chunk=1024)):
            for packet in s.encode(frame):
                c.mux(packet)
        for packet in s.encode(None):
            c.mux(packet)
    path.write_bytes(path.read_bytes().replace(b"PLACEHOLDER", b"\xd1\xffACEHOLDER"))
    return Case(gen(a, path, d / "o.mp4"), outcome="ok")


@case("av-align: very short audio (no librosa n_fft warning)")
def _(d, a, mp):
    short = write_video(d / "short.mp4", seconds=0.08)
    return Case(["av-align", short], outcome="ok", no_warnings=True)


@case("generate: a NaN's position is reported to the sample")
def _(d, a, mp):
    x = np.zeros(32000, np.float32)
    x[20001] = np.nan
    return Case(gen(a, write_float_wav(d / "nan.wav", x), d / "o.mp4"), words=("1.2501 s", "sample 20001"))


for _level in (1e8, 1e12):  # FFmpeg's AAC encoder stalls on the first and refuses the second
    @case(f"generate: float samples at {_level:g}, far past full scale")
    def _(d, a, mp, level=_level):
        out = d / "o.mp4"

        def check():
            info = read_video_info(out)
            assert info["audio_codec"] == "aac" and info["audio_seconds"] == pytest.approx(2.0, abs=1e-3)
        x = (np.sin(np.arange(32000) * 0.05) * level).astype(np.float32)
        return Case(gen(a, write_float_wav(d / "loud.wav", x), out), outcome="ok", check=check)


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input(name, tmp_path, assets, capsys, monkeypatch):
    c = CASES[name](tmp_path, assets, monkeypatch)
    argv = [str(x) for x in c.argv]
    before = {**snapshot(tmp_path), **snapshot(assets.dir)}
    if c.terminate_when is not None:
        code, out, err = run_and_terminate(argv, c.terminate_when)
        caught = []
    else:
        code, out, err, caught = run_in_process(argv, capsys, c)
    after = {**snapshot(tmp_path), **snapshot(assets.dir)}
    check_contract(c, code, out, err, caught, before, after)
    if c.check is not None:
        c.check()


def test_debug_shows_the_traceback_and_keeps_the_exit_code(tmp_path, assets, capsys, monkeypatch):
    import audio2video.models as M

    def broken(*args, **kwargs):
        raise KeyError("a bug")
    monkeypatch.setattr(M, "load_model", broken)
    argv = [str(x) for x in gen(assets, assets.good, tmp_path / "o.mp4")]
    assert main(argv) == 70
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error: KeyError" in err and "--debug" in err
    assert main(["--debug", *argv]) == 70
    assert "Traceback" in capsys.readouterr().err
    monkeypatch.setenv("AUDIO2VIDEO_DEBUG", "1")
    assert main(argv) == 70
    assert "Traceback" in capsys.readouterr().err


def test_the_torchrun_entry_point_keeps_the_contract(tmp_path):
    """`python -m audio2video.train`, what torchrun launches, answers as `audio2video train` does: a usage error in
    one line, and a --run-dir whose name is not UTF-8 printed with escapes when stdout is strict (it was exit 70)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONIOENCODING": "utf-8"}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "audio2video.train", *args], capture_output=True, text=True,
                              env=env, timeout=300)
    proc = run("--config")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    proc = run("--config", str(TINY), "--run-dir", os.fsencode(tmp_path) + b"/caf\xe9", "-q", *sets(*MICRO))
    assert proc.returncode == 0, proc.stderr
    assert "caf\\udce9" in proc.stdout
