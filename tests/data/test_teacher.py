"""The audio style as a teacher: motion locked to the onsets, local and seamless, level-independent, colourful,
and carrying its control signals."""
import numpy as np
import pytest

from audio2video.data import (CONTROL_NAMES, ClipSpec, MusicConfig, compute_features, generate_music, heldout_set,
                              make_sample, normalize_level)
from audio2video.data.features import CONTEXT_SECONDS
from audio2video.data.song import render_range, render_song, song_features
from audio2video.data.style import audio_style
from audio2video.data.visualizers.compositor import composite

SPEC = ClipSpec()


def long_song(seconds: float, seed: int = 11) -> np.ndarray:
    """Procedural music of any length: consecutive 3 s songs joined (different tempi and keys)."""
    parts = [generate_music(seed + k, SPEC, MusicConfig(silence_prob=0.3)).waveform
             for k in range(int(np.ceil(seconds / SPEC.duration)))]
    return np.concatenate(parts)[:int(seconds * SPEC.sample_rate)]


def whole_frames(audio: np.ndarray) -> np.ndarray:
    return np.concatenate(list(render_song(song_features(audio, SPEC, piece_seconds=1000), SPEC)))


def test_a_song_in_pieces_gives_the_same_features_and_frames_as_the_whole_song():
    audio = long_song(14.0)
    whole = song_features(audio, SPEC, piece_seconds=1000)          # one piece
    pieces = song_features(audio, SPEC, piece_seconds=3)            # 3 s pieces with context on both sides
    for name, v in vars(whole).items():
        if isinstance(v, np.ndarray):
            np.testing.assert_allclose(getattr(pieces, name), v, atol=1e-3, rtol=1e-4, err_msg=name)
    assert np.array_equal(whole.peaks, pieces.peaks)
    a = np.concatenate(list(render_song(whole, SPEC, block=90)))
    b = np.concatenate(list(render_song(pieces, SPEC, block=37)))    # other block boundaries, same frames
    assert np.abs(a - b).max() < 1e-4


def test_overlapping_windows_agree_in_their_overlaps_given_context():
    """A window rendered from its own audio plus CONTEXT_SECONDS either side equals the whole song's frames;
    without context only the frames near its edges may differ."""
    audio = long_song(12.0)
    frames = whole_frames(audio)
    sr, fps = SPEC.sample_rate, SPEC.fps
    for start in (2, 4, 7):                                          # 3 s windows starting at whole seconds
        lo, hi = max(0, start - CONTEXT_SECONDS), min(12, start + 3 + CONTEXT_SECONDS)
        tl = compute_features(audio[lo * sr:hi * sr], SPEC)
        window = render_range(tl, audio_style(), SPEC, (start - lo) * fps, (start - lo + 3) * fps)
        assert np.abs(window - frames[start * fps:(start + 3) * fps]).max() < 1e-4
    # an 8 s window with no context at all: its middle, CONTEXT_SECONDS from either edge, is the song's
    tl = compute_features(audio[2 * sr:10 * sr], SPEC)
    alone = composite(tl, audio_style(), SPEC)
    middle = slice(CONTEXT_SECONDS * fps, (8 - CONTEXT_SECONDS) * fps)
    assert np.abs(alone[middle] - frames[2 * fps:10 * fps][middle]).max() < 1e-4
    # and the edges do depend on the context: this test could fail
    assert np.abs(alone[:5] - frames[2 * fps:2 * fps + 5]).max() > 1e-3


def test_level_independent_and_never_white():
    """The same music 18 dB louder (as mastered mixes are) gives the same features and nearly the same frames."""
    audio = long_song(6.0, seed=3)
    loud = audio * 8.0                                               # +18 dB, floats: no clipping
    quiet_tl, loud_tl = compute_features(audio, ClipSpec(duration=6.0)), compute_features(loud, ClipSpec(duration=6.0))
    assert np.array_equal(quiet_tl.peaks, loud_tl.peaks)
    for name in ("loudness", "bands", "level", "energy", "onset"):
        assert np.abs(getattr(quiet_tl, name) - getattr(loud_tl, name)).max() < 0.02, name
    spec6 = ClipSpec(duration=6.0)
    a, b = composite(quiet_tl, audio_style(), spec6), composite(loud_tl, audio_style(), spec6)
    assert np.abs(a - b).mean() < 0.005
    assert b.max() < 1.0
    white = (b.min(axis=1) > 0.9).mean(axis=(1, 2))                  # share of near-white pixels per frame
    assert white.max() < 0.01
    x = normalize_level(loud, SPEC.sample_rate)
    assert abs(20 * np.log10(np.sqrt(np.mean(x ** 2))) + 20) < 3     # normalised to about -20 dBFS


def test_colourful():
    sats = []
    for k in range(6):
        v = make_sample(5, k).video
        hi, lo = v.max(axis=1), v.min(axis=1)
        sats.append(np.mean(np.where(hi > 0, (hi - lo) / np.maximum(hi, 1e-6), 0)))
    assert np.mean(sats) >= 0.4, sats


def test_motion_decays_monotonically_between_onsets():
    """The frame-to-frame change of each onset driver jumps on an onset and then only falls until the next."""
    from audio2video.data.controls import control_signals

    for k in range(8):
        s = make_sample(2, k)
        c = control_signals(s.timeline)
        peaks = np.nonzero(s.timeline.peaks)[0]
        for name in ("kick", "twist", "drive"):
            motion = np.abs(np.diff(c[:, CONTROL_NAMES.index(name)], prepend=0.0))
            for a, b in zip(peaks, list(peaks[1:]) + [len(motion)]):
                gap = motion[a:b]
                assert np.all(np.diff(gap) <= 1e-7), (k, name, a, b)
                assert gap[0] > 0


def test_procedural_av_align_and_silence():
    """The teacher's own AV-Align on held-out procedural clips (the metric's optical flow against librosa's
    onsets) reaches 0.45, and every clip with a silence goes still in it."""
    pytest.importorskip("librosa")
    pytest.importorskip("cv2")
    import torch

    from audio2video.metrics import av_align

    ds = heldout_set(12)
    scores = [av_align(ds.sample(k).audio[0], SPEC.sample_rate, torch.from_numpy(ds.sample(k).video), SPEC.fps).score
              for k in range(12)]
    assert np.nanmean(scores) >= 0.45, scores


def test_samples_carry_their_control_signals():
    s = make_sample(0, 3)
    assert s.controls.shape == (SPEC.num_frames, len(CONTROL_NAMES)) and s.controls.dtype == np.float32
    onset = s.controls[:, CONTROL_NAMES.index("onset")]
    assert np.array_equal(onset > 0, s.timeline.peaks)
    kick = s.controls[:, CONTROL_NAMES.index("kick")]
    assert np.all(kick[~np.convolve(s.timeline.peaks, np.ones(12), mode="full")[:SPEC.num_frames].astype(bool)] == 0)
