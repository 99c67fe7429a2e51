"""What a training step runs: the model, decoding a subset of frames, plus training-only heads.

The encoder and transformer always see the whole clip; the decoder - about 85% of the model's FLOPs, and
independent per frame - decodes only the chosen frames, so a step costs a fraction of a full one. An
optional linear head regresses the teacher's per-frame control signals from the transformer's features; it
is never part of the saved model (its weights travel in train_state.pt for resume).
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..data import CONTROL_NAMES
from ..errors import UserError
from ..models import VideoModel, load_model


class TrainingNet(nn.Module):
    def __init__(self, model: VideoModel, controls: bool = False):
        super().__init__()
        self.model = model
        self.head = nn.Linear(model.config.d_model, len(CONTROL_NAMES)) if controls else None

    def forward(self, audio: torch.Tensor, frames: torch.Tensor | None = None):
        """audio (B, 1, N); frames: indices (F,) of the frames to decode (all if None).
        Returns (video (B, F, 3, H, W), controls (B, T, C) or None)."""
        features = self.model.encode(audio)
        chosen = features if frames is None else features.index_select(1, frames)
        controls = self.head(features) if self.head is not None else None
        return self.model.decode(chosen), controls


def pair_frames(frames: int, pairs: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """(2 * pairs,) indices: `pairs` distinct random frames t (t < frames - 1), each followed by t + 1, so the
    temporal loss still sees frame-to-frame changes."""
    starts = torch.randperm(frames - 1, generator=generator)[:pairs]
    return torch.stack([starts, starts + 1], dim=1).reshape(-1)


def init_weights(model: VideoModel, source: str | Path) -> list[str]:
    """Copy a model directory's weights into `model` (a warm start). Parts `model` has and the source lacks
    (e.g. a new input path) keep their fresh initialisation; anything else that does not match is an error.
    Returns the names of the parameters left fresh."""
    src = load_model(source)
    if src.config.kind != model.config.kind:
        raise UserError(f"--init-from {source}: a {src.config.kind} model cannot start a {model.config.kind} run")
    state, own = src.state_dict(), model.state_dict()
    wrong = sorted(k for k in state if k in own and own[k].shape != state[k].shape)
    extra = sorted(k for k in state if k not in own)
    if wrong or extra:
        names = (wrong or extra)[:3]
        raise UserError(f"--init-from {source}: its weights do not fit this run's model.* settings "
                        f"({'wrong shape' if wrong else 'not in this model'}: {', '.join(names)})")
    result = model.load_state_dict(state, strict=False)
    return list(result.missing_keys)
