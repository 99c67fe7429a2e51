"""Every bad input a user can hand `generate`: one line on stderr, non-zero exit, no traceback, no output file."""
import json
import os
import subprocess
import sys

import numpy as np

from conftest import write_audio, write_float_wav, write_video


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "audio2video.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def bad_inputs(tmp_path):
    """name -> (input path, expected words in the message)."""
    good = write_audio(tmp_path / "good.wav", seconds=2.0, rate=16000, channels=1)
    data = good.read_bytes()
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(data[: len(data) // 3])
    m4a = write_audio(tmp_path / "song.m4a", seconds=3.0)
    cut_m4a = tmp_path / "cut.m4a"
    cut_m4a.write_bytes(m4a.read_bytes()[:400])
    text = tmp_path / "notes.mp3"
    text.write_text("definitely not audio\n" * 100)
    empty_dir = tmp_path / "empty_dir"
    empty_dir.mkdir()
    samples = np.sin(np.linspace(0, 100, 32000)).astype(np.float32) * 0.5
    samples[20000] = np.nan
    nan_wav = write_float_wav(tmp_path / "nan.wav", samples)
    samples[20000] = np.inf
    inf_wav = write_float_wav(tmp_path / "inf.wav", samples)
    return {
        "missing": (tmp_path / "nope.mp3", "no such file"),
        "directory": (empty_dir, "folder holds no audio"),
        "non-media": (text, "not a readable media file"),
        "no-audio": (write_video(tmp_path / "silent_film.mp4", with_audio=False), "no audio stream"),
        "zero-length": (write_float_wav(tmp_path / "empty.wav", np.zeros(0, np.float32)), "holds no samples"),
        "truncated": (truncated, "truncated"),
        "cut-m4a": (cut_m4a, "m4a"),
        "nan": (nan_wav, "NaN or Inf"),
        "inf": (inf_wav, "NaN or Inf"),
    }


def assert_clean_failure(proc, *words):
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_bad_inputs(tmp_path, tiny_checkpoint):
    for name, (path, words) in bad_inputs(tmp_path).items():
        out = tmp_path / f"out-{name}.mp4"
        proc = run_cli("generate", path, "-o", out, "--checkpoint", tiny_checkpoint, "-q")
        assert_clean_failure(proc, path.name, words)
        assert not out.exists(), name
        if name in ("missing", "directory"):  # found before the model loads: no "model: ..." line first
            assert "model:" not in proc.stdout, name
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert not leftovers


def test_unwritable_output_location(tmp_path, tiny_checkpoint):
    src = write_audio(tmp_path / "in.wav", seconds=1.0, rate=16000, channels=1)
    (tmp_path / "a_file").write_text("x")
    for out in (tmp_path / "missing_dir" / "out.mp4", tmp_path / "a_file" / "out.mp4"):
        proc = run_cli("generate", src, "-o", out, "--checkpoint", tiny_checkpoint, "-q")
        assert_clean_failure(proc, "out.mp4")
        assert not out.exists()


def test_output_must_be_mp4(tmp_path, tiny_checkpoint):
    src = write_audio(tmp_path / "in.wav", seconds=1.0, rate=16000, channels=1)
    proc = run_cli("generate", src, "-o", tmp_path / "out.avi", "--checkpoint", tiny_checkpoint)
    assert_clean_failure(proc, ".mp4")


def test_bad_checkpoints(tmp_path, tiny_checkpoint):
    src = write_audio(tmp_path / "in.wav", seconds=1.0, rate=16000, channels=1)
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "config.json").write_text((tiny_checkpoint / "config.json").read_text())
    (corrupt / "model.safetensors").write_bytes(b"\x07" * 300)
    mismatched = tmp_path / "mismatched"
    mismatched.mkdir()
    meta = json.loads((tiny_checkpoint / "config.json").read_text())
    meta["config"]["seed_channels"] = 24
    (mismatched / "config.json").write_text(json.dumps(meta))
    (mismatched / "model.safetensors").write_bytes((tiny_checkpoint / "model.safetensors").read_bytes())
    cases = {tmp_path / "no_ckpt": "does not exist", corrupt: "corrupt", mismatched: "does not match"}
    for ckpt, words in cases.items():
        out = tmp_path / "out.mp4"
        proc = run_cli("generate", src, "-o", out, "--checkpoint", ckpt, "-q")
        assert_clean_failure(proc, ckpt.name, words)
        assert not out.exists()


def test_bad_flags_are_one_line(tmp_path, tiny_checkpoint):
    src = write_audio(tmp_path / "in.wav", seconds=1.0, rate=16000, channels=1)
    for flags, word in ((["--size", "33"], "--size"), (["--overlap", "5"], "--overlap"), (["--crf", "99"], "--crf"),
                        (["--preset", "warp"], "--preset"), (["--device", "tpu"], "device")):
        proc = run_cli("generate", src, "-o", tmp_path / "o.mp4", "--checkpoint", tiny_checkpoint, *flags)
        assert_clean_failure(proc, word)


def test_existing_output_is_kept_when_generation_fails(tmp_path, tiny_checkpoint):
    out = tmp_path / "precious.mp4"
    out.write_bytes(b"the user's earlier render")
    samples = np.zeros(16000, np.float32)
    samples[100] = np.nan
    proc = run_cli("generate", write_float_wav(tmp_path / "nan.wav", samples), "-o", out, "--checkpoint",
                   tiny_checkpoint)
    assert proc.returncode != 0
    assert out.read_bytes() == b"the user's earlier render"


def test_info_runs_for_both_kinds_and_checkpoints(tiny_checkpoint):
    proc = run_cli("info", "--kind", "legacy")
    assert proc.returncode == 0 and "51,213,728" in proc.stdout
    proc = run_cli("info", "--checkpoint", tiny_checkpoint)
    assert proc.returncode == 0 and "total" in proc.stdout


def test_the_quick_exit_still_flushes_and_keeps_the_code(tmp_path, capsys):
    """The console script ends without the interpreter's teardown (cli.failures.exit_now): what a command printed
    to a pipe arrives whole, atexit handlers run, and the exit code is the command's."""
    from audio2video.cli import main

    assert main(["info", "--kind", "legacy"]) == 0
    in_process = capsys.readouterr().out
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # stdout to a pipe: block-buffered
    proc = subprocess.run([sys.executable, "-m", "audio2video.cli", "info", "--kind", "legacy"], capture_output=True,
                          text=True, timeout=120, env=buffered)
    assert proc.returncode == 0 and proc.stdout == in_process and len(in_process) > 500
    marker = tmp_path / "atexit.txt"
    code = ("import atexit, pathlib, sys; from audio2video.cli import entry; "
            f"atexit.register(pathlib.Path({str(marker)!r}).write_text, 'ran'); "
            "sys.argv = ['audio2video', 'generate', '--crf', '99', 'x.wav', '-o', 'x.mp4']; entry()")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--crf" in proc.stderr and marker.read_text() == "ran"
