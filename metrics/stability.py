"""Stability of training, from each run's trajectory and across seeds.

Everything here works on plain tables (pandas), so it is tested on constructed
trajectories and reused by the aggregation and the figures:

- ``run_measures``: one run's final and best value of every metric (and the step
  of the best), whether it diverged, collapsed or converged, how much the main
  metric oscillates over the last evaluation points, the step at which it first
  reached each target, and the rank correlation between the discriminator's loss
  and the main metric along the trajectory.
- ``seed_summary``: per dataset x variant x loss, mean, std, median and IQR of the
  final metrics over seeds, success rate, and the gap between best and final.
- ``loss_tracking``, ``rankings``, ``baseline_check``: does D's loss track sample
  quality (per loss), cells ranked by median final main metric, and whether any loss
  is consistently better than a baseline (Lucic et al. 2018 asked this of
  nonsaturating).

Options are the config's ``analysis`` section (see the schema for each key).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

CELL = ["dataset", "variant", "loss"]
OUTCOMES = ["converged", "oscillating", "collapsed", "diverged"]
LOSS_COLUMNS = ["d_loss", "g_loss"]


# -- one run ----------------------------------------------------------------------------
def oriented(values, higher: bool):
    """Values turned so that larger is better (lower-is-better metrics negated)."""
    return values if higher else -values


def best_and_step(traj: pd.DataFrame, metric: str, higher: bool) -> tuple[float, float]:
    """The best finite value of a metric along the trajectory and its first step."""
    values = traj[metric].astype(float).replace([np.inf, -np.inf], np.nan)
    if values.notna().sum() == 0:
        return math.nan, math.nan
    idx = (values.idxmax() if higher else values.idxmin())
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


def run_measures(traj: pd.DataFrame, log: pd.DataFrame | None, status: str, directions: dict[str, bool],
                 main: str, opts: dict[str, Any]) -> dict[str, Any]:
    """Stability measures of one run.

    ``traj``: the run's metrics at each evaluation point (a ``step`` column, one column
    per metric, NaN where the generator produced non-finite samples); ``log``: its
    training log (``step``, ``d_loss``, ...); ``status``: what training reported
    (``completed`` or ``diverged``); ``directions``: metric -> higher is better;
    ``main``: the main metric; ``opts``: the config's ``analysis`` section.
    """
    traj = traj.sort_values("step").reset_index(drop=True)
    higher = directions[main]
    out: dict[str, Any] = {}
    for m, hb in directions.items():
        if m in traj:
            out[f"{m}_best"], out[f"{m}_best_step"] = best_and_step(traj, m, hb)

    series = traj[main].astype(float)
    finite = series[np.isfinite(series)]
    first = float(finite.iloc[0]) if len(finite) else math.nan
    best = out.get(f"{main}_best", math.nan)
    final = float(series.iloc[-1]) if len(series) else math.nan
    # the scale of the run's progress: how far its best got from its first point
    progress = abs(best - first) if np.isfinite(best) and np.isfinite(first) else math.nan

    diverged = _diverged(status, log, opts["divergence_threshold"]) or not np.isfinite(final)
    lost = oriented(best - final, higher) if np.isfinite(final) else math.nan
    lost_share = lost / progress if progress and np.isfinite(progress) else 0.0 if lost == 0 else math.nan
    collapse = opts["collapse"]
    few_modes = False
    if "modes_covered" in traj and "modes_total" in traj and not diverged:
        covered, total = traj["modes_covered"].iloc[-1], traj["modes_total"].iloc[-1]
        few_modes = bool(np.isfinite(covered) and covered <= collapse["max_modes_fraction"] * total)
    collapsed = not diverged and (few_modes or (np.isfinite(lost_share) and lost_share >= collapse["max_drop"]))

    window = finite.iloc[-opts["oscillation_window"]:] if not diverged else finite.iloc[0:0]
    # the movement that reverses itself: (total variation - net change) / 2, which is 0
    # for any monotone path (a run still climbing is not oscillating) and grows with
    # every back-and-forth
    steps = np.diff(window.to_numpy())
    osc_abs = float((np.abs(steps).sum() - abs(steps.sum())) / 2) if len(window) > 1 else math.nan
    oscillation = osc_abs / progress if progress and np.isfinite(progress) else (0.0 if osc_abs == 0 else math.nan)
    steady = np.isfinite(oscillation) and oscillation <= opts["steady_tolerance"]
    converged = bool(not diverged and not collapsed and steady)

    out.update({
        "diverged": bool(diverged),
        "collapsed": bool(collapsed),
        "converged": converged,
        "outcome": "diverged" if diverged else "collapsed" if collapsed else "converged" if converged else "oscillating",
        f"{main}_lost": lost,
        f"{main}_lost_share": lost_share,
        "oscillation": oscillation,
        "oscillation_abs": osc_abs,
        "d_loss_rho": tracking_rho(traj, log, main, higher),
    })
    for metric, bound in opts["targets"].items():
        if metric not in traj:
            continue
        if bound == "all":  # every mode
            bound = float(traj["modes_total"].iloc[-1])
        out[f"step_to_{metric}"] = first_step_reaching(traj, metric, float(bound), directions.get(metric, True))
    return out


# -- across seeds ---------------------------------------------------------------------
def best_final_gap(runs: pd.DataFrame, metric: str, higher: bool) -> pd.Series:
    """Per run, how much better the best checkpoint was than the final one (>= 0)."""
    return oriented(runs[f"{metric}_best"] - runs[metric], higher)


def seed_summary(runs: pd.DataFrame, directions: dict[str, bool], extra: list[str] = ()) -> pd.DataFrame:
    """Per cell: seeds, counts of each outcome, success rate (converged share of all
    seeds), and mean/std/median/q25/q75/IQR over seeds of every final metric in
    ``directions`` and ``extra`` and of its best-vs-final gap. Runs without a final
    value (diverged) are left out of that metric's statistics but count as seeds."""
    rows = []
    for cell, group in runs.groupby(CELL, sort=True):
        row: dict[str, Any] = dict(zip(CELL, cell))
        row["status"] = "ok"
        row["seeds"] = len(group)
        for outcome in OUTCOMES:
            row[outcome] = int((group["outcome"] == outcome).sum()) if "outcome" in group else 0
        row["success_rate"] = row["converged"] / len(group)
        if "modes_covered" in group and "modes_total" in group:
            row["all_modes_rate"] = float((group["modes_covered"] >= group["modes_total"]).mean())
        columns = {m: group[m] for m in [*directions, *extra] if m in group}
        for m, hb in directions.items():
            if m in group and f"{m}_best" in group:
                columns[f"{m}_gap"] = best_final_gap(group, m, hb)
        for name, values in columns.items():
            row.update(describe(values.astype(float), name))
        rows.append(row)
    return pd.DataFrame(rows)


def describe(values: pd.Series, name: str) -> dict[str, float]:
    v = values.replace([np.inf, -np.inf], np.nan).dropna()
    q25, q75 = (v.quantile(0.25), v.quantile(0.75)) if len(v) else (math.nan, math.nan)
    return {
        f"{name}_mean": v.mean() if len(v) else math.nan,
        f"{name}_std": v.std(ddof=1) if len(v) > 1 else math.nan,
        f"{name}_median": v.median() if len(v) else math.nan,
        f"{name}_q25": q25,
        f"{name}_q75": q75,
        f"{name}_iqr": q75 - q25,
    }


def loss_tracking(runs: pd.DataFrame, min_rho: float) -> pd.DataFrame:
    """Per loss (and per dataset, and over all datasets): how well D's loss tracks the
    main metric: median and IQR of the per-run Spearman rho and the share of runs
    with rho >= ``min_rho``."""
    frames = [runs, runs.assign(dataset="all")] if runs["dataset"].nunique() > 1 else [runs]
    rows = []
    for (loss, dataset), group in pd.concat(frames).groupby(["loss", "dataset"], sort=True):
        rho = group["d_loss_rho"].dropna()
        rows.append({
            "loss": loss, "dataset": dataset, "runs": len(group), "runs_with_rho": len(rho),
            "rho_median": rho.median() if len(rho) else math.nan,
            "rho_q25": rho.quantile(0.25) if len(rho) else math.nan,
            "rho_q75": rho.quantile(0.75) if len(rho) else math.nan,
            "tracking_share": float((rho >= min_rho).mean()) if len(rho) else math.nan,
        })
    return pd.DataFrame(rows)


def _worst_filled(values: pd.Series, higher: bool) -> pd.Series:
    """Final values turned larger-is-better, a run without one (diverged) as the worst."""
    return oriented(values.astype(float), higher).fillna(-np.inf)


def _quantile(values: pd.Series, q: float) -> float:
    """A quantile where -inf (a failed run) may be one of the interpolated points."""
    with np.errstate(invalid="ignore"):
        x = float(np.quantile(values.to_numpy(), q))
    return -np.inf if math.isnan(x) else x


def rankings(runs: pd.DataFrame, main: dict[str, str], directions: dict[str, bool]) -> pd.DataFrame:
    """Per dataset, its cells ranked by median final main metric (a run without a final
    value counts as the worst), ties broken by success rate, then by smaller IQR."""
    rows = []
    for (dataset, variant, loss), group in runs.groupby(CELL, sort=True):
        m = main[dataset]
        higher = directions[m]
        v = _worst_filled(group[m], higher)
        q25, med, q75 = (float(oriented(_quantile(v, q), higher)) for q in (0.25, 0.5, 0.75))
        rows.append({"dataset": dataset, "variant": variant, "loss": loss, "metric": m, "seeds": len(group),
                     "median": med, "q25": q25, "q75": q75,
                     "iqr": abs(q75 - q25) if np.isfinite(q75 - q25) else math.nan,
                     "success_rate": float(group["converged"].mean()), "_key": float(v.median())})
    table = pd.DataFrame(rows)
    ranked = []
    for _, group in table.groupby("dataset", sort=True):
        group = group.assign(_iqr=group["iqr"].fillna(np.inf))
        group = group.sort_values(["_key", "success_rate", "_iqr"], ascending=[False, False, True], kind="stable")
        key = list(zip(group["_key"], group["success_rate"], group["_iqr"]))
        group["rank"] = [1 + key.index(k) for k in key]  # equal keys share the better rank
        ranked.append(group.drop(columns=["_key", "_iqr"]))
    cols = ["dataset", "rank", "variant", "loss", "metric", "seeds", "median", "q25", "q75", "iqr", "success_rate"]
    return pd.concat(ranked, ignore_index=True)[cols]


def baseline_check(runs: pd.DataFrame, main: dict[str, str], directions: dict[str, bool],
                   baseline: str, alpha: float) -> tuple[pd.DataFrame, str]:
    """Is any loss consistently better than ``baseline``? For each dataset x variant
    and each other loss: the difference of median final main metric (positive = better
    than the baseline) and a one-sided Mann-Whitney U test over seeds (a run without
    a final value counts as the worst). A loss is consistently better when it is
    significantly better (p <= alpha) in every dataset x variant where both ran.
    Returns the table and a verdict written from it."""
    rows = []
    for (dataset, variant), group in runs.groupby(["dataset", "variant"], sort=True):
        m = main[dataset]
        higher = directions[m]
        base = group[group["loss"] == baseline]
        if base.empty:
            continue
        b = _worst_filled(base[m], higher)
        for loss, other in group[group["loss"] != baseline].groupby("loss", sort=True):
            o = _worst_filled(other[m], higher)
            diff = float(o.median() - b.median()) if np.isfinite(o.median()) or np.isfinite(b.median()) else 0.0
            p = float(stats.mannwhitneyu(o, b, alternative="greater").pvalue) if not np.array_equal(np.sort(o), np.sort(b)) else 1.0
            p_worse = float(stats.mannwhitneyu(o, b, alternative="less").pvalue) if not np.array_equal(np.sort(o), np.sort(b)) else 1.0
            rows.append({"dataset": dataset, "variant": variant, "loss": loss, "baseline": baseline, "metric": m,
                         "seeds": len(o), "baseline_seeds": len(b), "median": float(oriented(o.median(), higher)),
                         "baseline_median": float(oriented(b.median(), higher)), "better_by": diff,
                         "p_better": p, "p_worse": p_worse,
                         "verdict": "better" if p <= alpha and diff > 0 else "worse" if p_worse <= alpha and diff < 0 else "no clear difference"})
    table = pd.DataFrame(rows)
    return table, verdict(table, baseline, alpha)


def verdict(table: pd.DataFrame, baseline: str, alpha: float) -> str:
    """One paragraph that answers the question from the table."""
    if table.empty:
        return f"No comparison with '{baseline}': it is not in the grid, or no other loss ran beside it."
    n_settings = table.groupby(["dataset", "variant"]).ngroups
    smallest = min_p_value(int(table["seeds"].min()), int(table["baseline_seeds"].min()))
    counts = table.groupby("loss")["verdict"].agg(lambda v: (v == "better").sum())
    worse = table.groupby("loss")["verdict"].agg(lambda v: (v == "worse").sum())
    settings = "setting" if n_settings == 1 else "settings"
    consistent = [loss for loss, c in counts.items() if c == n_settings]
    lines = []
    if consistent:
        lines.append(f"Yes: {', '.join(consistent)} beat {baseline} in all {n_settings} dataset x variant {settings} "
                     f"(one-sided Mann-Whitney U over seeds, p <= {alpha}).")
    else:
        best = counts.sort_values(ascending=False, kind="stable")
        top = ", ".join(f"{loss} in {c}" for loss, c in best.items() if c > 0)
        lines.append(f"No loss is consistently better than {baseline} over the {n_settings} dataset x variant {settings}: "
                     + (f"significantly better (p <= {alpha}) only {top}." if top else f"none is significantly better (p <= {alpha}) in any."))
    bad = ", ".join(f"{loss} in {c}" for loss, c in worse.sort_values(ascending=False, kind="stable").items() if c > 0)
    if bad:
        lines.append(f"Significantly worse than {baseline}: {bad}.")
    if smallest > alpha:
        lines.append(f"With these seed counts the smallest attainable p-value is {smallest:.3g} > {alpha}: "
                     "no difference can be significant; add seeds to answer the question.")
    else:
        lines.append(f"With these seed counts the smallest attainable p-value is {smallest:.3g}.")
    return " ".join(lines)


def min_p_value(n1: int, n2: int) -> float:
    """The smallest one-sided p-value an exact Mann-Whitney U test can give."""
    return 1.0 / math.comb(n1 + n2, n1) if n1 and n2 else 1.0
