"""Intervals against hand computations: Wilson's formula, and the bootstrap against
a direct resampling of the seeds (every resample enumerated, or drawn with numpy)."""

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from analysis import intervals

Z = stats.norm.ppf(0.975)


def wilson_by_hand(k: int, n: int, z: float = Z) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize(("k", "n"), [(0, 3), (2, 3), (3, 3), (1, 5), (5, 5), (7, 12)])
def test_wilson_matches_the_formula(k, n):
    assert intervals.wilson(k, n) == pytest.approx(wilson_by_hand(k, n), abs=1e-12)


def test_wilson_with_three_seeds_cannot_tell_all_from_none():
    none, all_ = intervals.wilson(0, 3), intervals.wilson(3, 3)
    assert none[0] == 0 and none[1] == pytest.approx(Z**2 / (3 + Z**2))  # 0/n: upper end z^2 / (n + z^2)
    assert intervals.overlap(none, all_)  # 3/3 against 0/3 is not significant
    assert not intervals.overlap(intervals.wilson(0, 4), intervals.wilson(4, 4))  # 4 seeds each is
    assert math.isnan(intervals.wilson(0, 0)[0])


def exact_bootstrap(values, statistic, confidence=0.95):
    """The percentile interval of the bootstrap distribution, every resample enumerated."""
    resamples = [statistic(np.array(c)) for c in itertools.product(values, repeat=len(values))]
    alpha = (1 - confidence) / 2
    return np.quantile(resamples, alpha), np.quantile(resamples, 1 - alpha)


def test_bootstrap_of_the_median_matches_direct_resampling():
    values = [3.0, 1.0, 7.0, 4.0]
    want = exact_bootstrap(values, np.median)  # 256 equally likely resamples
    assert intervals.bootstrap(values, "median", resamples=20000) == pytest.approx(want, abs=0.51)
    # three seeds: the median of a resample is the smallest seed with probability 7/27 > 2.5%,
    # so the interval is the seed range
    assert intervals.bootstrap([1.0, 2.0, 9.0], "median") == (1.0, 9.0)
    assert exact_bootstrap([1.0, 2.0, 9.0], np.median) == (1.0, 9.0)


def test_bootstrap_of_the_mean_matches_numpy_resampling():
    values = np.random.default_rng(3).gamma(2.0, size=12)
    rng = np.random.default_rng(11)
    means = values[rng.integers(0, len(values), size=(40000, len(values)))].mean(axis=1)
    want = np.quantile(means, [0.025, 0.975])
    got = intervals.bootstrap(values, "mean", resamples=40000, seed=5)
    assert got == pytest.approx(tuple(want), abs=0.02 * np.ptp(values))
    assert got[0] < values.mean() < got[1]
    # reproducible: the same seed, the same interval
    assert intervals.bootstrap(values, "mean", seed=1) == intervals.bootstrap(values, "mean", seed=1)


def test_degenerate_samples():
    assert all(math.isnan(x) for x in intervals.bootstrap([4.0]))  # one seed: no interval
    assert intervals.bootstrap([4.0, 4.0, 4.0]) == (4.0, 4.0)
    assert intervals.bootstrap([1.0, np.nan, 3.0, np.inf], "mean") == pytest.approx((1.0, 3.0))  # finite values only
    assert intervals.overlap((0, 1), (1, 2)) and not intervals.overlap((0, 1), (1.5, 2))
    assert intervals.overlap((-np.inf, 1), (0.5, 3)) and intervals.overlap((np.nan, 1), (0, 1)) is None
    assert intervals.interval_text(2.0, 1.0, 3.0) == "2 [1, 3]" and intervals.interval_text(2.0, np.nan, np.nan) == "2"
