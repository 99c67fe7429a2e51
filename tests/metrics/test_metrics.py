"""Metrics: the exact values they must take on known inputs, and AV-Align checked against a second,
independently written implementation of the paper's definition on real mp4 files."""
from __future__ import annotations

import math

import av
import numpy as np
import pytest
import torch

from audio2video import metrics
from audio2video.errors import MediaError
from audio2video.io.frames import write_mp4

FPS, RATE = 30, 16000
CLICKS = np.array([0.5, 1.0, 1.6, 2.1, 2.5, 3.1, 3.5])  # seconds


def rand_video(seed=0, t=6, size=24, batch=None):
    g = torch.Generator().manual_seed(seed)
    shape = (t, 3, size, size) if batch is None else (batch, t, 3, size, size)
    return torch.rand(shape, generator=g)


# ---- reconstruction and temporal ------------------------------------------------------------------------------

def test_identical_videos_score_perfectly():
    v = rand_video(batch=2)
    assert torch.equal(metrics.mse(v, v), torch.zeros(2))
    assert torch.isinf(metrics.psnr(v, v)).all() and (metrics.psnr(v, v) > 0).all()
    assert torch.allclose(metrics.ssim(v, v), torch.ones(2), atol=1e-5)
    assert torch.equal(metrics.temporal_error(v, v), torch.zeros(2))
    assert torch.allclose(metrics.flicker_index(v, v), torch.ones(2))


def test_reconstruction_values_match_their_definitions():
    target = torch.full((4, 3, 16, 16), 0.5)
    pred = target + 0.1  # every pixel off by 0.1
    assert metrics.mse(pred, target).item() == pytest.approx(0.01, rel=1e-5)
    assert metrics.psnr(pred, target).item() == pytest.approx(20.0, rel=1e-4)
    noisy = rand_video(1)
    assert metrics.ssim(noisy, rand_video(2)).item() < 0.2  # unrelated noise
    assert metrics.ssim(rand_video(1) * 0.9, rand_video(1)).item() > 0.9  # same picture, a little darker


def test_psnr_is_averaged_per_frame():
    target = torch.zeros(2, 3, 8, 8)
    pred = target.clone()
    pred[0] += 0.1  # frame 0: 20 dB; frame 1: 40 dB
    pred[1] += 0.01
    assert metrics.psnr(pred, target).item() == pytest.approx(30.0, rel=1e-4)


def test_temporal_error_ignores_a_constant_offset_and_flicker_measures_motion():
    v = rand_video(3)
    assert metrics.temporal_error(v * 0.5 + 0.2, v * 0.5).item() == pytest.approx(0.0, abs=1e-10)
    still = v[:1].expand_as(v)
    assert metrics.flicker_index(still, v).item() == 0.0
    assert metrics.flicker_index(v, still).isnan().item()  # truth does not move: undefined
    assert metrics.temporal_error(still, v).item() > 0


# ---- audio dependence -----------------------------------------------------------------------------------------

def test_shuffle_gap_is_one_when_the_output_ignores_the_audio():
    target = rand_video(4, batch=5)
    constant = rand_video(5)[None].expand(5, -1, -1, -1, -1)
    assert metrics.shuffle_gap(constant, target) == pytest.approx(1.0, abs=1e-9)
    close = target + 0.01 * rand_video(6, batch=5)
    assert metrics.shuffle_gap(close, target) > 10
    with pytest.raises(ValueError):
        metrics.shuffle_gap(close, target, perm=torch.arange(5))


def make_silent_mask(t=30, start=10, end=20):
    silent = np.zeros(t, dtype=bool)
    silent[start:end] = True
    return silent


def test_silence_response_rewards_calm_in_silence_and_fails_a_constant_video():
    silent = make_silent_mask()
    g = torch.Generator().manual_seed(0)
    moving = torch.rand(30, 3, 8, 8, generator=g)
    calm = moving.clone()
    calm[10:20] = calm[10]  # still while silent
    assert metrics.silence_response(calm, silent) == pytest.approx(0.0)
    assert metrics.silence_response(moving, silent) == pytest.approx(1.0, abs=0.1)
    constant = torch.full((30, 3, 8, 8), 0.5)
    assert math.isnan(metrics.silence_response(constant, silent)), "a constant video must not look perfect"
    assert math.isnan(metrics.silence_response(moving, np.zeros(30, dtype=bool))), "no silence: undefined"


def test_silence_stats_pool_over_clips():
    silent = np.stack([make_silent_mask(), np.zeros(30, dtype=bool)])
    video = rand_video(7, t=30, size=8, batch=2)
    stats = metrics.silence_stats(video, silent)
    assert stats.silent_n.tolist() == [9, 0] and stats.active_n.tolist() == [18, 29]
    per_clip = stats.per_clip()
    assert not math.isnan(per_clip[0]) and math.isnan(per_clip[1])


# ---- AV-Align -------------------------------------------------------------------------------------------------

def click_track(seconds=4.0, clicks=CLICKS, rate=RATE):
    rng = np.random.default_rng(0)
    y = np.zeros(int(seconds * rate), dtype=np.float32)
    n = int(0.03 * rate)
    for t in clicks:
        i = int(round(t * rate))
        y[i:i + n] += (0.8 * rng.standard_normal(n) * np.exp(-np.arange(n) / (0.005 * rate))).astype(np.float32)
    return y


def flash_video(seconds=4.0, clicks=CLICKS, shift=0, size=64):
    """A textured picture that flashes bright at each click (frame round(t * fps) + shift) and fades."""
    rng = np.random.default_rng(1)
    base = rng.random((size // 4, size // 4))
    base = np.kron(base, np.ones((4, 4)))  # blocky texture: something for optical flow to lock onto
    frames = []
    for k in range(int(seconds * FPS)):
        amp = max([0.5 ** (k - round(t * FPS) - shift) for t in clicks if k >= round(t * FPS) + shift] + [0.0])
        img = np.clip(255 * base * (0.3 + 0.7 * amp), 0, 255).astype(np.uint8)
        frames.append(np.repeat(img[:, :, None], 3, axis=2))
    return np.stack(frames)


@pytest.fixture(scope="module")
def av_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("av")
    audio = click_track()
    files = {"aligned": write_mp4(folder / "aligned.mp4", [flash_video()], FPS, audio=audio, sample_rate=RATE),
             "shifted": write_mp4(folder / "shifted.mp4", [flash_video(shift=10)], FPS, audio=audio,
                                  sample_rate=RATE)}
    from audio2video.data.procedural import engine_config_for, heldout_set
    from audio2video.models import ModelConfig

    ds = heldout_set(2, engine_config_for(ModelConfig(clip_seconds=2.0, frames=60, frame_size=64)))
    for k in range(2):
        s = ds.sample(k)
        frames = (s.video * 255).round().astype(np.uint8).transpose(0, 2, 3, 1)
        files[f"procedural{k}"] = write_mp4(folder / f"procedural{k}.mp4", [frames], FPS, audio=s.audio[0],
                                            sample_rate=s.song.sample_rate)
    return files


def test_flashes_on_the_clicks_align_and_shifted_flashes_do_not(av_files):
    aligned = metrics.av_align_file(av_files["aligned"])
    assert len(aligned.audio_peaks) == len(CLICKS) and len(aligned.video_peaks) == len(CLICKS)
    assert aligned.score >= 0.8
    shifted = metrics.av_align_file(av_files["shifted"])
    assert shifted.score <= 0.2


def test_in_memory_av_align_agrees_with_the_file(av_files):
    frames = flash_video()
    mem = metrics.av_align(click_track(), RATE, frames, FPS)
    assert mem.score == pytest.approx(metrics.av_align_file(av_files["aligned"]).score, abs=0.15)
    assert mem.score >= 0.8


def test_matching_is_one_to_one_and_strictly_inside_the_window():
    fps = 10.0
    # two audio peaks near one video peak: only one may match it, so the score stays <= 1
    score, m = metrics.av_align_score(np.array([1.0, 1.01]), np.array([1.0]), fps)
    assert m == 1 and score == pytest.approx(0.5)
    # exactly one frame apart is outside the open window
    assert metrics.match_peaks(np.array([1.0]), np.array([1.1 + 1e-9]), fps) == 0
    assert metrics.match_peaks(np.array([1.0]), np.array([1.09]), fps) == 1
    # the first unused video peak is taken, in time order
    assert metrics.match_peaks(np.array([1.0, 1.05]), np.array([0.95, 1.04]), fps) == 2
    assert math.isnan(metrics.av_align_score(np.zeros(0), np.zeros(0), fps)[0])


def test_video_peaks_are_strict_local_maxima_above_threshold():
    curve = np.array([0.0, 0.5, 0.2, 0.3, 0.3, 0.1, 0.05, 0.09, 0.0])
    assert metrics.video_peak_times(curve, 1.0).tolist() == [1.0]  # plateau and 0.09 < 0.1 are not peaks


# -- an independent implementation, written from the paper's definition with other code paths ---------------

def reference_av_align(path) -> float:
    import cv2
    import librosa

    # audio: PyAV packets decoded by hand, samples scaled to float, channels averaged, then librosa as in load()
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        parts = []
        for frame in container.decode(stream):
            a = frame.to_ndarray()
            if frame.format.is_planar:
                a = a.reshape(len(frame.layout.channels), -1)
            else:
                a = a.reshape(-1, len(frame.layout.channels)).T
            if a.dtype == np.int16:
                a = a / 32768.0
            elif a.dtype == np.int32:
                a = a / 2147483648.0
            parts.append(a.astype(np.float32))
    y = np.concatenate(parts, axis=1).mean(axis=0)
    y = librosa.resample(y, orig_sr=rate, target_sr=22050, res_type="soxr_hq")
    onset_env = librosa.onset.onset_strength(y=y, sr=22050)
    audio_peaks = list(librosa.frames_to_time(librosa.onset.onset_detect(onset_envelope=onset_env, sr=22050),
                                              sr=22050))

    # video: OpenCV's own decoder, BGR frames
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()

    def flow(img1, img2):
        g1, g2 = cv2.cvtColor(img1, cv2.COLOR_BGR2GRAY), cv2.cvtColor(img2, cv2.COLOR_BGR2GRAY)
        f = cv2.calcOpticalFlowFarneback(g1, g2, None, 0.5, 3, 15, 3, 5, 1.2, 0)
        return float(np.mean(np.sqrt(f[..., 0].astype(np.float64) ** 2 + f[..., 1].astype(np.float64) ** 2)))

    traj = [flow(frames[0], frames[1])] + [flow(frames[i - 1], frames[i]) for i in range(1, len(frames))]
    video_peaks = []
    for i in range(1, len(traj) - 1):
        if traj[i - 1] < traj[i] and traj[i] > traj[i + 1] and traj[i] >= 0.1:
            video_peaks.append(i / fps)

    used = [False] * len(video_peaks)
    hits = 0
    for a in sorted(audio_peaks):
        for j, v in enumerate(video_peaks):
            if not used[j] and v - 1 / fps < a < v + 1 / fps:
                used[j] = True
                hits += 1
                break
    return hits / (len(audio_peaks) + len(video_peaks) - hits)


def test_av_align_agrees_with_an_independent_implementation(av_files):
    for name, path in av_files.items():
        ours = metrics.av_align_file(path).score
        theirs = reference_av_align(path)
        assert abs(ours - theirs) <= 0.02, (name, ours, theirs)


def test_av_align_file_errors_are_one_line(tmp_path, av_files):
    from conftest import write_audio, write_video

    with pytest.raises(MediaError, match="no such file"):
        metrics.av_align_file(tmp_path / "missing.mp4")
    with pytest.raises(MediaError, match="has no audio stream"):
        metrics.av_align_file(write_video(tmp_path / "silent.mp4", seconds=0.5, with_audio=False))
    with pytest.raises(MediaError, match="has no video stream"):
        metrics.av_align_file(write_audio(tmp_path / "sound.wav", seconds=0.5))
