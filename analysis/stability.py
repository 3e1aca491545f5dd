"""Stability of one training run, from its trajectory: its final and best value of
every metric (and the step of the best), its outcome against the quality bar
(analysis.outcomes: converged, undertrained, oscillating, collapsed, mode hopping,
did not learn, diverged), how much the main metric oscillates over the last
evaluation points, the step at which it first reached each target, and the rank
correlation between the discriminator's loss and the main metric along the
trajectory.

Everything here works on plain tables (pandas), so it is tested on constructed
trajectories; ``analysis.comparison`` compares runs across seeds and cells. Options
are the config's ``analysis`` section (see the schema for each key).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis import outcomes

CELL = ["dataset", "variant", "setting", "loss"]  # a cell: its runs differ in their seed only
SETTING = ["dataset", "variant", "setting"]  # the losses compared against the baseline share these
OUTCOMES = outcomes.OUTCOMES
LOSS_COLUMNS = ["d_loss", "g_loss"]


def oriented(values, higher: bool):
    """Values turned so that larger is better (lower-is-better metrics negated)."""
    return values if higher else -values


def best_and_step(traj: pd.DataFrame, metric: str, higher: bool) -> tuple[float, float]:
    """The best finite value of a metric along the trajectory and its first step."""
    values = traj[metric].astype(float).replace([np.inf, -np.inf], np.nan)
    if values.notna().sum() == 0:
        return math.nan, math.nan
    idx = values.idxmax() if higher else values.idxmin()
    return float(values[idx]), float(traj.loc[idx, "step"])


def first_step_reaching(traj: pd.DataFrame, metric: str, bound: float, higher: bool) -> float:
    """The first evaluation step at which the metric is at least (or at most) ``bound``."""
    if metric not in traj:
        return math.nan
    values = traj[metric].astype(float)
    reached = values >= bound if higher else values <= bound
    return float(traj.loc[reached, "step"].iloc[0]) if reached.any() else math.nan


def loss_at_eval_points(traj_steps: np.ndarray, log: pd.DataFrame, column: str = "d_loss") -> np.ndarray:
    """The training log's mean ``column`` over the steps since the previous evaluation
    point, for each evaluation point (NaN where no log row falls in between)."""
    out = np.full(len(traj_steps), np.nan)
    prev = -np.inf
    for i, step in enumerate(traj_steps):
        window = log[(log["step"] > prev) & (log["step"] <= step)][column]
        if len(window):
            out[i] = window.mean()
        prev = step
    return out


def tracking_rho(traj: pd.DataFrame, log: pd.DataFrame, main: str, higher: bool) -> float:
    """Spearman correlation between D's loss and the main metric (turned so that
    larger is better) over the evaluation points; NaN with fewer than 3 usable
    points or a constant series. Positive: D's loss rises as samples get better."""
    if main not in traj or log is None or "d_loss" not in log:
        return math.nan
    d = loss_at_eval_points(traj["step"].to_numpy(), log)
    q = oriented(traj[main].astype(float).to_numpy(), higher)
    ok = np.isfinite(d) & np.isfinite(q)
    if ok.sum() < 3 or np.ptp(d[ok]) == 0 or np.ptp(q[ok]) == 0:
        return math.nan
    return float(stats.spearmanr(d[ok], q[ok]).statistic)


def _diverged(status: str, log: pd.DataFrame | None, threshold: float) -> bool:
    if status == "diverged":
        return True
    if log is None:
        return False
    losses = log[[c for c in LOSS_COLUMNS if c in log]].astype(float).to_numpy()
    return bool((~np.isfinite(losses)).any() or (np.abs(losses) > threshold).any())


def run_measures(
    traj: pd.DataFrame,
    log: pd.DataFrame | None,
    status: str,
    directions: dict[str, bool],
    main: str,
    opts: dict[str, Any],
    calibration: dict[str, Any] | None = None,
    modality: str = "points",
) -> dict[str, Any]:
    """Stability measures of one run, and its outcome (analysis.outcomes).

    ``traj``: the run's metrics at each evaluation point (a ``step`` column, one column
    per metric, NaN where the generator produced non-finite samples); ``log``: its
    training log (``step``, ``d_loss``, ...); ``status``: what training reported
    (``completed`` or ``diverged``); ``directions``: metric -> higher is better;
    ``main``: the main metric; ``opts``: the config's ``analysis`` section;
    ``calibration``: the dataset's calibration record, which places the quality bar
    of ``modality``.
    """
    traj = traj.sort_values("step").reset_index(drop=True)
    higher = directions[main]
    out: dict[str, Any] = {}
    for m, hb in directions.items():
        if m in traj:
            out[f"{m}_best"], out[f"{m}_best_step"] = best_and_step(traj, m, hb)
    series = traj[main].astype(float)
    final = float(series.iloc[-1]) if len(series) else math.nan
    diverged = _diverged(status, log, opts["divergence_threshold"]) or not np.isfinite(final)
    progress, lost, lost_share = progress_lost(series, out.get(f"{main}_best", math.nan), final, higher)
    ratios = outcomes.bar_ratios(traj, calibration, opts["quality_bar"][modality])
    verdict = outcomes.classify(traj, ratios, diverged, lost_share, opts)
    osc_abs, oscillation = oscillation_of(series, progress, opts["oscillation_window"], diverged)
    out.update(
        {
            **verdict,
            "diverged": verdict["outcome"] == "diverged",
            "collapsed": verdict["outcome"] == "collapsed",
            "converged": verdict["outcome"] == "converged",
            f"{main}_lost": lost,
            f"{main}_lost_share": lost_share,
            "oscillation": oscillation,
            "oscillation_abs": osc_abs,
            "d_loss_rho": tracking_rho(traj, log, main, higher),
        }
    )
    out.update(steps_to_targets(traj, opts["targets"], directions))
    return out


def progress_lost(series: pd.Series, best: float, final: float, higher: bool) -> tuple[float, float, float]:
    """The run's progress on the main metric (how far its best got from its first
    finite point), what it lost from its best by the end, and that loss as a share of
    the progress."""
    finite = series[np.isfinite(series)]
    first = float(finite.iloc[0]) if len(finite) else math.nan
    progress = abs(best - first) if np.isfinite(best) and np.isfinite(first) else math.nan
    lost = oriented(best - final, higher) if np.isfinite(final) else math.nan
    lost_share = lost / progress if progress and np.isfinite(progress) else 0.0 if lost == 0 else math.nan
    return progress, lost, lost_share


def oscillation_of(series: pd.Series, progress: float, window: int, diverged: bool) -> tuple[float, float]:
    """The movement over the last ``window`` points that reverses itself, (total
    variation - net change) / 2: 0 for any monotone path (a run still climbing is not
    oscillating), growing with every back-and-forth; and that over the progress."""
    finite = series[np.isfinite(series)]
    last = finite.iloc[-window:] if not diverged else finite.iloc[0:0]
    steps = np.diff(last.to_numpy())
    osc_abs = float((np.abs(steps).sum() - abs(steps.sum())) / 2) if len(last) > 1 else math.nan
    oscillation = osc_abs / progress if progress and np.isfinite(progress) else (0.0 if osc_abs == 0 else math.nan)
    return osc_abs, oscillation


def steps_to_targets(traj: pd.DataFrame, targets: dict[str, Any], directions: dict[str, bool]) -> dict[str, float]:
    out = {}
    for metric, bound in targets.items():
        if metric not in traj:
            continue
        if bound == "all":  # every mode
            bound = float(traj["modes_total"].iloc[-1])
        out[f"step_to_{metric}"] = first_step_reaching(traj, metric, float(bound), directions.get(metric, True))
    return out
