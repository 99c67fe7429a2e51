"""Write procedural samples to disk so a person can look at them: `audio2video synth -n N -o DIR`.

Per sample k: sample_KKKK.wav (16-bit PCM), sample_KKKK.mp4 (the clip with its audio muxed in),
sample_KKKK.json (metadata: seeds, style, visualizers, music, events) and sample_KKKK.png, a contact sheet:
a strip of frames above the loudness, onset and visual-change curves on the same time axis, with the true
onsets, silences and dropouts marked, so the link between sound and picture shows at a glance.
Every file is written under a temporary name and renamed, so a failure leaves no half-written file.
"""
from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np

from .data.procedural import EngineConfig, Sample, make_sample
from .errors import UserError
from .files import atomic_write


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int) -> None:
    """Mono or (channels, samples) float audio in [-1, 1] as 16-bit PCM, atomically."""
    a = np.atleast_2d(np.asarray(audio, dtype=np.float32))
    pcm = (np.clip(a, -1.0, 1.0) * 32767.0).round().astype("<i2").T.copy()   # interleaved (samples, channels)

    def write(tmp: str):
        with wave.open(tmp, "wb") as w:
            w.setnchannels(a.shape[0])
            w.setsampwidth(2)
            w.setframerate(int(sample_rate))
            w.writeframes(pcm.tobytes())
    atomic_write(Path(path), write)


def to_uint8_frames(video: np.ndarray) -> np.ndarray:
    """(T, 3, H, W) float in [0, 1] -> (T, H, W, 3) uint8."""
    return (np.clip(video, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8).transpose(0, 2, 3, 1)


def contact_sheet(sample: Sample, path: str | Path, n_frames: int = 18) -> None:
    """A strip of frames above the loudness / onset / visual-change curves, on one time axis (PNG)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    tl, song = sample.timeline, sample.song
    T = sample.video.shape[0]
    fps = tl.fps
    duration = T / fps
    frames = to_uint8_frames(sample.video)
    picks = np.linspace(0, T - 1, min(n_frames, T)).round().astype(int)
    strip = np.concatenate([frames[i] for i in picks], axis=1)
    change = np.abs(np.diff(sample.video, axis=0)).mean(axis=(1, 2, 3))
    change = np.concatenate([[0.0], change])
    t = (np.arange(T) + 0.5) / fps

    fig = Figure(figsize=(16, 6.5), dpi=100)
    FigureCanvasAgg(fig)
    ax_img, ax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 1.3]})
    step = duration / len(picks)
    ax_img.imshow(strip, extent=(0, duration, 0, 1), aspect="auto", interpolation="nearest")
    for i, f in enumerate(picks):
        ax_img.text(i * step + 0.01, 0.96, f"{f}", color="white", fontsize=7, va="top")
    ax_img.set_yticks([])
    ax_img.set_title(f"sample {sample.meta['index']} (base seed {sample.meta['base_seed']}, {sample.meta['split']}) - "
                     f"{song.tempo:.0f} BPM {song.key} {song.scale} - style {sample.style.mode}: "
                     + ", ".join(f"{layer.visualizer}/{layer.blend}" for layer in sample.style.layers), fontsize=10)

    ax.plot(t, tl.loudness, color="tab:blue", lw=1.6, label="loudness (RMS, dB scale)")
    ax.plot(t, tl.onset, color="tab:orange", lw=1.2, label="onset strength")
    ax.plot(t, change / max(change.max(), 1e-6), color="black", lw=1.2, ls="--", label="visual change (scaled)")
    for i, o in enumerate(song.onsets):
        ax.axvline(o, color="tab:red", lw=0.6, alpha=0.5, label="true onsets" if i == 0 else None)
    for e in song.events:
        if e["type"] == "silence":
            ax.axvspan(e["start"], e["end"], color="grey", alpha=0.3, label="silence")
        else:
            ax.axvspan(e["start"], e["end"], ymin=0.93, ymax=1.0, color="tab:purple", alpha=0.5,
                       label=f"{e['part']} drops out")
    ax.set_xlim(0, duration)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("time (s)")
    ax.legend(loc="upper left", fontsize=8, ncol=4, bbox_to_anchor=(0, -0.18))
    fig.tight_layout()
    atomic_write(Path(path), lambda tmp: fig.savefig(tmp, format="png"))


def write_samples(n: int, out_dir: str | Path, seed: int = 0, config: EngineConfig | None = None,
                  split: str = "train", progress: bool = False) -> list[Path]:
    """Write samples 0..n-1 of `seed` (wav, mp4, json, png each) into out_dir; returns the mp4 paths."""
    from . import media

    if n < 1:
        raise UserError(f"the number of samples must be at least 1, not {n}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"{out}: cannot create the output directory ({e.strerror or e})") from None
    cfg = config or EngineConfig()
    written = []
    indices = range(n)
    if progress:
        from tqdm import tqdm
        indices = tqdm(indices, desc="synth", unit="sample")
    for k in indices:
        s = make_sample(seed, k, split, cfg)
        stem = out / f"sample_{k:04d}"
        write_wav(stem.with_suffix(".wav"), s.audio, cfg.spec.sample_rate)
        media.write_mp4(stem.with_suffix(".mp4"), to_uint8_frames(s.video), cfg.spec.fps, audio=s.audio,
                        sample_rate=cfg.spec.sample_rate)
        meta = dict(s.meta, files={ext: f"{stem.name}.{ext}" for ext in ("wav", "mp4", "png")})
        atomic_write(stem.with_suffix(".json"), lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=2) + "\n"))
        contact_sheet(s, stem.with_suffix(".png"))
        written.append(stem.with_suffix(".mp4"))
    return written
