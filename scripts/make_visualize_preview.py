"""The README's picture of `audio2video visualize`: a strip of frames drawn from a procedural track.

    python scripts/make_visualize_preview.py [OUT.png]      (default docs/images/visualize_strip.png)

The track is procedural (four songs of the engine joined), so the picture can be regenerated anywhere and
changes when the visualizers do. Frames are drawn natively at 160 px, as `visualize --size 160` would.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from audio2video.data import ClipSpec, generate_music
from audio2video.data.song import render_range, song_features
from audio2video.data.style import audio_style


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/images/visualize_strip.png")
    spec = ClipSpec(height=160, width=160)
    audio = np.concatenate([generate_music(seed, ClipSpec()).waveform for seed in (3, 8, 21, 40)])
    tl = song_features(audio, spec)
    picks = [12, 14, 16, 110, 112, 114, 200, 202, 204, 300, 302, 304]          # three frames around four moments
    frames = np.concatenate([render_range(tl, audio_style(), spec, f, f + 1) for f in picks])
    rows = [np.concatenate(list(frames[i:i + 6].transpose(0, 2, 3, 1)), axis=1) for i in (0, 6)]
    image = (np.clip(np.concatenate(rows, axis=0), 0, 1) * 255).round().astype(np.uint8)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.parent.mkdir(parents=True, exist_ok=True)
    plt.imsave(out, image)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
