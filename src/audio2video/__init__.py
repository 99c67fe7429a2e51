"""audio2video: turn sound into video."""
__version__ = "0.1.0"
