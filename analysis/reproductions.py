"""The reproductions table: each published number beside the suite's measurement of
the same protocol, with intervals and a verdict.

    python -m analysis.reproductions --out results/tables --cells '{"pacgan-grid-gan": {...}}' RUN_DIR ...

The anchors (``analysis.reproduction_anchors.PUBLISHED``): a paper's numbers for one method on one data set,
with their spread, the protocol's length and its source. The config's
``reproductions`` section maps an anchor to the grid cell that runs its protocol
(config/reproductions.yaml). Writes reproductions.csv (every column) and
reproductions.md (for reading, with the notes on how each number is computed).

Verdicts: a measured mean agrees with a published one when they differ by at most
twice the combined standard error, sqrt(se_measured^2 + se_published^2) (about a 95%
two-sided test); an anchor that claims every mode (a figure) holds when every seed
covers every mode. A shortened run that does not agree says how far its training
went and where its trajectory heads.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from analysis.reproduction_anchors import GAPS, NOTES, PUBLISHED, Anchor
from gans import compute as gcompute
from gans import layout
from gans.config import run_label
from gans.runtime import read_json

AGREEMENT_Z = 2.0  # |difference| <= AGREEMENT_Z combined standard errors
METRICS = {"modes_covered": "modes", "hq_fraction": "high-quality fraction", "reverse_kl": "reverse KL"}


@dataclass
class Measured:
    """One anchor's cell as measured: final values per seed, trajectories, wall times."""

    finals: dict[str, list[float]] = field(default_factory=dict)
    trend: dict[str, dict[int, float]] = field(default_factory=dict)
    seeds: int = 0
    diverged: int = 0
    steps: int = 0
    wall_s: list[float] = field(default_factory=list)
    modes_total: int | None = None


ONE_SEED = "; one seed: no interval of its own, the tolerance is the published spread alone"


def mean_se(values: list[float]) -> tuple[float, float, int]:
    """Mean, standard error and count of the finite values (se NaN for one value:
    a single seed has no spread of its own, and must not read as an exact one)."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    if not len(v):
        return math.nan, math.nan, 0
    se = float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else math.nan
    return float(v.mean()), se, len(v)


def agreement(m: float, se: float, p: float, p_spread: float | None) -> tuple[bool, float]:
    """Whether a measured mean agrees with a published one, and the tolerance used
    (from the published spread alone where the measurement has none: one seed)."""
    own = 0.0 if math.isnan(se) else se
    tol = AGREEMENT_Z * math.sqrt(own**2 + (p_spread or 0.0) ** 2)
    return abs(m - p) <= tol, tol


def heading(trend: dict[int, float], se: float) -> str:
    """Where a trajectory of means heads: the last value against the one at about
    half the run's steps; a change smaller than ``se`` is flat."""
    if len(trend) < 2:
        return "flat"
    steps = sorted(trend)
    mid = min(steps, key=lambda s: abs(s - steps[-1] / 2))
    change = trend[steps[-1]] - trend[mid]
    if abs(change) <= (1e-12 if math.isnan(se) else max(se, 1e-12)):
        return "flat"
    return "rising" if change > 0 else "falling"


def unconverged(anchor: Anchor, measured: Measured) -> str:
    """A note when the runs' samples are far from the modes where the published ones
    are on them (under half the published high-quality fraction): then mode counts
    and reverse KL describe an early generator, not the trained one."""
    if "hq_fraction" not in anchor.values or metric_mean(measured, "hq_fraction") is None:
        return ""
    hq, published = metric_mean(measured, "hq_fraction"), anchor.values["hq_fraction"][0]
    if hq >= published / 2:
        return ""
    return f"; its samples are not on the modes yet (high quality {hq:.1%} vs {published:.1%} published)"


def metric_mean(measured: Measured, metric: str) -> float | None:
    m, _, n = mean_se(measured.finals.get(metric, []))
    return m if n else None


def verdict(anchor: Anchor, metric: str, measured: Measured) -> str:
    """The verdict on one published number."""
    if anchor.runnable:
        return anchor.runnable
    published, spread = anchor.values[metric]
    finals = measured.finals.get(metric, [])
    m, se, n = mean_se(finals)
    if n == 0:
        return f"no result: all {measured.seeds} seeds diverged" if measured.seeds else "not measured"
    if anchor.claim == "all-modes":
        full = sum(1 for x in finals if x is not None and x >= published)
        ok = full == measured.seeds
        return f"{'reproduced' if ok else 'not reproduced'}: {full} of {measured.seeds} seeds cover all {published:g}"
    ok, tol = agreement(m, se, published, spread)
    if ok:
        # no '|' in a verdict: it would split the cell of a Markdown table
        return f"agrees: {m:.3g} vs {published:.3g}, within {tol:.2g}" + (ONE_SEED if n == 1 else "")
    text = f"differs: measured {'higher' if m > published else 'lower'} by {abs(m - published):.3g} (> {tol:.2g})"
    if anchor.steps and measured.steps < anchor.steps:
        direction = heading(measured.trend.get(metric, {}), se)
        toward = (direction == "rising") == (published > m) and direction != "flat"
        text += (
            f"; at {measured.steps / anchor.steps:.1%} of the published {anchor.steps:,} steps, "
            f"{direction}{' toward the published value' if toward else ''}"
        )
    text += unconverged(anchor, measured) if metric != "hq_fraction" else ""
    return text + (ONE_SEED if n == 1 else "")


def gap_row(gap: tuple[str, str, str], measured: dict[str, Measured]) -> dict[str, Any] | None:
    """The row of a published difference between two anchors, measured or not."""
    a, b, metric = gap
    if a not in measured or b not in measured:
        return None
    (pa, sa), (pb, sb) = PUBLISHED[a].values[metric], PUBLISHED[b].values[metric]
    p_gap, p_spread = pa - pb, math.hypot(sa or 0.0, sb or 0.0)
    ma, sea, na = mean_se(measured[a].finals.get(metric, []))
    mb, seb, nb = mean_se(measured[b].finals.get(metric, []))
    m_gap, se = ma - mb, math.hypot(sea, seb)
    return {
        "reproduction": f"{a} - {b}",
        "paper": PUBLISHED[a].paper,
        "method": f"{PUBLISHED[a].method} - {PUBLISHED[b].method}",
        "data": PUBLISHED[a].data,
        "metric": f"{metric} gap",
        "published_mean": p_gap,
        "published_spread": p_spread,
        "measured_mean": m_gap,
        "measured_se": se,
        "seeds": min(na, nb),
        "verdict": gap_verdict(m_gap, se, p_gap, p_spread) if na and nb else "not measured",
    }


def gap_verdict(m_gap: float, se: float, p_gap: float, p_spread: float) -> str:
    """Direction: the measured gap has the published sign and is beyond 2 standard
    errors of zero; size: it agrees with the published gap."""
    same_sign = math.copysign(1.0, m_gap) == math.copysign(1.0, p_gap) and m_gap != 0
    if math.isnan(se):  # one seed: a sign, but no way to tell it from noise
        direction = "direction as published" if same_sign else "direction not as published"
    elif same_sign:
        resolved = abs(m_gap) > AGREEMENT_Z * se
        direction = "direction reproduced" if resolved else "direction as published but within noise"
    else:
        direction = "direction not reproduced"
    ok, tol = agreement(m_gap, se, p_gap, p_spread)
    size = f"size agrees ({m_gap:.3g} vs {p_gap:.3g}, within {tol:.2g})" if ok else f"size differs (> {tol:.2g})"
    return f"{direction}; {size}" + (ONE_SEED if math.isnan(se) else "")


def measure_cells(run_dirs: list[Path], cells: dict[str, dict[str, str]]) -> dict[str, Measured]:
    """Each anchor's runs (the cell the config maps it to), read from run folders."""
    by_cell: dict[tuple[str, str, str], list[Path]] = {}
    for run in run_dirs:
        cfg = yaml.safe_load((run / layout.RESOLVED_CONFIG).read_text())
        by_cell.setdefault((cfg["dataset"]["name"], run_label(cfg), cfg["loss"]["name"]), []).append(run)
    out = {}
    for name, cell in cells.items():
        runs = by_cell.get((cell["dataset"], cell["variant"], cell["loss"]), [])
        if runs:
            out[name] = measure_runs(runs)
    return out


def measure_runs(runs: list[Path]) -> Measured:
    m = Measured(seeds=len(runs))
    trajectories = []
    for run in runs:
        result = read_json(run / layout.METRICS_FINAL)
        m.diverged += result["status"] == "diverged"
        m.steps = max(m.steps, int(result["train"]["steps_planned"]))
        m.wall_s.append(gcompute.wall_share_s(result["train"]))
        for metric in METRICS:
            m.finals.setdefault(metric, []).append(result["final"].get(metric))
        m.modes_total = result["final"].get("modes_total") or m.modes_total
        trajectories.append(pd.read_csv(run / layout.METRICS_TABLE))
    table = pd.concat(trajectories)
    for metric in METRICS:
        if metric in table:
            m.trend[metric] = table.groupby("step")[metric].mean().dropna().to_dict()
    return m


def anchor_rows(name: str, measured: Measured | None) -> list[dict[str, Any]]:
    anchor = PUBLISHED[name]
    rows = []
    for metric, (published, spread) in anchor.values.items():
        m, se, n = mean_se(measured.finals.get(metric, [])) if measured else (math.nan, math.nan, 0)
        trend = measured.trend.get(metric, {}) if measured else {}
        rows.append(
            {
                "reproduction": name,
                "paper": anchor.paper,
                "method": anchor.method,
                "data": anchor.data,
                "metric": metric,
                "published_mean": published,
                "published_spread": spread,
                "published_spread_kind": anchor.spread,
                "published_trials": anchor.trials,
                "published_steps": anchor.steps,
                "measured_mean": m,
                "measured_se": se,
                "seeds": measured.seeds if measured else 0,
                "diverged": measured.diverged if measured else 0,
                "steps": measured.steps if measured else 0,
                "wall_time_s": float(np.mean(measured.wall_s)) if measured else math.nan,
                "trend": "; ".join(f"{s}: {v:.3g}" for s, v in sorted(trend.items())),
                "verdict": verdict(anchor, metric, measured) if measured or anchor.runnable else "not measured",
                "source": anchor.source,
            }
        )
    return rows


def reproductions_table(run_dirs: list[Path], cells: dict[str, dict[str, str]]) -> pd.DataFrame:
    """Every anchor (those without a cell as not run, with the reason) and every gap."""
    check_cells(cells)
    measured = measure_cells(run_dirs, cells)
    rows = []
    for name, anchor in PUBLISHED.items():
        if name in cells or anchor.runnable:
            rows += anchor_rows(name, measured.get(name))
    rows += [r for r in (gap_row(g, measured) for g in GAPS) if r]
    return pd.DataFrame(rows)


def check_cells(cells: dict[str, dict[str, str]], grid_cells: set[tuple[str, str, str]] | None = None) -> None:
    """Refuse an anchor the table does not know (naming the known ones), or one
    mapped to a cell outside the grid (``grid_cells``: (dataset, variant label, loss))."""
    unknown = sorted(set(cells) - set(PUBLISHED))
    if unknown:
        raise ValueError(
            f"config key 'reproductions': unknown anchor {', '.join(map(repr, unknown))}; "
            f"choose from: {', '.join(PUBLISHED)}"
        )
    for name, cell in cells.items():
        key = (cell["dataset"], cell["variant"], cell["loss"])
        if grid_cells is not None and key not in grid_cells:
            raise ValueError(f"config key 'reproductions.{name}': the cell {'/'.join(key)} is not in the grid")


def _pm(mean: float, spread: float | None, digits: str = ".3g") -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return ""
    if spread is None or (isinstance(spread, float) and math.isnan(spread)):
        return f"{mean:{digits}}"
    return f"{mean:{digits}} ± {spread:.2g}"


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """The table for reading: published and measured as mean ± spread, steps as a share."""
    out = pd.DataFrame(
        {
            "paper": table["paper"],
            "method": table["method"],
            "data": table["data"],
            "metric": table["metric"],
            "published": [_pm(m, s) for m, s in zip(table["published_mean"], table["published_spread"], strict=True)],
            "measured (mean ± SE)": [
                _pm(m, s) + (f" ({int(n)} seed{'s' if n != 1 else ''})" if n else "")
                for m, s, n in zip(table["measured_mean"], table["measured_se"], table["seeds"], strict=True)
            ],
        }
    )
    if "steps" in table:
        out["steps (of published)"] = [
            "" if not s or pd.isna(s) else f"{int(s):,}" + ("" if pd.isna(p) else f" of {int(p):,}")
            for s, p in zip(table["steps"], table.get("published_steps", pd.Series(dtype=float)), strict=False)
        ]
        out["wall per run (s)"] = table["wall_time_s"].map(lambda w: "" if pd.isna(w) else f"{w:.0f}")
        out["trend (step: mean)"] = table["trend"].fillna("")
    out["verdict"] = table["verdict"]
    return out.fillna("")


def write(table: pd.DataFrame, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "reproductions.csv", index=False)
    sources = sorted({s for s in table.get("source", pd.Series(dtype=str)).dropna()})
    notes = "\n".join(f"- {n}" for n in NOTES + [f"Source: {s}" for s in sources])
    (out / "reproductions.md").write_text(readable(table).to_markdown(index=False) + "\n\n" + notes + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.reproductions", description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="*", type=Path, help="run folders (each with metrics.json)")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--cells", required=True, help="JSON: anchor -> {dataset, variant, loss} (config key)")
    args = parser.parse_args(argv)
    try:
        table = reproductions_table(args.runs, json.loads(args.cells))
    except (ValueError, FileNotFoundError) as exc:
        parser.exit(2, f"error: {exc}\n")
    write(table, args.out)
    print(readable(table).to_string(index=False), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
