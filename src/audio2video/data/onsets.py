"""Level normalisation and onset detection, both local: every value depends only on audio near it.

Level: real mixes are mastered 10-20 dB louder than the procedural music, and a fixed dB mapping saturates
them. `level_gain` is an automatic gain: per video frame, the gain (dB) that brings the mean power of the
surrounding second (a Hann window of +-0.5 s) to TARGET_DB, limited to [MIN_GAIN_DB, MAX_GAIN_DB] so near-silence
is not blown up. `normalize_level` applies it to a waveform (gain interpolated between frame centres); the
features and, through the same function, the model's input see the normalised sound.

Onsets: the detector mirrors the one AV-Align scores against (librosa's `onset_strength` + `onset_detect` at
22,050 Hz with hop 512 and n_fft 2048), scaled to any sample rate, so the teacher's motion lands where the
metric looks for it:
    a Hann-windowed STFT (window 2048/22050 s, hop 1/45 s, centred frames), a mel filterbank (fixed
    floor instead of "80 dB below the file's maximum"), the mean over bands of the positive first difference of
    the log-mel spectrum, shifted like librosa's (by 1 + n_fft // (2 * hop) frames);
    the envelope divided by its running maximum over the last NORM_SECONDS (never by the whole file's);
    peaks as librosa picks them (a local maximum over the previous frame, at least `delta` above the mean
    of [-4, +4] frames, at least two frames apart), plus an absolute floor so noise in near-silence never fires.
Each onset also says how low it is: the share of its flux below LOW_HZ (a kick) against above (a hi-hat).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

TARGET_DB, MIN_GAIN_DB, MAX_GAIN_DB = -20.0, -30.0, 12.0
LEVEL_SECONDS = 0.5          # half-width of the level window
NORM_SECONDS = 1.0           # the onset envelope is divided by its maximum over this much of the past
HOPS_PER_SECOND = 45         # the detector's hop (librosa's is 512 / 22050 s, 1 / 43.07 s): 1/45 s puts every
                             # whole second on the grid, so a song's features can be computed in pieces
N_MELS, LOW_HZ = 64, 250.0
DELTA = 0.15                 # librosa's 0.07 fires on too much of quiet, dense passages once normalised locally
ABS_FLOOR = 4.0              # mean positive log-mel flux (dB) below which the envelope is not scaled up


def hann_smooth(x: np.ndarray, half_width: int) -> np.ndarray:
    """Centred Hann-weighted mean along axis 0 over +-half_width rows; at the edges, over the rows that exist
    (so a window of a longer signal agrees with the long signal wherever its context is complete)."""
    x = np.asarray(x, dtype=np.float64)
    if half_width < 1 or len(x) == 0:
        return x.astype(np.float32)
    w = np.hanning(2 * half_width + 3)[1:-1]                      # 2 * half_width + 1 positive weights
    flat = x.reshape(len(x), -1)
    ones = np.ones(len(x))
    n, hw = len(x), half_width
    num = np.stack([np.convolve(flat[:, j], w)[hw:hw + n] for j in range(flat.shape[1])], axis=1)
    den = np.convolve(ones, w)[hw:hw + n, None]
    return (num / den).reshape(x.shape).astype(np.float32)


def frame_bounds(num_samples: int, sample_rate: int, fps: float) -> np.ndarray:
    """Sample index where each video frame starts, plus the end: (T + 1,)."""
    T = int(round(num_samples / sample_rate * fps))
    return np.round(np.arange(T + 1) * (sample_rate / fps)).astype(np.int64)


def level_gain(waveform: np.ndarray, sample_rate: int, fps: float) -> np.ndarray:
    """Per video frame, the automatic gain in dB (see the module docstring). Digital silence gets MAX_GAIN_DB."""
    x = np.asarray(waveform, dtype=np.float64).reshape(-1)
    bounds = frame_bounds(len(x), sample_rate, fps)
    if len(bounds) < 2:
        return np.zeros(0, np.float32)
    c = np.concatenate([[0.0], np.cumsum(x * x)])
    b = np.minimum(bounds, len(x))
    power = np.maximum(c[b[1:]] - c[b[:-1]], 0) / np.maximum(b[1:] - b[:-1], 1)
    local = hann_smooth(power, int(round(LEVEL_SECONDS * fps)))
    db = 10 * np.log10(np.maximum(local, 1e-12))
    return np.clip(TARGET_DB - db, MIN_GAIN_DB, MAX_GAIN_DB).astype(np.float32)


def normalize_level(waveform: np.ndarray, sample_rate: int, fps: float = 30.0) -> np.ndarray:
    """The waveform times its automatic gain (interpolated between frame centres): float32, same shape."""
    x = np.asarray(waveform, dtype=np.float32)
    flat = x.reshape(-1)
    gain_db = level_gain(flat, sample_rate, fps)
    if len(gain_db) == 0:
        return x.copy()
    hop = sample_rate / fps
    centres = (np.arange(len(gain_db)) + 0.5) * hop
    gain = 10 ** (np.interp(np.arange(len(flat)), centres, gain_db) / 20)
    return (flat * gain.astype(np.float32)).reshape(x.shape)


@lru_cache(maxsize=8)
def _stft_layout(sample_rate: int):
    win = int(round(2048 * sample_rate / 22050))
    hop = sample_rate / HOPS_PER_SECOND
    n_fft = 1 << int(np.ceil(np.log2(win)))
    window = np.hanning(win + 1)[:-1].astype(np.float32)         # periodic Hann, as librosa's
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    mel = _mel_matrix(freqs, sample_rate / 2)
    ref_db = 10 * np.log10((window.sum() / 2) ** 2)               # a full-scale sine's power in its bin
    low = _mel_centres(sample_rate / 2) < LOW_HZ
    return win, hop, n_fft, window, mel, np.float32(ref_db - 80.0), low


def _hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)


def _mel_edges(fmax: float) -> np.ndarray:
    """N_MELS + 2 frequencies (Hz) evenly spaced on the mel scale from 0 to fmax: band k spans edges k..k+2."""
    m = np.linspace(_hz_to_mel(0.0), _hz_to_mel(fmax), N_MELS + 2)
    return 700.0 * (10 ** (m / 2595.0) - 1.0)


def _mel_centres(fmax: float) -> np.ndarray:
    return _mel_edges(fmax)[1:-1]


def _mel_matrix(freqs: np.ndarray, fmax: float) -> np.ndarray:
    """(F, N_MELS) triangular filters, area-normalised (Slaney style)."""
    edges = _mel_edges(fmax)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (freqs[None, :] - lo) / (mid - lo)
    down = (hi - freqs[None, :]) / (hi - mid)
    tri = np.maximum(0.0, np.minimum(up, down)) * (2.0 / (hi - lo))
    return tri.T.astype(np.float32)


@dataclass
class Onsets:
    envelope: np.ndarray      # (K,) locally normalised onset strength at the fine hop, in [0, 1]
    hop_seconds: float
    times: np.ndarray         # (n,) seconds
    strength: np.ndarray      # (n,) the normalised envelope at each onset, in (0, 1]
    low_share: np.ndarray     # (n,) share of the onset's flux below LOW_HZ, in [0, 1]


def _running_max(x: np.ndarray, width: int) -> np.ndarray:
    """max(x[i - width + 1 .. i]) for each i."""
    if len(x) == 0:
        return x
    padded = np.concatenate([np.full(width - 1, x[0]), x])
    return np.lib.stride_tricks.sliding_window_view(padded, width).max(axis=1)


@dataclass
class Spectrogram:
    power: np.ndarray         # (K, F) power of centred Hann frames
    freqs: np.ndarray         # (F,) Hz
    hop_seconds: float


def spectrogram(waveform: np.ndarray, sample_rate: int) -> Spectrogram:
    """The onset detector's STFT: window 2048/22050 s, hop 1/45 s, frame k centred at k * hop."""
    x = np.asarray(waveform, dtype=np.float32).reshape(-1)
    win, hop, n_fft, window, _, _, _ = _stft_layout(sample_rate)
    K = 1 + int(len(x) // hop)
    half = win // 2
    padded = np.concatenate([np.zeros(half, np.float32), x, np.zeros(win, np.float32)])
    starts = np.round(np.arange(K) * hop).astype(np.int64)
    frames = padded[starts[:, None] + np.arange(win)[None, :]] * window
    spectrum = np.fft.rfft(frames, n=n_fft, axis=1)
    power = (spectrum.real ** 2 + spectrum.imag ** 2).astype(np.float32)
    return Spectrogram(power, np.fft.rfftfreq(n_fft, 1.0 / sample_rate).astype(np.float32), hop / sample_rate)


def detect_onsets(spec: Spectrogram, sample_rate: int) -> Onsets:
    """Onsets from the spectrogram of a level-normalised mono waveform; see the module docstring."""
    _, hop, n_fft, _, mel, floor_db, low = _stft_layout(sample_rate)
    K = len(spec.power)
    db = np.maximum(10 * np.log10(np.maximum(spec.power @ mel, 1e-10)), floor_db)
    diff = np.maximum(np.diff(db, axis=0), 0.0)                   # (K - 1, N_MELS): frame k+1 minus frame k
    shift = 1 + n_fft // (2 * int(round(hop)))                    # librosa's centring correction
    full = np.zeros(K, np.float32)
    lows = np.zeros(K, np.float32)
    n = max(0, min(K - shift, len(diff)))
    full[shift:shift + n] = diff[:n].mean(axis=1)
    lows[shift:shift + n] = diff[:n, low].sum(axis=1) / N_MELS
    scale = _running_max(full, max(1, int(round(NORM_SECONDS * sample_rate / hop))))
    env = (full / np.maximum(scale, ABS_FLOOR)).astype(np.float32)
    idx = _pick(env)
    share = np.where(full[idx] > 0, lows[idx] / np.maximum(full[idx], 1e-9), 0.0)
    return Onsets(env, spec.hop_seconds, idx * spec.hop_seconds, env[idx], np.clip(share, 0, 1).astype(np.float32))


def _pick(env: np.ndarray) -> np.ndarray:
    """librosa's peak_pick with onset_detect's defaults at hop 512 / 22,050 Hz (pre_max 1, post_max 1,
    pre_avg 4, post_avg 5, wait 1) on the locally normalised envelope."""
    K = len(env)
    if K < 3:
        return np.zeros(0, np.int64)
    prev = np.concatenate([[-np.inf], env[:-1]])
    padded = np.pad(env, (4, 4), mode="constant", constant_values=np.nan)
    avg = np.nanmean(np.lib.stride_tricks.sliding_window_view(padded, 9), axis=1)
    candidates = np.nonzero((env >= prev) & (env >= avg + DELTA) & (env > 0))[0]
    picked, last = [], -10
    for i in candidates:
        if i - last > 1:
            picked.append(i)
            last = i
    return np.asarray(picked, np.int64)
