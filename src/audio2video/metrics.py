"""How well a video follows its sound: reconstruction, temporal consistency, audio dependence and AV-Align.

Videos are float tensors in [0, 1], shaped (T, 3, H, W) for one clip or (B, T, 3, H, W) for a batch; the
per-clip functions return one value per clip (a (B,) tensor). Every metric states its direction:

| metric | definition | better |
| --- | --- | --- |
| mse | mean squared pixel error against the ground truth | lower (0 = identical) |
| psnr | per frame 10·log10(1 / MSE_t), averaged over frames; a frame predicted exactly scores +inf | higher |
| ssim | per frame SSIM (Wang et al. 2004: Gaussian window 11, sigma 1.5, K1 0.01, K2 0.03, each colour channel, valid region), averaged over frames | higher (1 = identical) |
| temporal_error | mean squared difference between the predicted and true frame-to-frame differences | lower (0 = same motion) |
| flicker_index | mean absolute frame difference of the prediction ÷ that of the ground truth | closer to 1 (> 1 flickers, < 1 too still) |
| shuffle_gap | MSE of each prediction against another clip's truth ÷ MSE against its own | higher (1.0 = the audio is ignored) |
| silence_response | mean visual change inside silent segments ÷ mean visual change while sound plays | lower (< 1: calmer in silence) |
| av_align | AV-Align (Yariv et al. 2024), the variant below | higher, in [0, 1] |

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
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .errors import UserError

# name -> (direction, one-line definition); the report and docs use these words
METRICS: dict[str, tuple[str, str]] = {
    "mse": ("lower", "mean squared pixel error against the ground truth (pixels in [0, 1])"),
    "psnr": ("higher", "per-frame PSNR in dB, 10·log10(1/MSE), averaged over frames (+inf if identical)"),
    "ssim": ("higher", "per-frame SSIM (Gaussian 11×11, σ 1.5), averaged over frames and channels; 1 = identical"),
    "temporal_error": ("lower", "MSE between predicted and true frame-to-frame differences; 0 = same motion"),
    "flicker_index": ("closer to 1", "mean |frame difference| of the prediction ÷ that of the ground truth"),
    "shuffle_gap": ("higher", "MSE against another clip's truth (audio shuffled) ÷ MSE against its own; "
                              "1.0 = the audio is ignored"),
    "silence_response": ("lower", "mean visual change inside silent segments ÷ while sound plays; "
                                  "< 1 = calmer in silence, undefined if the video is still while sound plays"),
    "av_align": ("higher", "AV-Align: matched audio onsets and motion peaks ÷ their union, in [0, 1]"),
}

# Below this mean absolute frame change (a quarter of one 8-bit grey level) a video counts as still.
MOTION_FLOOR = 1e-3


def _batch(video: torch.Tensor) -> torch.Tensor:
    if video.dim() == 4:
        return video[None]
    if video.dim() != 5:
        raise ValueError(f"expected a video (T, 3, H, W) or a batch (B, T, 3, H, W), not shape {tuple(video.shape)}")
    return video


def _pair(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    pred, target = _batch(pred).float(), _batch(target).float()
    if pred.shape != target.shape:
        raise ValueError(f"prediction {tuple(pred.shape)} and ground truth {tuple(target.shape)} differ in shape")
    return pred, target


# ---- reconstruction -------------------------------------------------------------------------------------------

def frame_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B, T): the mean squared error of each frame."""
    pred, target = _pair(pred, target)
    return (pred - target).pow(2).mean(dim=(2, 3, 4))


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B,): mean squared error of each clip (equal-sized frames: the per-frame mean averaged). Lower is better."""
    return frame_mse(pred, target).mean(dim=1)


def psnr(pred: torch.Tensor, target: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """(B,): per-frame PSNR 10·log10(range² / MSE_t) in dB, averaged over frames. A frame predicted exactly has
    infinite PSNR, and so has the clip's average. Higher is better."""
    per_frame = 10 * torch.log10(data_range ** 2 / frame_mse(pred, target).double())  # 1/0 -> +inf
    return per_frame.mean(dim=1).float()


def _gaussian_window(size: int, sigma: float) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-x ** 2 / (2 * sigma ** 2))
    return g / g.sum()


def _valid_filter_matrix(n: int, g: torch.Tensor) -> torch.Tensor:
    """(n - k + 1, n) matrix whose product with a signal of length n is its 'valid' correlation with g."""
    k = len(g)
    m = torch.zeros(n - k + 1, n, dtype=torch.float64)
    for i in range(n - k + 1):
        m[i, i:i + k] = g
    return m.float()


def ssim(pred: torch.Tensor, target: torch.Tensor, data_range: float = 1.0, window: int = 11,
         sigma: float = 1.5) -> torch.Tensor:
    """(B,): SSIM (Wang et al. 2004) of each frame, averaged over frames. Gaussian-weighted local statistics
    (window 11, sigma 1.5; smaller frames use the largest odd window that fits), K1 = 0.01, K2 = 0.03, no
    sample-covariance correction, the map averaged over the valid region and the three colour channels.
    1 for identical frames; higher is better."""
    pred, target = _pair(pred, target)
    b, t, c, h, w = pred.shape
    size = min(window, h - (h + 1) % 2, w - (w + 1) % 2)
    g = _gaussian_window(size, sigma)
    rows, cols = _valid_filter_matrix(h, g), _valid_filter_matrix(w, g).T  # separable blur as two matmuls
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    out = torch.empty(b, t)
    for i in range(b):  # one clip at a time bounds memory at spec size
        x, y = pred[i], target[i]
        stats = rows @ torch.stack([x, y, x * x, y * y, x * y]) @ cols  # (5, T, C, H', W')
        mx, my, exx, eyy, exy = stats
        sxx, syy, sxy = exx - mx * mx, eyy - my * my, exy - mx * my
        s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
        out[i] = s.mean(dim=(1, 2, 3))
    return out.mean(dim=1)


# ---- temporal consistency -------------------------------------------------------------------------------------

def frame_change(video: torch.Tensor) -> torch.Tensor:
    """(B, T-1): mean absolute difference between consecutive frames (entry t is frame t+1 minus frame t)."""
    video = _batch(video).float()
    return (video[:, 1:] - video[:, :-1]).abs().mean(dim=(2, 3, 4))


def temporal_error(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B,): mean squared difference between predicted and true frame-to-frame differences. 0 when the
    prediction changes exactly as the truth does (even if offset by a constant); lower is better."""
    pred, target = _pair(pred, target)
    d = (pred[:, 1:] - pred[:, :-1]) - (target[:, 1:] - target[:, :-1])
    return d.pow(2).mean(dim=(1, 2, 3, 4))


def flicker_index(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B,): mean |frame difference| of the prediction ÷ that of the ground truth. 1 = as much change as the
    truth; above 1 the prediction flickers more, below it is too still. NaN where the truth does not move."""
    pred, target = _pair(pred, target)
    p, q = frame_change(pred).mean(dim=1), frame_change(target).mean(dim=1)
    return torch.where(q > 0, p / q.clamp_min(1e-12), torch.full_like(p, math.nan))


# ---- audio dependence ---------------------------------------------------------------------------------------

def shuffle_gap(pred: torch.Tensor, target: torch.Tensor, perm: torch.Tensor | None = None) -> float:
    """Error with the audio shuffled across the batch ÷ error with the right audio, errors being MSE summed
    over clips: sum_i MSE(pred[perm[i]], target[i]) / sum_i MSE(pred[i], target[i]).

    `pred` must be model(audio) for the whole batch; since every clip is decoded independently (eval mode),
    model(audio[perm]) == model(audio)[perm], so no second forward pass is needed. `perm` must be a derangement
    (default: every clip takes the previous clip's prediction). 1.0 means the output ignores the audio; higher
    is better. NaN if the predictions are exact (0 / 0) or the batch has a single clip."""
    pred, target = _pair(pred, target)
    n = len(pred)
    if n < 2:
        return math.nan
    perm = torch.roll(torch.arange(n), 1) if perm is None else torch.as_tensor(perm)
    if (perm == torch.arange(n)).any():
        raise ValueError("perm must move every clip (a derangement)")
    right = mse(pred, target).double().sum()
    wrong = mse(pred[perm], target).double().sum()
    return float(wrong / right) if right > 0 else math.nan


@dataclass
class SilenceStats:
    """Sums of frame change over transitions inside silence and inside sound, per clip (arrays of length B)."""
    silent_sum: np.ndarray
    silent_n: np.ndarray
    active_sum: np.ndarray
    active_n: np.ndarray

    def ratio(self, clips: np.ndarray | slice = slice(None)) -> float:
        """Pooled silence response over the chosen clips (those without silence contribute nothing)."""
        sn, an = self.silent_n[clips].sum(), self.active_n[clips].sum()
        if sn == 0 or an == 0:
            return math.nan
        return silence_ratio(self.silent_sum[clips].sum() / sn, self.active_sum[clips].sum() / an)

    def per_clip(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return silence_ratio(self.silent_sum / self.silent_n, self.active_sum / self.active_n)


def silence_ratio(silent_change, active_change):
    """silent ÷ active mean change (floats or arrays); NaN (undefined: the video does not move while sound
    plays) where the active change is below MOTION_FLOOR or either is NaN."""
    s, a = np.asarray(silent_change, dtype=np.float64), np.asarray(active_change, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(a >= MOTION_FLOOR, s / a, math.nan)
    return float(r) if r.ndim == 0 else r


def silence_stats(video: torch.Tensor, silent: np.ndarray | torch.Tensor) -> SilenceStats:
    """Frame change (see `frame_change`) summed over transitions t -> t+1 where both frames are silent, and
    over those where both frames have sound (transitions into or out of silence count for neither).
    `silent`: (T,) or (B, T) bool, True for frames inside a silent segment."""
    change = frame_change(video).double().numpy()
    silent = np.asarray(silent, dtype=bool).reshape(change.shape[0], -1)
    if silent.shape[1] != change.shape[1] + 1:
        raise ValueError(f"silent has {silent.shape[1]} frames, the video {change.shape[1] + 1}")
    both_silent = silent[:, 1:] & silent[:, :-1]
    both_active = ~silent[:, 1:] & ~silent[:, :-1]
    return SilenceStats((change * both_silent).sum(1), both_silent.sum(1), (change * both_active).sum(1),
                        both_active.sum(1))


def silence_response(video: torch.Tensor, silent: np.ndarray | torch.Tensor) -> float:
    """Mean visual change inside silent segments ÷ mean visual change while sound plays, pooled over the
    clips given. Below 1 the video calms down when the sound stops (lower is better); about 1 it does not care.
    NaN (a failure, not a perfect score) when there is no silence, or the video is still while sound plays:
    a constant video has nothing to calm down from."""
    return silence_stats(video, silent).ratio()


# ---- AV-Align -----------------------------------------------------------------------------------------------

AV_ALIGN_RATE = 22050
FARNEBACK = (0.5, 3, 15, 3, 5, 1.2, 0)  # pyr_scale, levels, winsize, iterations, poly_n, poly_sigma, flags
PEAK_THRESHOLD = 0.1


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


def onset_envelope(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """librosa's onset strength of the audio at 22,050 Hz, and the time of each of its frames (s)."""
    librosa = _librosa()
    env = librosa.onset.onset_strength(y=_mono_22k(audio, sample_rate), sr=AV_ALIGN_RATE)
    return env, librosa.frames_to_time(np.arange(len(env)), sr=AV_ALIGN_RATE)


def audio_peak_times(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Onset times (s) of mono audio at any rate: librosa `onset_strength` then `onset_detect`, defaults, at
    22,050 Hz (resampled with soxr_hq, as `librosa.load` does)."""
    librosa = _librosa()
    env = librosa.onset.onset_strength(y=_mono_22k(audio, sample_rate), sr=AV_ALIGN_RATE)
    frames = librosa.onset.onset_detect(onset_envelope=env, sr=AV_ALIGN_RATE)
    return librosa.frames_to_time(frames, sr=AV_ALIGN_RATE)


def as_uint8_frames(frames) -> Iterable[np.ndarray]:
    """RGB uint8 (H, W, 3) frames from uint8 (N, H, W, 3) arrays, float (T, 3, H, W) tensors in [0, 1], or any
    iterable of (H, W, 3) uint8 frames (passed through lazily)."""
    if isinstance(frames, torch.Tensor):
        if frames.dim() != 4 or frames.shape[1] != 3:
            raise ValueError(f"expected a (T, 3, H, W) tensor, not {tuple(frames.shape)}")
        if frames.is_floating_point():
            frames = frames.float().mul(255).round_().clamp_(0, 255)
        return frames.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    return frames


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
    from .media import iter_video_frames, load_audio_native, video_fps

    path = Path(path)
    fps = video_fps(path)  # fails early on a file without video
    audio, rate = load_audio_native(path)
    return av_align(audio, rate, iter_video_frames(path), fps)
