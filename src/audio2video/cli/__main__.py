"""`python -m audio2video.cli COMMAND ...`"""
from .main import entry

entry()
