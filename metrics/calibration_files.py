"""Calibration files: where a dataset's calibration values live (per dataset x
extractor x sample size), their kinds, and how they are read. The contract between
the calibrate rule, which measures them (``metrics.calibration``), and the analysis,
which places runs between them (``analysis.outcomes``) without loading any model."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from gans.runtime import read_json

CALIBRATION = "results/calibration/{dataset}/{extractor}_{n}.json"
KINDS = ("real", "noise", "untrained")
POINTS = "points"  # the extractor of 2-D data: the points themselves


def extractor_of(eval_cfg: dict[str, Any]) -> str:
    return eval_cfg["extractor"]["name"] if "extractor" in eval_cfg else POINTS


def sample_size(eval_cfg: dict[str, Any]) -> int:
    return eval_cfg["images"]["num_samples"] if "extractor" in eval_cfg else eval_cfg["num_samples"]


def calibration_path(dataset: str, eval_cfg: dict[str, Any]) -> str:
    """Where a dataset's calibration values live, for its resolved evaluation config."""
    return CALIBRATION.format(dataset=dataset, extractor=extractor_of(eval_cfg), n=sample_size(eval_cfg))


def load(paths: list[str | Path]) -> dict[str, dict[str, Any]]:
    """Calibration files by dataset name."""
    out = {}
    for path in paths:
        record = read_json(path)
        out[record["dataset"]] = record
    return out


def value(calibration: dict[str, Any] | None, kind: str, metric: str) -> float:
    """The mean over draws of ``metric`` for ``kind`` (nan when not measured)."""
    if not calibration:
        return math.nan
    return float(calibration.get(kind, {}).get("mean", {}).get(metric, math.nan))
