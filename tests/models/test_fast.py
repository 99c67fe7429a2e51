"""The fast inference form of the hybrid model computes the same function as the model (1e-4), with and without
the two extensions beyond the spec, and its exact stand-ins for torch ops match those ops."""
import pytest
import torch
import torch.nn.functional as F

from audio2video.models import ModelConfig, build_model
from audio2video.models.fast import FastHybrid, _parity_weight, fused_ops_available
from audio2video.models.fast_ops import (AdaptivePool1d, BlockConv1d, LinearUpsample1d, PowerSpectrum,
                                         linear_resize_matrix)
from conftest import tiny_config

EXTENSIONS = [dict(), dict(input_norm="level"), dict(audio_features="logmel"),
              dict(input_norm="level", audio_features="logmel")]


def trained_looking(cfg: ModelConfig, seed: int = 0):
    """A model whose BatchNorms have non-trivial statistics and whose log-mel path is switched on (its last
    projection starts at zero), so every folded or rewritten op matters."""
    torch.manual_seed(seed)
    model = build_model(cfg).eval()
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.normal_(0, 0.5)
            m.running_var.uniform_(0.3, 3.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.3)
    if model.dsp is not None:
        torch.nn.init.normal_(model.dsp.proj[2].weight, std=0.05)
    return model


def loud_and_quiet_audio(cfg: ModelConfig) -> torch.Tensor:
    torch.manual_seed(1)
    x = torch.randn(3, 1, cfg.num_samples)
    x[1] *= 0.001  # a quiet mix: the level normalisation's gain limit
    x[2, :, : cfg.num_samples // 2] = 0  # silence, then sound
    return x * 0.3


@pytest.mark.parametrize("extensions", EXTENSIONS, ids=lambda e: "+".join(e.values()) or "spec")
@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("native", [False, True], ids=["exportable", "native"])
@pytest.mark.parametrize("fold", [False, True], ids=["apart", "folded"])
def test_fast_form_matches_the_model(extensions, fused, native, fold):
    cfg = tiny_config(**extensions)
    model = trained_looking(cfg)
    fast = FastHybrid.from_model(model)
    assert not fast.decoder.folded
    if fold:
        assert fast.decoder.fold_first_layer() and fast.decoder.folded
    fast.decoder.use_fused_ops(fused)
    fast.use_native_ops(native)
    x = loud_and_quiet_audio(cfg)
    with torch.no_grad():
        assert torch.allclose(fast.encode(x), model.encode(x), atol=1e-4, rtol=0)
        assert (fast(x) - model(x)).abs().max() < 1e-4


def test_fast_form_at_spec_size_with_both_extensions():
    cfg = ModelConfig(input_norm="level", audio_features="logmel")
    model = trained_looking(cfg)
    fast = FastHybrid.from_model(model)
    fast.decoder.use_fused_ops(True)
    fast.decoder.to(memory_format=torch.channels_last)
    x = loud_and_quiet_audio(cfg)[:2]
    with torch.no_grad():
        expected = model(x)
        for native in (False, True):
            fast.use_native_ops(native)
            assert (fast(x) - expected).abs().max() < 1e-4
        assert fast.decoder.fold_first_layer()  # 8.4 M multiply-adds a frame for the first layer against 37.7 M
        assert fast.decoder.fold_weight.shape == (16 * 16 * 128, 256)
        assert (fast(x) - expected).abs().max() < 1e-4


def test_the_first_layer_folds_only_where_that_saves_work():
    cheap_seed = FastHybrid.from_model(trained_looking(tiny_config(seed_channels=2)))
    assert not cheap_seed.decoder.fold_pays() and not cheap_seed.decoder.fold_first_layer()
    assert not cheap_seed.decoder.folded
    no_hidden_layer = FastHybrid.from_model(trained_looking(tiny_config(decoder_channels=(), frame_size=4)))
    assert not no_hidden_layer.decoder.fold_first_layer()


@pytest.mark.parametrize("kernel,stride,padding,length", [(80, 4, 38, 48000), (80, 4, 38, 16000), (8, 4, 0, 101),
                                                          (6, 2, 5, 37), (4, 4, 0, 64), (12, 3, 1, 50)])
def test_waveform_convolution_over_blocks_is_the_convolution(kernel, stride, padding, length):
    torch.manual_seed(0)
    conv = torch.nn.Conv1d(1, 5, kernel, stride, padding)
    blocks = BlockConv1d(conv, length)
    x = torch.randn(3, 1, length)
    with torch.no_grad():
        expected = conv(x)
        got = blocks(x)
    assert got.shape == expected.shape
    assert (got - expected).abs().max() < 1e-5


def test_only_waveform_convolutions_with_whole_blocks_run_over_blocks():
    assert BlockConv1d.suits(torch.nn.Conv1d(1, 8, 80, 4, 38))
    assert not BlockConv1d.suits(torch.nn.Conv1d(2, 8, 80, 4, 38))      # two input channels
    assert not BlockConv1d.suits(torch.nn.Conv1d(1, 8, 81, 4, 38))      # a kernel that is not whole blocks
    assert not BlockConv1d.suits(torch.nn.Conv1d(1, 8, 4, 1))           # stride 1: nothing to gain
    assert not BlockConv1d.suits(torch.nn.Conv1d(1, 8, 8, 4, 2, padding_mode="reflect"))
    assert not BlockConv1d.suits(torch.nn.Conv1d(1, 8, 8, 4, 2, dilation=2))


def test_fast_form_leaves_the_model_alone():
    model = trained_looking(tiny_config(audio_features="logmel"))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    FastHybrid.from_model(model)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    with pytest.raises(TypeError, match="hybrid"):
        FastHybrid.from_model(build_model(tiny_config("legacy")))


def test_fused_ops_are_detected():
    assert fused_ops_available() == (torch.backends.mkldnn.is_available()
                                     and hasattr(torch.ops.mkldnn, "_convolution_transpose_pointwise"))


def test_parity_convolution_is_the_transposed_convolution():
    torch.manual_seed(0)
    w, b = torch.randn(5, 3, 4, 4), torch.randn(3)
    x = torch.randn(2, 5, 6, 7)
    ref = F.conv_transpose2d(x, w, b, stride=2, padding=1)                    # (2, 3, 12, 14)
    parities = F.conv2d(x, _parity_weight(w), b.repeat(4), padding=1)        # (2, 12, 7, 8): (a, b, c)
    out = torch.zeros_like(ref)
    for a in (0, 1):
        for bb in (0, 1):
            g = (2 * a + bb) * 3
            out[:, :, a::2, bb::2] = parities[:, g:g + 3, a:a + 6, bb:bb + 7]
    assert (out - ref).abs().max() < 1e-5


def test_uint8_frames_are_to_uint8_of_the_float_frames():
    from audio2video.io.frames import to_uint8

    model = trained_looking(tiny_config(input_norm="level"))
    fast = FastHybrid.from_model(model)
    fast.decoder.use_fused_ops(True)
    features = torch.randn(37, model.config.d_model)
    with torch.no_grad():
        frames = fast.decoder(features)                                         # (N, H, W, 3) float
        ref = to_uint8(frames.permute(0, 3, 1, 2))
        assert torch.equal(fast.frames_uint8(features, conv_chunk=5), torch.from_numpy(ref))


@pytest.mark.parametrize("n_in,n_out", [(187, 90), (48000, 90), (301, 90), (7, 3), (30, 30)])
def test_gather_pooling_matches_adaptive_pooling(n_in, n_out):
    x = torch.randn(2, 3, n_in)
    assert torch.allclose(AdaptivePool1d(n_in, n_out, "avg")(x), F.adaptive_avg_pool1d(x, n_out), atol=1e-6)
    assert torch.equal(AdaptivePool1d(n_in, n_out, "max")(x), F.adaptive_max_pool1d(x, n_out))


@pytest.mark.parametrize("n_in,n_out", [(187, 90), (90, 48000), (30, 16000), (5, 3), (4, 4)])
def test_linear_resampling_matches_interpolate(n_in, n_out):
    x = torch.randn(2, 3, n_in)
    ref = F.interpolate(x, size=n_out, mode="linear", align_corners=False)
    assert (LinearUpsample1d(n_in, n_out)(x) - ref).abs().max() < 1e-5
    via_matrix = torch.matmul(linear_resize_matrix(n_in, n_out), x.transpose(1, 2)).transpose(1, 2)
    assert (via_matrix - ref).abs().max() < 1e-5


def test_dft_convolution_is_the_stft_power():
    window = torch.hann_window(400)
    x = torch.randn(2, 1, 16000) * 0.3
    spec = torch.stft(x[:, 0], 400, 160, window=window, return_complex=True)
    power = spec.real.pow(2) + spec.imag.pow(2)
    ours = PowerSpectrum(400, 160, window)(x).sum(1)
    assert ours.shape == power.shape
    assert ((ours - power).abs() / (power + 1e-2)).max() < 1e-4
