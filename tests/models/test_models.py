"""The spec's two models: exact sizes, shapes and intermediate lengths, configs, save/load."""
import json
import re

import pytest
import torch

from audio2video import AudioToVideoNet, AudioToVideoNetLegacy, ModelConfig, load_model
from audio2video.models import build_model
from audio2video.errors import CheckpointError
from audio2video.models.summary import describe, format_table
from conftest import tiny_config


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def test_hybrid_parameter_counts_match_the_spec_exactly():
    model = AudioToVideoNet()
    assert n_params(model) == 8_236_611
    assert n_params(model.encoder) == 176_032
    assert n_params(model.transformer) == 3_159_552
    assert n_params(model.seed) + n_params(model.decoder) == 4_901_027


def test_legacy_parameter_count_and_structure():
    model = AudioToVideoNetLegacy()
    assert n_params(model) == 51_213_728
    assert n_params(model.encoder) == 176_032
    assert not any(isinstance(m, torch.nn.TransformerEncoder) for m in model.modules())
    assert any(isinstance(m, torch.nn.ReLU) for m in model.encoder.modules())
    assert not any(isinstance(m, torch.nn.GELU) for m in model.encoder.modules())


def test_hybrid_shapes_and_intermediate_lengths():
    model = AudioToVideoNet().eval()
    stages = {s.name: s.shape for s in describe(model)}
    assert [stages[f"conv{i}"][-1] for i in range(1, 5)] == [12000, 3000, 750, 187]
    assert stages["conv4"] == (1, 256, 187)
    assert stages["interpolate"] == (1, 90, 256)
    assert stages["final_norm"] == (1, 90, 256)
    assert stages["spatial_seed"] == (90, 256 * 8 * 8)
    assert [stages[f"convT{i}"][-1] for i in range(1, 5)] == [16, 32, 64, 128]
    with torch.no_grad():
        out = model(torch.randn(2, 1, 48000) * 0.1)
    assert out.shape == (2, 90, 3, 128, 128)
    assert 0.0 <= out.min() and out.max() <= 1.0


def test_hybrid_layers_follow_the_spec():
    model = AudioToVideoNet()
    convs = [m for m in model.encoder.convs if isinstance(m, torch.nn.Conv1d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [
        (1, 32, 80, 4), (32, 64, 4, 4), (64, 128, 4, 4), (128, 256, 4, 4)]
    assert convs[0].padding == (38,)
    # each conv is followed by GELU then BatchNorm
    kinds = [type(m).__name__ for m in model.encoder.convs]
    assert kinds == ["Conv1d", "GELU", "BatchNorm1d"] * 4
    layer = model.transformer.layers[0]
    assert len(model.transformer.layers) == 4 and layer.self_attn.num_heads == 8
    assert layer.linear1.out_features == 1024 and layer.dropout.p == 0.1
    assert isinstance(model.transformer.norm, torch.nn.LayerNorm)
    dec = [type(m).__name__ for m in model.decoder]
    assert dec == ["ConvTranspose2d", "GELU", "BatchNorm2d"] * 3 + ["ConvTranspose2d", "Sigmoid"]
    assert model.pos_enc.table.shape == (256, 256)


def test_legacy_output_shape():
    model = AudioToVideoNetLegacy().eval()
    with torch.no_grad():
        out = model(torch.randn(1, 1, 48000) * 0.1)
    assert out.shape == (1, 90, 3, 128, 128)


def test_residual_connection_carries_local_features():
    """With the transformer's output zeroed, encode() still returns the encoder's features."""
    model = AudioToVideoNet(tiny_config()).eval()
    audio = torch.randn(1, 1, model.config.num_samples)
    with torch.no_grad():
        local = model.encoder(audio)
        model.transformer.forward = lambda x: torch.zeros_like(x)
        assert torch.allclose(model.encode(audio), local)


@pytest.mark.parametrize("kind", ["hybrid", "legacy"])
def test_small_configs_work(kind):
    cfg = ModelConfig(kind=kind, frames=8, frame_size=32, clip_seconds=0.5, layers=1, heads=2)
    model = (AudioToVideoNet if kind == "hybrid" else AudioToVideoNetLegacy)(cfg).eval()
    with torch.no_grad():
        out = model(torch.randn(3, 1, 8000))
    assert out.shape == (3, 8, 3, 32, 32)


def test_wrong_audio_length_is_a_clear_error():
    model = AudioToVideoNet(tiny_config())
    with pytest.raises(ValueError, match=r"expected audio of shape \(B, 1, 16000\)"):
        model(torch.zeros(1, 1, 1234))


@pytest.mark.parametrize("changes,message", [
    (dict(kind="diffusion"), "kind must be one of"),
    (dict(heads=3), "heads"),
    (dict(frame_size=40), "multiple of 16"),
    (dict(frames=300), "pos_max_len"),
    (dict(dropout=1.5), "dropout"),
])
def test_invalid_configs_are_rejected(changes, message):
    with pytest.raises(ValueError, match=message):
        ModelConfig(**changes)


def test_unknown_config_key_lists_valid_ones():
    with pytest.raises(ValueError, match="unknown model config keys.*valid keys: .*frame_size"):
        ModelConfig.from_dict({"framesize": 64})


@pytest.mark.parametrize("kind,cfg", [("hybrid", None), ("hybrid", tiny_config()), ("legacy", tiny_config("legacy"))])
def test_save_load_round_trip_is_exact(tmp_path, kind, cfg):
    torch.manual_seed(1)
    cls = AudioToVideoNet if kind == "hybrid" else AudioToVideoNetLegacy
    model = cls(cfg)
    # make BatchNorm running statistics non-trivial so they are part of what must round-trip
    model.train()
    with torch.no_grad():
        model(torch.randn(2, 1, model.config.num_samples))
    model.eval()
    model.save_pretrained(tmp_path / "ckpt")
    meta = json.loads((tmp_path / "ckpt" / "config.json").read_text())
    assert meta["model_type"] == kind
    loaded = load_model(tmp_path / "ckpt")
    assert type(loaded) is cls and not loaded.training
    assert loaded.config == model.config
    audio = torch.randn(2, 1, model.config.num_samples)
    with torch.no_grad():
        assert torch.equal(model(audio), loaded(audio))
    assert cls.from_pretrained(tmp_path / "ckpt").config == model.config


def test_from_pretrained_refuses_the_other_kind(tmp_path):
    AudioToVideoNetLegacy(tiny_config("legacy")).save_pretrained(tmp_path / "legacy")
    with pytest.raises(CheckpointError, match="holds a 'legacy' model"):
        AudioToVideoNet.from_pretrained(tmp_path / "legacy")


def test_fp16_weights_load_as_fp32(tmp_path):
    from audio2video.models import save_pretrained

    model = AudioToVideoNet(tiny_config()).eval()
    save_pretrained(model, tmp_path / "half", dtype=torch.float16)
    loaded = load_model(tmp_path / "half")
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    audio = torch.randn(1, 1, model.config.num_samples)
    with torch.no_grad():
        assert torch.allclose(model(audio), loaded(audio), atol=2e-3)


def test_checkpoint_errors(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(tmp_path / "nowhere")
    AudioToVideoNet(tiny_config()).save_pretrained(tmp_path / "ok")
    (tmp_path / "ok" / "model.safetensors").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(CheckpointError, match="corrupt or unreadable weights"):
        load_model(tmp_path / "ok")
    AudioToVideoNet(tiny_config()).save_pretrained(tmp_path / "bad-json")
    (tmp_path / "bad-json" / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_model(tmp_path / "bad-json")
    AudioToVideoNet(tiny_config()).save_pretrained(tmp_path / "mismatch")
    meta = json.loads((tmp_path / "mismatch" / "config.json").read_text())
    # a config needing more weights than the file holds is refused before the model is built; else by shapes
    for ff_dim, detail in ((128, "the file holds 23,026"), (32, "wrong shape")):
        meta["config"]["ff_dim"] = ff_dim
        (tmp_path / "mismatch" / "config.json").write_text(json.dumps(meta))
        with pytest.raises(CheckpointError, match=f"does not match model.safetensors.*{detail}"):
            load_model(tmp_path / "mismatch")


def test_weights_that_are_not_finite_are_refused_and_huge_finite_ones_load(tiny_checkpoint):
    from safetensors.torch import load_file, save_file

    path = tiny_checkpoint / "model.safetensors"
    clean = load_file(str(path))
    name = next(k for k, v in clean.items() if v.is_floating_point() and v.numel() > 4)
    for bad in (float("nan"), float("inf"), float("-inf")):
        state = dict(clean)
        state[name] = clean[name].clone().view(-1).index_fill_(0, torch.tensor([3]), bad).view_as(clean[name])
        save_file(state, str(path))
        with pytest.raises(CheckpointError, match=re.escape(f"tensor {name} holds NaN or Inf")):
            load_model(tiny_checkpoint)
    # finite numbers whose sum overflows float32 are still finite weights
    state = dict(clean)
    state[name] = torch.full_like(clean[name], 3e38)
    save_file(state, str(path))
    assert torch.equal(load_model(tiny_checkpoint).state_dict()[name], state[name])


def test_info_table_lists_every_stage_and_the_spec_figures():
    table = format_table(AudioToVideoNet())
    for text in ("conv1", "(1, 32, 12000)", "(1, 256, 187)", "layer4", "(90, 3, 128, 128)", "8,236,611", "~4.4M",
                 "3,159,552", "~2.7M", "176,032", "~200K", "4,901,027", "~1.5M"):
        assert text in table


def test_export_to_fp16_keeps_the_model(tmp_path, tiny_checkpoint):
    from audio2video.cli import main

    assert main(["export", str(tiny_checkpoint), str(tmp_path / "half"), "--fp16"]) == 0
    a, b = load_model(tiny_checkpoint), load_model(tmp_path / "half")
    assert (tmp_path / "half" / "model.safetensors").stat().st_size < (tiny_checkpoint / "model.safetensors").stat().st_size
    audio = torch.randn(1, 1, a.config.num_samples)
    with torch.no_grad():
        assert torch.allclose(a(audio), b(audio), atol=5e-3)


@pytest.mark.parametrize("kind", ["hybrid", "legacy"])
@pytest.mark.parametrize("changes", [{}, dict(audio_features="logmel", input_norm="level"), "tiny"])
def test_least_weights_is_a_close_lower_bound(kind, changes):
    """build_model refuses configs whose least_weights (computed from the sizes, nothing built) cannot fit in memory:
    it must never exceed the real count, and must stay close to it."""
    from conftest import tiny_config

    cfg = tiny_config(kind) if changes == "tiny" else ModelConfig(kind=kind, **changes)
    model = build_model(cfg)
    real = sum(t.numel() for t in [*model.parameters(), *model.buffers()])
    assert 0.95 * real <= cfg.least_weights() <= real
    saved = sum(t.numel() for t in model.state_dict().values())  # what model.safetensors holds
    assert 0.95 * saved <= cfg.least_weights(saved=True) <= saved


def test_a_config_too_big_for_memory_is_refused_without_building_it():
    with pytest.raises(ValueError, match="needs at least .* of memory"):
        build_model(ModelConfig(frame_size=65536))
