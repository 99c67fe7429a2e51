"""AV-Align (Yariv et al. 2024): do the video's motion peaks fall on the audio's onsets?

AV-Align, the variant computed here (the reference script as fixed in 2025): audio peaks are librosa's onset
times (`onset_strength` then `onset_detect`, defaults) of the mono audio resampled to 22,050 Hz as
`librosa.load` does; video peaks are the times i/fps of strict local maxima, of value at least 0.1, of the mean
Farneback optical-flow magnitude between consecutive grey frames (OpenCV; parameters 0.5, 3, 15, 3, 5, 1.2, 0;
the first pair's value repeated at index 0). Each audio peak, in time order, takes the first still-unused video
peak strictly within ±1/fps; the score is matches ÷ (audio peaks + video peaks − matches), in [0, 1]. With no
peaks at all it is undefined (NaN). Published AV-Align numbers come from several variants (the original script
let one video peak match many audio peaks, so it could exceed 1; papers differ on the window): compare only
numbers computed the same way.

librosa and OpenCV (the `eval` extra) are imported only by the AV-Align functions.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..io.frames import as_uint8_frames

AV_ALIGN_RATE = 22050
FARNEBACK = (0.5, 3, 15, 3, 5, 1.2, 0)  # pyr_scale, levels, winsize, iterations, poly_n, poly_sigma, flags
PEAK_THRESHOLD = 0.1


def require_eval_dependencies() -> None:
    """Fail with one clear line, before any work, when librosa or OpenCV (the `eval` extra) is missing."""
    _librosa()
    _cv2()


def _librosa():
    try:
        import librosa
    except ImportError:
        raise UserError("AV-Align needs librosa: pip install 'audio2video[eval]'") from None
    return librosa


def _cv2():
    try:
        import cv2
    except ImportError:
        raise UserError("AV-Align needs OpenCV: pip install 'audio2video[eval]'") from None
    return cv2


def _mono_22k(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    librosa = _librosa()
    y = np.asarray(audio, dtype=np.float32)
    if y.ndim == 2:
        y = y.mean(axis=0)  # librosa.to_mono
    y = y.reshape(-1)
    if sample_rate != AV_ALIGN_RATE:
        y = librosa.resample(y, orig_sr=sample_rate, target_sr=AV_ALIGN_RATE, res_type="soxr_hq")
    return y


def _onset_strength(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """librosa's onset strength at 22,050 Hz. Audio shorter than its 2048-sample window is padded by librosa,
    which says so in a warning that would leak into the command's output: it is expected here, so silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"n_fft=\d+ is too large for input signal")
        return _librosa().onset.onset_strength(y=_mono_22k(audio, sample_rate), sr=AV_ALIGN_RATE)


def onset_envelope(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """librosa's onset strength of the audio at 22,050 Hz, and the time of each of its frames (s)."""
    librosa = _librosa()
    env = _onset_strength(audio, sample_rate)
    return env, librosa.frames_to_time(np.arange(len(env)), sr=AV_ALIGN_RATE)


def audio_peak_times(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Onset times (s) of mono audio at any rate: librosa `onset_strength` then `onset_detect`, defaults, at
    22,050 Hz (resampled with soxr_hq, as `librosa.load` does)."""
    librosa = _librosa()
    env = _onset_strength(audio, sample_rate)
    frames = librosa.onset.onset_detect(onset_envelope=env, sr=AV_ALIGN_RATE)
    return librosa.frames_to_time(frames, sr=AV_ALIGN_RATE)


def motion_curve(frames) -> np.ndarray:
    """Mean Farneback optical-flow magnitude between consecutive frames (grey, OpenCV; parameters 0.5, 3, 15,
    3, 5, 1.2, 0), one value per frame: index i is the flow from frame i-1 to i, index 0 repeats index 1.
    `frames`: see `as_uint8_frames`; streamed, so a long video needs memory for two frames only."""
    cv2 = _cv2()
    values: list[float] = []
    prev = None
    count = 0
    for frame in as_uint8_frames(frames):
        gray = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
        count += 1
        if prev is not None:
            flow = cv2.calcOpticalFlowFarneback(prev, gray, None, *FARNEBACK)
            magnitude, _ = cv2.cartToPolar(flow[..., 0], flow[..., 1])
            values.append(cv2.mean(magnitude)[0])
        prev = gray
    if not values:
        return np.zeros(count)
    return np.array(values[:1] + values, dtype=np.float64)


def video_peak_times(curve: np.ndarray, fps: float, threshold: float = PEAK_THRESHOLD) -> np.ndarray:
    """Times i/fps of strict local maxima (greater than both neighbours) of the motion curve that reach
    `threshold`. The first and last values are never peaks."""
    c = np.asarray(curve, dtype=np.float64)
    if len(c) < 3:
        return np.zeros(0)
    mid = c[1:-1]
    idx = np.nonzero((mid > c[:-2]) & (mid > c[2:]) & (mid >= threshold))[0] + 1
    return idx / fps


def match_peaks(audio_peaks: np.ndarray, video_peaks: np.ndarray, fps: float) -> int:
    """Greedy one-to-one matching: each audio peak in time order takes the first (earliest) still-unused video
    peak v with v - 1/fps < a < v + 1/fps. Returns the number of matches."""
    window = 1.0 / fps
    video = np.sort(np.asarray(video_peaks, dtype=np.float64))
    used = np.zeros(len(video), dtype=bool)
    matches = 0
    for a in np.sort(np.asarray(audio_peaks, dtype=np.float64)):
        free = np.nonzero(~used & (video - window < a) & (a < video + window))[0]
        if len(free):
            used[free[0]] = True
            matches += 1
    return matches


@dataclass
class AVAlign:
    score: float  # NaN when there are no peaks at all
    audio_peaks: np.ndarray  # seconds
    video_peaks: np.ndarray  # seconds
    matches: int
    fps: float
    motion: np.ndarray = field(repr=False)  # the motion curve, one value per frame

    def to_dict(self) -> dict:
        return {"score": self.score, "audio_peaks": len(self.audio_peaks), "video_peaks": len(self.video_peaks),
                "matches": self.matches}


def av_align_score(audio_peaks: np.ndarray, video_peaks: np.ndarray, fps: float) -> tuple[float, int]:
    """(matches / (audio peaks + video peaks - matches), matches); NaN score when both lists are empty."""
    m = match_peaks(audio_peaks, video_peaks, fps)
    union = len(audio_peaks) + len(video_peaks) - m
    return (m / union if union else math.nan), m


def av_align(audio: np.ndarray, sample_rate: int, frames, fps: float) -> AVAlign:
    """AV-Align of in-memory audio (mono (n,) or (channels, n) float at `sample_rate`) and frames (see
    `as_uint8_frames`) at `fps`. Higher is better; see the module docstring for the exact variant."""
    if fps <= 0:
        raise ValueError("fps must be positive")
    a = audio_peak_times(audio, sample_rate)
    curve = motion_curve(frames)
    v = video_peak_times(curve, fps)
    score, m = av_align_score(a, v, fps)
    return AVAlign(score, a, v, m, float(fps), curve)


def av_align_file(path: str | Path) -> AVAlign:
    """AV-Align of a video file with an audio track (any format FFmpeg reads): the audio decoded at its own rate
    (channels averaged), the frames decoded to RGB and streamed through the motion curve."""
    from ..io.media import iter_video_frames, load_audio_native, video_fps

    path = Path(path)
    fps = video_fps(path)  # fails early on a file without video
    audio, rate = load_audio_native(path)
    return av_align(audio, rate, iter_video_frames(path), fps)
