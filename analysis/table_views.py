"""The tables as written for reading (Markdown and LaTeX beside each CSV): per table
the columns a reader compares, numbers with their intervals as text, and a note
above the table saying how they were computed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis import intervals
from analysis.setup_columns import SETUP_COLUMNS
from analysis.stability import CELL, OUTCOMES
from metrics import higher_is_better, metric_columns


def _fmt(x: float, spec: str = ".3g") -> str:
    return "" if pd.isna(x) else f"{x:{spec}}"


def summary_view(summary: pd.DataFrame, main: dict[str, str]) -> pd.DataFrame:
    """Per cell, for reading: outcomes, success rate with its interval, the main
    metric's median with its interval, its spread over training seeds and over
    sampling seeds, its best-final gap, other metrics as mean [interval]."""
    rows = []
    for _, s in summary.iterrows():
        m = main.get(s["dataset"])
        row = {k: s[k] for k in [*CELL, "tuning"] if k in s}
        row["seeds"] = int(s["seeds"])
        if s["status"] == "not applicable":
            rows.append({**row, "outcomes": "not applicable: " + str(s["reason"])})
            continue
        row.update({c: s[c] for c in SETUP_COLUMNS if c in s})
        row["outcomes"] = ", ".join(f"{int(s[o])} {o}" for o in OUTCOMES if s[o])
        row["success [CI]"] = f"{int(s['converged'])}/{int(s['seeds'])} " + _percent_interval(s, "success_rate")
        if "all_modes_rate" in s and pd.notna(s["all_modes_rate"]):
            row["all modes [CI]"] = _percent_interval(s, "all_modes_rate")
        row["main metric: median [CI]"] = f"{m} " + intervals.interval_text(
            s[f"{m}_median"], s[f"{m}_median_lo"], s[f"{m}_median_hi"]
        )
        row["sd: seeds / sampling"] = f"{_fmt(s[f'{m}_std'], '.2g')} / {_fmt(s.get(f'{m}_sampling_sd', np.nan), '.2g')}"
        row["best−final gap (median)"] = _fmt(s.get(f"{m}_gap_median", np.nan))
        for col in summary.columns:
            name = col.removesuffix("_mean")
            if col.endswith("_mean") and name != m and higher_is_better(name) is not None:  # the metrics
                row[name] = intervals.interval_text(s[col], s[f"{name}_mean_lo"], s[f"{name}_mean_hi"])
        rows.append(row)
    return pd.DataFrame(rows).fillna("")


def _percent_interval(s: pd.Series, name: str) -> str:
    return f"{s[name]:.0%} [{s[name + '_lo']:.0%}, {s[name + '_hi']:.0%}]"


def runs_view(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per run for reading: set-up, outcome, bar score, main metric final and best, stability."""
    out = runs[
        [*CELL, "seed"] + [c for c in ("tuning", *SETUP_COLUMNS) if c in runs] + ["status", "outcome", "main_metric"]
    ].copy()
    out["final"] = [r[r["main_metric"]] for _, r in runs.iterrows()]
    out["best"] = [r[r["main_metric"] + "_best"] for _, r in runs.iterrows()]
    out["best_step"] = [r[r["main_metric"] + "_best_step"] for _, r in runs.iterrows()]
    for col in [
        "bar_score",
        "step_to_bar",
        "mode_turnover",
        "oscillation",
        "d_loss_rho",
        *[c for c in runs if c.startswith("step_to_") and c != "step_to_bar"],
        *metric_columns(),
        "code_version",
        "processor",
        "threads",
        "reason",
    ]:
        if col in runs:
            out[col] = runs[col]
    return out


def rankings_view(rankings: pd.DataFrame) -> pd.DataFrame:
    """Rankings for reading: a value that falls on a run without a final value (a
    diverged run, ranked as the worst; ±inf in the CSV) reads "diverged"."""
    out = rankings.copy()
    for col in ("median", "median_lo", "median_hi", "q25", "q75"):
        out[col] = [("diverged" if np.isinf(v) else _fmt(v)) for v in rankings[col]]
    for col in ("success_rate", "success_rate_lo", "success_rate_hi"):
        out[col] = [_fmt(v, ".0%") for v in rankings[col]]
    return out


def pairs_view(pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs of cells for reading: success difference with its interval, p beside p_adj."""
    out = pairs[["dataset", "a", "b", "metric", "seeds_a", "seeds_b"]].copy()
    for col in ("median_a", "median_b"):
        out[col] = [("diverged" if np.isinf(v) else _fmt(v)) for v in pairs[col]]
    out["cliffs_delta"] = [_fmt(v, ".2f") for v in pairs["cliffs_delta"]]
    out["success a - b [CI]"] = [
        "" if pd.isna(d) else f"{d:+.0%} [{lo:+.0%}, {hi:+.0%}]"
        for d, lo, hi in zip(pairs["success_diff"], pairs["success_diff_lo"], pairs["success_diff_hi"], strict=True)
    ]
    out["p"], out["p_adj"] = ([_fmt(v, ".2g") for v in pairs[c]] for c in ("p", "p_adj"))
    out["significant"] = pairs["significant"]
    return out


RANKINGS_NOTE = (
    "rank = 1 + the number of cells significantly better: a two-sided Mann-Whitney U test of the final main "
    "metric over seeds (rankings_pairs lists every pair with its p, p_adj, Cliff's delta and the difference of "
    "success rates). {correction} tied_with: cells not significantly different from this one, which these seeds "
    "cannot tell apart. order: the position by the median alone. median_lo/median_hi: {level:.0%} bootstrap "
    "interval of the median. A diverged run has no final value and counts as the worst; a value that falls on "
    "one reads 'diverged'. With n seeds a median's interval cannot be narrower than the spread of its middle "
    "seeds: with 3 seeds it is the seed range."
)


def write_table(table: pd.DataFrame, out: Path, name: str, note: str = "") -> None:
    """CSV (every column), Markdown and LaTeX (the given, readable columns)."""
    md = table.to_markdown(index=False, floatfmt=".4g")
    (out / f"{name}.md").write_text((note + "\n\n" if note else "") + md + "\n")
    latex = table.to_latex(index=False, float_format=lambda x: f"{x:.4g}", na_rep="--", escape=True)
    (out / f"{name}.tex").write_text(("% " + note.replace("\n", "\n% ") + "\n" if note else "") + latex)
