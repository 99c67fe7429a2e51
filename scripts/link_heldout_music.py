"""Link the held-out side of a music folder into one flat folder, for `audio2video evaluate --data`.

    python scripts/link_heldout_music.py data/music data/heldout [--min-seconds 20]

Training splits `data.music` into train and held-out by a stable hash of each file's name
(`audio2video.data.music_files.split_of`); this links the held-out files that are at least --min-seconds long
as DEST/<package>__<name>, so the model card's real-music figures are scored on files training never drew from.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import av

from audio2video.data.music_files import find_audio_files, split_of


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("music", type=Path)
    ap.add_argument("dest", type=Path)
    ap.add_argument("--min-seconds", type=float, default=20.0)
    args = ap.parse_args()
    args.dest.mkdir(parents=True, exist_ok=True)
    n = 0
    for f in find_audio_files([args.music]):
        if split_of(f) != "heldout":
            continue
        try:
            with av.open(str(f)) as c:
                seconds = (c.duration or 0) / 1e6
        except av.error.FFmpegError:
            continue                     # unreadable: training skips it too
        if seconds < args.min_seconds:
            continue
        link = args.dest / f"{f.relative_to(args.music).parts[0]}__{f.name}"
        if not link.exists():
            os.symlink(f.resolve(), link)
        n += 1
    print(f"{n} held-out files linked in {args.dest}")


if __name__ == "__main__":
    main()
