"""AudioToVideoNet rearranged for inference: the same function to float rounding (1e-4), fewer passes over memory.

`FastHybrid.from_model(model)` copies a trained hybrid model's weights into this form:
- encoder: each BatchNorm folded into the Conv1d after it (exact: those convolutions pad nothing); the first
  convolution, over the waveform, as a convolution over blocks of samples (`BlockConv1d`); the level
  normalisation, the log-mel path and the interpolation onto the frame grid as convolutions, matmuls and
  gathers (`fast_ops`), which ONNX exports and every runtime runs well, or, with `use_native_ops` (what the
  torch engine runs), torch's own STFT, pooling and interpolation, which are faster in torch;
- decoder: the seed Linear writes the seed map channels-last directly; the seed Linear and the first
  ConvTranspose2d are both linear with nothing between them, so `fold_first_layer` can make them one Linear
  from the features straight to the first layer's output (`_seed_through`: at spec size 8.4 M multiply-adds a
  frame against 37.7 M; the fold costs about 300 frames' worth once, so long inputs get it); each
  ConvTranspose2d runs with its GELU fused into it (a oneDNN post-op, on CPU) and channels-last; the last 32 -> 3
  ConvTranspose2d, the slowest layer per FLOP in eager, runs as its parity form: a ConvTranspose2d(k4, s2, p1)
  is four 2x2 convolutions, one per output pixel parity, so one 2x2 convolution to 4 x 3 channels (sigmoid
  fused) computes it with the same FLOPs, and the parities interleave into the (N, H, W, 3) frames that
  encoders want;
- the first Linear (a 16 MB weight, 33 MB folded) runs once for many frames, the convolutions on cache-sized
  chunks of them.

The decoder's BatchNorms sit after a GELU and before a transposed convolution, whose output pixels see a
different number of input taps at the borders and by parity: folding the BatchNorm's shift into that
convolution would need a bias per output position, which costs the same pass as the BatchNorm itself. They stay
a single channels-last pass each, written over the layer's output on a CPU (`_Affine.apply_`: no new tensor).
"""
from __future__ import annotations

import copy

import torch
from torch import nn
import torch.nn.functional as F

from .fast_ops import AdaptivePool1d, BlockConv1d, LinearUpsample1d, PowerSpectrum, linear_resize_matrix
from .hybrid import AudioToVideoNet
from .layers import LevelNorm, LogMelPath


def _bn_affine(bn: nn.modules.batchnorm._BatchNorm) -> tuple[torch.Tensor, torch.Tensor]:
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return scale, bn.bias - bn.running_mean * scale


def _fold_encoder(convs: nn.Sequential, num_samples: int) -> tuple[nn.ModuleList, nn.Module | None]:
    """Conv1d -> act -> BN -> Conv1d(padding 0) ...: each BN folded into the next conv. Returns the convs (with
    their activation) and the last BN, which stays (nothing follows it to fold into). A convolution over the
    waveform itself runs over blocks of samples (`BlockConv1d`)."""
    blocks = [list(convs[i:i + 3]) for i in range(0, len(convs), 3)]
    out = nn.ModuleList()
    pending = None  # (scale, shift) of the BN before this conv
    for conv, act, bn in blocks:
        if pending is None and BlockConv1d.suits(conv):
            out.append(nn.Sequential(BlockConv1d(conv, num_samples), type(act)()))
            pending = _bn_affine(bn)
            continue
        conv = _copy_conv1d(conv)
        if pending is not None:
            scale, shift = pending
            if conv.padding[0] != 0:  # a padded conv sees zeros, not the shift, at its borders: keep the BN
                out.append(_Affine(scale, shift))
            else:
                w = conv.weight
                conv.bias.copy_(conv.bias + (w * shift.view(1, -1, 1)).sum((1, 2)))
                conv.weight.copy_(w * scale.view(1, -1, 1))
        out.append(nn.Sequential(conv, type(act)()))
        pending = _bn_affine(bn)
    return out, _Affine(*pending)


def _copy_conv1d(conv: nn.Conv1d) -> nn.Conv1d:
    new = nn.Conv1d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, bias=True)
    with torch.no_grad():
        new.weight.copy_(conv.weight)
        new.bias.copy_(conv.bias if conv.bias is not None else torch.zeros(conv.out_channels))
    return new


class _Affine(nn.Module):
    """A per-channel scale and shift on (B, C, ...), run as an eval-mode batch norm of mean 0 and variance 1: the
    same numbers as the BatchNorm it replaces, through torch's vectorised (channels-last aware) kernel."""

    def __init__(self, scale: torch.Tensor, shift: torch.Tensor):
        super().__init__()
        self.register_buffer("scale", scale.detach().clone())
        self.register_buffer("shift", shift.detach().clone())
        self.register_buffer("zero", torch.zeros_like(self.scale))
        self.register_buffer("one", torch.ones_like(self.scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(x, self.zero, self.one, self.scale, self.shift, False, 0.0, 0.0)

    def apply_(self, x: torch.Tensor) -> torch.Tensor:
        """The same scale and shift written over `x` (a tensor the caller owns): no new tensor, half the memory
        traffic, about twice as fast on a CPU."""
        shape = (1, -1) + (1,) * (x.dim() - 2)
        return torch.addcmul(self.shift.view(shape), x, self.scale.view(shape), out=x)


class _FastLevelNorm(nn.Module):
    """LevelNorm with its pooling and interpolation as gathers (same numbers), for export; `native` runs the
    LevelNorm itself (torch's pooling and interpolation kernels: several times faster than the gathers in torch)."""

    def __init__(self, level: LevelNorm, num_samples: int):
        super().__init__()
        self.native = False
        self.eager = level
        self.pool = AdaptivePool1d(num_samples, level.frames, "avg")
        self.up = LinearUpsample1d(level.frames, num_samples)
        self.register_buffer("window", level.window.clone(), persistent=False)
        half = level.window.shape[-1] // 2
        self.half = half
        den = F.conv1d(torch.ones(1, 1, level.frames), level.window, padding=half)
        self.register_buffer("den", den, persistent=False)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        if self.native:
            return self.eager(audio)
        power = self.pool(audio * audio)
        num = F.conv1d(power, self.window, padding=self.half)
        db = 10 * torch.log10((num / self.den).clamp_min(1e-12))
        gain = torch.pow(10.0, (-20.0 - db).clamp(-30.0, 12.0) / 20)
        return audio * self.up(gain)


class _FastLogMel(nn.Module):
    """LogMelPath with the STFT as a DFT Conv1d (for export; `native`: torch.stft, several times faster in torch)
    and the max-pool onto frames as a gather (faster than torch's adaptive max-pool too)."""

    def __init__(self, dsp: LogMelPath, num_samples: int):
        super().__init__()
        self.native = False
        self.n_fft, self.hop = dsp.n_fft, dsp.hop
        self.register_buffer("stft_window", dsp.stft_window.clone(), persistent=False)
        self.power = PowerSpectrum(dsp.n_fft, dsp.hop, dsp.stft_window)
        self.register_buffer("fb", dsp.fb.clone(), persistent=False)
        self.proj = dsp.proj
        steps = 1 + num_samples // dsp.hop
        self.pool = AdaptivePool1d(steps, dsp.frames, "max")

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        if self.native:
            spec = torch.stft(audio[:, 0], self.n_fft, self.hop, window=self.stft_window, return_complex=True)
            power = spec.real.pow(2) + spec.imag.pow(2)
        else:
            power = self.power(audio).sum(1)                                # (B, bins, steps)
        logmel = torch.log1p(100 * torch.matmul(self.fb, power))
        previous = torch.cat([logmel[:, :, :1], logmel[:, :, :-1]], 2)
        flux = F.relu(logmel - previous)
        return self.pool(self.proj(torch.cat([logmel, flux], 1))).transpose(1, 2)


def fused_ops_available() -> bool:
    """Whether this torch has oneDNN's fused (transposed) convolution + pointwise ops (CPU)."""
    ops = getattr(torch.ops, "mkldnn", None)
    return (torch.backends.mkldnn.is_available() and ops is not None
            and hasattr(ops, "_convolution_transpose_pointwise") and hasattr(ops, "_convolution_pointwise"))


def bf16_convolutions_available() -> bool:
    """Whether oneDNN runs the fused ops in bf16 on this CPU (AVX-512 at least; fast with AMX)."""
    return fused_ops_available() and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def _parity_weight(weight: torch.Tensor) -> torch.Tensor:
    """ConvTranspose2d(k4, s2, p1) weight (Cin, Cout, 4, 4) -> Conv2d(k2) weight (4 Cout, Cin, 2, 2) over the input
    padded by 1. Output pixel (2m + a, 2q + b) reads input rows m + a - 1 + dh, dh = 0, 1, through kernel row
    (3, 1) for a = 0 and (2, 0) for a = 1 (columns alike), so output channel (2a + b) Cout + c of that conv at
    position (m + a, q + b) is output channel c at pixel (2m + a, 2q + b): the four parities of the output,
    each an exact 2x2 convolution (the FLOPs of the transposed convolution, none wasted on zero taps)."""
    cin, cout = weight.shape[:2]
    rows = {0: (3, 1), 1: (2, 0)}
    out = weight.new_zeros(2, 2, cout, cin, 2, 2)
    for a in (0, 1):
        for b in (0, 1):
            for dh, kh in enumerate(rows[a]):
                for dw, kw in enumerate(rows[b]):
                    out[a, b, :, :, dh, dw] = weight[:, :, kh, kw].t()
    return out.reshape(4 * cout, cin, 2, 2)


def _seed_through(seed_weight: torch.Tensor, seed_bias: torch.Tensor, seed_shape: tuple[int, int, int],
                  weight: torch.Tensor, bias: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The channels-last seed Linear (rows in (y, x, c) order) followed by a ConvTranspose2d(k4, s2, p1), both
    linear with nothing between them, as one Linear: (weight (2s x 2s x C', d), bias), rows in (y, x, c') order.
    The transposed convolution runs once over every feature's column of the seed weight and the seed bias, each
    as a channels-last seed map (so its output is already in (y, x, c') order), in float32 (2e-7 from a float64
    fold)."""
    s, _, c = seed_shape
    d = seed_weight.shape[1]
    weight, bias = weight.float(), bias.float()
    maps = torch.cat([seed_weight.float().t(), seed_bias.float().view(1, -1)])  # (d + 1) maps, channels-last
    maps = maps.view(d + 1, s, s, c).permute(0, 3, 1, 2)
    rows = F.conv_transpose2d(maps, weight, None, stride=2, padding=1).permute(0, 2, 3, 1).reshape(d + 1, -1)
    through = rows[d] + bias.repeat(rows.shape[1] // bias.numel())  # the seed bias's map, then the bias per c'
    # the weight as a transposed view, not copied: oneDNN's matmul reads it as fast either way (a 33 MB strided copy
    # at spec size, 0.03 s of the fold's 0.12 s on 2 cores)
    return rows[:d].t(), through


class FastDecoder(nn.Module):
    """Per-frame features (N, d) -> frames (N, H, W, 3) in [0, 1]; see the module docstring."""

    def __init__(self, model: AudioToVideoNet):
        super().__init__()
        cfg = model.config
        s, c = cfg.seed_size, cfg.seed_channels
        seed = model.seed
        # rows reordered from (c, y, x) to (y, x, c): the Linear's output is the channels-last seed map
        self.seed_weight = nn.Parameter(seed.weight.detach().view(c, s, s, -1).permute(1, 2, 0, 3).reshape(s * s * c, -1)
                                        .clone(), requires_grad=False)
        self.seed_bias = nn.Parameter(seed.bias.detach().view(c, s, s).permute(1, 2, 0).reshape(-1).clone(),
                                      requires_grad=False)
        self.seed_shape = (s, s, c)
        convts = [m for m in model.decoder if isinstance(m, nn.ConvTranspose2d)]
        bns = [m for m in model.decoder if isinstance(m, nn.BatchNorm2d)]
        self.weights = nn.ParameterList([nn.Parameter(m.weight.detach().clone(), requires_grad=False)
                                         for m in convts[:-1]])
        self.biases = nn.ParameterList([nn.Parameter(m.bias.detach().clone(), requires_grad=False)
                                        for m in convts[:-1]])
        self.norms = nn.ModuleList(_Affine(*_bn_affine(bn)) for bn in bns)
        last = convts[-1]
        self.last_weight = nn.Parameter(_parity_weight(last.weight.detach()).clone(), requires_grad=False)
        self.last_bias = nn.Parameter(last.bias.detach().repeat(4).clone(), requires_grad=False)
        self.out_channels = last.out_channels
        # oneDNN post-ops and BatchNorms in place: switched on by `use_fused_ops` (CPU, not while exporting)
        self.fused = False
        self.folded = False  # the first layer as one Linear: `fold_first_layer`

    def use_fused_ops(self, on: bool) -> None:
        self.fused = bool(on) and fused_ops_available()

    def first_layer_macs(self, folded: bool) -> int:
        """Multiply-adds a frame of the seed Linear and the first ConvTranspose2d (4 taps an output pixel), apart
        or folded into one Linear (at spec size 37.7 M against 8.4 M)."""
        s, _, c = self.seed_shape
        d, c1 = self.seed_weight.shape[1], self.weights[0].shape[1]
        if folded:
            return d * c1 * 4 * s * s
        return d * c * s * s + c * c1 * 4 * s * s * 4

    def fold_pays(self) -> bool:
        """Whether the first layer folded into one Linear takes fewer multiply-adds a frame than apart: there must
        be a layer to fold into."""
        return bool(len(self.weights)) and self.first_layer_macs(True) < self.first_layer_macs(False)

    @torch.no_grad()
    def fold_first_layer(self) -> bool:
        """Fold the seed Linear into the first ConvTranspose2d (`_seed_through`) where that pays; returns whether
        the decoder runs folded. The fold itself costs the multiply-adds of about 300 frames (17 GFLOP at spec
        size: 0.1-0.2 s on a CPU), so callers fold for long inputs only."""
        if not self.folded and self.fold_pays():
            weight, bias = _seed_through(self.seed_weight, self.seed_bias, self.seed_shape, self.weights[0],
                                         self.biases[0])
            dtype = self.seed_weight.dtype
            if dtype != weight.dtype:  # a bf16 decoder: its matmul is faster on a row-major weight (fp32 reads either)
                weight = weight.to(dtype, memory_format=torch.contiguous_format)
            self.fold_weight = nn.Parameter(weight, requires_grad=False)
            self.fold_bias = nn.Parameter(bias.to(dtype), requires_grad=False)
            self.folded = True
        return self.folded

    def _up(self, x: torch.Tensor, i: int) -> torch.Tensor:
        """Hidden layer i: ConvTranspose2d, GELU, BatchNorm (channels-last)."""
        w, b = self.weights[i], self.biases[i]
        if self.fused:
            x = torch.ops.mkldnn._convolution_transpose_pointwise(x, w, b, [1, 1], [0, 0], [2, 2], [1, 1], 1, "gelu",
                                                                  [], "none")
        else:
            x = F.gelu(F.conv_transpose2d(x, w, b, stride=2, padding=1))
        return self._norm(x, i)

    def _norm(self, x: torch.Tensor, i: int) -> torch.Tensor:
        """BatchNorm i over `x`, a layer's fresh output: in place where the ops are fused (inference on a CPU)."""
        return self.norms[i].apply_(x) if self.fused else self.norms[i](x)

    def first(self, features: torch.Tensor) -> torch.Tensor:
        """(N, d) -> (N, C, h, h) channels-last: the seed map through the first hidden layer (the seed map itself
        where there is none), as one Linear (+ GELU, BatchNorm) where folded. Run for many frames at once: the
        Linear's weight (33 MB folded, 16 MB the seed alone, at spec size) is read once for them."""
        n = features.shape[0]
        features = features.to(self.seed_weight.dtype)  # a bf16 decoder (`TorchEngine`, precision "bf16")
        if self.folded:
            if self.fused:
                x = torch.ops.mkldnn._linear_pointwise(features, self.fold_weight, self.fold_bias, "gelu", [], "none")
            else:
                x = F.gelu(F.linear(features, self.fold_weight, self.fold_bias))
            s = 2 * self.seed_shape[0]
            return self._norm(x.view(n, s, s, self.weights[0].shape[1]).permute(0, 3, 1, 2), 0)
        x = F.linear(features, self.seed_weight, self.seed_bias).view(n, *self.seed_shape).permute(0, 3, 1, 2)
        return self._up(x, 0) if len(self.weights) else x

    def parities(self, x: torch.Tensor) -> torch.Tensor:
        """`first`'s output -> (N, 4 x 3, h + 1, h + 1) channels-last, sigmoid applied: the four parities of the
        output pixels, parity (a, b) at offset (a, b) (see `_parity_weight`)."""
        for i in range(1, len(self.weights)):
            x = self._up(x, i)
        if self.fused:
            return torch.ops.mkldnn._convolution_pointwise(
                x, self.last_weight, self.last_bias, [1, 1], [1, 1], [1, 1], 1, "sigmoid", [], "")
        return torch.sigmoid(F.conv2d(x, self.last_weight, self.last_bias, padding=1))

    def assemble(self, parities: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """(N, 12, h + 1, h + 1) parities (any dtype) -> (N, 2h, 2h, 3) frames, written into `out` if given."""
        n, _, h1, w1 = parities.shape
        h, w, c = h1 - 1, w1 - 1, self.out_channels
        if out is None:
            out = parities.new_empty(n, 2 * h, 2 * w, c)
        grid = out.view(n, h, 2, w, 2, c)
        for a in (0, 1):
            for b in (0, 1):
                g = (2 * a + b) * c
                grid[:, :, a, :, b, :].copy_(parities[:, g:g + c, a:a + h, b:b + w].permute(0, 2, 3, 1))
        return out

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        p = self.parities(self.first(features))
        n, _, h1, w1 = p.shape
        h, w, c = h1 - 1, w1 - 1, self.out_channels
        planes = [p[:, (2 * a + b) * c:(2 * a + b + 1) * c, a:a + h, b:b + w] for a in (0, 1) for b in (0, 1)]
        # (N, c, h, w) x (a, b) -> (N, h, a, w, b, c): the same interleave as `assemble`, in ops ONNX exports
        return torch.stack(planes, 1).view(n, 2, 2, c, h, w).permute(0, 4, 1, 5, 2, 3).reshape(n, 2 * h, 2 * w, c)


class FastHybrid(nn.Module):
    """The fast inference form of an `AudioToVideoNet`: `encode` (B, 1, N) -> (B, T, d) per-frame features,
    `decoder` (N, d) -> (N, H, W, 3) frames, and `forward` both, as (B, T, 3, H, W) like the model."""

    def __init__(self, model: AudioToVideoNet):
        super().__init__()
        cfg = model.config
        self.config = cfg
        self.level = _FastLevelNorm(model.level, cfg.num_samples) if model.level is not None else None
        self.dsp = _FastLogMel(model.dsp, cfg.num_samples) if model.dsp is not None else None
        self.convs, self.last_norm = _fold_encoder(model.encoder.convs, cfg.num_samples)
        steps = cfg.encoder_lengths()[-1]
        self.register_buffer("to_frames", linear_resize_matrix(steps, cfg.frames), persistent=False)
        self.register_buffer("positions", model.pos_enc.table[:cfg.frames].clone(), persistent=False)
        self.transformer = model.transformer
        self.decoder = FastDecoder(model)

    def use_native_ops(self, on: bool) -> None:
        """torch's own STFT, pooling and interpolation kernels (fast in torch) instead of the exportable forms of
        `fast_ops` (what ONNX graphs hold): the same numbers to float rounding."""
        for part in (self.level, self.dsp):
            if part is not None:
                part.native = bool(on)

    @classmethod
    @torch.no_grad()
    def from_model(cls, model: AudioToVideoNet) -> "FastHybrid":
        if not isinstance(model, AudioToVideoNet):
            raise TypeError(f"the fast path is for the hybrid model, not {type(model).__name__}")
        device = next(model.parameters()).device
        # built from a float32 CPU copy (the caller's model is left as it is), then moved to the model's device
        fast = cls(copy.deepcopy(model).float().cpu().eval()).eval().to(device)
        for p in fast.parameters():
            p.requires_grad_(False)
        return fast

    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        if self.level is not None:
            audio = self.level(audio)
        x = audio
        for block in self.convs:
            x = block(x)
        local = torch.matmul(self.to_frames, self.last_norm(x).transpose(1, 2))   # (B, T, d)
        if self.dsp is not None:
            local = local + self.dsp(audio)
        return self.transformer(local + self.positions) + local

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        features = self.encode(audio)
        b, t, d = features.shape
        frames = self.decoder(features.reshape(b * t, d))
        return frames.view(b, t, *frames.shape[1:]).permute(0, 1, 4, 2, 3)

    @torch.no_grad()
    def frames_uint8(self, features: torch.Tensor, conv_chunk: int = 8) -> torch.Tensor:
        """(N, d) -> uint8 (N, H, W, 3) frames, io.frames.to_uint8's numbers (x 255, round half to even): the first
        layer's matmul for all N frames, the convolutions `conv_chunk` frames at a time (cache-sized), each chunk
        quantized before its parities are interleaved (a quarter of the bytes of float)."""
        first = self.decoder.first(features)
        size = self.config.frame_size
        out = torch.empty(len(features), size, size, 3, dtype=torch.uint8, device=features.device)
        for i in range(0, len(features), conv_chunk):
            p = self.decoder.parities(first[i:i + conv_chunk]).float()
            # a sigmoid's output x 255 lies in [0, 255]: to_uint8's clamp would change nothing
            self.decoder.assemble(p.mul_(255).round_().to(torch.uint8), out[i:i + conv_chunk])
        return out
