"""The user's own music as training data: 3 s windows of real audio files, drawn by the same visualizers.

    lib = MusicLibrary(["~/Music", "song.flac"])                  # files and folders (searched recursively)
    s = music_sample(lib, base_seed=0, k=17)                      # audio (1, 48000), video (90, 3, 128, 128)
    v = music_sample(lib, base_seed=0, k=3, split="heldout")      # windows of held-out files only

Every file is decoded once to 16 kHz mono (any format FFmpeg reads) and its whole-song feature timeline is
computed once (in pieces, exactly: see `song.py`); both are cached on disk (`cache_dir`, default
~/.cache/audio2video/music) keyed by the file's path, size and modification time, and memory-mapped, so
loading never starves training however large the library. Files are split into train and held-out by file
(a stable hash of the file name: the same file is always on the same side). Sample k is a pure function of
(base_seed, k, split): its RNG picks a file (weighted by length) and a window start on the 0.1 s grid, and the
window's frames are rendered from the song's timeline with its context, so they are exactly the frames the
whole song would show there (no seam, no edge effects).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..io.files import AUDIO_SUFFIXES, file_problem
from .clip import ClipSpec
from .controls import control_signals
from .features import FeatureTimeline
from .procedural import SPLITS, sample_rng
from .song import render_range, song_features
from .style import audio_style
from .visualizers.base import RENDER_CONTEXT

HELDOUT_PERCENT = 10


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "audio2video" / "music"


def find_audio_files(paths: list[str | Path]) -> list[Path]:
    """Audio files among `paths` (files as given, folders searched recursively), sorted, without repeats."""
    found: set[Path] = set()
    for item in paths:
        try:
            p = Path(item).expanduser()
        except RuntimeError:  # ~user of a user this machine does not know
            raise UserError(f"{item}: no such user's home folder (data.music)") from None
        if p.is_dir():
            found.update(f.resolve() for f in p.rglob("*")
                         if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in AUDIO_SUFFIXES)
        elif p.is_file():
            found.add(p.resolve())
        else:
            problem = file_problem(p)
            raise UserError(f"{p}: {'no such file or folder' if problem in (None, 'no such file') else problem} "
                            "(data.music)")
    return sorted(found)


def split_of(path: Path) -> str:
    """"heldout" for about HELDOUT_PERCENT % of files, by a stable hash of the file name; else "train"."""
    h = int(hashlib.sha1(path.name.encode()).hexdigest()[:8], 16)
    return "heldout" if h % 100 < HELDOUT_PERCENT else "train"


@dataclass
class Track:
    path: Path
    audio: np.ndarray            # (n,) float32 at 16 kHz, memory-mapped
    timeline: FeatureTimeline


class MusicLibrary:
    """Decoded, analysed audio files, split into train and held-out by file."""

    def __init__(self, paths: list[str | Path], spec: ClipSpec | None = None, cache_dir: str | Path | None = None,
                 log=None):
        self.spec = spec or ClipSpec()
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        files = find_audio_files(paths)
        if not files:
            raise UserError(f"no audio files found in {', '.join(map(str, paths))} (data.music)")
        self.tracks: dict[str, list[Track]] = {s: [] for s in SPLITS}
        self.skipped: list[tuple[Path, str]] = []
        short = 0
        for f in files:
            try:
                track = self._load(f)
            except UserError as e:
                self.skipped.append((f, str(e)))
                if log:
                    log(f"skipped: {e}")
                continue
            if track is None or len(track.audio) < self.spec.num_samples:
                short += 1                               # sound effects beside the music: nothing to draw from
                self.skipped.append((f, f"shorter than one {self.spec.duration:g} s clip"))
            else:
                self.tracks[split_of(f)].append(track)
        if short and log:
            log(f"skipped {short} file(s) shorter than one {self.spec.duration:g} s clip")
        if not self.tracks["train"]:
            raise UserError("no usable audio file (at least one clip long) on the training side of data.music")

    def _key(self, path: Path) -> str:
        st = path.stat()
        spec = self.spec
        ident = f"{path}|{st.st_size}|{st.st_mtime_ns}|{spec.sample_rate}|{spec.fps}|v1"
        return hashlib.sha1(ident.encode()).hexdigest()[:20]

    def _load(self, path: Path) -> Track | None:
        from ..io.files import atomic_write
        from ..io.media import load_audio     # PyAV loads only when a file must be decoded

        key = self._key(path)
        wav, feats = self.cache_dir / f"{key}.npy", self.cache_dir / f"{key}.features.npz"
        if not (wav.exists() and feats.exists()):
            audio, _ = load_audio(path, self.spec.sample_rate)
            audio = np.ascontiguousarray(audio.reshape(-1), dtype=np.float32)
            if len(audio) < self.spec.num_samples:      # nothing to draw a window from (and no timeline to analyse)
                return None
            tl = song_features(audio, self.spec)
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            arrays = {k: v for k, v in vars(tl).items() if isinstance(v, np.ndarray)}
            atomic_write(wav, lambda tmp: _save(tmp, np.save, audio))
            atomic_write(feats, lambda tmp: _save(tmp, np.savez, fps=tl.fps, tempo=tl.tempo, **arrays))
        audio = np.load(wav, mmap_mode="r")
        with np.load(feats) as z:
            fields = {k: z[k] for k in z.files}
        fields["fps"], fields["tempo"] = int(fields["fps"]), float(fields["tempo"])
        return Track(path, audio, FeatureTimeline(**fields))

    def count(self, split: str) -> int:
        return len(self.tracks[split])


def _save(path: str, save, *args, **kwargs) -> None:
    with open(path, "wb") as f:      # a file object: numpy would otherwise append its own suffix to the name
        save(f, *args, **kwargs)


@dataclass
class MusicSample:
    audio: np.ndarray            # (1, num_samples) float32
    video: np.ndarray            # (num_frames, 3, H, W) float32 in [0, 1]
    controls: np.ndarray         # (num_frames, len(CONTROL_NAMES)) float32
    path: Path
    start: float                 # seconds into the file


def music_sample(library: MusicLibrary, base_seed: int, k: int, split: str = "train") -> MusicSample:
    """Window k of the library's `split` files: a pure function of (base_seed, k, split)."""
    tracks = library.tracks[split]
    if not tracks:
        raise UserError(f"data.music has no {split} files (files are split by name, about "
                        f"{HELDOUT_PERCENT}% held out)")
    spec = library.spec
    rng = sample_rng(base_seed, k, split)
    lengths = np.array([len(t.audio) - spec.num_samples + 1 for t in tracks], dtype=np.float64)
    track = tracks[int(rng.choice(len(tracks), p=lengths / lengths.sum()))]
    step = spec.sample_rate // np.gcd(spec.sample_rate, spec.fps)          # samples per grid step (0.1 s here)
    frames_per_step = step * spec.fps // spec.sample_rate
    steps = (len(track.audio) - spec.num_samples) // step
    s = int(rng.integers(0, steps + 1))
    start, f0 = s * step, s * frames_per_step
    audio = np.array(track.audio[start:start + spec.num_samples], dtype=np.float32)[None, :]
    video = render_range(track.timeline, audio_style(), spec, f0, f0 + spec.num_frames)
    before, after = RENDER_CONTEXT
    lo, hi = max(0, f0 - before), min(track.timeline.num_frames, f0 + spec.num_frames + after)
    controls = control_signals(track.timeline.slice(lo, hi))[f0 - lo:f0 - lo + spec.num_frames]
    return MusicSample(audio, video, controls, track.path, start / spec.sample_rate)
