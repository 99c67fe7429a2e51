"""The child process of `io.aac_ahead.AacAhead`: `python -m audio2video.io.aac_child PATH RATE CHANNELS START
COUNT` encodes samples [START, START + COUNT) of PATH's audio (COUNT -1: to the end) to AAC, as an mp4 gets it in
process (`audio_track.source_frames`, `audio_frames.EncodedAac`), and writes each packet to stdout as
`aac_ahead.HEADER` and then its payload. A failure is one line on stderr and exit code 1.
"""
from __future__ import annotations

import sys

from ..errors import MediaError
from .aac_ahead import HEADER
from .audio_frames import EncodedAac
from .audio_track import source_frames


def main(argv: list[str]) -> int:
    path, rate, channels, start, count = argv
    out = sys.stdout.buffer
    try:
        frames = source_frames(path, int(rate), int(start), None if int(count) < 0 else int(count))
        for packet in EncodedAac(frames, int(rate), int(channels)):
            out.write(HEADER.pack(packet.pts, packet.dts, packet.duration, packet.size))
            out.write(bytes(packet))
        out.flush()
    except MediaError as e:
        print(e, file=sys.stderr)
        return 1
    except BrokenPipeError:  # the parent stopped reading: its write failed or it was stopped
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
