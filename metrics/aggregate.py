"""Collect every run into tidy tables, with the stability analysis.

    python -m metrics.aggregate --out results/tables RUN_DIR [RUN_DIR ...]

Writes, as CSV, Markdown and LaTeX:
  runs       one row per run (failed runs included): hyper-parameters as hp.* columns,
             final and best metrics, outcome (converged, oscillating, collapsed,
             diverged), oscillation, steps to targets, D-loss/metric rank correlation
  summary    per dataset x variant x loss: outcome counts, success rate, and mean,
             std, median, IQR over seeds of every final metric and best-final gap
             (not-applicable cells listed with their reason)
  rankings   per dataset, cells ranked by median final main metric
  loss_tracking   per loss, how well D's loss tracks the main metric
  baseline_check  each loss against the baseline (nonsaturating), with a verdict
and trajectories.csv / train_logs.csv (every run's metrics at every evaluation point
and its training log).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from gans import compute, layout
from gans import config as gcfg
from gans.datasets import DATASETS
from gans.losses import LOSSES
from gans.runtime import read_json
from metrics import comparison, higher_is_better, metric_columns, search, stability
from metrics.config import analysis_options

KEYS = [*stability.CELL, "seed"]
CELL = stability.CELL
TABLE_NAMES = ["runs", "summary", "rankings", "loss_tracking", "baseline_check"]
FORMATS = ["csv", "md", "tex"]
RAW_TABLES = ["trajectories.csv", "train_logs.csv"]


def table_files() -> list[str]:
    """Every file the aggregation writes (the rules' outputs)."""
    return [f"{name}.{fmt}" for name in TABLE_NAMES for fmt in FORMATS] + RAW_TABLES


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        elif isinstance(v, list):
            out[key] = json.dumps(v)
        else:
            out[key] = v
    return out


def run_row(run_dir: Path, cfg: dict[str, Any]) -> dict[str, Any]:
    result = read_json(run_dir / layout.METRICS_FINAL)
    train = result["train"]
    variant, setting = gcfg.split_label(gcfg.run_label(cfg))
    row = {
        "dataset": cfg["dataset"]["name"],
        "variant": variant,  # the registered name; a sweep's or preset's values are the setting
        "setting": setting,
        "loss": cfg["loss"]["name"],
        "seed": cfg["seed"],
        "run": str(run_dir),
        "status": result["status"],
        "reason": result["reason"],
        "steps_completed": train["steps_completed"],
        "steps_planned": train["steps_planned"],
        "wall_time_s": train["wall_time_s"],
        "device": train["device"],
        "d_equilibrium": LOSSES.get(cfg["loss"]["name"])(**cfg["loss"]["params"]).d_equilibrium(),
        **compute.columns(train, cfg),
        **search.search_columns(gcfg.run_label(cfg)),  # a search run: its cell's setting, the search setting apart
    }
    row.update({k: (np.nan if v is None else v) for k, v in result["final"].items()})
    hp = {k: v for k, v in cfg.items() if k not in ("dataset", "variant", "loss", "seed")}
    hp["dataset_params"] = cfg["dataset"]["params"]
    hp["loss_params"] = cfg["loss"]["params"]
    hp["variant_params"] = cfg["variant"]["params"]
    row.update({f"hp.{k}": v for k, v in flatten(hp).items()})
    return row


def tagged(table: pd.DataFrame, row: dict[str, Any]) -> pd.DataFrame:
    for key in reversed(KEYS):
        table.insert(0, key, row[key])
    return table


def main_metric(dataset: str, opts: dict[str, Any]) -> tuple[str, bool]:
    modality = DATASETS.get(dataset).modality
    spec = opts["main_metric"].get(modality)
    if not spec:
        raise gcfg.ConfigError(f"config key 'analysis.main_metric.{modality}' is not set for dataset '{dataset}'")
    return spec["name"], spec["higher_is_better"]


def directions(columns, main: dict[str, tuple[str, bool]]) -> dict[str, bool]:
    """metric -> higher is better, for every metric column a metric declares (and the main ones)."""
    out = {c: higher_is_better(c) for c in columns if higher_is_better(c) is not None}
    out.update(dict(main.values()))
    return out


def aggregate(
    run_dirs: list[Path],
    out: Path,
    skipped: list[dict[str, str]] | None = None,
    opts: dict[str, Any] | None = None,
    tuning: list[dict[str, str]] | None = None,
) -> dict[str, pd.DataFrame]:
    opts = analysis_options(opts or {})
    rows, trajectories, logs = [], [], []
    for run_dir in run_dirs:
        cfg = yaml.safe_load((run_dir / layout.RESOLVED_CONFIG).read_text())
        row = run_row(run_dir, cfg)
        trajectories.append(tagged(pd.read_csv(run_dir / layout.METRICS_TABLE), row))
        logs.append(tagged(pd.read_csv(run_dir / layout.TRAIN_LOG), row))
        rows.append(row)
    main = {d: main_metric(d, opts) for d in sorted({r["dataset"] for r in rows})}
    dirs = directions(pd.concat(trajectories).columns, main)
    for row, traj, log in zip(rows, trajectories, logs, strict=True):
        name = main[row["dataset"]][0]
        if name not in traj:
            raise gcfg.ConfigError(
                f"main metric '{name}' of dataset '{row['dataset']}' was not evaluated; "
                f"evaluated: {', '.join(c for c in traj.columns if c in dirs)}"
            )
        row["main_metric"] = name
        row.update(stability.run_measures(traj, log, row["status"], dirs, name, opts))

    runs = pd.DataFrame(rows).sort_values(KEYS, kind="stable").reset_index(drop=True)
    summary = summarize(runs, dirs, skipped)
    main_names = {d: m for d, (m, _) in main.items()}
    check, verdict = comparison.baseline_check(runs, main_names, dirs, opts["baseline"], opts["alpha"])
    tables = {
        "runs": runs,
        "summary": summary,
        "rankings": comparison.rankings(runs, main_names, dirs),
        "loss_tracking": comparison.loss_tracking(runs, opts["tracking_rho"]),
        "baseline_check": check,
        "trajectories": pd.concat(trajectories, ignore_index=True),
        "train_logs": pd.concat(logs, ignore_index=True),
    }
    for name in ("runs", "summary", "rankings", "baseline_check"):  # how each cell's setting was chosen
        tables[name] = search.with_tuning(tables[name], tuning or [], runs)
    write(tables, out, verdict, main_names)
    return tables


def summarize(runs: pd.DataFrame, dirs: dict[str, bool], skipped: list[dict[str, str]] | None = None) -> pd.DataFrame:
    """Per cell statistics over seeds; not-applicable cells as rows with their reason."""
    extra = [c for c in ("oscillation", "d_loss_rho") + tuple(c for c in runs if c.startswith("step_to_")) if c in runs]
    summary = comparison.seed_summary(runs, dirs, extra)
    na = [
        {**_cell_of(cell), "status": "not applicable", "reason": cell["reason"], "seeds": 0} for cell in skipped or []
    ]
    return (
        pd.concat([summary, pd.DataFrame(na)], ignore_index=True)
        .sort_values(CELL, kind="stable")
        .reset_index(drop=True)
    )


def _cell_of(cell: dict[str, str]) -> dict[str, str]:
    """A grid cell (dataset, variant label, loss) in the tables' columns."""
    variant, setting = gcfg.split_label(cell["variant"])
    return {"dataset": cell["dataset"], "variant": variant, "setting": setting, "loss": cell["loss"]}


# -- views for reading ----------------------------------------------------------------
def _fmt(x: float, spec: str = ".3g") -> str:
    return "" if pd.isna(x) else f"{x:{spec}}"


def summary_view(summary: pd.DataFrame, main: dict[str, str]) -> pd.DataFrame:
    """Per cell, for reading: outcomes, success rate, the main metric as median
    [q25, q75] and its best-final gap, other metrics as mean ± std."""
    rows = []
    for _, s in summary.iterrows():
        m = main.get(s["dataset"])
        row = {k: s[k] for k in [*CELL, "tuning"] if k in s}
        row["seeds"] = int(s["seeds"])
        if s["status"] == "not applicable":
            rows.append({**row, "outcomes": "not applicable: " + str(s["reason"])})
            continue
        row["outcomes"] = ", ".join(f"{int(s[o])} {o}" for o in stability.OUTCOMES if s[o])
        row["success"] = f"{s['success_rate']:.0%}"
        row["main metric: median [q25, q75]"] = (
            f"{m} {_fmt(s[f'{m}_median'])} [{_fmt(s[f'{m}_q25'])}, {_fmt(s[f'{m}_q75'])}]"
        )
        row["best−final gap (median)"] = _fmt(s.get(f"{m}_gap_median", np.nan))
        for col in summary.columns:
            name = col.removesuffix("_mean")
            if col.endswith("_mean") and name != m and higher_is_better(name) is not None:  # the metrics
                row[name] = (
                    ""
                    if pd.isna(s[col])
                    else f"{s[col]:.3g} ± {0 if pd.isna(s[name + '_std']) else s[name + '_std']:.2g}"
                )
        rows.append(row)
    return pd.DataFrame(rows).fillna("")


def runs_view(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per run for reading: outcome, main metric final and best, stability."""
    out = runs[[*KEYS, *(["tuning"] if "tuning" in runs else []), "status", "outcome", "main_metric"]].copy()
    out["final"] = [r[r["main_metric"]] for _, r in runs.iterrows()]
    out["best"] = [r[r["main_metric"] + "_best"] for _, r in runs.iterrows()]
    out["best_step"] = [r[r["main_metric"] + "_best_step"] for _, r in runs.iterrows()]
    for col in [
        "oscillation",
        "d_loss_rho",
        *[c for c in runs if c.startswith("step_to_")],
        *metric_columns(),
        "reason",
    ]:
        if col in runs:
            out[col] = runs[col]
    return out


def rankings_view(rankings: pd.DataFrame) -> pd.DataFrame:
    """Rankings for reading: a quantile that falls on a run without a final value (a
    diverged run, ranked as the worst; ±inf in the CSV) reads "diverged"."""
    out = rankings.copy()
    for col in ("median", "q25", "q75"):
        out[col] = [("diverged" if np.isinf(v) else _fmt(v)) for v in rankings[col]]
    return out


def write_table(table: pd.DataFrame, out: Path, name: str, note: str = "") -> None:
    """CSV (every column), Markdown and LaTeX (the given, readable columns)."""
    md = table.to_markdown(index=False, floatfmt=".4g")
    (out / f"{name}.md").write_text((note + "\n\n" if note else "") + md + "\n")
    latex = table.to_latex(index=False, float_format=lambda x: f"{x:.4g}", na_rep="--", escape=True)
    (out / f"{name}.tex").write_text(("% " + note.replace("\n", "\n% ") + "\n" if note else "") + latex)


def write(tables: dict[str, pd.DataFrame], out: Path, verdict: str, main: dict[str, str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.to_csv(out / f"{name}.csv", index=False)
    write_table(runs_view(tables["runs"]), out, "runs")
    write_table(summary_view(tables["summary"], main), out, "summary")
    write_table(
        rankings_view(tables["rankings"]),
        out,
        "rankings",
        note="A diverged run has no final value and counts as the worst; a quantile that falls on one reads 'diverged'.",
    )
    write_table(tables["loss_tracking"], out, "loss_tracking")
    write_table(tables["baseline_check"], out, "baseline_check", note=verdict)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metrics.aggregate", description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders (each with metrics.json)")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--skipped", default="[]", help="JSON list of not-applicable cells with reasons")
    parser.add_argument("--analysis", default="{}", help="JSON analysis options (the config's analysis section)")
    parser.add_argument(
        "--tuning", default="[]", help="JSON list: how each cell's setting was chosen (a tuning column)"
    )
    args = parser.parse_args(argv)
    missing = [str(r) for r in args.runs if not (r / layout.METRICS_FINAL).is_file()]
    if missing:
        parser.exit(2, f"error: not evaluated yet (no metrics.json): {', '.join(missing[:5])}\n")
    try:
        aggregate(args.runs, args.out, json.loads(args.skipped), json.loads(args.analysis), json.loads(args.tuning))
    except gcfg.ConfigError as exc:
        parser.exit(2, f"error: {exc}\n")
    print(pd.read_csv(args.out / "rankings.csv").to_string(index=False), file=sys.stderr)
    print((args.out / "baseline_check.md").read_text().split("\n\n")[0], file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
