"""Collect every run into tidy tables.

    python -m metrics.aggregate --out results/tables RUN_DIR [RUN_DIR ...]

Writes runs.csv/.md (one row per run, its hyper-parameters as columns, failed runs
included), summary.csv/.md (per dataset x variant x loss: mean, std, median over
seeds of each final metric, divergence count, share of seeds covering all modes;
not-applicable cells listed with their reason), trajectories.csv (every run's
metrics at every evaluation point) and train_logs.csv (every run's training log).
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

from gans.runtime import read_json

KEYS = ["dataset", "variant", "loss", "seed"]
CELL = ["dataset", "variant", "loss"]


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


def run_row(run_dir: Path) -> dict[str, Any]:
    cfg = yaml.safe_load((run_dir / "config.resolved.yaml").read_text())
    result = read_json(run_dir / "metrics.json")
    train = result["train"]
    row = {
        "dataset": cfg["dataset"]["name"],
        "variant": cfg["variant"]["name"],
        "loss": cfg["loss"]["name"],
        "seed": cfg["seed"],
        "status": result["status"],
        "reason": result["reason"],
        "steps_completed": train["steps_completed"],
        "steps_planned": train["steps_planned"],
        "wall_time_s": train["wall_time_s"],
        "device": train["device"],
    }
    row.update({k: (np.nan if v is None else v) for k, v in result["final"].items()})
    hp = {k: v for k, v in cfg.items() if k not in ("dataset", "variant", "loss", "seed")}
    hp["dataset_params"] = cfg["dataset"]["params"]
    hp["loss_params"] = cfg["loss"]["params"]
    hp["variant_params"] = cfg["variant"]["params"]
    row.update({f"hp.{k}": v for k, v in flatten(hp).items()})
    return row


def tagged_csv(run_dir: Path, name: str, row: dict[str, Any]) -> pd.DataFrame:
    table = pd.read_csv(run_dir / name)
    for key in reversed(KEYS):
        table.insert(0, key, row[key])
    return table


def metric_columns(runs: pd.DataFrame) -> list[str]:
    skip = set(KEYS) | {"steps_completed", "steps_planned", "wall_time_s", "modes_total"}
    return [c for c in runs.columns if not c.startswith("hp.") and c not in skip and pd.api.types.is_numeric_dtype(runs[c])]


def summarize(runs: pd.DataFrame, skipped: list[dict[str, str]] | None = None) -> pd.DataFrame:
    """Per cell: seeds, diverged count, mean/std/median of every final metric over
    the seeds that have it, and the share of all seeds that covered every mode."""
    metrics = metric_columns(runs)
    rows = []
    for cell, group in runs.groupby(CELL, sort=True):
        row: dict[str, Any] = dict(zip(CELL, cell))
        row["status"] = "ok"
        row["seeds"] = len(group)
        row["diverged"] = int((group["status"] == "diverged").sum())
        if "modes_covered" in group and "modes_total" in group:
            row["all_modes_rate"] = float((group["modes_covered"] >= group["modes_total"]).mean())
        for m in metrics:
            values = group[m].astype(float)
            row[f"{m}_mean"] = values.mean()
            row[f"{m}_std"] = values.std(ddof=1) if values.notna().sum() > 1 else np.nan
            row[f"{m}_median"] = values.median()
        rows.append(row)
    for cell in skipped or []:
        rows.append({**{k: cell[k] for k in CELL}, "status": "not applicable", "reason": cell["reason"], "seeds": 0})
    return pd.DataFrame(rows).sort_values(CELL, kind="stable").reset_index(drop=True)


def to_markdown(table: pd.DataFrame, path: Path, floatfmt: str = ".4g") -> None:
    path.write_text(table.to_markdown(index=False, floatfmt=floatfmt) + "\n")


def aggregate(run_dirs: list[Path], out: Path, skipped: list[dict[str, str]] | None = None) -> dict[str, pd.DataFrame]:
    out.mkdir(parents=True, exist_ok=True)
    rows, trajectories, logs = [], [], []
    for run_dir in run_dirs:
        row = run_row(run_dir)
        rows.append(row)
        trajectories.append(tagged_csv(run_dir, "metrics.csv", row))
        logs.append(tagged_csv(run_dir, "train_log.csv", row))
    runs = pd.DataFrame(rows).sort_values(KEYS, kind="stable").reset_index(drop=True)
    summary = summarize(runs, skipped)
    tables = {
        "runs": runs,
        "summary": summary,
        "trajectories": pd.concat(trajectories, ignore_index=True),
        "train_logs": pd.concat(logs, ignore_index=True),
    }
    for name, table in tables.items():
        table.to_csv(out / f"{name}.csv", index=False)
    to_markdown(runs[[c for c in runs.columns if not c.startswith("hp.")]], out / "runs.md")
    to_markdown(summary_view(summary), out / "summary.md")
    return tables


def summary_view(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary with mean ± std merged into one column per metric, for reading."""
    view = summary[[c for c in CELL + ["status", "seeds", "diverged", "all_modes_rate"] if c in summary]].copy()
    for col in summary.columns:
        if col.endswith("_mean"):
            m = col[: -len("_mean")]
            mean, std, med = summary[col], summary[f"{m}_std"], summary[f"{m}_median"]
            view[m] = [
                "" if pd.isna(a) else f"{a:.3g} ± {0 if pd.isna(s) else s:.2g} (med {c:.3g})" for a, s, c in zip(mean, std, med)
            ]
    if "reason" in summary:
        view["reason"] = summary["reason"].fillna("")
    return view


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metrics.aggregate", description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders (each with metrics.json)")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--skipped", default="[]", help="JSON list of not-applicable cells with reasons")
    parser.add_argument("--analysis", default="{}", help="JSON analysis options")
    args = parser.parse_args(argv)
    missing = [str(r) for r in args.runs if not (r / "metrics.json").is_file()]
    if missing:
        parser.exit(2, f"error: not evaluated yet (no metrics.json): {', '.join(missing[:5])}\n")
    tables = aggregate(args.runs, args.out, json.loads(args.skipped))
    print(summary_view(tables["summary"]).to_string(index=False), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
