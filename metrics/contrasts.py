"""Contrasts between groups of seeds: p-values corrected for the number of tests in a
table, and effect sizes to read beside them.

- ``adjust``: Holm-Bonferroni (the default; controls the family-wise error rate:
  the chance of any false "significant" in the table) or Benjamini-Hochberg
  (``scipy.stats.false_discovery_control``; controls the expected share of false
  ones among those called significant), over every p-value of one table.
- ``rank_effect``: Cliff's delta and the common-language effect size, from the
  Mann-Whitney U statistic (``scipy.stats.mannwhitneyu``): the probability that a
  seed of x beats a seed of y, ties counted half.
- ``rate_difference``: the difference of two success rates with Newcombe's hybrid
  score interval (built from the two Wilson intervals; his method 10).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from metrics import intervals

CORRECTIONS = {"holm": "Holm-Bonferroni", "bh": "Benjamini-Hochberg"}
CONTROLS = {"holm": "family-wise error rate", "bh": "false discovery rate"}


def adjust(p_values, method: str = "holm") -> np.ndarray:
    """Adjusted p-values (same order) of one family of tests; NaN stays NaN and is not counted."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if not ok.any():
        return out
    if method == "bh":
        out[ok] = stats.false_discovery_control(p[ok], method="bh")
        return out
    if method != "holm":
        raise ValueError(f"unknown correction '{method}'; choose one of: {', '.join(CORRECTIONS)}")
    q = p[ok]
    m = len(q)
    order = np.argsort(q, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * q[order])  # step-down, kept monotone
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    out[ok] = adjusted
    return out


def correction_text(method: str, tests: int, alpha: float) -> str:
    """How a table's p-values were corrected, in one sentence."""
    return (
        f"p_adj: {CORRECTIONS[method]} over all {tests} tests of this table (controls the {CONTROLS[method]} "
        f"at {alpha}); significance is decided on p_adj <= {alpha}, never on the raw p."
    )


def mann_whitney(x, y, alternative: str = "two-sided") -> float:
    """The Mann-Whitney U test's p-value of x against y (1 when the two hold the same values)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if not len(x) or not len(y) or np.array_equal(np.sort(x), np.sort(y)):
        return 1.0
    return float(stats.mannwhitneyu(x, y, alternative=alternative).pvalue)


def rank_effect(x, y) -> dict[str, float]:
    """Cliff's delta (-1 .. 1; > 0: x tends to be larger) and the common-language
    effect size P(X > Y) + P(X = Y) / 2, of larger-is-better values (-inf allowed)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if not len(x) or not len(y):
        return {"cliffs_delta": math.nan, "cles": math.nan}
    finite = np.concatenate([x, y])
    finite = finite[np.isfinite(finite)]
    floor = (finite.min() - 1.0) if len(finite) else 0.0  # ranks only: a failed run below every value
    u = stats.mannwhitneyu(np.where(np.isfinite(x), x, floor), np.where(np.isfinite(y), y, floor)).statistic
    cles = float(u) / (len(x) * len(y))
    return {"cliffs_delta": 2.0 * cles - 1.0, "cles": cles}


def rate_difference(k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """k1/n1 - k2/n2 with Newcombe's hybrid score interval (NaN without trials)."""
    if n1 <= 0 or n2 <= 0:
        return math.nan, math.nan, math.nan
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = intervals.wilson(k1, n1, confidence), intervals.wilson(k2, n2, confidence)
    d = p1 - p2
    return d, d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)
