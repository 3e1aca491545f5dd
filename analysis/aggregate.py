"""Collect every run into tidy tables, with the stability analysis.

    python -m analysis.aggregate --out results/tables --calibration CALIBRATION_JSON ... -- RUN_DIR [RUN_DIR ...]

Writes, as CSV, Markdown and LaTeX:
  runs       one row per run (failed runs included): hyper-parameters as hp.* columns,
             final and best metrics, their spread over sampling seeds, outcome
             (analysis.outcomes), bar score, oscillation, steps to targets, D-loss/metric
             rank correlation, and provenance (code version, processor, threads)
  summary    per dataset x variant x loss: outcome counts, success rate with its
             Wilson interval, and over seeds of every final metric and best-final gap
             mean, std, median, IQR and bootstrap intervals of median and mean, and the
             spread over sampling seeds (not-applicable cells listed with their reason)
  rankings   per dataset, cells ranked by median final main metric, with which
             differences are significant and which cells tie
  rankings_pairs  every pair of a dataset's cells: Mann-Whitney U p, corrected p
             (Holm by default), Cliff's delta, difference of success rates
  loss_tracking   per loss, how well D's loss tracks the main metric
  baseline_check  each loss against the baseline (nonsaturating), with a verdict
and trajectories.csv / train_logs.csv (every run's metrics at every evaluation point
and its training log), calibration.csv (the calibration values the outcomes use) and
provenance.json (code versions, hardware, evaluation configs, analysis options).
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

from analysis import comparison, contrasts, intervals, outcomes, records, search, stability
from analysis.config import analysis_options
from analysis.setup_columns import latent_note, setup_columns, with_setup
from analysis.table_views import RANKINGS_NOTE, pairs_view, rankings_view, runs_view, summary_view, write_table
from gans import compute, layout, safe_io
from gans import config as gcfg
from gans import provenance as prov
from gans.datasets import DATASETS
from gans.losses import LOSSES
from gans.runtime import JSON_KINDS, read_json
from metrics import calibration_files as calib
from metrics import higher_is_better, sampling

KEYS = [*stability.CELL, "seed"]
CELL = stability.CELL
TABLE_NAMES = ["runs", "summary", "rankings", "rankings_pairs", "loss_tracking", "baseline_check"]
FORMATS = ["csv", "md", "tex"]
RAW_TABLES = ["trajectories.csv", "train_logs.csv", records.CALIBRATION_TABLE, records.PROVENANCE]


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
        **setup_columns(cfg),
        **compute.columns(train, cfg),
        **search.search_columns(gcfg.run_label(cfg)),  # a search run: its cell's setting, the search setting apart
    }
    row.update({k: (np.nan if v is None else v) for k, v in result["final"].items()})
    row.update(sampling.spread(result.get("sampling")))
    row.update(prov.columns(train.get("provenance")))
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
    calibration_files: list[Path] = (),
    tuning: list[dict[str, str]] | None = None,
) -> dict[str, pd.DataFrame]:
    opts = analysis_options(opts or {})
    calibration = calib.load(calibration_files)
    rows, trajectories, logs, results = read_runs(run_dirs)
    main = {d: main_metric(d, opts) for d in sorted({r["dataset"] for r in rows})}
    check_calibrated(main, calibration)
    dirs = directions(pd.concat(trajectories).columns, main)
    add_run_measures(rows, trajectories, logs, main, dirs, opts, calibration)

    runs = pd.DataFrame(rows).sort_values(KEYS, kind="stable").reset_index(drop=True)
    ci = intervals.options(opts)
    summary = summarize(runs, dirs, skipped, ci)
    main_names = {d: m for d, (m, _) in main.items()}
    alpha, correction = opts["alpha"], opts["correction"]
    check, verdict = comparison.baseline_check(
        runs, main_names, dirs, opts["baseline"], alpha, correction, opts["confidence"]
    )
    pairs = contrasts.cell_pairs(runs, main_names, dirs, alpha, correction, opts["confidence"])
    tables = {
        "runs": runs,
        "summary": summary,
        "rankings": comparison.rankings(runs, main_names, dirs, ci, pairs),
        "rankings_pairs": pairs,
        "loss_tracking": comparison.loss_tracking(runs, opts["tracking_rho"], ci),
        "baseline_check": check,
        "trajectories": pd.concat(trajectories, ignore_index=True),
        "train_logs": pd.concat(logs, ignore_index=True),
        "calibration": records.calibration_table(calibration),
    }
    for name in ("runs", "summary", "rankings", "baseline_check"):  # how each cell's setting was chosen
        tables[name] = search.with_tuning(tables[name], tuning or [], runs)
    provenance = records.provenance_record(results, opts)
    write(tables, out, verdict, main_names, provenance, opts)
    return tables


def read_runs(run_dirs: list[Path]) -> tuple[list[dict], list[pd.DataFrame], list[pd.DataFrame], list[dict]]:
    """Per run: its row, its metrics at every evaluation point and its training log
    (both tagged with the run's keys), and its final result with its dataset."""
    rows, trajectories, logs, results = [], [], [], []
    for run_dir in run_dirs:
        cfg = yaml.safe_load((run_dir / layout.RESOLVED_CONFIG).read_text())
        row = run_row(run_dir, cfg)
        trajectories.append(tagged(pd.read_csv(run_dir / layout.METRICS_TABLE), row))
        logs.append(tagged(pd.read_csv(run_dir / layout.TRAIN_LOG), row))
        rows.append(row)
        results.append({"dataset": row["dataset"], **read_json(run_dir / layout.METRICS_FINAL)})
    return rows, trajectories, logs, results


def check_calibrated(main: dict[str, tuple[str, bool]], calibration: dict[str, Any]) -> None:
    missing = [d for d in main if d not in calibration]
    if missing:
        raise gcfg.ConfigError(
            f"no calibration values for dataset(s) {', '.join(missing)}: the outcome rules need them "
            "(give --calibration with the calibrate rule's file, results/calibration/<dataset>/...)"
        )


def add_run_measures(rows, trajectories, logs, main, dirs, opts, calibration) -> None:
    """Each run's main metric and stability measures (outcome, bar score, ...), added to its row."""
    for row, traj, log in zip(rows, trajectories, logs, strict=True):
        name = main[row["dataset"]][0]
        if name not in traj:
            raise gcfg.ConfigError(
                f"main metric '{name}' of dataset '{row['dataset']}' was not evaluated; "
                f"evaluated: {', '.join(c for c in traj.columns if c in dirs)}"
            )
        row["main_metric"] = name
        measures = stability.run_measures(
            traj,
            log,
            row["status"],
            dirs,
            name,
            opts,
            calibration[row["dataset"]],
            DATASETS.get(row["dataset"]).modality,
        )
        row.update(measures)


def summarize(
    runs: pd.DataFrame,
    dirs: dict[str, bool],
    skipped: list[dict[str, str]] | None = None,
    ci: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Per cell statistics over seeds; not-applicable cells as rows with their reason."""
    extra = ("bar_score", "oscillation", "d_loss_rho") + tuple(c for c in runs if c.startswith("step_to_"))
    summary = with_setup(comparison.seed_summary(runs, dirs, [c for c in extra if c in runs], ci), runs, CELL)
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


def write(
    tables: dict[str, pd.DataFrame],
    out: Path,
    verdict: str,
    main: dict[str, str],
    provenance: dict[str, Any],
    opts: dict[str, Any],
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.to_csv(out / f"{name}.csv", index=False)
    (out / records.PROVENANCE).write_text(json.dumps(provenance, indent=2, sort_keys=True, default=str) + "\n")
    level = opts["confidence"]
    summary_note = "\n\n".join(
        note
        for note in [
            f"Intervals: {level:.0%} Wilson intervals of success rates; {level:.0%} percentile bootstrap intervals "
            f"of medians and means over seeds ({opts['bootstrap']['resamples']} resamples). 'sd: seeds / sampling': "
            "the final main metric's standard deviation over training seeds, and the median over runs of its "
            "standard deviation over sampling seeds (the final generator evaluated with other noise).",
            records.calibration_note(tables["calibration"]),
            latent_note(tables["runs"]),
            records.provenance_note(provenance),
        ]
        if note
    )
    write_table(runs_view(tables["runs"]), out, "runs", note=records.provenance_note(provenance))
    write_table(summary_view(tables["summary"], main), out, "summary", note=summary_note)
    tests, alpha, correction = len(tables["rankings_pairs"]), opts["alpha"], opts["correction"]
    ranked = RANKINGS_NOTE.format(level=level, correction=contrasts.correction_text(correction, tests, alpha))
    write_table(rankings_view(tables["rankings"]), out, "rankings", note=ranked)
    write_table(pairs_view(tables["rankings_pairs"]), out, "rankings_pairs", note=ranked)
    write_table(tables["loss_tracking"], out, "loss_tracking")
    write_table(tables["baseline_check"], out, "baseline_check", note=verdict)


class BadOption(ValueError):
    """A command-line value that cannot be used, named with what the option takes."""


# the keys of each entry of the JSON list options, as gans.config.skipped and gans.config.search.tuning write them
LIST_KEYS = {
    "--skipped": ("dataset", "variant", "loss", "reason"),
    "--tuning": ("dataset", "variant", "loss", "tuning"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.aggregate", description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders (each with metrics.json)")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--skipped", default="[]", help="JSON list of not-applicable cells with reasons")
    parser.add_argument("--analysis", default="{}", help="JSON analysis options (the config's analysis section)")
    parser.add_argument(
        "--calibration", nargs="+", type=Path, default=[], help="every dataset's calibration file (metrics.calibration)"
    )
    parser.add_argument(
        "--tuning", default="[]", help="JSON list: how each cell's setting was chosen (a tuning column)"
    )
    args = parser.parse_args(argv)
    if layout.PENDING in map(str, args.runs):
        parser.error(layout.PENDING_HELP)
    try:
        check_paths(args.runs, args.out)
        skipped, opts, tuning = json_options(args)
    except BadOption as exc:
        parser.exit(2, f"error: {exc}\n")
    missing = [str(r) for r in args.runs if not (r / layout.METRICS_FINAL).is_file()]
    missing += [str(f) for f in args.calibration if not f.is_file()]
    if missing:
        parser.exit(2, f"error: not evaluated or calibrated yet: {', '.join(missing[:5])}\n")
    try:
        check_calibration_files(args.calibration)
        for run in args.runs:  # a damaged file is set aside, so the next snakemake call remakes it
            safe_io.check_evaluation_outputs(run)
        aggregate(args.runs, args.out, skipped, opts, args.calibration, tuning)
    except (gcfg.ConfigError, outcomes.CalibrationError, BadOption) as exc:
        parser.exit(2, f"error: {exc}\n")
    except safe_io.DamagedFile as exc:
        parser.exit(1, f"error: {safe_io.retrain_message(exc)}\n")
    print(pd.read_csv(args.out / "rankings.csv").to_string(index=False), file=sys.stderr)
    print((args.out / "baseline_check.md").read_text().split("\n\n")[0], file=sys.stderr)
    return 0


def check_paths(runs: list[Path], out: Path) -> None:
    """Each run folder given once (a second copy would count as another seed), and
    --out a folder or not there yet."""
    seen: dict[Path, Path] = {}
    for run in runs:
        first = seen.setdefault(run.resolve(), run)
        if first is not run:
            same = "given twice" if str(first) == str(run) else f"given twice, as {first} and {run}"
            raise BadOption(f"run folder {run} is {same}: each run counts once, as one seed")
    if out.exists() and not out.is_dir():
        raise BadOption(f"--out {out} is a file; it takes the folder to write the tables into")


def json_options(args: argparse.Namespace) -> tuple[list[dict[str, str]], dict[str, Any], list[dict[str, str]]]:
    """--skipped, --analysis and --tuning parsed and checked; a BadOption names the
    option and what it takes."""
    takes = "a JSON object of analysis options (the config's analysis section)"
    opts = _json(args.analysis, "--analysis", takes)
    if not isinstance(opts, dict):
        raise BadOption(f"--analysis holds {JSON_KINDS.get(type(opts), 'null')}; it takes {takes}")
    try:
        analysis_options(opts)
    except gcfg.ConfigError as exc:
        raise BadOption(f"--analysis: {exc}") from None
    return _json_list(args.skipped, "--skipped"), opts, _json_list(args.tuning, "--tuning")


def _json(text: str, option: str, takes: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadOption(f"{option} is not JSON ({exc}); it takes {takes}") from None


def _json_list(text: str, option: str) -> list[dict[str, str]]:
    keys = LIST_KEYS[option]
    takes = f"a JSON list of objects with text under {', '.join(keys)}"
    entries = _json(text, option, takes)
    if not isinstance(entries, list):
        raise BadOption(f"{option} holds {JSON_KINDS.get(type(entries), 'null')}; it takes {takes}")
    for i, entry in enumerate(entries, 1):
        if not (isinstance(entry, dict) and all(isinstance(entry.get(k), str) for k in keys)):
            raise BadOption(f"{option} entry {i} is {json.dumps(entry)[:80]}; it takes {takes}")
    return entries


def check_calibration_files(files: list[Path]) -> None:
    """Each --calibration file a JSON object naming its dataset (metrics.calibration's record)."""
    for path in files:
        try:
            record = json.loads(path.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            reason = "empty" if not path.read_bytes().strip() else f"not JSON: {exc}"
            raise BadOption(f"--calibration {path} is {reason}; it takes metrics.calibration's JSON record") from None
        if not (isinstance(record, dict) and isinstance(record.get("dataset"), str)):
            raise BadOption(f"--calibration {path} names no dataset; it takes metrics.calibration's JSON record")


if __name__ == "__main__":
    sys.exit(main())
