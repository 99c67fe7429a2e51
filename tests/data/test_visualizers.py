"""The visualizers and the compositor: every picture follows the sound, and settles in silence."""
import numpy as np
import pytest

from audio2video.data import (VISUALIZERS, ClipSpec, EngineConfig, MusicConfig, composite, compute_features,
                              generate_music, make_sample, make_style, seed_style)
from audio2video.data.style import audio_style

SPEC = ClipSpec()
SILENT = MusicConfig(silence_prob=1.0)
ONSET_DRIVEN = [n for n, v in VISUALIZERS.items() if "onset" in v.drives]
LOUDNESS_DRIVEN = [n for n, v in VISUALIZERS.items() if "loudness" in v.drives]


def _clip(seed, config=None):
    song = generate_music(seed, SPEC, config)
    return song, compute_features(song.waveform, SPEC)


_CLIPS = {}


def clip(seed, config=None):
    key = (seed, id(config))
    if key not in _CLIPS:
        _CLIPS[key] = _clip(seed, config)
    return _CLIPS[key]


def near(found, onset, reverse=False):
    """Whether a frame in `found` is within [-1, +2] frames of `onset` (the detector's latency: it mirrors
    librosa's, which places onsets up to two frames after the note starts); `reverse` asks the converse."""
    d = (onset - np.asarray(found)) if reverse else (np.asarray(found) - onset)
    return bool(np.any((d >= -1) & (d <= 2)))


def change(frames):
    """Visual change per frame: mean absolute difference from the previous frame (index t for t-1 -> t)."""
    d = np.abs(np.diff(frames.reshape(len(frames), -1), axis=0)).mean(axis=1)
    return np.concatenate([[0.0], d])


def test_there_are_at_least_eight_and_each_is_driven_by_something():
    assert len(VISUALIZERS) >= 8
    assert ONSET_DRIVEN and LOUDNESS_DRIVEN
    assert all(v.drives for v in VISUALIZERS.values())


@pytest.mark.parametrize("name", sorted(VISUALIZERS))
def test_shape_range_and_purity(name):
    v = VISUALIZERS[name]
    _, tl = clip(1)
    rng = np.random.default_rng(0)
    p = {k: q.draw(rng) for k, q in v.params.items()}
    a = v(tl, p, 48, 64)
    assert a.shape == (SPEC.num_frames, 48, 64) and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 1 and a.max() > 0.2
    assert np.array_equal(a, v(tl, p, 48, 64))                   # a pure function of (timeline, params)
    half = v(tl, p, 48, 64, gain=np.full(SPEC.num_frames, 0.5, np.float32))
    assert np.allclose(half, 0.5 * a, atol=1e-5)


@pytest.mark.parametrize("name", sorted(VISUALIZERS))
def test_silence_is_still(name):
    """Visual change inside silences (after a settling time of 5 frames) < 1/5 of that in sounding frames."""
    v = VISUALIZERS[name]
    for seed in (3, 4, 7):
        song, tl = clip(seed, SILENT)
        assert song.silent.sum() >= 8
        rng = np.random.default_rng(seed)
        d = change(v(tl, {k: q.draw(rng) for k, q in v.params.items()}))
        settled = song.silent & np.concatenate([np.zeros(5, bool), song.silent[:-5]])
        sounding = ~song.silent
        sounding[0] = False
        assert d[settled].mean() < d[sounding].mean() / 5, (seed, d[settled].mean(), d[sounding].mean())


@pytest.mark.parametrize("name", ONSET_DRIVEN)
def test_onset_visualizers_move_on_the_true_onsets(name):
    v = VISUALIZERS[name]
    recall, precision = [], []
    for seed in range(6):
        song, tl = clip(seed)
        d = change(v(tl))
        # prominent peaks of visual change: local maxima well above the change around them
        prev, nxt = np.concatenate([[0], d[:-1]]), np.concatenate([d[1:], [0]])
        around = np.median(np.lib.stride_tricks.sliding_window_view(np.pad(d, 3, mode="edge"), 7), axis=1)
        peaks = np.nonzero((d >= prev) & (d > nxt) & (d > 1.3 * around) & (d > 0.2 * d.max()))[0]
        true = np.unique(np.floor(song.onsets * SPEC.fps).astype(int))            # sharp note starts
        any_note = np.unique(np.floor(np.concatenate(list(song.part_onsets.values())) * SPEC.fps).astype(int))
        recall.append(np.mean([near(peaks, o) for o in true]))
        precision.append(np.mean([near(any_note, p, reverse=True) for p in peaks]))
    assert np.mean(recall) > 0.7 and np.mean(precision) > 0.8, (recall, precision)


@pytest.mark.parametrize("name", LOUDNESS_DRIVEN)
def test_loudness_visualizers_follow_rms(name):
    v = VISUALIZERS[name]
    for seed in (2, 3, 5):
        song, tl = clip(seed, SILENT)
        hop = SPEC.sample_rate / SPEC.fps
        x = song.waveform.astype(np.float64)
        rms = np.array([np.sqrt(np.mean(x[int(round(i * hop)):int(round((i + 1) * hop))] ** 2))
                        for i in range(SPEC.num_frames)])
        brightness = v(tl).mean(axis=(1, 2))
        assert np.corrcoef(brightness, rms)[0, 1] > 0.5


def test_composite_styles():
    song, tl = clip(6)
    a = composite(tl, audio_style(tl), SPEC)
    assert a.shape == (SPEC.num_frames, 3, SPEC.height, SPEC.width) and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 1
    assert np.array_equal(a, composite(tl, audio_style(tl), SPEC))
    s1, s2 = seed_style(np.random.default_rng(1)), seed_style(np.random.default_rng(2))
    assert s1.to_dict() != s2.to_dict()
    for mode in ("seed", "audio"):
        for k in range(12):
            v = make_sample(9, k, config=EngineConfig(style=mode)).video
            assert v.min() >= 0 and v.max() <= 1


def test_audio_style_is_a_function_of_the_audio():
    """The audio style ignores the sample's RNG (same sound, different RNGs -> identical frames) and different
    sounds look different (their colours and pictures differ)."""
    hues, videos = [], []
    for seed in range(6):
        _, tl = clip(seed)
        a = composite(tl, make_style("audio", tl, np.random.default_rng(seed)), SPEC)
        b = composite(tl, make_style("audio", tl, np.random.default_rng(1000 + seed)), SPEC)
        assert np.array_equal(a, b)
        hues.append(float(np.median(tl.hue)))
        videos.append(a)
    assert len({round(h, 2) for h in hues}) >= 4, hues           # the harmony colours each song
    for i in range(len(videos) - 1):
        assert np.abs(videos[i].mean(axis=(0, 2, 3)) - videos[i + 1].mean(axis=(0, 2, 3))).max() > 0.01


def test_a_composited_clip_settles_in_silence():
    tested = 0
    for mode in ("audio", "seed"):
        for k in range(6):
            s = make_sample(4, k, config=EngineConfig(style=mode, music=SILENT))
            d = change(s.video)
            silent = s.song.silent
            settled = silent & np.concatenate([np.zeros(5, bool), silent[:-5]])
            if settled.sum() < 3:
                continue
            sounding = ~silent
            sounding[0] = False
            assert d[settled].mean() < d[sounding].mean() / 5
            tested += 1
    assert tested >= 6, "too few clips had a silence long enough to test"
