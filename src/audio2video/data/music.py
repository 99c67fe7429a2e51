"""Seeded procedural music with ground truth.

A song is a few bars on a 16th-note grid: a sine bass, a saw or square lead with ADSR envelopes, synthesised
drums (kick, snare, hi-hat) and an optional pad. Two kinds of arrangement event make the link between sound
and picture auditable: a whole part dropping out for a few beats and coming back, and a full-silence segment.
Every note start, every part's activity and every event is returned with the waveform, so tests can check
the pictures against what was really played.

    song = generate_music(seed=7)            # or an np.random.Generator
    song.waveform        # (num_samples,) float32, loudness-normalised, |x| < 1
    song.onsets          # sharp note starts (bass, lead, drums), seconds, sorted
    song.activity        # part -> (num_frames,) bool, whether the part sounds in that video frame
    song.events          # [{"type": "dropout", "part": "drums", "start": 1.0, "end": 1.8}, {"type": "silence", ...}]
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .clip import ClipSpec

PARTS = ("bass", "lead", "drums", "pad")
SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "pentatonic": (0, 2, 4, 7, 9),
    "minor_pentatonic": (0, 3, 5, 7, 10),
}
PROGRESSIONS = ((0, 4, 5, 3), (0, 5, 3, 4), (0, 3, 4, 3), (5, 3, 0, 4), (0, 0, 3, 4), (0, 2, 3, 4))
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


@dataclass
class MusicConfig:
    tempo_range: tuple[float, float] = (70.0, 180.0)
    pad_prob: float = 0.5          # chance the song has a pad
    dropout_prob: float = 0.5      # chance a part drops out for a few beats and comes back
    silence_prob: float = 0.4      # chance of a full-silence segment
    silence_seconds: tuple[float, float] = (0.4, 0.9)
    target_rms: float = 0.12       # loudness of the sounding parts (about -18 dBFS)
    peak: float = 0.95             # never louder than this: normalisation never clips


@dataclass
class Song:
    waveform: np.ndarray                      # (num_samples,) float32
    sample_rate: int
    tempo: float                              # BPM
    key: str                                  # e.g. "F#"
    scale: str
    onsets: np.ndarray                        # sharp note starts in seconds (bass, lead, drums), sorted
    part_onsets: dict[str, np.ndarray]        # part -> note starts in seconds (the pad's are soft)
    activity: dict[str, np.ndarray]           # part -> (num_frames,) bool
    silent: np.ndarray                        # (num_frames,) bool: frames inside a full-silence segment
    events: list[dict] = field(default_factory=list)

    def metadata(self) -> dict:
        return {"tempo": round(self.tempo, 2), "key": self.key, "scale": self.scale,
                "parts": [p for p in PARTS if self.activity[p].any()],
                "onsets": [round(float(t), 4) for t in self.onsets], "events": self.events}


def midi_to_hz(m):
    return 440.0 * 2.0 ** ((np.asarray(m, dtype=np.float64) - 69.0) / 12.0)


# ----------------------------------------------------------------------------------------------------------
# Instruments: each returns float64 samples for one note or one drum hit.

def adsr(n: int, sr: int, attack: float, decay: float, sustain: float, release: float, gate: int) -> np.ndarray:
    """Envelope of `n` samples (float32); the key is held for `gate` samples, then released."""
    t = np.arange(n, dtype=np.float32) / np.float32(sr)
    env = sustain + (1 - sustain) * np.exp((attack - t) / max(decay, 1e-4))
    a = min(int(attack * sr), n)
    env[:a] = t[:a] / max(attack, 1e-4)
    if gate < n:
        env[gate:] = env[gate] * np.exp((t[gate] - t[gate:]) / max(release, 1e-4))
    return env


def oscillator(kind: str, phase: np.ndarray) -> np.ndarray:
    """A waveform from a phase in cycles."""
    if kind == "sine":
        return np.sin(np.float32(2 * np.pi) * phase)
    frac = phase - np.floor(phase)
    if kind == "saw":
        return 2.0 * frac - 1.0
    return np.where(frac < 0.5, np.float32(1.0), np.float32(-1.0))  # square


def voice(notes: list, n: int, sr: int, kind: str, env: tuple, detune: tuple = (1.0,)) -> np.ndarray:
    """A monophonic line: each note plays until its release ends or the next note starts."""
    freq = np.zeros(n, dtype=np.float64)
    amp = np.zeros(n, dtype=np.float32)
    attack, decay, sustain, release = env
    for i, nt in enumerate(notes):
        a = int(round(nt.start * sr))
        gate = int(nt.dur * sr)
        b = a + gate + int(4 * release * sr)
        if i + 1 < len(notes):
            b = min(b, int(round(notes[i + 1].start * sr)))
        b = min(b, n)
        if b <= a:
            continue
        freq[a:b] = midi_to_hz(nt.midi)
        amp[a:b] = nt.vel * adsr(b - a, sr, attack, decay, sustain, release, gate)
    phase = np.cumsum(freq) / sr
    return sum(oscillator(kind, (d * phase).astype(np.float32)) for d in detune) * amp


def kick(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = int(0.35 * sr)
    t = np.arange(n, dtype=np.float32) / sr
    f0, f1 = rng.uniform(120, 180), rng.uniform(42, 60)
    freq = f1 + (f0 - f1) * np.exp(-t / 0.03)
    phase = 2 * np.pi * np.cumsum(freq) / sr
    click = np.exp(-t / 0.002) * 0.5
    return ((np.sin(phase) + click) * np.exp(-t / rng.uniform(0.09, 0.16))).astype(np.float32)


def snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = int(0.25 * sr)
    t = np.arange(n, dtype=np.float32) / sr
    noise = rng.standard_normal(n, dtype=np.float32)
    noise = noise - 0.6 * np.concatenate([[0.0], noise[:-1]]).astype(np.float32)  # brighten
    tone = np.sin(2 * np.pi * rng.uniform(170, 220) * t) * np.exp(-t / 0.04)
    return (0.6 * noise * np.exp(-t / rng.uniform(0.05, 0.1)) + 0.5 * tone).astype(np.float32)


def hihat(sr: int, rng: np.random.Generator, open_: bool = False) -> np.ndarray:
    n = int((0.3 if open_ else 0.08) * sr)
    t = np.arange(n, dtype=np.float32) / sr
    noise = rng.standard_normal(n, dtype=np.float32)
    noise = np.diff(np.diff(noise, prepend=np.float32(0)), prepend=np.float32(0))  # crude high-pass: hats are all top end
    return (0.25 * noise * np.exp(-t / (0.09 if open_ else 0.018))).astype(np.float32)


# ----------------------------------------------------------------------------------------------------------

@dataclass
class _Note:
    part: str
    start: float   # seconds
    dur: float     # seconds the key is held
    midi: float = 0.0
    vel: float = 1.0
    drum: str = ""


def _arrange(rng: np.random.Generator, spec: ClipSpec, cfg: MusicConfig, tempo: float, root: int,
             scale: tuple[int, ...], with_pad: bool) -> list[_Note]:
    """Write the score: chords every two beats, then the notes of each part on a 16th grid."""
    beat = 60.0 / tempo
    step = beat / 4
    offset = rng.uniform(0.0, beat / 2)
    n_steps = int(np.ceil((spec.duration - offset) / step))
    prog = PROGRESSIONS[rng.integers(len(PROGRESSIONS))]
    deg = lambda d: scale[d % len(scale)] + 12 * (d // len(scale))  # scale degree -> semitones above the root
    chord_of_step = lambda s: prog[(s // 8) % len(prog)]
    notes: list[_Note] = []

    # drums: kick and snare patterns over one bar of 16 steps, hats on 8ths (16ths when slow)
    kick_pat = [(0, 8), (0, 8, 10), (0, 6, 8), (0, 4, 8, 12), (0, 3, 8, 11)][rng.integers(5)]
    snare_pat = [(4, 12), (4, 12, 15), (12,)][rng.integers(3)]
    hat_div = 1 if tempo < 100 and rng.random() < 0.5 else 2  # in steps: 16ths or 8ths
    for s in range(n_steps):
        t = offset + s * step
        b = s % 16
        if b in kick_pat:
            notes.append(_Note("drums", t, 0.3, vel=rng.uniform(0.85, 1.0), drum="kick"))
        elif b in snare_pat:
            notes.append(_Note("drums", t, 0.2, vel=rng.uniform(0.75, 0.95), drum="snare"))
        elif b % hat_div == 0:
            open_ = b % 8 == 6 and rng.random() < 0.3
            notes.append(_Note("drums", t, 0.1, vel=rng.uniform(0.5, 0.8), drum="open_hat" if open_ else "hat"))

    # bass: the chord's root, on a rhythm chosen per song
    bass_pat = [(0, 4, 8, 12), (0, 2, 4, 6, 8, 10, 12, 14), (0, 6, 8, 14), (0, 3, 8, 11)][rng.integers(4)]
    starts = [s for s in range(n_steps) if s % 16 in bass_pat]
    for i, s in enumerate(starts):
        nxt = starts[i + 1] if i + 1 < len(starts) else s + 4
        midi = 36 + root + deg(chord_of_step(s)) + (12 if root + deg(chord_of_step(s)) < 4 else 0)
        notes.append(_Note("bass", offset + s * step, (nxt - s) * step * 0.85, midi, rng.uniform(0.8, 1.0)))

    # lead: a random walk over the scale on 8ths and quarters, with rests
    s, d = 0, int(rng.integers(0, len(scale)))
    while s < n_steps:
        length = 2 if rng.random() < 0.7 else 4
        if rng.random() > 0.2:
            d = int(np.clip(d + rng.choice([-2, -1, -1, 0, 1, 1, 2]), -3, 2 * len(scale)))
            notes.append(_Note("lead", offset + s * step, length * step * rng.uniform(0.5, 0.9),
                               60 + root + deg(d), rng.uniform(0.6, 1.0)))
        s += length

    # pad: the chord's three tones held for two beats
    if with_pad:
        for s in range(0, n_steps, 8):
            c = chord_of_step(s)
            for k in (0, 2, 4):
                notes.append(_Note("pad", offset + s * step, 8 * step * 0.95, 48 + root + deg(c + k), 0.5))
    return notes


def generate_music(seed=0, spec: ClipSpec | None = None, config: MusicConfig | None = None) -> Song:
    """A seeded song of `spec.duration` seconds at `spec.sample_rate`. `seed` is an int or a Generator."""
    spec = spec or ClipSpec()
    cfg = config or MusicConfig()
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    sr, n = spec.sample_rate, spec.num_samples

    tempo = float(rng.uniform(*cfg.tempo_range))
    root = int(rng.integers(12))
    scale_name = list(SCALES)[rng.integers(len(SCALES))]
    with_pad = bool(rng.random() < cfg.pad_prob)
    notes = _arrange(rng, spec, cfg, tempo, root, SCALES[scale_name], with_pad)
    beat = 60.0 / tempo
    first = min((nt.start for nt in notes), default=0.0)  # very short clips can end before the first note

    # arrangement events, aligned to the beat grid so sound comes back with new notes
    events: list[dict] = []
    grid = first + beat * np.arange(int(spec.duration / beat) + 2)
    if rng.random() < cfg.dropout_prob:
        part = ["bass", "lead", "drums"] + (["pad"] if with_pad else [])
        part = part[rng.integers(len(part))]
        n_beats = max(2, int(np.ceil(rng.uniform(0.5, 1.2) / beat)))
        cands = [g for g in grid if 0.3 <= g and g + n_beats * beat <= spec.duration - 0.3]
        if cands:
            start = float(cands[rng.integers(len(cands))])
            events.append({"type": "dropout", "part": part, "start": start, "end": start + n_beats * beat})
    if rng.random() < cfg.silence_prob:
        n_beats = max(1, int(round(rng.uniform(*cfg.silence_seconds) / beat)))
        cands = [g for g in grid if 0.5 <= g and g + n_beats * beat <= spec.duration - 0.4]
        if cands:
            start = float(cands[rng.integers(len(cands))])
            events.append({"type": "silence", "start": start, "end": start + n_beats * beat})
    silences = [(e["start"], e["end"]) for e in events if e["type"] == "silence"]

    def dropped(nt: _Note) -> bool:
        for e in events:
            inside = e["start"] - 1e-6 <= nt.start < e["end"] - 1e-6
            if inside and (e["type"] == "silence" or e["part"] == nt.part):
                return True
        return nt.start >= spec.duration
    notes = [nt for nt in notes if not dropped(nt)]
    for nt in notes:  # a note held into a silence is cut where the silence starts
        for s0, _ in silences:
            if nt.start < s0 < nt.start + nt.dur:
                nt.dur = s0 - nt.start

    # render the parts
    lead_wave = "saw" if rng.random() < 0.5 else "square"
    lead_env = (rng.uniform(0.003, 0.015), rng.uniform(0.05, 0.2), rng.uniform(0.3, 0.7), rng.uniform(0.03, 0.12))
    envs = {"bass": (0.004, 0.3, 0.6, 0.04), "lead": lead_env, "pad": (0.15, 0.5, 0.8, 0.15)}
    drums = {"kick": kick(sr, rng), "snare": snare(sr, rng), "hat": hihat(sr, rng), "open_hat": hihat(sr, rng, True)}
    gains = {"bass": 0.55, "lead": rng.uniform(0.16, 0.24), "drums": 0.75, "pad": 0.07}
    by_part = {p: [nt for nt in notes if nt.part == p] for p in PARTS}
    buffers = {"bass": voice(by_part["bass"], n, sr, "sine", envs["bass"]),
               "lead": voice(by_part["lead"], n, sr, lead_wave, lead_env),
               "pad": sum(voice(by_part["pad"][k::3], n, sr, "sine", envs["pad"], (1.0, 1.004)) for k in range(3))
               if by_part["pad"] else np.zeros(n, np.float32)}
    buffers["drums"] = np.zeros(n, dtype=np.float32)
    for nt in by_part["drums"]:
        i0 = int(round(nt.start * sr))
        x = drums[nt.drum][: n - i0]
        buffers["drums"][i0: i0 + len(x)] += nt.vel * x
    sounding = {p: [(nt.start, nt.start + (len(drums[nt.drum]) / sr * 0.5 if p == "drums" else nt.dur + envs[p][3]))
                    for nt in by_part[p]] for p in PARTS}

    mix = sum(np.float32(gains[p]) * buffers[p] for p in PARTS)
    gain = np.ones(n, dtype=np.float32)
    ramp = int(0.005 * sr)
    for s0, s1 in silences:  # full silence: the mix is muted (with 5 ms ramps), tails included
        a, b = int(round(s0 * sr)), int(round(s1 * sr))
        gain[a:b] = 0.0
        gain[max(a - ramp, 0):a] = np.linspace(1, 0, a - max(a - ramp, 0))
    mix *= gain

    # loudness normalisation over the sounding samples, never past `peak`
    audible = gain > 0
    rms = np.sqrt(np.mean(mix[audible] ** 2)) if audible.any() else 0.0
    scale = cfg.target_rms / rms if rms > 1e-9 else 1.0
    peak = np.max(np.abs(mix)) * scale
    if peak > cfg.peak:
        scale *= cfg.peak / peak
    waveform = (mix * scale).astype(np.float32)

    # ground truth at video-frame resolution
    T = spec.num_frames
    frame_t = np.arange(T) / spec.fps  # each frame spans [t, t + 1/fps)
    silent = np.zeros(T, dtype=bool)
    for s0, s1 in silences:
        silent |= (frame_t >= s0) & (frame_t + 1 / spec.fps <= s1 + 1e-9)
    activity = {}
    for p in PARTS:
        act = np.zeros(T, dtype=bool)
        for a, b in sounding[p]:
            act |= (frame_t + 1 / spec.fps > a) & (frame_t < b)
        activity[p] = act & ~silent
    part_onsets = {p: np.array(sorted({round(nt.start, 6) for nt in notes if nt.part == p and nt.start < spec.duration}))
                   for p in PARTS}
    onsets = np.unique(np.concatenate([part_onsets[p] for p in ("bass", "lead", "drums")]))
    return Song(waveform, sr, tempo, NOTE_NAMES[root], scale_name, onsets, part_onsets, activity, silent, events)
