"""Write procedural samples to disk so a person can look at them: `audio2video synth -n N -o DIR`.

Per sample k: sample_KKKK.wav (16-bit PCM), sample_KKKK.mp4 (the clip with its audio muxed in),
sample_KKKK.json (metadata: seeds, style, visualizers, music, events) and sample_KKKK.png, a contact sheet:
a strip of frames above the loudness, onset and visual-change curves on the same time axis, with the true
onsets, silences and dropouts marked, so the link between sound and picture shows at a glance.
The samples are written into a temporary folder that becomes the output folder only when all are done, so a
failure (or Ctrl-C, or SIGTERM) leaves nothing behind; an existing, non-empty output folder needs `overwrite`.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..data.procedural import EngineConfig, Sample, make_sample
from ..errors import UserError
from ..io.files import atomic_write_text, check_output_dir, staged_dir, write_wav
from ..io.frames import SheetMarks, to_uint8, write_mp4
from ..io.frames import contact_sheet as contact_sheet_png


def contact_sheet(sample: Sample, path: str | Path, n_frames: int = 18) -> Path:
    """A strip of frames above the loudness / onset / visual-change curves, on one time axis, with the true
    onsets, silences and dropouts marked (PNG)."""
    tl, song = sample.timeline, sample.song
    T = sample.video.shape[0]
    frames = to_uint8(sample.video)
    picks = np.linspace(0, T - 1, min(n_frames, T)).round().astype(int)
    change = np.concatenate([[0.0], np.abs(np.diff(sample.video, axis=0)).mean(axis=(1, 2, 3))])
    curves = {"loudness (RMS, dB scale)": (tl.loudness, {"color": "tab:blue", "lw": 1.6}),
              "onset strength": (tl.onset, {"color": "tab:orange", "lw": 1.2}),
              "visual change (scaled)": (change / max(change.max(), 1e-6), {"color": "black", "lw": 1.2, "ls": "--"})}
    marks = SheetMarks(lines=list(song.onsets),
                       spans=[(e["start"], e["end"], "silence") for e in song.events if e["type"] == "silence"],
                       bands=[(e["start"], e["end"], f"{e['part']} drops out") for e in song.events
                              if e["type"] != "silence"])
    title = (f"sample {sample.meta['index']} (base seed {sample.meta['base_seed']}, {sample.meta['split']}) - "
             f"{song.tempo:.0f} BPM {song.key} {song.scale} - style {sample.style.mode}: "
             + ", ".join(f"{layer.visualizer}/{layer.blend}" for layer in sample.style.layers))
    return contact_sheet_png(Path(path), [frames[i] for i in picks], picks.tolist(), T / tl.fps, curves, tl.fps,
                             title, marks)


def write_samples(n: int, out_dir: str | Path, seed: int = 0, config: EngineConfig | None = None,
                  split: str = "train", progress: bool = False, overwrite: bool = False) -> list[Path]:
    """Write samples 0..n-1 of `seed` (wav, mp4, json, png each) into out_dir; returns the mp4 paths."""
    if n < 1:
        raise UserError(f"the number of samples must be at least 1, not {n}")
    if not 0 <= seed < 2 ** 64:
        raise UserError(f"the seed must be a whole number from 0 to 2**64 - 1, not {seed}")
    out = Path(out_dir)
    check_output_dir(out, overwrite)
    with staged_dir(out, overwrite) as tmp:
        _write_all(n, tmp, seed, config or EngineConfig(), split, progress)
    return [out / f"sample_{k:04d}.mp4" for k in range(n)]


def _write_all(n: int, out: Path, seed: int, cfg: EngineConfig, split: str, progress: bool) -> None:
    indices = range(n)
    if progress:
        from tqdm import tqdm
        indices = tqdm(indices, desc="synth", unit="sample")
    for k in indices:
        s = make_sample(seed, k, split, cfg)
        stem = out / f"sample_{k:04d}"
        write_wav(stem.with_suffix(".wav"), s.audio, cfg.spec.sample_rate)
        write_mp4(stem.with_suffix(".mp4"), to_uint8(s.video), cfg.spec.fps, audio=s.audio,
                        sample_rate=cfg.spec.sample_rate)
        meta = dict(s.meta, files={ext: f"{stem.name}.{ext}" for ext in ("wav", "mp4", "png")})
        atomic_write_text(stem.with_suffix(".json"), json.dumps(meta, indent=2) + "\n")
        contact_sheet(s, stem.with_suffix(".png"))
