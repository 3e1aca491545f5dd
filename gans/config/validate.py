"""Validation of a whole config before any job starts: the schema (types, bounds,
unknown keys, defaults filled), every name against its registry, the grid's blocks,
and every run of the grid resolved and checked."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from gans.architectures import ARCHITECTURES
from gans.components import ParamError
from gans.config import search
from gans.config.checks import check_devices
from gans.config.grid import check_blocks_disjoint, grid, grid_blocks, variant_labels
from gans.config.params import check_config_params
from gans.config.run import check_run, resolve_run
from gans.config.schema import ConfigError, StrictValidator, check_schema, load_schema, schema_error
from gans.datasets import DATASETS
from gans.losses import LOSSES
from gans.registry import RegistryError
from gans.space import check_range
from gans.variants import VARIANTS


def validate(config: dict) -> dict:
    """Validate ``config`` in place (defaults filled) and return it: every key, and
    every run of the grid as training will see it. (``metrics.config.validate`` adds
    the evaluation section, ``analysis.config.validate`` the analysis section: what the
    workflow checks.)

    Raises ConfigError naming the bad key or value and the valid choices, before
    any work starts.
    """
    if not isinstance(config, dict):
        raise ConfigError(f"the config must be a mapping, got {type(config).__name__}")
    check_schema(config)
    try:
        _check_names(config)
        check_config_params(config)  # typed and bounded before any value reaches an operator
        check_devices(config, local=False)  # the name; whether it is here is checked where jobs run
        for run in grid(config):
            check_run(resolve_run(config, **run))
        check_search(config)
    except (RegistryError, ParamError) as exc:
        raise ConfigError(str(exc)) from None
    return config


def _check_names(config: dict) -> None:
    for block in grid_blocks(config):
        for registry, names in (
            (DATASETS, block["datasets"]),
            (VARIANTS, block["variants"]),
            (LOSSES, block["losses"]),
        ):
            for name in names:
                registry.get(name)
    check_blocks_disjoint(config)
    for registry, section in ((DATASETS, "datasets"), (LOSSES, "losses"), (VARIANTS, "variants")):
        for name in config[section]:
            try:
                registry.get(name)
            except RegistryError as exc:
                raise ConfigError(f"config key '{section}.{name}': {exc}") from None
    for modality, model in config["models"].items():
        arch = ARCHITECTURES.get(model["architecture"])
        if modality not in arch.modalities:
            raise ConfigError(
                f"config key 'models.{modality}.architecture': '{arch.name}' does not handle {modality}; "
                f"choose one of: {', '.join(n for n, a in ARCHITECTURES.items() if modality in a.modalities)}"
            )
    train_schema = load_schema()["properties"]["train"]
    for dataset, override in config["per_dataset"].items():
        try:
            DATASETS.get(dataset)
        except RegistryError as exc:
            raise ConfigError(f"config key 'per_dataset.{dataset}': {exc}") from None
        for variant in override.get("variants", {}):
            try:
                VARIANTS.get(variant)
            except RegistryError as exc:
                raise ConfigError(f"config key 'per_dataset.{dataset}.variants.{variant}': {exc}") from None
        merged = {**config["train"], **override.get("train", {})}
        for err in StrictValidator(train_schema).iter_errors(merged):
            err.path.appendleft(f"per_dataset.{dataset}.train")  # name the key the user wrote
            raise schema_error(err)
    if not list(grid(config)):
        raise ConfigError("the grid is empty: no variant in grid.variants supports any loss in grid.losses")


def check_search(config: dict) -> None:
    """Every cell's search space and every setting of the search, checked as training
    will see them; ConfigError naming the key."""
    if not search.active(config):
        return
    s = config["search"]
    if s["finalists"] > s["budget"]:
        raise ConfigError(
            f"config key 'search.finalists': {s['finalists']} finalists of {s['budget']} settings;"
            f" choose 0 to {s['budget']}"
        )
    entries, used = variant_labels(config), set()
    for dataset, label, loss in search.cells(config):
        if search.parse_label(label):
            raise ConfigError(f"config key 'grid.presets': the label '{label}' reads as a search run's; rename it")
        run = resolve_run(config, dataset, label, loss, s["train_seed"])
        space = search.cell_space(config, dataset, label, loss, run)
        check_space_ends(config, dataset, label, loss, run)
        used |= {path for path in s["space"] if search.has_path(run, path)}
        for path, source in entries[label]["sources"].items():
            if source.startswith("grid.sweep.") and any(p == path or p.startswith(path + ".") for p in space):
                raise ConfigError(
                    f"config key '{source}': '{path}' is also searched in {dataset}/{label}/{loss}; "
                    "a key is either swept or searched"
                )
        for index in range(s["budget"]):
            check_run(resolve_run(config, dataset, search.search_label(label, index), loss, s["train_seed"]))
    for path in sorted(set(s["space"]) - used):
        raise ConfigError(f"config key 'search.space.{path}': no run of the grid has '{path}' in its resolved config")
    for section, registry in (("losses", LOSSES), ("variants", VARIANTS)):
        for name in s[section]:
            if name not in registry:
                raise ConfigError(f"config key 'search.{section}.{name}': {registry.kind} '{name}' is not registered")


def check_space_ends(config: dict, dataset: str, label: str, loss: str, run: dict) -> None:
    """Each choice, or both ends of each range, of a cell's space set on its run and
    checked as training sees it: a range that admits a value the run refuses fails
    whatever the budget, not only once a drawn setting lands on that value."""
    where = f"{dataset}/{label}/{loss}"
    for path, (spec, source) in search.space_entries(config, dataset, label, loss, run).items():
        kind, args = check_range(spec)
        for value in args if kind == "choice" else [float(a) for a in args] if kind != "int" else args:
            trial = copy.deepcopy(run)
            try:
                search.apply_values(trial, {path: value}, where)
                check_run(trial)
            except ConfigError as exc:
                raise ConfigError(f"{source}: the range admits {value!r}, which {where} refuses ({exc})") from None


def load(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    return validate(config)
