"""Score against budget as Lucic et al. 2018 (Fig. 4) draw it: the expected best score
after k settings drawn at random, without replacement, from the N settings a cell's
search evaluated, for k = 1 .. N, with a bootstrap band.

With the N scores sorted, x_(1) <= ... <= x_(N), the best of a random k-subset is
x_(i) with probability C(i-1, k-1) / C(N, k) (the other k-1 drawn below it), so

    E[best of k] = sum_i x_(i) C(i-1, k-1) / C(N, k)

exactly, without simulation. A setting that diverged has no score: in the tables it
counts as the worst score any setting of its dataset reached (so every k has a value,
comparable across the dataset's cells; ``p_all_diverged`` is the chance that all k
drawn diverged). The band: the same curve over bootstrap resamples of the N settings
(drawn with replacement), its percentiles at the analysis' confidence level.

``expected_best`` and ``band`` themselves take -inf for a diverged setting and leave
the curve undefined (NaN) where k settings could all be diverged ones.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import comb

from analysis.stability import CELL, oriented


def weights(n: int) -> np.ndarray:
    """W[k-1, i-1] = P(the best of k drawn from n sorted values is the i-th smallest)."""
    k = np.arange(1, n + 1)[:, None]
    i = np.arange(1, n + 1)[None, :]
    return comb(i - 1, k - 1) / comb(n, k)


def expected_best(scores) -> np.ndarray:
    """E[best of k] for k = 1 .. N, of larger-is-better ``scores`` (-inf: diverged)."""
    return _curves(np.asarray(scores, dtype=float)[None, :])[0]


def _curves(samples: np.ndarray) -> np.ndarray:
    """Expected-best curves of each row of ``samples`` (R x N); NaN where k <= failures."""
    n = samples.shape[1]
    ordered = np.sort(samples, axis=1)
    failed = (~np.isfinite(ordered)).sum(axis=1)
    curves = np.where(np.isfinite(ordered), ordered, 0.0) @ weights(n).T  # failed ones get weight 0 where defined
    return np.where(np.arange(1, n + 1)[None, :] <= failed[:, None], np.nan, curves)


def band(scores, resamples: int, confidence: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The percentile bootstrap band of the expected-best curve (resampling the settings)."""
    v = np.asarray(scores, dtype=float)
    rng = np.random.default_rng(seed)
    samples = v[rng.integers(0, len(v), size=(resamples, len(v)))]
    curves = np.nan_to_num(_curves(samples), nan=-np.inf)  # undefined: a diverged run, the worst
    tail = (1.0 - confidence) / 2.0
    lo, hi = (np.quantile(curves, q, axis=0, method="inverted_cdf") for q in (tail, 1.0 - tail))
    return np.where(np.isfinite(lo), lo, np.nan), np.where(np.isfinite(hi), hi, np.nan)


def p_all_diverged(n: int, failed: int, k: int) -> float:
    """The chance that all k settings drawn from n, ``failed`` of them diverged, diverged."""
    return math.comb(failed, k) / math.comb(n, k)


def table(settings: pd.DataFrame, resamples: int, confidence: float, seed: int) -> pd.DataFrame:
    """Per cell and k: the expected best score after k settings with its band, in the
    metric's own units (the band's low end first), from the search_settings table."""
    rows = []
    for cell, g in settings.sort_values("index").groupby(CELL, sort=False):
        higher = bool(g["higher_is_better"].iloc[0])
        failed = int((~np.isfinite(_scores(g))).sum())
        v = np.nan_to_num(_scores(g), neginf=_worst(settings[settings["dataset"] == cell[0]]))
        mean, (lo, hi) = expected_best(v), band(v, resamples, confidence, seed)
        for k in range(1, len(v) + 1):
            ends = (lo[k - 1], hi[k - 1]) if higher else (-hi[k - 1], -lo[k - 1])
            rows.append(
                {
                    **dict(zip(CELL, cell, strict=True)),
                    "settings": k,
                    "of": len(v),
                    "metric": g["metric"].iloc[0],
                    "expected_best": float(oriented(mean[k - 1], higher)),
                    "band_low": float(ends[0]),
                    "band_high": float(ends[1]),
                    "p_all_diverged": p_all_diverged(len(v), failed, k),
                    "confidence": confidence,
                }
            )
    return pd.DataFrame(rows)


def _scores(settings: pd.DataFrame) -> np.ndarray:
    """Scores turned larger-is-better, -inf for a diverged setting (or one without a score)."""
    higher = bool(settings["higher_is_better"].iloc[0])
    score = settings["score"].astype(float).where(~settings["diverged"].astype(bool))
    return oriented(score, higher).fillna(-np.inf).to_numpy()


def _worst(settings: pd.DataFrame) -> float:
    """The worst finite (larger-is-better) score of these settings; -inf when none has one."""
    v = _scores(settings)
    return float(v[np.isfinite(v)].min()) if np.isfinite(v).any() else -np.inf
