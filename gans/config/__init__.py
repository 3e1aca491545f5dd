"""The one config channel, by job:

- ``schema``: the JSON schema, defaults filled, errors that name the key;
- ``validate``: a whole config checked before any job starts;
- ``grid``: blocks, cells and seeds;
- ``populations``: the runs one job trains together, their ids and job sizes;
- ``sweep``: sweeps and presets, any key of a run as a grid axis;
- ``run``: one run's resolved set-up and its checks.

The Snakefile and the CLIs all go through these functions; evaluation settings are
resolved by ``metrics.config``, analysis settings by ``analysis.config``.
"""

from gans.config.grid import (
    cells_by_dataset,
    datasets_in_grid,
    grid,
    grid_blocks,
    losses_in_grid,
    seeds,
    skipped,
    variant_labels,
)
from gans.config.run import check_run, dump, resolve_dataset, resolve_run, run_label, variant_params
from gans.config.schema import ROOT, SCHEMA_PATH, ConfigError, load_schema, section_defaults
from gans.config.sweep import DEFAULT_SETTING, split_label
from gans.config.validate import load, validate

GRID_KEYS = ("dataset", "variant", "loss", "seed")

__all__ = [
    "DEFAULT_SETTING",
    "GRID_KEYS",
    "ROOT",
    "SCHEMA_PATH",
    "ConfigError",
    "cells_by_dataset",
    "check_run",
    "datasets_in_grid",
    "dump",
    "grid",
    "grid_blocks",
    "load",
    "load_schema",
    "losses_in_grid",
    "resolve_dataset",
    "resolve_run",
    "run_label",
    "section_defaults",
    "seeds",
    "skipped",
    "split_label",
    "validate",
    "variant_labels",
    "variant_params",
]
