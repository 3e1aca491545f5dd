"""The evaluation and analysis sections of a config: each dataset's resolved
evaluation set-up (metrics, extractor, sample counts), the analysis options, and
the whole-config validation the workflow runs (gans' checks plus these)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from gans import config as gcfg
from gans.config import ConfigError
from gans.datasets import DATASETS
from gans.registry import RegistryError
from metrics import METRICS
from metrics.checks import check_analysis, check_evaluation


def validate(config: dict) -> dict:
    """The workflow's validation: ``gans.config.validate`` (every key, every run of
    the grid) and every dataset's evaluation set-up. Fills defaults in place."""
    gcfg.validate(config)
    try:
        for dataset in gcfg.datasets_in_grid(config):
            check_evaluation(resolve_eval(config, dataset), dataset)
    except RegistryError as exc:
        raise ConfigError(str(exc)) from None
    check_analysis(config)
    from metrics.search import check as check_search  # it builds on this module

    check_search(config)
    return config


def load(path: str | Path) -> dict:
    """A config file, validated as the workflow validates it."""
    return validate(_read(path))


def _read(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        return yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None


def resolve_eval(config: dict, dataset: str) -> dict[str, Any]:
    """Everything one evaluation job needs (kept apart from training, so changing
    an evaluation setting never retrains)."""
    modality = DATASETS.get(dataset).modality
    ev = copy.deepcopy(config["evaluation"])
    names = ev.pop("metrics").get(modality)
    if not names:
        raise ConfigError(f"config key 'evaluation.metrics.{modality}' is not set for dataset '{dataset}'")
    for name in names:
        metric = METRICS.get(name)
        if modality not in metric.modalities:
            raise ConfigError(f"metric '{name}' does not apply to {modality} (dataset '{dataset}')")
        if metric.per_class:
            raise ConfigError(
                f"metric '{name}' is measured by itself for conditional variants; "
                f"remove it from config key 'evaluation.metrics.{modality}'"
            )
    if modality == "images":
        from metrics.extractors import ExtractorError
        from metrics.extractors import resolve as resolve_extractor

        try:
            ev.update(resolve_extractor(config, dataset, names))
            names = ev.pop("metrics")
        except ExtractorError as exc:
            raise ConfigError(str(exc)) from None
    for key in ("extractors", "lenet", "inception"):  # already folded into the extractor spec
        ev.pop(key)
    ev.pop("calibration")  # the calibrate rule's own setting: changing it re-evaluates no run
    return {"metrics": names, **ev}


def analysis_options(opts: dict[str, Any] | None = None) -> dict[str, Any]:
    """The analysis section with the schema's defaults filled in (and checked)."""
    return gcfg.section_defaults("analysis", opts)
