"""Corrected p-values and effect sizes against independent references (statsmodels, scipy, brute force)."""

import itertools

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep

from analysis import contrasts

# a known case: ties, a p of 1, unsorted
P = [0.01, 0.04, 0.03, 0.005, 0.2, 0.04, 1.0, 0.0001]


def test_holm_matches_statsmodels():
    assert contrasts.adjust(P, "holm") == pytest.approx(multipletests(P, method="holm")[1])
    # step-down by hand for the smallest: 8 x 0.0001; the largest never exceeds 1
    assert contrasts.adjust(P)[-1] == pytest.approx(0.0008) and contrasts.adjust(P)[6] == 1.0


def test_benjamini_hochberg_matches_scipy_and_statsmodels():
    adjusted = contrasts.adjust(P, "bh")
    assert adjusted == pytest.approx(stats.false_discovery_control(P, method="bh"))
    assert adjusted == pytest.approx(multipletests(P, method="fdr_bh")[1])


def test_missing_p_values_are_not_counted():
    out = contrasts.adjust([0.01, np.nan, 0.02])
    assert np.isnan(out[1]) and out[[0, 2]] == pytest.approx(multipletests([0.01, 0.02], method="holm")[1])
    assert np.isnan(contrasts.adjust([np.nan])).all() and len(contrasts.adjust([])) == 0
    with pytest.raises(ValueError, match="unknown correction 'bonferonni'"):
        contrasts.adjust(P, "bonferonni")


def test_rate_difference_matches_statsmodels_newcombe():
    for k1, n1, k2, n2 in [(5, 6, 1, 6), (0, 6, 0, 6), (20, 20, 3, 20), (7, 10, 9, 12)]:
        d, lo, hi = contrasts.rate_difference(k1, n1, k2, n2)
        ref = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
        assert d == pytest.approx(k1 / n1 - k2 / n2) and (lo, hi) == pytest.approx(ref)
    assert np.isnan(contrasts.rate_difference(1, 0, 1, 2)).all()


def test_cliffs_delta_against_every_pair():
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.integers(0, 5, size=7).astype(float)
        y = rng.integers(0, 5, size=5).astype(float)
        x[0] = -np.inf  # a failed run: below every value
        wins = sum((a > b) + 0.5 * (a == b) for a, b in itertools.product(x, y)) / (len(x) * len(y))
        effect = contrasts.rank_effect(x, y)
        assert effect["cles"] == pytest.approx(wins) and effect["cliffs_delta"] == pytest.approx(2 * wins - 1)


def test_mann_whitney_of_equal_samples_and_failed_runs():
    assert contrasts.mann_whitney([1, 2], [2, 1]) == 1.0
    # failed runs (-inf) rank below every value: 3 of 3 failures against 3 successes
    p = contrasts.mann_whitney([5.0, 6, 7], [-np.inf] * 3, "greater")
    assert p == pytest.approx(stats.mannwhitneyu([5, 6, 7], [0, 0, 0], alternative="greater").pvalue)
