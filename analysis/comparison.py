"""Runs compared across seeds and cells, from the runs table of the aggregation:

- ``seed_summary``: per dataset x variant x setting x loss, mean, std, median and IQR
  of the final metrics over seeds, success rate, and the gap between best and final.
- ``loss_tracking``, ``rankings``, ``baseline_check``: does D's loss track sample
  quality (per loss), cells ranked by median final main metric, and whether any loss
  is consistently better than a baseline (Lucic et al. 2018 asked this of
  nonsaturating).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from analysis import contrasts, intervals
from analysis.contrasts import join_cell
from analysis.stability import CELL, OUTCOMES, SETTING, oriented


def best_final_gap(runs: pd.DataFrame, metric: str, higher: bool) -> pd.Series:
    """Per run, how much better the best checkpoint was than the final one (>= 0)."""
    return oriented(runs[f"{metric}_best"] - runs[metric], higher)


def seed_summary(
    runs: pd.DataFrame, directions: dict[str, bool], extra: list[str] = (), ci: dict[str, Any] | None = None
) -> pd.DataFrame:
    """Per cell: seeds, counts of each outcome, success rate (converged share of all
    seeds) with its Wilson interval, and over seeds of every final metric in
    ``directions`` and ``extra`` and of its best-vs-final gap: mean, std, median,
    q25/q75/IQR, bootstrap intervals of the median and the mean, and the median over
    runs of its spread over sampling seeds. Runs without a final value (diverged) are
    left out of that metric's statistics but count as seeds. ``ci``: the keyword
    arguments of ``analysis.intervals.bootstrap`` (confidence, resamples, seed)."""
    ci = ci or {}
    rows = []
    for cell, group in runs.groupby(CELL, sort=True):
        row: dict[str, Any] = dict(zip(CELL, cell, strict=True))
        row["status"] = "ok"
        row["seeds"] = len(group)
        for outcome in OUTCOMES:
            row[outcome] = int((group["outcome"] == outcome).sum()) if "outcome" in group else 0
        row.update(rate(row["converged"], len(group), "success_rate", ci))
        if "modes_covered" in group and "modes_total" in group:
            row.update(
                rate(int((group["modes_covered"] >= group["modes_total"]).sum()), len(group), "all_modes_rate", ci)
            )
        columns = {m: group[m] for m in [*directions, *extra] if m in group}
        for m, hb in directions.items():
            if m in group and f"{m}_best" in group:
                columns[f"{m}_gap"] = best_final_gap(group, m, hb)
        for name, values in columns.items():
            row.update(describe(values.astype(float), name, ci))
            if f"{name}_sampling_sd" in group:
                row[f"{name}_sampling_sd"] = group[f"{name}_sampling_sd"].astype(float).median()
        rows.append(row)
    return pd.DataFrame(rows)


def rate(successes: int, trials: int, name: str, ci: dict[str, Any]) -> dict[str, float]:
    """A share of seeds with its Wilson interval (``name``, ``name_lo``, ``name_hi``)."""
    lo, hi = intervals.wilson(successes, trials, ci.get("confidence", 0.95))
    return {name: successes / trials if trials else math.nan, f"{name}_lo": lo, f"{name}_hi": hi}


def describe(values: pd.Series, name: str, ci: dict[str, Any] | None = None) -> dict[str, float]:
    v = values.replace([np.inf, -np.inf], np.nan).dropna()
    q25, q75 = (v.quantile(0.25), v.quantile(0.75)) if len(v) else (math.nan, math.nan)
    out = {
        f"{name}_mean": v.mean() if len(v) else math.nan,
        f"{name}_std": v.std(ddof=1) if len(v) > 1 else math.nan,
        f"{name}_median": v.median() if len(v) else math.nan,
        f"{name}_q25": q25,
        f"{name}_q75": q75,
        f"{name}_iqr": q75 - q25,
    }
    for statistic in ("median", "mean"):
        lo, hi = intervals.bootstrap(v.to_numpy(), statistic, **(ci or {}))
        out[f"{name}_{statistic}_lo"], out[f"{name}_{statistic}_hi"] = lo, hi
    return out


def loss_tracking(runs: pd.DataFrame, min_rho: float, ci: dict[str, Any] | None = None) -> pd.DataFrame:
    """Per loss (and per dataset, and over all datasets): how well D's loss tracks the
    main metric: median (with its bootstrap interval) and IQR of the per-run Spearman
    rho, and the share of runs with rho >= ``min_rho`` (with its Wilson interval)."""
    ci = ci or {}
    frames = [runs, runs.assign(dataset="all")] if runs["dataset"].nunique() > 1 else [runs]
    rows = []
    for (loss, dataset), group in pd.concat(frames).groupby(["loss", "dataset"], sort=True):
        rho = group["d_loss_rho"].dropna()
        lo, hi = intervals.bootstrap(rho.to_numpy(), "median", **ci)
        rows.append(
            {
                "loss": loss,
                "dataset": dataset,
                "runs": len(group),
                "runs_with_rho": len(rho),
                "rho_median": rho.median() if len(rho) else math.nan,
                "rho_median_lo": lo,
                "rho_median_hi": hi,
                "rho_q25": rho.quantile(0.25) if len(rho) else math.nan,
                "rho_q75": rho.quantile(0.75) if len(rho) else math.nan,
                **rate(int((rho >= min_rho).sum()), len(rho), "tracking_share", ci),
            }
        )
    return pd.DataFrame(rows)


def _worst_filled(values: pd.Series, higher: bool) -> pd.Series:
    """Final values turned larger-is-better, a run without one (diverged) as the worst."""
    return oriented(values.astype(float), higher).fillna(-np.inf)


def _quantile(values: pd.Series, q: float) -> float:
    """A quantile where -inf (a failed run) may be one of the interpolated points."""
    with np.errstate(invalid="ignore"):
        x = float(np.quantile(values.to_numpy(), q))
    return -np.inf if math.isnan(x) else x


def rankings(
    runs: pd.DataFrame,
    main: dict[str, str],
    directions: dict[str, bool],
    ci: dict[str, Any] | None = None,
    pairs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per dataset, its cells ranked by their median final main metric, with a
    bootstrap interval of the median (a run without a final value counts as the
    worst). ``rank``: 1 + the number of cells significantly better (``pairs``, from
    ``analysis.contrasts.cell_pairs``: two-sided Mann-Whitney U tests, p corrected over
    every pair of the table; by default Holm at 0.05); ``better_than``: the number
    significantly worse; ``tied_with``: the cells not significantly different;
    ``order``: the position by the median alone (ties broken by success rate, then IQR)."""
    ci = ci or {}
    if pairs is None:
        pairs = contrasts.cell_pairs(runs, main, directions, confidence=ci.get("confidence", 0.95))
    rows = []
    for (dataset, variant, setting, loss), group in runs.groupby(CELL, sort=True):
        m = main[dataset]
        higher = directions[m]
        part = runs[runs["dataset"] == dataset]
        floor, worst = _floor(oriented(part[m].astype(float), higher))
        v = _worst_filled(group[m], higher).replace(-np.inf, floor).to_numpy()
        q25, med, q75 = (np.quantile(v, q) for q in (0.25, 0.5, 0.75))
        lo, hi = intervals.bootstrap(v, "median", **ci)
        shown = [float(oriented(_failed_below(x, worst), higher)) for x in (q25, med, q75, lo, hi)]
        # in the metric's own units, low end first, whichever direction is better
        (shown[0], shown[2]), (shown[3], shown[4]) = _ascending(shown[0], shown[2]), _ascending(shown[3], shown[4])
        success = rate(int(group["converged"].sum()), len(group), "success_rate", ci)
        rows.append(
            {
                **dict(zip(CELL, (dataset, variant, setting, loss), strict=True)),
                "metric": m,
                "seeds": len(group),
                **dict(zip(("q25", "median", "q75", "median_lo", "median_hi"), shown, strict=True)),
                "iqr": abs(shown[2] - shown[0]) if np.isfinite(shown[2] - shown[0]) else math.nan,
                **success,
                "_key": _failed_below(med, worst),
            }
        )
    table = pd.DataFrame(rows)
    ranked = [_rank(group, pairs[pairs["dataset"] == d]) for d, group in table.groupby("dataset", sort=True)]
    cols = ["dataset", "rank", "order", *CELL[1:], "metric", "seeds", "median", "median_lo", "median_hi"]
    cols += ["q25", "q75", "iqr", "success_rate", "success_rate_lo", "success_rate_hi", "better_than", "tied_with"]
    return pd.concat(ranked, ignore_index=True)[cols]


def _ascending(a: float, b: float) -> tuple[float, float]:
    return (b, a) if a > b else (a, b)  # a NaN leaves the pair as it is


def _floor(values: pd.Series) -> tuple[float, float]:
    """A stand-in far below every finite value for runs without one, so intervals can
    be computed, and the worst finite value: anything below it means 'a failed run'."""
    finite = values[np.isfinite(values)]
    worst = float(finite.min()) if len(finite) else 0.0
    return worst - 1e6 * (1.0 + (float(np.ptp(finite)) if len(finite) else 0.0)), worst


def _failed_below(x: float, worst: float) -> float:
    """-inf (a failed run) for a value below the worst finite one; others, NaN too, as they are."""
    return -np.inf if x < worst else float(x)


def _rank(group: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Order, significance rank and ties of one dataset's cells (larger-is-better keys)."""
    group = group.assign(_iqr=group["iqr"].fillna(np.inf))
    group = group.sort_values(["_key", "success_rate", "_iqr"], ascending=[False, False, True], kind="stable")
    key = list(zip(group["_key"], group["success_rate"], group["_iqr"], strict=True))
    group["order"] = [1 + key.index(k) for k in key]  # equal keys share the better place
    names = [join_cell(r) for _, r in group.iterrows()]
    beats = {
        (r["a"], r["b"]) if r["significant"] == "a better" else (r["b"], r["a"])
        for _, r in pairs.iterrows()
        if r["significant"]
    }
    group["rank"] = [1 + sum((other, n) in beats for other in names) for n in names]
    group["better_than"] = [sum((n, other) in beats for other in names) for n in names]
    group["tied_with"] = [
        "; ".join(o for o in names if o != n and (n, o) not in beats and (o, n) not in beats) for n in names
    ]
    return group.drop(columns=["_key", "_iqr"])


def baseline_check(
    runs: pd.DataFrame,
    main: dict[str, str],
    directions: dict[str, bool],
    baseline: str,
    alpha: float,
    correction: str = "holm",
    confidence: float = 0.95,
) -> tuple[pd.DataFrame, str]:
    """Is any loss consistently better than ``baseline``? For each dataset x variant
    and each other loss: the difference of median final main metric (positive = better
    than the baseline), Cliff's delta, the difference of success rates with its
    interval, and one-sided Mann-Whitney U tests over seeds in both directions (a run
    without a final value counts as the worst), their p corrected over every test of
    the table (``correction``: holm or bh). A loss is consistently better when it is
    significantly better (p_adj <= alpha) in every dataset x variant where both ran.
    Returns the table and a verdict written from it."""
    rows = []
    for (dataset, variant, setting), group in runs.groupby(SETTING, sort=True):
        base = group[group["loss"] == baseline]
        if base.empty:
            continue
        for loss, other in group[group["loss"] != baseline].groupby("loss", sort=True):
            cell = {"dataset": dataset, "variant": variant, "setting": setting, "loss": loss, "baseline": baseline}
            rows.append({**cell, **_contrast(other, base, main[dataset], directions[main[dataset]], confidence)})
    table = pd.DataFrame(rows)
    if table.empty:
        return table, verdict(table, baseline, alpha, correction)
    adjusted = contrasts.adjust(np.r_[table["p_better"], table["p_worse"]], correction)
    table["p_better_adj"], table["p_worse_adj"] = adjusted[: len(table)], adjusted[len(table) :]
    first = [c for c in table if c not in ("p_better", "p_worse", "p_better_adj", "p_worse_adj")]
    table = table[[*first, "p_better", "p_better_adj", "p_worse", "p_worse_adj"]].copy()
    # the direction of the test's own effect size (Cliff's delta), not of the medians: at a
    # ceiling (every mode covered) two medians tie while one loss still wins most pairs
    table["verdict"] = [
        "better" if pb <= alpha and d > 0 else "worse" if pw <= alpha and d < 0 else "no clear difference"
        for pb, pw, d in zip(table["p_better_adj"], table["p_worse_adj"], table["cliffs_delta"], strict=True)
    ]
    return table, verdict(table, baseline, alpha, correction)


def _contrast(other: pd.DataFrame, base: pd.DataFrame, m: str, higher: bool, confidence: float) -> dict[str, Any]:
    """One loss against the baseline in one dataset x variant (see baseline_check)."""
    o, b = _worst_filled(other[m], higher), _worst_filled(base[m], higher)
    diff = float(o.median() - b.median()) if np.isfinite(o.median()) or np.isfinite(b.median()) else 0.0
    rates = contrasts.rate_difference(
        int(other["converged"].sum()), len(other), int(base["converged"].sum()), len(base), confidence
    )
    return {
        "metric": m,
        "seeds": len(o),
        "baseline_seeds": len(b),
        "median": float(oriented(o.median(), higher)),
        "baseline_median": float(oriented(b.median(), higher)),
        **_median_interval(o, higher, ""),
        **_median_interval(b, higher, "baseline_"),
        "better_by": diff,
        **contrasts.rank_effect(o, b),
        **dict(zip(("success_diff", "success_diff_lo", "success_diff_hi"), rates, strict=True)),
        "p_better": contrasts.mann_whitney(o, b, "greater"),
        "p_worse": contrasts.mann_whitney(o, b, "less"),
    }


def _median_interval(values: pd.Series, higher: bool, prefix: str) -> dict[str, float]:
    """The bootstrap interval of a median over seeds of larger-is-better ``values``
    (-inf: a failed run), in the metric's own direction; an end that falls on a failed
    run is infinite, as the median would be."""
    floor, worst = _floor(values)
    lo, hi = intervals.bootstrap(values.replace(-np.inf, floor).to_numpy(), "median")
    ends = sorted(float(oriented(_failed_below(x, worst), higher)) for x in (lo, hi))
    return {f"{prefix}median_lo": ends[0], f"{prefix}median_hi": ends[1]}


def verdict(table: pd.DataFrame, baseline: str, alpha: float, correction: str = "holm") -> str:
    """One paragraph that answers the question from the table (decided on p_adj)."""
    if table.empty:
        return f"No comparison with '{baseline}': it is not in the grid, or no other loss ran beside it."
    n_settings = table.groupby(SETTING).ngroups
    tests = 2 * len(table)
    smallest = min_p_value(int(table["seeds"].min()), int(table["baseline_seeds"].min()))
    smallest_adj = min(1.0, smallest * tests) if correction == "holm" else smallest
    counts = table.groupby("loss")["verdict"].agg(lambda v: (v == "better").sum())
    worse = table.groupby("loss")["verdict"].agg(lambda v: (v == "worse").sum())
    settings = "setting" if n_settings == 1 else "settings"
    consistent = [loss for loss, c in counts.items() if c == n_settings]
    test = f"one-sided Mann-Whitney U over seeds, {contrasts.CORRECTIONS[correction]}-adjusted p <= {alpha}"
    lines = []
    if consistent:
        lines.append(
            f"Yes: {', '.join(consistent)} beat {baseline} in all {n_settings} dataset x variant {settings} ({test})."
        )
    else:
        best = counts.sort_values(ascending=False, kind="stable")
        top = ", ".join(f"{loss} in {c}" for loss, c in best.items() if c > 0)
        lines.append(
            f"No loss is consistently better than {baseline} over the {n_settings} dataset x variant {settings}: "
            + (
                f"significantly better ({test}) only {top}."
                if top
                else f"none is significantly better ({test}) in any."
            )
        )
    bad = ", ".join(f"{loss} in {c}" for loss, c in worse.sort_values(ascending=False, kind="stable").items() if c > 0)
    if bad:
        lines.append(f"Significantly worse than {baseline}: {bad}.")
    lines.append(contrasts.correction_text(correction, tests, alpha))
    attainable = (
        f"With these seed counts the smallest attainable p-value is {smallest:.3g} (adjusted: {smallest_adj:.3g})"
    )
    if smallest_adj > alpha:
        lines.append(f"{attainable} > {alpha}: no difference can be significant; add seeds to answer the question.")
    else:
        lines.append(attainable + ".")
    lines.append(
        "Effect sizes beside the p-values: cliffs_delta (-1 .. 1, > 0: the loss's seeds tend to beat the "
        "baseline's; cles = P(loss's seed beats the baseline's), ties half) and success_diff, the difference of "
        "success rates with its Newcombe interval."
    )
    return " ".join(lines)


def min_p_value(n1: int, n2: int) -> float:
    """The smallest one-sided p-value an exact Mann-Whitney U test can give."""
    return 1.0 / math.comb(n1 + n2, n1) if n1 and n2 else 1.0
