"""A run's outcome from its trajectory, against a quality bar set by the dataset's
calibration values (metrics.calibration). See docs/outcomes.md for the rules and
the reasons behind them.

The bar (the config's ``analysis.quality_bar.<modality>``) has up to four criteria,
each a ratio that is 1 at the bar:

  modes         share of the modes covered / the bar's share
  hq_share      (high-quality share / the real data's own share) / the bar's share
  fid_position  log(noise / fid) / log(noise / real), 0 at uniform noise and 1 at
                real vs held-out real, / the bar's position
  equilibrium   the bar's distance / the distance |(theta, psi)| to the equilibrium
                (the Dirac-GAN; no calibration value needed)

A point's ``bar_score`` is its smallest ratio: it meets the bar when that is >= 1.
The outcome, first rule that applies:

  diverged       training stopped on a non-finite or huge loss, or its final samples
                 are not finite
  converged      the bar is met at each of the last ``hold_points`` points
  collapsed      the bar was met, then modes were lost (ends covering at most
                 collapse.max_modes_fraction of them, or lost collapse.max_drop of
                 its progress on the main metric); or, never at the bar, the run
                 covered the bar's modes at some point and ends short of them with
                 every other criterion met (it dropped modes as its quality rose)
  undertrained   the bar is not held, but the run is still improving at its last point
                 (bar score up by improving.min_gain over improving.window points, and
                 the last point within that of its best)
  oscillating    the bar was met, and lost without losing modes
  mode hopping   never met the bar; its samples on the modes they cover (every other
                 criterion met at the last point), few modes at every point after the
                 first, and the covered modes keep changing (turnover >= hopping.min_turnover)
  did not learn  never met the bar
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from metrics.calibration_files import value as calibration_value
from metrics.library.modes import parse_mode_set

OUTCOMES = [
    "converged",
    "undertrained",
    "oscillating",
    "collapsed",
    "mode hopping",
    "did not learn",
    "diverged",
]


class CalibrationError(ValueError):
    """A bar criterion needs a calibration value that is not there."""


def fid_position(fid, noise: float, real: float):
    """FID's place on a log scale between uniform noise (0) and held-out real data (1)."""
    fid = np.maximum(np.asarray(fid, dtype=float), 1e-12)
    return np.log(noise / fid) / np.log(noise / real)


def criteria(traj: pd.DataFrame, calibration: dict[str, Any] | None, bar: dict[str, Any]) -> pd.DataFrame:
    """Each used criterion's ratio to its bar at every point (columns named as the criteria)."""
    out = pd.DataFrame(index=traj.index)

    def needed(kind: str, metric: str) -> float:
        v = calibration_value(calibration, kind, metric)
        if not np.isfinite(v):
            dataset = (calibration or {}).get("dataset", "this dataset")
            raise CalibrationError(
                f"the quality bar needs the calibration value '{kind}' {metric} of {dataset}, which is missing "
                "(the calibrate rule writes it: python -m metrics.calibration)"
            )
        return v

    if bar.get("modes") is not None and {"modes_covered", "modes_total"} <= set(traj):
        out["modes"] = traj["modes_covered"].astype(float) / traj["modes_total"].astype(float) / bar["modes"]
    if bar.get("hq_share") is not None and "hq_fraction" in traj:
        out["hq_share"] = traj["hq_fraction"].astype(float) / needed("real", "hq_fraction") / bar["hq_share"]
    if bar.get("fid_position") is not None and "fid" in traj:
        position = fid_position(traj["fid"], needed("noise", "fid"), needed("real", "fid"))
        out["fid_position"] = position / bar["fid_position"]
    if bar.get("equilibrium") is not None and "equilibrium_distance" in traj:
        distance = np.maximum(traj["equilibrium_distance"].astype(float), 1e-300)
        out["equilibrium"] = bar["equilibrium"] / distance
    return out


def bar_ratios(traj: pd.DataFrame, calibration: dict[str, Any] | None, bar: dict[str, Any]) -> pd.DataFrame:
    """``criteria``, refusing a bar none of whose criteria was measured."""
    ratios = criteria(traj, calibration, bar)
    if ratios.shape[1] == 0:
        raise CalibrationError(f"no quality-bar criterion applies: the bar {bar} uses none of the evaluated metrics")
    return ratios


def dropped_modes(ratios: pd.DataFrame) -> bool:
    """Covered the bar's modes at an earlier point, and ends short of them with every
    other criterion met: it learned the quality and lost modes (a partial collapse)."""
    if "modes" not in ratios or len(ratios) < 2:
        return False
    quality = bool((ratios.drop(columns="modes").iloc[-1] >= 1.0).all())
    return quality and ratios["modes"].iloc[-1] < 1.0 and bool((ratios["modes"].iloc[:-1] >= 1.0).any())


def on_modes(ratios: pd.DataFrame) -> bool:
    """Every criterion but the mode count met at the last point: the samples sit on the
    modes they cover (a generator that hops carries quality from mode to mode; noise
    whose stray samples land on changing modes does not)."""
    quality = ratios.drop(columns="modes", errors="ignore")
    return bool(len(ratios) and quality.shape[1] and (quality.iloc[-1] >= 1.0).all())


def mode_turnover(traj: pd.DataFrame) -> float:
    """Mean Jaccard distance between the covered modes of consecutive evaluation
    points after the first (the untrained generator): 0 for a run that keeps its
    modes, 1 for one that moves to new ones at every point; NaN without mode sets
    or with fewer than two such points."""
    if "modes_set" not in traj:
        return math.nan
    sets = [parse_mode_set(s) for s in traj.loc[traj["step"] > traj["step"].min(), "modes_set"]]
    pairs = [(a, b) for a, b in zip(sets, sets[1:], strict=False) if a | b]
    if not pairs:
        return math.nan if len(sets) < 2 else 0.0
    return float(np.mean([1 - len(a & b) / len(a | b) for a, b in pairs]))


def still_improving(scores: pd.Series, window: int, min_gain: float) -> bool:
    """The bar score rose by ``min_gain`` over the last ``window`` intervals and the
    last point is within ``min_gain`` of the run's best."""
    s = scores.to_numpy(dtype=float)
    if len(s) <= window or not np.isfinite(s[-1]) or not np.isfinite(s[-1 - window]):
        return False
    return bool(s[-1] - s[-1 - window] >= min_gain and s[-1] >= np.nanmax(s) - min_gain)


def few_modes_throughout(traj: pd.DataFrame, max_fraction: float) -> bool:
    """At most ``max_fraction`` of the modes covered at every point after the first."""
    if not {"modes_covered", "modes_total"} <= set(traj):
        return False
    later = traj[traj["step"] > traj["step"].min()]
    share = later["modes_covered"].astype(float) / later["modes_total"].astype(float)
    return bool(len(later) and (share <= max_fraction).all())


def classify(
    traj: pd.DataFrame, ratios: pd.DataFrame, diverged: bool, lost_share: float, opts: dict[str, Any]
) -> dict[str, Any]:
    """The outcome (first rule of the module's list that applies) and what decided it;
    ``ratios``: the bar's criteria at every point (``bar_ratios``)."""
    scores = ratios.min(axis=1, skipna=False)
    met = (scores >= 1.0).to_numpy()
    hold = opts["hold_points"]
    learned = bool(met.any())
    held = bool(len(met) >= hold and met[-hold:].all())
    improving = still_improving(scores, opts["improving"]["window"], opts["improving"]["min_gain"])
    turnover = mode_turnover(traj)
    max_fraction = opts["collapse"]["max_modes_fraction"]
    final_share = (
        float(traj["modes_covered"].iloc[-1]) / float(traj["modes_total"].iloc[-1])
        if {"modes_covered", "modes_total"} <= set(traj)
        else math.nan
    )
    lost_modes = bool(np.isfinite(final_share) and final_share <= max_fraction)
    lost_progress = bool(np.isfinite(lost_share) and lost_share >= opts["collapse"]["max_drop"])
    if diverged:
        outcome = "diverged"
    elif held:
        outcome = "converged"
    elif (lost_modes or lost_progress) if learned else dropped_modes(ratios):
        outcome = "collapsed"
    elif improving:
        outcome = "undertrained"
    elif learned:
        outcome = "oscillating"
    elif on_modes(ratios) and few_modes_throughout(traj, max_fraction) and turnover >= opts["hopping"]["min_turnover"]:
        outcome = "mode hopping"
    else:
        outcome = "did not learn"
    first_met = traj.loc[met, "step"]
    return {
        "outcome": outcome,
        "learned": learned,
        "held_bar": held and not diverged,
        "improving": improving,
        "bar_score": float(scores.iloc[-1]) if len(scores) else math.nan,
        "bar_score_best": float(scores.max()) if scores.notna().any() else math.nan,
        "step_to_bar": float(first_met.iloc[0]) if len(first_met) else math.nan,
        "mode_turnover": turnover,
    }
