"""Bootstrap statistics over clips: percentile 95% intervals of an aggregate and of paired differences.

Clips are resampled with replacement (seeded); each metric's registry aggregation is recomputed on every
resample, for both models on the same resample when paired; the 2.5th and 97.5th percentiles are the interval.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..metrics import aggregate, goodness, per_clip

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


def resample_indices(n: int, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def _interval(samples: np.ndarray, min_share: float = 0.5) -> tuple[float, float]:
    """Percentile 95% interval of bootstrap samples; resamples where the statistic is undefined (e.g. no clip
    with silence drawn) are left out, and with fewer than `min_share` of them defined there is no interval."""
    samples = np.asarray(samples, dtype=np.float64).reshape(-1)
    finite = samples[np.isfinite(samples)]
    if len(finite) < 2 or len(finite) < min_share * len(samples):
        return math.nan, math.nan
    samples = finite
    lo, hi = np.percentile(samples, [2.5, 97.5])
    return float(lo), float(hi)


def confidence_interval(name: str, v: dict[str, np.ndarray], idx: np.ndarray) -> tuple[float, float]:
    """Bootstrap 95% interval of one model's aggregate."""
    return _interval(np.asarray(aggregate(name, v, idx), dtype=np.float64))


@dataclass
class Difference:
    metric: str
    point: float  # aggregate(B) - aggregate(A) on all clips
    ci95: tuple[float, float]
    verdict: str  # "B better", "A better" or "no clear difference"
    clips: int  # clips where both are defined
    per_clip: list[float]  # B - A of each clip's own value


def paired_difference(name: str, a: dict[str, np.ndarray], b: dict[str, np.ndarray], idx: np.ndarray,
                      label_a: str = "A", label_b: str = "B") -> Difference:
    point = aggregate(name, b) - aggregate(name, a)
    sa, sb = np.asarray(aggregate(name, a, idx)), np.asarray(aggregate(name, b, idx))
    ci = _interval(sb - sa)
    g_lo, g_hi = _interval(goodness(name, sb) - goodness(name, sa))
    verdict = "no clear difference"
    if g_lo > 0:
        verdict = f"{label_b} better"
    elif g_hi < 0:
        verdict = f"{label_a} better"
    with np.errstate(invalid="ignore"):
        diffs = per_clip(name, b) - per_clip(name, a)
    return Difference(name, float(point), ci, verdict, int(np.isfinite(diffs).sum()), diffs.tolist())
