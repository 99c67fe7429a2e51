"""The component table printed by `audio2video info`: each stage's output shape and parameters."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .modeling import VideoModel

# The spec's own approximate breakdown (hybrid only). Its decoder figure leaves out the 4.2M-parameter
# spatial seed Linear(256 -> 256*8*8), which is why the real total is larger.
SPEC_APPROX = {"encoder": "~200K", "transformer": "~2.7M", "decoder": "~1.5M", "total": "~4.4M"}


@dataclass
class Stage:
    name: str
    group: str
    shape: tuple[int, ...]
    params: int


def describe(model: VideoModel) -> list[Stage]:
    """Run one silent clip through `model` and record every stage's output shape and parameter count."""
    shapes: dict[int, tuple[int, ...]] = {}
    hooks = []
    stages = model.stages()
    for i, (_, _, modules) in enumerate(stages):
        hooks.append(modules[-1].register_forward_hook(
            lambda _m, _inp, out, i=i: shapes.__setitem__(i, tuple(out.shape))))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            device = next(model.parameters()).device
            model(torch.zeros(1, 1, model.config.num_samples, device=device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return [Stage(name, group, shapes[i], sum(p.numel() for m in modules for p in m.parameters()))
            for i, (name, group, modules) in enumerate(stages)]


def format_table(model: VideoModel) -> str:
    cfg = model.config
    stages = describe(model)
    lines = [f"{type(model).__name__} (kind {cfg.kind!r}): audio (B, 1, {cfg.num_samples}) at {cfg.sample_rate} Hz"
             f" -> video (B, {cfg.frames}, 3, {cfg.frame_size}, {cfg.frame_size}) at {cfg.fps:g} fps", ""]
    lines.append(f"{'stage':<14}{'group':<13}{'output shape (B=1)':<26}{'parameters':>12}")
    lines.append("-" * 65)
    for s in stages:
        lines.append(f"{s.name:<14}{s.group:<13}{str(s.shape):<26}{s.params:>12,}")
    lines.append("-" * 65)
    groups: dict[str, int] = {}
    for s in stages:
        groups[s.group] = groups.get(s.group, 0) + s.params
    total = sum(p.numel() for p in model.parameters())
    if total != sum(groups.values()):  # a bug in the model's stages(), not the user's input
        raise RuntimeError(f"{type(model).__name__}.stages() does not cover every parameter exactly once")
    show_spec = cfg.kind == "hybrid"
    lines.append(f"{'component':<27}{'parameters':>12}" + (f"{'spec (approx.)':>17}" if show_spec else ""))
    for group, count in list(groups.items()) + [("total", total)]:
        label = "spatial seed + decoder" if group == "decoder" and show_spec else group
        lines.append(f"{label:<27}{count:>12,}" + (f"{SPEC_APPROX[group]:>17}" if show_spec else ""))
    if show_spec:
        lines += ["", "The spec's figures are its own estimates; its decoder figure leaves out the spatial seed",
                  "Linear(256 -> 256*8*8), 4.2M parameters by itself."]
    return "\n".join(lines)
