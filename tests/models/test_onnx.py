"""ONNX export and the onnxruntime backend: the same numbers as PyTorch (1e-4) for every model variant, the export
command, stale exports refused, and a clear error when onnxruntime is not installed."""
import json
import sys

import numpy as np
import pytest
import torch

from audio2video.cli import main
from audio2video.errors import CheckpointError, UserError
from audio2video.io.media import read_video_info
from audio2video.models import build_model, load_model
from conftest import tiny_config, write_audio

VARIANTS = [tiny_config(), tiny_config(input_norm="level", audio_features="logmel"), tiny_config("legacy")]


def randomised(cfg):
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.normal_(0, 0.5)
            m.running_var.uniform_(0.3, 3.0)
    dsp = getattr(model, "dsp", None)
    if dsp is not None:
        torch.nn.init.normal_(dsp.proj[2].weight, std=0.05)
    return model


@pytest.mark.parametrize("cfg", VARIANTS, ids=["hybrid", "hybrid-level-logmel", "legacy"])
def test_onnxruntime_matches_pytorch(cfg):
    pytest.importorskip("onnxruntime")
    from audio2video.pipelines.onnx_backend import OnnxEngine

    model = randomised(cfg)
    engine = OnnxEngine.from_model(model)
    torch.manual_seed(2)
    x = torch.randn(3, 1, cfg.num_samples) * 0.3  # a batch size the export never saw
    x[1] *= 0.001
    with torch.no_grad():
        ref_features = model.encode(x)
        ref = model(x)
    features = engine.features(x)
    assert (features - ref_features).abs().max() < 1e-4
    frames = engine.frames(features.reshape(-1, cfg.d_model)).reshape(ref.shape)
    assert (frames - ref).abs().max() < 1e-4
    as_uint8 = engine.frames_uint8(features[0])
    assert as_uint8.dtype == np.uint8 and as_uint8.shape == (cfg.frames, cfg.frame_size, cfg.frame_size, 3)


def test_export_command_and_onnxruntime_generate(tmp_path):
    pytest.importorskip("onnxruntime")
    model = randomised(tiny_config(input_norm="level", audio_features="logmel"))
    ckpt = model.save_pretrained(tmp_path / "ckpt")
    out = tmp_path / "exported"
    assert main(["export", str(ckpt), "-o", str(out), "--onnx"]) == 0
    assert {"encode.onnx", "decode.onnx", "onnx.json", "config.json", "model.safetensors"} <= {p.name for p in out.iterdir()}
    assert json.loads((out / "onnx.json").read_text())["opset"] >= 17
    src = write_audio(tmp_path / "in.wav", seconds=2.4, rate=22050, channels=1)
    for checkpoint in (out, ckpt):  # the export's graphs, or exported on the fly
        video = tmp_path / f"{checkpoint.name}.mp4"
        assert main(["generate", str(src), "-o", str(video), "--checkpoint", str(checkpoint), "--backend",
                     "onnxruntime", "-q"]) == 0
        assert read_video_info(video)["frames"] == 72
    assert load_model(out).config.audio_features == "logmel"  # still a plain model directory too


def test_stale_onnx_export_is_refused(tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    from audio2video.pipelines.onnx_backend import OnnxEngine

    model = randomised(tiny_config())
    out = tmp_path / "exported"
    assert main(["export", str(model.save_pretrained(tmp_path / "ckpt")), "-o", str(out), "--onnx"]) == 0
    retrained = randomised(tiny_config()).requires_grad_(False)
    retrained.seed.bias.add_(1.0)
    retrained.save_pretrained(out)  # new weights, the old graphs still beside them
    with pytest.raises(CheckpointError, match="other weights"):
        OnnxEngine.from_model(load_model(out), out)


def test_missing_onnxruntime_is_one_clear_line(tmp_path, monkeypatch, tiny_checkpoint, capsys):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now raises ImportError
    from audio2video.pipelines.onnx_backend import import_onnxruntime

    with pytest.raises(UserError, match=r"pip install 'audio2video\[onnx\]'"):
        import_onnxruntime()
    src = write_audio(tmp_path / "in.wav", seconds=1.0, rate=16000, channels=1)
    code = main(["generate", str(src), "-o", str(tmp_path / "o.mp4"), "--checkpoint", str(tiny_checkpoint),
                 "--backend", "onnxruntime", "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "onnxruntime" in err[0]
    assert not (tmp_path / "o.mp4").exists()
