"""The command line: `main` wires one module per command (cli/<command>.py), each registering its own flags."""
from .main import build_parser, entry, main

__all__ = ["build_parser", "entry", "main"]
