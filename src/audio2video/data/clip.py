"""The sizes of one clip: sample rate, duration, frame rate and frame size.

Every part of the procedural engine takes a `ClipSpec`, so tests and small training runs can ask for
tiny clips (a dozen 32x32 frames) while the defaults are the spec's: 3 s of 16 kHz audio and 90 frames
of 128x128 video at 30 fps.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ClipSpec:
    sample_rate: int = 16000
    duration: float = 3.0
    fps: int = 30
    height: int = 128
    width: int = 128

    def __post_init__(self):
        if self.sample_rate < 2000 or self.duration <= 0 or self.fps <= 0 or self.height < 8 or self.width < 8:
            raise ValueError(f"invalid clip spec: {self}")
        if self.sample_rate // self.fps < 64:
            raise ValueError(f"sample_rate / fps must be at least 64 samples per frame: {self}")

    @property
    def num_samples(self) -> int:
        return int(round(self.duration * self.sample_rate))

    @property
    def num_frames(self) -> int:
        return int(round(self.duration * self.fps))

    @property
    def hop(self) -> float:
        """Audio samples per video frame (533.33 at the defaults: not an integer)."""
        return self.sample_rate / self.fps

    def to_dict(self) -> dict:
        return asdict(self)
