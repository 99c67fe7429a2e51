"""`python -m audio2video.train ...`: the training command as a module, for torchrun (see cli/train.py)."""
import sys

from .cli.train import main

if __name__ == "__main__":
    sys.exit(main())
