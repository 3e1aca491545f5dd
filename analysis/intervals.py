"""Intervals on every number of the tables, from scipy.stats:

- a success rate (k of n seeds) gets a Wilson score interval
  (``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``), which stays
  inside [0, 1] and is not empty at 0/n or n/n;
- a median or mean over seeds gets a percentile bootstrap interval
  (``scipy.stats.bootstrap``, resampling the seeds; seeded, so the tables are
  reproducible).

With few seeds these intervals are wide, and they should be: with 3 seeds the
bootstrap interval of the median is the seed range (it covers the true median in
75% of experiments, not 95%), and 3/3 successes cannot be told from 0/3 (Wilson
[0.44, 1] against [0, 0.56]). The intervals describe; significance is tested in
metrics/contrasts.py (Mann-Whitney U, p corrected over every test of a table), and
analysis.compare asks whether two folders' intervals overlap.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

STATISTICS = {"median": np.median, "mean": np.mean}


def wilson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a proportion; (nan, nan) without trials."""
    if trials <= 0:
        return math.nan, math.nan
    ci = stats.binomtest(int(successes), int(trials)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def bootstrap(
    values, statistic: str = "median", confidence: float = 0.95, resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """A percentile bootstrap interval of ``statistic`` (median or mean) over the
    finite ``values``. One value has no interval (nan, nan); equal values give a
    zero-width one."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        return math.nan, math.nan
    if np.ptp(v) == 0:
        return float(v[0]), float(v[0])
    res = stats.bootstrap(
        (v,),
        STATISTICS[statistic],
        n_resamples=resamples,
        confidence_level=confidence,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(seed),
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def options(opts: dict[str, Any]) -> dict[str, Any]:
    """The bootstrap's keyword arguments from the config's analysis section."""
    return {
        "confidence": opts["confidence"],
        "resamples": opts["bootstrap"]["resamples"],
        "seed": opts["bootstrap"]["seed"],
    }


def overlap(a: tuple[float, float], b: tuple[float, float]) -> bool | None:
    """Whether two intervals share a point; None when either is undefined."""
    if any(math.isnan(x) for x in (*a, *b)):  # an end at +-inf (a diverged run) is still an end
        return None
    return bool(a[0] <= b[1] and b[0] <= a[1])


def interval_text(value: float, lo: float, hi: float, spec: str = ".3g") -> str:
    """'v [lo, hi]', or 'v' alone where there is no interval."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if lo is None or hi is None or math.isnan(lo) or math.isnan(hi):
        return f"{value:{spec}}"
    return f"{value:{spec}} [{lo:{spec}}, {hi:{spec}}]"
