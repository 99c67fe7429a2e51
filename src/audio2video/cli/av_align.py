"""`audio2video av-align`: AV-Align of video files with audio, one score each and the mean."""
from __future__ import annotations

import argparse
import math
import sys

from .common import path_text


def register(sub) -> None:
    p = sub.add_parser("av-align", help="AV-Align of video files with audio: one score per file and the mean",
                       description="AV-Align (Yariv et al. 2024, the reference script's 2025-fixed variant: "
                                   "one-to-one matching of librosa onsets and optical-flow peaks within +-1/fps). "
                                   "Works on any video file with an audio track, e.g. other systems' outputs and "
                                   "ground truth. See docs/evaluation.md.")
    p.add_argument("files", nargs="+", type=path_text, metavar="FILE", help="video files with an audio track")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import one_line
    from ..evaluation.run import av_align_files
    from ..metrics import AVAlign

    scores = av_align_files(args.files)
    for path, r in scores.results.items():
        if not isinstance(r, AVAlign):
            print(f"audio2video av-align: error: {r}", file=sys.stderr)  # reported, skipped; the exit says so
            continue
        value = "undefined (no peaks)" if math.isnan(r.score) else f"{r.score:.4f}"
        print(f"{one_line(path)}\t{value}\t(audio peaks {len(r.audio_peaks)}, video peaks {len(r.video_peaks)}, "
              f"matches {r.matches})")
    mean = "undefined" if math.isnan(scores.mean) else f"{scores.mean:.4f}"
    failed = f"; {scores.failed} failed" if scores.failed else ""
    print(f"mean\t{mean}\t({len(scores.defined)} of {len(args.files)} files{failed})")
    return 1 if scores.failed else 0
