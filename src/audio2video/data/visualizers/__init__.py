"""The visualizers, by name. Each maps (feature timeline, parameters, frame size) to a (T, H, W) field in [0, 1]."""
from .bars import Bars
from .base import Param, Visualizer
from .bloom import Bloom
from .burst import Burst
from .grid import Grid
from .kaleido import Kaleido
from .particles import Particles
from .petals import Petals
from .pulse import Pulse
from .rings import Rings
from .scope import Scope
from .texture import Texture

VISUALIZERS: dict[str, Visualizer] = {v.name: v for v in
                                      (Pulse(), Rings(), Particles(), Bars(), Scope(), Texture(), Kaleido(), Grid(),
                                       Bloom(), Petals(), Burst())}

__all__ = ["VISUALIZERS", "Param", "Visualizer"]
