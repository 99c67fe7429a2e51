"""Property: whatever bytes a user hands us, a command ends cleanly (issue 13, docs/reliability.md).

Real media files and config files, each corrupted at random (bytes flipped, cut short, spliced with noise,
zeroed, chunks repeated; each seed is one reproducible corruption), go through `generate`, `evaluate`, `av-align`
and checkpoint loading. The contract of tests/cli/test_hostile.py holds for every one: success, or one line on
stderr and exit 2; never a traceback or an internal error (exit 70); no temporary file left; nothing lost.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from audio2video.errors import UserError
from audio2video.models import load_model
from audio2video.training.config import load_config
from conftest import tiny_model, write_audio, write_video
from test_hostile import Case, check_contract, run_in_process, snapshot

SEEDS = range(8)


def corrupt(data: bytes, seed: int) -> bytes:
    """One or two random corruptions of `data`, the same for the same seed."""
    rng = np.random.default_rng(seed)
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 3))):
        kind = rng.integers(5)
        at = int(rng.integers(len(b))) if b else 0
        if kind == 0:  # flip bits in a few bytes
            for i in rng.integers(0, len(b), size=int(rng.integers(1, 16))):
                b[i] ^= int(rng.integers(1, 256))
        elif kind == 1:  # cut short
            del b[at:]
        elif kind == 2:  # splice in noise
            b[at:at] = rng.integers(0, 256, size=int(rng.integers(1, 512)), dtype=np.uint8).tobytes()
        elif kind == 3:  # zero a span
            end = min(len(b), at + int(rng.integers(1, 4096)))
            b[at:end] = bytes(end - at)
        else:  # repeat a chunk
            b[at:at] = b[at:at + int(rng.integers(1, 4096))]
    return bytes(b)


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    d = tmp_path_factory.mktemp("originals")
    ckpt = tiny_model().save_pretrained(d / "ckpt")
    media = [write_audio(d / "a.wav", 1.0, 16000, 1), write_audio(d / "a.mp3", 1.0), write_audio(d / "a.m4a", 1.0),
             write_audio(d / "a.ogg", 1.0), write_video(d / "a.mp4", 1.0)]
    return d, ckpt, media


def corrupted_checkpoint(tmp_path, ckpt, seed: int):
    out = tmp_path / "ckpt"
    out.mkdir()
    name = "config.json" if seed % 2 else "model.safetensors"
    for f in ("config.json", "model.safetensors"):
        data = (ckpt / f).read_bytes()
        (out / f).write_bytes(corrupt(data, seed) if f == name else data)
    return out


def run_case(tmp_path, capsys, argv, outcomes=("ok", "error")):
    """Run `argv` in-process and check the contract for whichever outcome it had (success or a clean error)."""
    before = snapshot(tmp_path)
    code, out, err, caught = run_in_process([str(x) for x in argv], capsys, Case(argv))
    after = snapshot(tmp_path)
    outcome = {0: "ok", 1: "partial", 2: "error"}.get(code, f"exit {code}")
    assert outcome in outcomes, (code, err)
    check_contract(Case(argv, outcome=outcome), code, out, err, caught, before, after)
    return code


@pytest.mark.parametrize("seed", SEEDS)
def test_generate_on_corrupted_media(seed, tmp_path, capsys, originals):
    _, ckpt, media = originals
    src = media[seed % len(media)]
    bad = tmp_path / f"in{src.suffix}"
    bad.write_bytes(corrupt(src.read_bytes(), seed))
    out = tmp_path / "out.mp4"
    if run_case(tmp_path, capsys, ["generate", bad, "-o", out, "--checkpoint", ckpt, "-q"]) == 0:
        assert out.stat().st_size > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_av_align_on_corrupted_video(seed, tmp_path, capsys, originals):
    _, _, media = originals
    bad = tmp_path / "in.mp4"
    bad.write_bytes(corrupt(media[-1].read_bytes(), seed))
    run_case(tmp_path, capsys, ["av-align", bad])


@pytest.mark.parametrize("seed", SEEDS)
def test_generate_and_loading_with_a_corrupted_checkpoint(seed, tmp_path, capsys, originals):
    _, ckpt, media = originals
    bad = corrupted_checkpoint(tmp_path, ckpt, seed)
    try:
        model = load_model(bad)
    except UserError:
        model = None  # the only way loading may fail
    if model is not None:
        with torch.no_grad():
            model(torch.zeros(1, 1, model.config.num_samples))
    run_case(tmp_path, capsys, ["generate", media[0], "-o", tmp_path / "o.mp4", "--checkpoint", bad, "-q"])


@pytest.mark.parametrize("seed", range(4))
def test_evaluate_with_corrupted_inputs(seed, tmp_path, capsys, originals):
    _, ckpt, media = originals
    if seed % 2:  # a corrupted checkpoint on the procedural held-out set
        argv = ["evaluate", "--checkpoint", corrupted_checkpoint(tmp_path, ckpt, seed), "-n", "1"]
    else:  # a corrupted video as --data
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / "v.mp4").write_bytes(corrupt(media[-1].read_bytes(), seed))
        argv = ["evaluate", "--checkpoint", ckpt, "--data", tmp_path / "data", "-n", "1"]
    run_case(tmp_path, capsys, [*argv, "-o", tmp_path / "eval", "--examples", "0", "-q"])


@pytest.mark.parametrize("seed", SEEDS)
def test_corrupted_training_configs(seed, tmp_path):
    from pathlib import Path

    source = Path(__file__).resolve().parents[2] / "configs" / "tiny.toml"
    bad = tmp_path / ("c.toml" if seed % 2 else "c.yaml")
    text = source.read_bytes()
    if bad.suffix == ".yaml":
        import yaml
        text = yaml.safe_dump(load_config(source).to_dict()).encode()
    bad.write_bytes(corrupt(text, seed))
    try:
        load_config(bad)
    except UserError as e:  # a ConfigError: one line
        assert "\n" not in str(e)
