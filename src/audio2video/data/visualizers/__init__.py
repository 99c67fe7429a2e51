"""The visualizers, by name. Each maps (feature timeline, parameters, frame size) to a (T, H, W) field in [0, 1]."""
from .bars import Bars
from .base import Param, Visualizer
from .grid import Grid
from .kaleido import Kaleido
from .particles import Particles
from .pulse import Pulse
from .rings import Rings
from .scope import Scope
from .texture import Texture

VISUALIZERS: dict[str, Visualizer] = {v.name: v for v in
                                      (Pulse(), Rings(), Particles(), Bars(), Scope(), Texture(), Kaleido(), Grid())}

__all__ = ["VISUALIZERS", "Param", "Visualizer"]
