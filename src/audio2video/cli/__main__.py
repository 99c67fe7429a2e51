"""`python -m audio2video.cli COMMAND ...`"""
import sys

from .main import main

sys.exit(main())
