"""The README's animated preview: real `generate` output of the model that ships with the package.

    python scripts/make_readme_preview.py [OUT.webp|OUT.gif]      (default docs/images/readme_preview.webp)

Two procedural songs (6 s, the engine's seeds 21 and 8: steady beats, then a dropout to silence) are written as a
wav and rendered twice by `generate_video`, as the commands printed below would render them, at 20 fps so the
animation's 50 ms frame delay shows them at their real speed:

    left:  audio2video generate track.wav -o plain.mp4 --size 180 --fps 20
    right: audio2video generate track.wav -o shaped.mp4 --size 180 --fps 20 --aspect 16:9 --fill mirror --look neon

The two mp4s are decoded back (so the picture is what the encoder wrote) and joined side by side into one
animated WebP of about 0.3 MB (when OUT ends in .gif, a 64-colour GIF, about ten times larger). Rerun it
whenever the shipped model changes; it needs no network and takes well under a minute on a CPU.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from audio2video.data import ClipSpec, generate_music
from audio2video.io.files import atomic_write, write_wav
from audio2video.io.media import iter_video_frames
from audio2video.models import load_model
from audio2video.pipelines.generate import GenerateOptions, generate_video

SEEDS = (21, 8)
HEIGHT, FPS = 180, 20
GAP = 6  # pixels of background between the two panels
RENDERS = {"plain": {}, "shaped": {"aspect": "16:9", "fill": "mirror", "look": "neon"}}


def command(name: str) -> str:
    flags = "".join(f" --{k} {v}" for k, v in RENDERS[name].items())
    return f"audio2video generate track.wav -o {name}.mp4 --size {HEIGHT} --fps {FPS}{flags}"


def render(workdir: Path) -> list[np.ndarray]:
    track = workdir / "track.wav"
    write_wav(track, np.concatenate([generate_music(seed, ClipSpec()).waveform for seed in SEEDS]), 16000)
    model = load_model()  # the shipped model
    panels = []
    for name, shape in RENDERS.items():
        out = workdir / f"{name}.mp4"
        generate_video(model, track, out, GenerateOptions(size=HEIGHT, fps=FPS, progress=False, **shape))
        panels.append(np.stack(list(iter_video_frames(out))))
        print(command(name))
    return panels


def side_by_side(panels: list[np.ndarray]) -> np.ndarray:
    n = min(len(p) for p in panels)
    gap = np.zeros((n, HEIGHT, GAP, 3), np.uint8)
    parts = [panels[0][:n]]
    for p in panels[1:]:
        parts += [gap, p[:n]]
    return np.concatenate(parts, axis=2)


def write_animation(path: Path, frames: np.ndarray) -> None:
    """An endlessly looping animated WebP (lossy, quality 80) or, for a .gif path, a GIF with one palette for
    every frame (from a sample of them) and no dithering, so its colours do not flicker."""
    images = [Image.fromarray(f) for f in frames]
    options = dict(save_all=True, append_images=images[1:], duration=1000 // FPS, loop=0)
    if path.suffix.lower() == ".gif":
        sample = Image.fromarray(np.concatenate(list(frames[::max(1, len(frames) // 12)]), axis=0))
        palette = sample.quantize(colors=64, method=Image.Quantize.MEDIANCUT)
        images = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
        options.update(append_images=images[1:], format="GIF", optimize=True)
    else:
        options.update(format="WEBP", quality=80, method=4)
    atomic_write(path, lambda tmp: images[0].save(tmp, **options))


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/images/readme_preview.webp")
    with tempfile.TemporaryDirectory() as tmp:
        frames = side_by_side(render(Path(tmp)))
    out.parent.mkdir(parents=True, exist_ok=True)
    write_animation(out, frames)
    print(f"wrote {out} ({len(frames)} frames, {frames.shape[2]}x{frames.shape[1]}, "
          f"{out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
