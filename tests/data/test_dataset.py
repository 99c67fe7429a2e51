"""The procedural dataset: reproducible per index, sharded without duplicates, with a disjoint held-out set."""
import itertools

import pytest
import torch
from torch.utils.data import DataLoader

from audio2video.data import (ClipSpec, EngineConfig, ProceduralDataset, collate_with_meta, heldout_set,
                              make_sample, sample_rng)

TINY = EngineConfig(spec=ClipSpec(duration=0.4, height=32, width=32))   # 12 frames of 32x32


def fingerprint(audio, video):
    return (audio.numpy().tobytes().__hash__(), video.numpy().tobytes().__hash__())


def test_full_size_sample_types_and_ranges():
    audio, video = ProceduralDataset(length=1, base_seed=3)[0]
    assert audio.shape == (1, 48000) and audio.dtype == torch.float32
    assert video.shape == (90, 3, 128, 128) and video.dtype == torch.float32
    assert 0 <= video.min() and video.max() <= 1 and audio.abs().max() < 1


def test_same_index_same_sample_different_index_or_seed_different_sample():
    ds = ProceduralDataset(length=4, base_seed=5, config=TINY)
    a, b = ds[2], ProceduralDataset(length=4, base_seed=5, config=TINY)[2]
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    c, d = ds[3], ProceduralDataset(length=4, base_seed=6, config=TINY)[2]
    assert not torch.equal(a[0], c[0]) and not torch.equal(a[1], c[1])
    assert not torch.equal(a[0], d[0])


def test_metadata():
    ds = ProceduralDataset(length=2, base_seed=1, config=TINY, return_meta=True)
    _, _, meta = ds[1]
    assert meta["base_seed"] == 1 and meta["index"] == 1 and meta["split"] == "train"
    assert 1 <= len(meta["visualizers"]) <= 3 and isinstance(meta["events"], list)
    assert meta["style"]["mode"] == "audio" and "tempo" in meta["music"]


def _collect(ds, workers):
    loader = DataLoader(ds, batch_size=None, num_workers=workers)
    return {fingerprint(a, v): m["index"] for a, v, m in loader}


def test_no_duplicates_across_workers_and_ranks_and_the_same_samples_whatever_the_sharding():
    n = 13
    reference = {}
    for k in range(n):
        a, v, _ = ProceduralDataset(length=n, base_seed=9, config=TINY, return_meta=True)[k]
        reference[fingerprint(a, v)] = k
    assert len(reference) == n                                   # all distinct
    seen = []
    for rank in range(2):                                        # 2 ranks x 2 workers
        ds = ProceduralDataset(length=n, base_seed=9, config=TINY, rank=rank, world_size=2, return_meta=True)
        got = _collect(ds, workers=2)
        seen += list(got.items())
    assert len(seen) == n and len({f for f, _ in seen}) == n    # every sample once, none twice
    assert dict(seen) == reference                               # sample k is sample k, however it was sharded
    assert _collect(ProceduralDataset(length=n, base_seed=9, config=TINY, return_meta=True), 0) == reference


def test_indices_are_dealt_across_ranks_and_workers():
    ds = ProceduralDataset(length=10, rank=1, world_size=3, config=TINY)
    assert list(ds.indices()) == [1, 4, 7]
    ds = ProceduralDataset(length=None, rank=0, world_size=2, start=100, config=TINY)
    assert list(itertools.islice(ds.indices(), 3)) == [100, 102, 104]
    with pytest.raises(ValueError):
        list(ProceduralDataset(length=3, rank=2, world_size=2).indices())


def test_finite_and_infinite():
    ds = ProceduralDataset(length=3, config=TINY)
    assert len(ds) == 3 and len(list(ds)) == 3
    with pytest.raises(IndexError):
        ds[3]
    endless = ProceduralDataset(length=None, config=TINY)
    with pytest.raises(TypeError):
        len(endless)
    assert len(list(itertools.islice(iter(endless), 5))) == 5
    batch = next(iter(DataLoader(ProceduralDataset(length=4, config=TINY, return_meta=True), batch_size=2,
                                 collate_fn=collate_with_meta)))
    assert batch[0].shape == (2, 1, 6400) and batch[1].shape == (2, 12, 3, 32, 32) and len(batch[2]) == 2


def test_heldout_is_fixed_and_disjoint_from_training():
    val1, val2 = heldout_set(3, config=TINY), heldout_set(3, config=TINY)
    assert all(torch.equal(val1[k][0], val2[k][0]) for k in range(3))
    val_audio = {val1[k][0].numpy().tobytes() for k in range(3)}
    # the held-out stream of (seed, k) is never the training stream of (seed, k), whatever the seed
    train = ProceduralDataset(length=3, base_seed=val1.base_seed, config=TINY)
    assert not val_audio & {train[k][0].numpy().tobytes() for k in range(3)}
    for seed, k in [(0, 0), (1, 5), (val1.base_seed, 2)]:
        assert sample_rng(seed, k, "train").random() != sample_rng(seed, k, "heldout").random()


def test_seed_style_mode_and_bad_arguments():
    s = make_sample(0, 0, config=EngineConfig(spec=TINY.spec, style="seed"))
    assert s.style.mode == "seed" and s.video.shape == (12, 3, 32, 32)
    with pytest.raises(ValueError):
        EngineConfig(style="nope")
    with pytest.raises(ValueError):
        ProceduralDataset(split="test")
