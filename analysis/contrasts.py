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
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis import intervals
from analysis.stability import CELL, oriented
from gans.config.sweep import join_label

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


def _floored(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Two samples with -inf (a failed run) put below every finite value: ranks only."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    both = np.concatenate([x, y])
    finite = both[np.isfinite(both)]
    floor = (finite.min() - 1.0) if len(finite) else 0.0
    return np.where(np.isfinite(x), x, floor), np.where(np.isfinite(y), y, floor)


def mann_whitney(x, y, alternative: str = "two-sided") -> float:
    """The Mann-Whitney U test's p-value of x against y, larger-is-better values with
    -inf for a failed run (1 when the two hold the same values)."""
    x, y = _floored(x, y)
    if not len(x) or not len(y) or np.array_equal(np.sort(x), np.sort(y)):
        return 1.0
    return float(stats.mannwhitneyu(x, y, alternative=alternative).pvalue)


def rank_effect(x, y) -> dict[str, float]:
    """Cliff's delta (-1 .. 1; > 0: x tends to be larger) and the common-language
    effect size P(X > Y) + P(X = Y) / 2, of larger-is-better values (-inf allowed)."""
    x, y = _floored(x, y)
    if not len(x) or not len(y):
        return {"cliffs_delta": math.nan, "cles": math.nan}
    cles = float(stats.mannwhitneyu(x, y).statistic) / (len(x) * len(y))
    return {"cliffs_delta": 2.0 * cles - 1.0, "cles": cles}


def rate_difference(k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """k1/n1 - k2/n2 with Newcombe's hybrid score interval (NaN without trials)."""
    if n1 <= 0 or n2 <= 0:
        return math.nan, math.nan, math.nan
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = intervals.wilson(k1, n1, confidence), intervals.wilson(k2, n2, confidence)
    d = p1 - p2
    return d, d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)


def join_cell(row) -> str:
    """A cell's short name in a dataset: its grid label / loss."""
    return f"{join_label(row['variant'], row['setting'])} / {row['loss']}"


def cell_pairs(
    runs: pd.DataFrame,
    main: dict[str, str],
    directions: dict[str, bool],
    alpha: float = 0.05,
    correction: str = "holm",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Every pair of cells of a dataset: a two-sided Mann-Whitney U test of the final
    main metric over seeds (a run without a final value counts as the worst), its p
    corrected over all pairs of the table, Cliff's delta and the difference of
    success rates with its interval. ``significant``: which cell is better, where
    p_adj <= alpha."""
    rows = []
    for dataset, part in runs.groupby("dataset", sort=True):
        m = main[dataset]
        cells = [(join_cell(dict(zip(CELL, k, strict=True))), g) for k, g in part.groupby(CELL, sort=True)]
        for i, (name_a, a) in enumerate(cells):
            for name_b, b in cells[i + 1 :]:
                rows.append(_pair(dataset, m, directions[m], (name_a, a), (name_b, b), confidence))
    columns = ["dataset", "a", "b", "metric", "seeds_a", "seeds_b", "median_a", "median_b", "cliffs_delta", "cles"]
    columns += ["success_diff", "success_diff_lo", "success_diff_hi", "p", "p_adj", "significant"]
    table = pd.DataFrame(rows, columns=[c for c in columns if c not in ("p_adj", "significant")])
    table["p_adj"] = adjust(table["p"], correction)
    table["significant"] = [
        ("a better" if d > 0 else "b better") if q <= alpha and d != 0 else ""
        for q, d in zip(table["p_adj"], table["cliffs_delta"], strict=True)
    ]
    return table[columns]


def _pair(dataset: str, metric: str, higher: bool, a: tuple, b: tuple, confidence: float) -> dict[str, Any]:
    (name_a, ga), (name_b, gb) = a, b
    x, y = (oriented(g[metric].astype(float), higher).fillna(-np.inf).to_numpy() for g in (ga, gb))
    diff = rate_difference(int(ga["converged"].sum()), len(ga), int(gb["converged"].sum()), len(gb), confidence)
    return {
        "dataset": dataset,
        "a": name_a,
        "b": name_b,
        "metric": metric,
        "seeds_a": len(x),
        "seeds_b": len(y),
        "median_a": float(oriented(np.median(x), higher)),
        "median_b": float(oriented(np.median(y), higher)),
        **rank_effect(x, y),
        **dict(zip(("success_diff", "success_diff_lo", "success_diff_hi"), diff, strict=True)),
        "p": mann_whitney(x, y),
    }
