"""The feature timeline: one feature vector per video frame, computed from the waveform alone.

This is the single contract every visualizer reads, and it is local: every value depends only on the audio
within about a second of its frame, through fixed scales or windows of fixed length, never on statistics of
the whole clip. So a song cut into overlapping windows gets the same features in the overlaps (given the
context), and a loud mastered mix and a quiet procedural one map into the same ranges: the waveform is first
level-normalised (`onsets.normalize_level`: an automatic gain over +-0.5 s). Read from the code: a frame's
motion (onsets) depends on at most 1.7 s of audio before it and 0.7 s after it; its colour (the harmony,
smoothed over +-1.5 s so it drifts) on 2.1 s either side. CONTEXT_SECONDS rounds that up.

Frame i covers the audio samples [round(i * hop), round((i + 1) * hop)) with hop = sample_rate / fps; its
spectrum is taken over exactly that span (zero-padded, lightly tapered), so a note that starts inside frame i
shows up in frame i and not a frame early or late.

Per frame (T = number of frames), all float32:
    rms         linear RMS of the frame's samples (before normalisation)
    gain_db     the automatic gain applied (dB)
    loudness    normalised RMS in dB mapped to [0, 1] (-40 dB -> 0, -8 dB -> 1); exactly 0 in digital silence
    onset       onset strength in [0, 1]: the detector's envelope (`onsets`), its maximum within the frame
    peaks       bool, frames holding an onset (the detector's times, rounded to the nearest frame)
    strength    the onset's strength at peaks, 0 elsewhere
    low         at peaks, the share of the onset's flux below 250 Hz (1: a kick, 0: a hi-hat), else 0
    bands       (T, n_bands) energies in log-spaced bands from 40 Hz to Nyquist, pink-weighted (+3 dB/octave),
                dB mapped to [0, 1]
    centroid    spectral centroid in Hz (0 in silence)
    brightness  the centroid on a log scale, mapped to [0, 1]
    level       loudness smoothed over +-0.5 s (Hann): what slow properties (sizes, which layers are lit) follow
    energy      (T, 3) low / mid / high band energy smoothed over +-0.5 s
    chroma      (T, 12) pitch-class profile (C, C#, ..., B) of 100 Hz - 2 kHz, smoothed over +-1.5 s, sums to 1
                (or 0 in silence)
    hue         (T,) turns: the chroma's direction on the circle of fifths (the harmony's colour)
Per clip (metadata only; no visual reads it):
    tempo       BPM from the autocorrelation of `onset` (0 if it has no beat)
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .clip import ClipSpec
from .onsets import detect_onsets, hann_smooth, level_gain, normalize_level, spectrogram

N_FFT = 1024
MIN_DB, MAX_DB = -40.0, -8.0          # after normalisation to -20 dB: typical frames sit around the middle
BAND_LO = 40.0
SLOW_SECONDS, HARMONY_SECONDS = 0.5, 1.5
CONTEXT_SECONDS = 3          # a frame's features depend on at most this much audio on either side of it


@dataclass
class FeatureTimeline:
    fps: int
    rms: np.ndarray
    gain_db: np.ndarray
    loudness: np.ndarray
    onset: np.ndarray
    peaks: np.ndarray
    strength: np.ndarray
    low: np.ndarray
    bands: np.ndarray
    band_edges: np.ndarray
    centroid: np.ndarray
    brightness: np.ndarray
    level: np.ndarray
    energy: np.ndarray
    chroma: np.ndarray
    hue: np.ndarray
    tempo: float

    @property
    def num_frames(self) -> int:
        return len(self.rms)

    def summary(self) -> dict:
        return {"tempo": round(self.tempo, 1), "mean_loudness": round(float(self.loudness.mean()), 3),
                "mean_brightness": round(float(self.brightness.mean()), 3), "n_peaks": int(self.peaks.sum()),
                "chroma_peak": int(np.argmax(self.chroma.sum(axis=0))) if len(self.chroma) else 0}

    def slice(self, start: int, stop: int) -> "FeatureTimeline":
        """Frames [start, stop) of this timeline (per-clip values kept): a window of a longer song."""
        per_frame = {k: v[start:stop] for k, v in vars(self).items()
                     if isinstance(v, np.ndarray) and k != "band_edges"}
        return FeatureTimeline(**{**vars(self), **per_frame})


@lru_cache(maxsize=16)
def _frame_layout(sample_rate: int, fps: int, num_frames: int, n_bands: int):
    """Everything that depends only on the sizes: frame sample indices, the window, band and chroma matrices."""
    hop = sample_rate / fps
    bounds = np.round(np.arange(num_frames + 1) * hop).astype(np.int64)
    length = int(np.ceil(hop))
    index = bounds[:-1, None] + np.arange(length)[None, :]        # (T, L), may run one sample past the end
    window = np.ones(length, dtype=np.float32)                    # Tukey taper, 10% at each edge
    k = max(1, length // 10)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(k) / k)
    window[:k], window[-k:] = ramp, ramp[::-1]
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / sample_rate)
    edges = np.geomspace(BAND_LO, sample_rate / 2, n_bands + 1)
    band_of = np.searchsorted(edges, freqs, side="right") - 1     # bins below 40 Hz -> -1, ignored
    band_matrix = np.zeros((len(freqs), n_bands), dtype=np.float32)
    ok = (band_of >= 0) & (band_of < n_bands)
    band_matrix[np.nonzero(ok)[0], band_of[ok]] = 1.0
    # a band narrower than one FFT bin still gets the nearest bin, so no band is always empty
    for b in range(n_bands):
        if band_matrix[:, b].sum() == 0:
            band_matrix[np.argmin(np.abs(freqs - np.sqrt(edges[b] * edges[b + 1]))), b] = 1.0
    # a full-scale sine's power in its band, with this window, is the 0 dB reference; bands are pink-weighted
    # (+3 dB per octave above 40 Hz) so that a typical mix, whose spectrum falls with frequency, lights them evenly
    ref = (window.sum() / 2) ** 2
    band_matrix *= (np.sqrt(edges[:-1] * edges[1:]) / BAND_LO).astype(np.float32)[None, :]
    return bounds, index, window, freqs.astype(np.float32), edges, band_matrix, np.float32(ref)


@lru_cache(maxsize=16)
def _chroma_layout(n_bins: int, sample_rate: int):
    """Bins of the onset STFT between 100 Hz and 2 kHz, and the pitch class of each."""
    freqs = np.linspace(0, sample_rate / 2, n_bins)
    voiced = np.nonzero((freqs >= 100) & (freqs <= 2000))[0]
    pitch_class = np.round(12 * np.log2(freqs[voiced] / 440.0) + 69).astype(np.int64) % 12
    return voiced, pitch_class


def _db_to_unit(db: np.ndarray) -> np.ndarray:
    return np.clip((db - MIN_DB) / (MAX_DB - MIN_DB), 0.0, 1.0).astype(np.float32)


def compute_features(waveform: np.ndarray, spec: ClipSpec | None = None, n_bands: int = 12) -> FeatureTimeline:
    """The timeline of a mono waveform (num_samples,) at spec.sample_rate, one row per video frame."""
    spec = spec or ClipSpec()
    if n_bands < 8:
        raise ValueError("n_bands must be at least 8")
    raw = np.asarray(waveform, dtype=np.float32).reshape(-1)
    gain_db = level_gain(raw, spec.sample_rate, spec.fps)
    x = normalize_level(raw, spec.sample_rate, spec.fps)
    T = len(gain_db)
    bounds, index, window, freqs, edges, band_matrix, ref = _frame_layout(spec.sample_rate, spec.fps, T, n_bands)
    padded = np.concatenate([x, np.zeros(index.max() + 1 - len(x), dtype=np.float32)]) if index.max() >= len(x) else x

    # RMS over exactly each frame's span, before and after normalisation
    b = np.minimum(bounds, len(x))
    rms = _span_rms(raw, b)
    norm_rms = _span_rms(x, b)
    loudness = np.where(norm_rms > 0, _db_to_unit(20 * np.log10(np.maximum(norm_rms, 1e-12))), 0).astype(np.float32)

    mag = np.abs(np.fft.rfft(padded[index] * window, n=N_FFT, axis=1)).astype(np.float32)   # (T, F)
    band_power = (mag * mag) @ band_matrix / ref
    bands = np.where(band_power > 0, _db_to_unit(10 * np.log10(np.maximum(band_power, 1e-20))), 0).astype(np.float32)
    total = mag.sum(axis=1)
    centroid = np.where(total > 1e-9, (mag @ freqs) / np.maximum(total, 1e-9), 0.0).astype(np.float32)
    brightness = np.clip(np.log2(np.maximum(centroid, 1.0) / 100.0) / np.log2(spec.sample_rate / 2 / 100.0), 0, 1)
    brightness = np.where(centroid > 0, brightness, 0).astype(np.float32)

    # onsets at the detector's finer hop, placed on the nearest video frame
    stft = spectrogram(x, spec.sample_rate)
    found = detect_onsets(stft, spec.sample_rate)
    onset, peaks, strength, low = _onsets_per_frame(found, T, spec.fps)

    slow = int(round(SLOW_SECONDS * spec.fps))
    level = hann_smooth(loudness, slow)
    B = n_bands
    groups = np.stack([bands[:, :B // 4].mean(1), bands[:, B // 4:2 * B // 3].mean(1), bands[:, 2 * B // 3:].mean(1)], 1)
    energy = hann_smooth(groups, slow)
    chroma, hue = _harmony(stft, spec, T)
    return FeatureTimeline(spec.fps, rms, gain_db, loudness, onset, peaks, strength, low, bands,
                           edges.astype(np.float32), centroid, brightness, level, energy, chroma, hue,
                           _tempo(onset, spec.fps))


def _span_rms(x: np.ndarray, b: np.ndarray) -> np.ndarray:
    c = np.concatenate([[0.0], np.cumsum(x.astype(np.float64) ** 2)])
    return np.sqrt(np.maximum(c[b[1:]] - c[b[:-1]], 0) / np.maximum(b[1:] - b[:-1], 1)).astype(np.float32)


def _onsets_per_frame(found, T: int, fps: int):
    """The detector's envelope and onsets on the video frame grid."""
    env_frame = np.floor(np.arange(len(found.envelope)) * found.hop_seconds * fps).astype(np.int64)
    onset = np.zeros(T, np.float32)
    ok = env_frame < T
    np.maximum.at(onset, env_frame[ok], found.envelope[ok])
    peaks = np.zeros(T, bool)
    strength = np.zeros(T, np.float32)
    low = np.zeros(T, np.float32)
    for t, s, share in zip(np.round(found.times * fps).astype(np.int64), found.strength, found.low_share):
        if 0 <= t < T and s > strength[t]:
            peaks[t], strength[t], low[t] = True, s, share
    return onset, peaks, strength, low


def _harmony(stft, spec: ClipSpec, T: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame chroma (T, 12) smoothed over +-HARMONY_SECONDS and its hue on the circle of fifths (T,)."""
    voiced, pitch_class = _chroma_layout(len(stft.freqs), spec.sample_rate)
    per_hop = np.zeros((len(stft.power), 12), np.float32)
    np.add.at(per_hop.T, pitch_class, stft.power[:, voiced].T)
    # onto the frame grid: the hop frame nearest each video frame's centre
    centre = np.minimum(np.round((np.arange(T) + 0.5) / spec.fps / stft.hop_seconds).astype(np.int64),
                        len(per_hop) - 1)
    smoothed = hann_smooth(per_hop[centre] if T else np.zeros((0, 12), np.float32), int(round(HARMONY_SECONDS * spec.fps)))
    total = smoothed.sum(axis=1, keepdims=True)
    chroma = np.where(total > 0, smoothed / np.maximum(total, 1e-20), 0).astype(np.float32)
    fifths = (7 * np.arange(12)) % 12                                  # pitch class -> circle-of-fifths slot
    z = chroma @ np.exp(2j * np.pi * fifths / 12)
    hue = ((np.angle(z) / (2 * np.pi)) % 1.0).astype(np.float32)
    return chroma, hue


def _tempo(onset: np.ndarray, fps: int, lo: float = 60.0, hi: float = 200.0) -> float:
    """The strongest beat period of the onset curve between `lo` and `hi` BPM (parabolic refinement)."""
    x = onset - onset.mean()
    if len(x) < 8 or not np.any(x):
        return 0.0
    ac = np.correlate(x, x, mode="full")[len(x) - 1:]
    ac = ac / np.maximum(np.arange(len(x), 0, -1), 1)         # unbiased: long lags have fewer terms
    lags = np.arange(len(ac))
    ok = (lags >= fps * 60 / hi) & (lags <= min(fps * 60 / lo, len(x) // 2))
    if not ok.any() or ac[ok].max() <= 0:
        return 0.0
    k = int(lags[ok][np.argmax(ac[ok])])
    a, b, c = ac[k - 1], ac[k], ac[min(k + 1, len(ac) - 1)]
    shift = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) < 0 else 0.0
    return float(60.0 * fps / (k + float(np.clip(shift, -0.5, 0.5))))
