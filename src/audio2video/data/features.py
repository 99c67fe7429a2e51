"""The feature timeline: one feature vector per video frame, computed from the waveform alone.

This is the single contract every visualizer reads. Frame i covers the audio samples
[round(i * hop), round((i + 1) * hop)) with hop = sample_rate / fps; its spectrum is taken over exactly
that span (zero-padded, lightly tapered), so a note that starts inside frame i shows up in frame i and not
a frame early or late.

Per frame (T = number of frames), all float32:
    rms         linear RMS of the frame's samples
    loudness    RMS in dB mapped to [0, 1] (-45 dBFS -> 0, -9 dBFS -> 1); exactly 0 in digital silence
    onset       onset strength in [0, 1]: positive spectral flux of the log spectrum, divided by the clip's
                maximum (or by a floor, so quiet clips are not blown up)
    peaks       bool, onset peaks: local maxima of `onset` above a threshold (where onset visualizers fire)
    bands       (T, n_bands) energies in log-spaced bands from 40 Hz to Nyquist, pink-weighted (+3 dB/octave),
                dB mapped to [0, 1]
    centroid    spectral centroid in Hz (0 in silence)
    brightness  the centroid on a log scale, mapped to [0, 1]
Per clip:
    chroma      (12,) pitch-class profile (C, C#, ..., B) of the whole clip's 100 Hz - 2 kHz power, sums to 1
    tempo       BPM from the autocorrelation of `onset` (0 if it has no beat)
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .clip import ClipSpec

N_FFT = 1024
MIN_DB, MAX_DB = -45.0, -9.0
BAND_LO = 40.0


@dataclass
class FeatureTimeline:
    fps: int
    rms: np.ndarray
    loudness: np.ndarray
    onset: np.ndarray
    peaks: np.ndarray
    bands: np.ndarray
    band_edges: np.ndarray
    centroid: np.ndarray
    brightness: np.ndarray
    chroma: np.ndarray
    tempo: float

    @property
    def num_frames(self) -> int:
        return len(self.rms)

    def summary(self) -> dict:
        return {"tempo": round(self.tempo, 1), "mean_loudness": round(float(self.loudness.mean()), 3),
                "mean_brightness": round(float(self.brightness.mean()), 3), "n_peaks": int(self.peaks.sum()),
                "chroma_peak": int(np.argmax(self.chroma))}


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
def _chroma_layout(num_samples: int, sample_rate: int):
    """Bins of a whole-clip spectrum between 100 Hz and 2 kHz, and the pitch class of each."""
    freqs = np.fft.rfftfreq(num_samples, 1.0 / sample_rate)
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
    x = np.asarray(waveform, dtype=np.float32).reshape(-1)
    T = int(round(len(x) / spec.sample_rate * spec.fps))
    bounds, index, window, freqs, edges, band_matrix, ref = _frame_layout(
        spec.sample_rate, spec.fps, T, n_bands)
    padded = np.concatenate([x, np.zeros(index.max() + 1 - len(x), dtype=np.float32)]) if index.max() >= len(x) else x

    # RMS over exactly each frame's span
    c = np.concatenate([[0.0], np.cumsum(x.astype(np.float64) ** 2)])
    b = np.minimum(bounds, len(x))
    rms = np.sqrt(np.maximum(c[b[1:]] - c[b[:-1]], 0) / np.maximum(b[1:] - b[:-1], 1)).astype(np.float32)
    loudness = np.where(rms > 0, _db_to_unit(20 * np.log10(np.maximum(rms, 1e-12))), 0).astype(np.float32)

    mag = np.abs(np.fft.rfft(padded[index] * window, n=N_FFT, axis=1)).astype(np.float32)   # (T, F)
    power = mag * mag
    band_power = power @ band_matrix / ref
    bands = np.where(band_power > 0, _db_to_unit(10 * np.log10(np.maximum(band_power, 1e-20))), 0).astype(np.float32)

    total = mag.sum(axis=1)
    centroid = np.where(total > 1e-9, (mag @ freqs) / np.maximum(total, 1e-9), 0.0).astype(np.float32)
    brightness = np.clip(np.log2(np.maximum(centroid, 1.0) / 100.0) / np.log2(spec.sample_rate / 2 / 100.0), 0, 1)
    brightness = np.where(centroid > 0, brightness, 0).astype(np.float32)

    # onset strength: positive spectral flux of log magnitudes, scaled to [0, 1]
    logmag = np.log1p(mag * np.float32(1000.0 / ref ** 0.5))
    flux = np.maximum(np.diff(logmag, axis=0, prepend=np.zeros((1, logmag.shape[1]), np.float32)), 0).mean(axis=1)
    if T:
        flux[0] = 0.0  # no previous frame to compare with
    onset = (flux / max(float(flux.max(initial=0.0)), 0.3)).astype(np.float32)
    peaks = _pick_peaks(onset)

    # chroma from one spectrum of the whole clip: frames are too short to resolve semitones
    voiced, pitch_class = _chroma_layout(len(x), spec.sample_rate)
    spectrum = np.abs(np.fft.rfft(x))[voiced] ** 2 if len(x) else np.zeros(0)
    chroma = np.bincount(pitch_class, weights=spectrum, minlength=12)
    chroma = (chroma / chroma.sum() if chroma.sum() > 0 else chroma).astype(np.float32)
    return FeatureTimeline(spec.fps, rms, loudness, onset, peaks, bands, edges.astype(np.float32), centroid,
                           brightness, chroma, _tempo(onset, spec.fps))


def _pick_peaks(onset: np.ndarray, threshold: float = 0.12, ratio: float = 1.5) -> np.ndarray:
    """Local maxima above an absolute threshold and above `ratio` times the local median."""
    prev = np.concatenate([[0.0], onset[:-1]])
    nxt = np.concatenate([onset[1:], [0.0]])
    T = len(onset)
    padded = np.pad(onset, 4, mode="edge")
    local = np.median(np.lib.stride_tricks.sliding_window_view(padded, 9), axis=1)[:T] if T else onset
    return (onset >= prev) & (onset > nxt) & (onset > threshold) & (onset > ratio * local)


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
