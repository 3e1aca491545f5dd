"""What the tables record beside the numbers: the calibration values that place the
outcomes (calibration.csv), and where, with what code and with which settings the
runs were produced (provenance.json: code versions, processors, thread counts,
torch/CUDA, every dataset's evaluation config and the analysis options). The
summary's note says both in a few lines; analysis.compare reads provenance.json to
refuse folders of different configs."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

from gans.provenance import code_label, provenance
from metrics.calibration_files import KINDS

CALIBRATION_TABLE = "calibration.csv"
PROVENANCE = "provenance.json"
# the calibration values a note shows, when measured (the rest are in calibration.csv)
NOTE_METRICS = ["fid", "kid", "precision", "recall", "isc", "modes_covered", "hq_fraction", "reverse_kl"]
KIND_NAMES = {"real": "held-out real", "noise": "uniform noise", "untrained": "untrained G"}


def calibration_table(calibration: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per dataset x kind x metric: the mean over draws and their range."""
    rows = []
    for dataset, record in sorted(calibration.items()):
        for kind in KINDS:
            for metric, mean in record[kind]["mean"].items():
                rows.append(
                    {
                        "dataset": dataset,
                        "extractor": record["extractor"],
                        "num_samples": record["num_samples"],
                        "draws": record["draws"],
                        "kind": kind,
                        "metric": metric,
                        "mean": mean,
                        "min": record[kind]["min"][metric],
                        "max": record[kind]["max"][metric],
                    }
                )
    return pd.DataFrame(rows)


def calibration_note(table: pd.DataFrame) -> str:
    """A line per dataset: what held-out real data, noise and an untrained G read."""
    lines = []
    for dataset, part in table.groupby("dataset", sort=True):
        first = part.iloc[0]
        kinds = []
        for kind in KINDS:
            values = part[(part["kind"] == kind) & part["metric"].isin(NOTE_METRICS)].set_index("metric")["mean"]
            shown = ", ".join(f"{m} {values[m]:.3g}" for m in NOTE_METRICS if m in values)
            kinds.append(f"{KIND_NAMES[kind]}: {shown}")
        lines.append(
            f"Calibration of {dataset} ({first['extractor']}, n = {first['num_samples']}, "
            f"mean of {first['draws']} draws), against the real side: " + "; ".join(kinds) + "."
        )
    return "\n".join(lines)


def provenance_record(results: list[dict[str, Any]], opts: dict[str, Any]) -> dict[str, Any]:
    """Counts of runs per code version, processor, threads and torch/CUDA (from each
    run's train_summary.json), every dataset's evaluation config, the analysis
    options, and this aggregation's own provenance."""
    trained = [r["train"].get("provenance") or {} for r in results]

    def counts(key) -> dict[str, int]:
        return dict(Counter(str(key(p)) for p in trained))

    evaluation = {}
    for r in results:
        evaluation.setdefault(r["dataset"], r["evaluation"])
    return {
        "runs": len(results),
        "code_versions": counts(lambda p: code_label(p["code"]) if p else "unrecorded"),
        "processors": counts(lambda p: (p.get("gpu") or p.get("cpu")) if p else "unrecorded"),
        "threads": counts(lambda p: p.get("threads", "unrecorded")),
        "torch": counts(
            lambda p: f"torch {p['torch']}" + (f", CUDA {p['cuda']}" if p.get("cuda") else "") if p else "unrecorded"
        ),
        "evaluation": evaluation,
        "analysis": opts,
        "aggregated_with": provenance(),
    }


def provenance_note(record: dict[str, Any]) -> str:
    def listed(counts: dict[str, int]) -> str:
        return ", ".join(f"{k} ({v} runs)" if len(counts) > 1 else k for k, v in counts.items())

    return (
        f"Produced by code {listed(record['code_versions'])} on {listed(record['processors'])}, "
        f"{listed(record['threads'])} thread(s), {listed(record['torch'])} (provenance.json; per run in runs.csv)."
    )
