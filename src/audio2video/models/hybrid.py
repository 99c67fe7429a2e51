"""AudioToVideoNet: CNN audio encoder -> Transformer over frames (+ residual) -> CNN frame decoder."""
from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig
from .layers import AudioEncoder, LevelNorm, LogMelPath, SinusoidalPositionalEncoding, conv_stages
from .modeling import VideoModel


class AudioToVideoNet(VideoModel):
    """The spec's hybrid model: (B, 1, 48000) -> (B, 90, 3, 128, 128), 8,236,611 parameters at the defaults."""

    kind = "hybrid"

    def __init__(self, config: ModelConfig | None = None):
        super().__init__(config or ModelConfig(kind="hybrid"))
        cfg = self.config
        d = cfg.d_model
        self.level = LevelNorm(cfg) if cfg.input_norm == "level" else None
        self.dsp = LogMelPath(cfg) if cfg.audio_features == "logmel" else None
        self.encoder = AudioEncoder(cfg, activation=nn.GELU)
        self.pos_enc = SinusoidalPositionalEncoding(d, cfg.pos_max_len)
        layer = nn.TransformerEncoderLayer(d, cfg.heads, cfg.ff_dim, cfg.dropout, activation="gelu",
                                           batch_first=True, norm_first=cfg.norm_first)
        self.transformer = nn.TransformerEncoder(layer, cfg.layers, norm=nn.LayerNorm(d),
                                                 enable_nested_tensor=False)
        s = cfg.seed_size
        self.seed = nn.Linear(d, cfg.seed_channels * s * s)
        self.decoder = _frame_decoder(cfg.seed_channels, cfg.decoder_channels)

    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, 1, samples) -> (B, frames, d_model) temporally-aware per-frame features."""
        audio = self._check_audio(audio)
        if self.level is not None:
            audio = self.level(audio)
        local = self.encoder(audio)
        if self.dsp is not None:
            local = local + self.dsp(audio)
        return self.transformer(self.pos_enc(local)) + local  # residual keeps the beats sharp

    def decode(self, features: torch.Tensor) -> torch.Tensor:
        """(B, T, d_model) -> (B, T, 3, H, W). Frames are decoded independently of each other."""
        b, t, d = features.shape
        s, c = self.config.seed_size, self.config.seed_channels
        seed = self.seed(features.reshape(b * t, d)).view(b * t, c, s, s)
        frames = self.decoder(seed)
        return frames.view(b, t, *frames.shape[1:])

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(audio))

    def stages(self) -> list[tuple[str, str, list[nn.Module]]]:
        return (conv_stages(self.encoder.convs, "conv", "encoder")
                + [("interpolate", "encoder", [self.encoder.to_frames])]
                + ([("logmel_path", "encoder", [self.dsp])] if self.dsp is not None else [])
                + [("pos_enc", "transformer", [self.pos_enc])]
                + [(f"layer{i + 1}", "transformer", [m]) for i, m in enumerate(self.transformer.layers)]
                + [("final_norm", "transformer", [self.transformer.norm]), ("spatial_seed", "decoder", [self.seed])]
                + conv_stages(self.decoder, "convT", "decoder"))


def _frame_decoder(seed_channels: int, widths: tuple[int, ...]) -> nn.Sequential:
    """ConvTranspose2d (k4, s2, p1) doubling the size each layer; GELU + BatchNorm after all but the last."""
    layers: list[nn.Module] = []
    in_ch = seed_channels
    for out_ch in widths:
        layers += [nn.ConvTranspose2d(in_ch, out_ch, 4, stride=2, padding=1), nn.GELU(), nn.BatchNorm2d(out_ch)]
        in_ch = out_ch
    layers += [nn.ConvTranspose2d(in_ch, 3, 4, stride=2, padding=1), nn.Sigmoid()]
    return nn.Sequential(*layers)

