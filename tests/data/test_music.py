"""The music generator and the feature timeline: seeded, normalised, and honest about what was played."""
import numpy as np
import pytest

from audio2video.data import ClipSpec, MusicConfig, compute_features, generate_music

SILENT = MusicConfig(silence_prob=1.0, dropout_prob=0.0)
DROPOUT = MusicConfig(silence_prob=0.0, dropout_prob=1.0)


def test_same_seed_same_song_different_seed_different_song():
    a, b, c = generate_music(11), generate_music(11), generate_music(12)
    assert np.array_equal(a.waveform, b.waveform) and np.array_equal(a.onsets, b.onsets)
    assert a.events == b.events
    assert not np.array_equal(a.waveform, c.waveform)


@pytest.mark.parametrize("spec", [ClipSpec(), ClipSpec(sample_rate=8000, duration=1.5, fps=24)])
def test_sizes_tempo_and_loudness(spec):
    cfg = MusicConfig()
    for seed in range(6):
        song = generate_music(seed, spec)
        assert song.waveform.shape == (spec.num_samples,) and song.waveform.dtype == np.float32
        assert np.abs(song.waveform).max() <= cfg.peak + 1e-6          # never clips
        assert cfg.tempo_range[0] <= song.tempo <= cfg.tempo_range[1]
        t = np.arange(spec.num_samples) / spec.sample_rate
        audible = np.ones(spec.num_samples, bool)          # everything outside the silence events
        for e in song.events:
            if e["type"] == "silence":
                audible &= ~((t >= e["start"]) & (t < e["end"]))
        rms = np.sqrt(np.mean(song.waveform[audible].astype(np.float64) ** 2))
        assert 0.3 * cfg.target_rms < rms <= 1.01 * cfg.target_rms       # normalised (or limited by the peak)
        assert all(a.shape == (spec.num_frames,) for a in song.activity.values())
        assert np.all(np.diff(song.onsets) > 0) and np.all((song.onsets >= 0) & (song.onsets < spec.duration))


def test_silence_segments_are_silent_and_have_no_onsets():
    spec = ClipSpec()
    for seed in range(5):
        song = generate_music(seed, spec, SILENT)
        (event,) = [e for e in song.events if e["type"] == "silence"]
        s0, s1 = int(round(event["start"] * spec.sample_rate)), int(round(event["end"] * spec.sample_rate))
        assert np.all(song.waveform[s0:s1] == 0)
        assert np.abs(song.waveform[:s0]).max() > 0.05 and np.abs(song.waveform[s1:]).max() > 0.05
        assert not np.any((song.onsets >= event["start"] + 1e-6) & (song.onsets < event["end"] - 1e-6))
        assert song.silent.sum() >= 5
        assert not any(a[song.silent].any() for a in song.activity.values())


def test_dropout_removes_a_part_which_comes_back():
    spec = ClipSpec()
    for seed in range(5):
        song = generate_music(seed, spec, DROPOUT)
        (event,) = song.events
        part = event["part"]
        onsets = song.part_onsets[part]
        assert not np.any((onsets >= event["start"] + 1e-6) & (onsets < event["end"] - 1e-6))
        assert np.any(onsets < event["start"]) and np.any(onsets >= event["end"] - 1e-6)
        # the part is silent in the middle of its dropout (tails of notes before it may ring into the start)
        mid = int((event["start"] + event["end"]) / 2 * spec.fps)
        if part != "pad":
            assert not song.activity[part][mid]


def test_features_shapes_and_silence():
    spec = ClipSpec()
    song = generate_music(3, spec, SILENT)
    tl = compute_features(song.waveform, spec, n_bands=10)
    T = spec.num_frames
    for name in ("rms", "gain_db", "loudness", "onset", "peaks", "strength", "low", "centroid", "brightness",
                 "level", "hue"):
        assert getattr(tl, name).shape == (T,), name
    assert tl.energy.shape == (T, 3) and tl.chroma.shape == (T, 12)
    assert tl.bands.shape == (T, 10) and len(tl.band_edges) == 11
    for name in ("loudness", "onset", "strength", "low", "brightness", "bands", "level", "energy", "hue"):
        v = getattr(tl, name)
        assert v.min() >= 0 and v.max() <= 1, name
    rows = tl.chroma.sum(axis=1)
    assert np.all((np.abs(rows - 1) < 1e-5) | (rows == 0)) and (rows > 0).sum() > T // 2
    assert np.all(tl.loudness[song.silent] == 0) and np.all(tl.bands[song.silent] == 0)
    assert not tl.peaks[song.silent].any()
    assert tl.loudness[~song.silent].mean() > 0.4
    with pytest.raises(ValueError):
        compute_features(song.waveform, spec, n_bands=4)


def test_feature_rms_matches_the_waveform():
    spec = ClipSpec()
    song = generate_music(5, spec)
    tl = compute_features(song.waveform, spec)
    hop = spec.sample_rate / spec.fps
    for i in (0, 17, 45, 89):
        seg = song.waveform[int(round(i * hop)):int(round((i + 1) * hop))].astype(np.float64)
        assert tl.rms[i] == pytest.approx(np.sqrt(np.mean(seg ** 2)), rel=1e-4, abs=1e-7)


def test_onset_peaks_match_the_true_onsets():
    spec = ClipSpec()
    recall, precision = [], []
    for seed in range(10):
        song = generate_music(seed, spec)
        tl = compute_features(song.waveform, spec)
        true = np.unique(np.floor(song.onsets * spec.fps).astype(int))
        found = np.nonzero(tl.peaks)[0]
        # within [-1, +2] frames: the detector mirrors librosa's (what AV-Align scores against), which places an
        # onset up to two frames after the note starts
        recall.append(np.mean([np.any((found - o >= -1) & (found - o <= 2)) for o in true]) if len(found) else 0.0)
        precision.append(np.mean([np.any((f - true >= -1) & (f - true <= 2)) for f in found]) if len(found) else 0.0)
    assert np.mean(recall) > 0.9 and np.mean(precision) > 0.95


def test_tempo_estimate_is_the_tempo_up_to_an_octave():
    spec = ClipSpec()
    errors = []
    for seed in range(12):
        song = generate_music(seed, spec)
        tl = compute_features(song.waveform, spec)
        octave = np.log2(tl.tempo / song.tempo)
        errors.append(abs(octave - np.round(octave)))
    assert np.median(errors) < 0.08   # within about 6% of the tempo, or of its double or half
