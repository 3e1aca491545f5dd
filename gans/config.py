"""The one config channel: load, validate (JSON schema with defaults filled, then
every name against its registry), expand the grid, and resolve each run's full
set-up. The Snakefile and the CLIs all go through these functions."""
from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import yaml

from gans.architectures import ARCHITECTURES
from gans.components import ParamError
from gans.datasets import DATASETS
from gans.losses import LOSSES
from gans.registry import RegistryError
from gans.regularizers import REGULARIZERS
from gans.variants import VARIANTS

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_PATH = ROOT / "workflow" / "schemas" / "config.schema.yaml"
GRID_KEYS = ("dataset", "variant", "loss", "seed")


class ConfigError(ValueError):
    """The config is malformed or names something that does not exist."""


def _defaulting_validator(schema: dict) -> jsonschema.Validator:
    """A draft-7 validator that also fills in each property's default."""
    base = jsonschema.Draft7Validator

    def properties(validator, props, instance, schema_):
        if isinstance(instance, dict):
            for key, sub in props.items():
                if "default" in sub and key not in instance:
                    instance[key] = copy.deepcopy(sub["default"])
        yield from base.VALIDATORS["properties"](validator, props, instance, schema_)

    cls = jsonschema.validators.extend(base, {"properties": properties})
    return cls(schema)


def load_schema() -> dict:
    """The schema with local ``$ref``s inlined, so defaults on either side apply."""
    schema = yaml.safe_load(SCHEMA_PATH.read_text())
    definitions = schema.get("definitions", {})

    def inline(node):
        if isinstance(node, dict):
            if "$ref" in node:
                ref = node["$ref"].removeprefix("#/definitions/")
                node = {**definitions[ref], **{k: v for k, v in node.items() if k != "$ref"}}
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return inline(schema)


def _schema_error(err: jsonschema.ValidationError) -> ConfigError:
    where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
    msg = f"config key '{where}': {err.message}"
    if err.validator == "additionalProperties" and isinstance(err.schema.get("properties"), dict):
        msg += f"; valid keys: {', '.join(sorted(err.schema['properties']))}"
    return ConfigError(msg)


def validate(config: dict) -> dict:
    """Validate ``config`` in place (defaults filled) and return it.

    Raises ConfigError naming the bad key or value and the valid choices, before
    any work starts.
    """
    if not isinstance(config, dict):
        raise ConfigError(f"the config must be a mapping, got {type(config).__name__}")
    validator = _defaulting_validator(load_schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        raise _schema_error(errors[0])
    try:
        _check_names(config)
        for run in grid(config):
            resolved = resolve_run(config, **run)
            try:
                VARIANTS.get(run["variant"]).check(resolved)
            except ValueError as exc:
                raise ConfigError(f"{run['variant']} with {run['dataset']}/{run['loss']}: {exc}") from None
        for dataset in config["grid"]["datasets"]:
            resolve_eval(config, dataset)
    except (RegistryError, ParamError) as exc:
        raise ConfigError(str(exc)) from None
    return config


def _check_names(config: dict) -> None:
    grid_ = config["grid"]
    for registry, names in ((DATASETS, grid_["datasets"]), (VARIANTS, grid_["variants"]), (LOSSES, grid_["losses"])):
        for name in names:
            registry.get(name)
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
        merged = {**config["train"], **override.get("train", {})}
        for err in jsonschema.Draft7Validator(train_schema).iter_errors(merged):
            err.path.appendleft(f"per_dataset.{dataset}.train")  # name the key the user wrote
            raise _schema_error(err)
    if not list(grid(config)):
        raise ConfigError("the grid is empty: no variant in grid.variants supports any loss in grid.losses")


def load(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    return validate(config)


# -- the grid -------------------------------------------------------------------------
def grid(config: dict) -> Iterator[dict[str, Any]]:
    """Every run of the grid, as dicts with keys dataset, variant, loss, seed.
    Variant x loss cells the variant does not support are left out (see ``skipped``)."""
    g = config["grid"]
    for dataset, variant, loss in itertools.product(g["datasets"], g["variants"], g["losses"]):
        seeds = config["per_dataset"].get(dataset, {}).get("seeds", g["seeds"])
        for seed in seeds:
            if VARIANTS.get(variant).supports(loss):
                yield {"dataset": dataset, "variant": variant, "loss": loss, "seed": seed}


def skipped(config: dict) -> list[dict[str, str]]:
    """Grid cells that are not applicable, with the reason (for tables and the report)."""
    g = config["grid"]
    out = []
    for dataset, variant, loss in itertools.product(g["datasets"], g["variants"], g["losses"]):
        reason = VARIANTS.get(variant).unsupported(loss)
        if reason:
            out.append({"dataset": dataset, "variant": variant, "loss": loss, "reason": reason})
    return out


# -- resolving one run ----------------------------------------------------------------
def _model(config: dict, dataset: str) -> dict:
    modality = DATASETS.get(dataset).modality
    if modality not in config["models"]:
        raise ConfigError(f"dataset '{dataset}' holds {modality}, but config key 'models.{modality}' is not set")
    return config["models"][modality]


def resolve_run(config: dict, dataset: str, variant: str, loss: str, seed: int) -> dict[str, Any]:
    """Everything one training run needs, concrete: saved as config.resolved.yaml."""
    loss_cls = LOSSES.get(loss)
    paper = copy.deepcopy(loss_cls.training)
    override = config["losses"].get(loss, {})
    optimizer = dict(paper.get("optimizer", {}))
    if "name" in override.get("optimizer", {}) and override["optimizer"]["name"] != optimizer.get("name"):
        # a different optimizer keeps only the learning rates of the paper's one
        optimizer = {k: v for k, v in optimizer.items() if k in ("lr_d", "lr_g")}
    optimizer.update(override.get("optimizer", {}))
    regularizers = {**override.get("regularizers", paper.get("regularizers", {})), **config["regularizers"]}
    for name in regularizers:
        allowed = REGULARIZERS.get(name).losses
        if allowed is not None and loss not in allowed:
            raise ConfigError(f"regularizer '{name}' applies only to the losses {', '.join(allowed)}, not to '{loss}'")
    model = _model(config, dataset)
    arch_cls = ARCHITECTURES.get(model["architecture"])
    return {
        "seed": int(seed),
        "dataset": resolve_dataset(config, dataset),
        "variant": {"name": variant, "params": VARIANTS.get(variant).resolve_params(config["variants"].get(variant))},
        "loss": {"name": loss, "params": loss_cls.resolve_params(override.get("params"))},
        "architecture": {"name": arch_cls.name, "params": arch_cls.resolve_params(model["params"])},
        "noise_dim": model["noise_dim"],
        "optimizer": optimizer,
        "n_critic": override.get("n_critic", paper.get("n_critic", 1)),
        "n_gen": override.get("n_gen", paper.get("n_gen", 1)),
        "regularizers": {name: REGULARIZERS.get(name).resolve_params(p) for name, p in sorted(regularizers.items())},
        "train": {**copy.deepcopy(config["train"]), **config["per_dataset"].get(dataset, {}).get("train", {})},
    }


def resolve_dataset(config: dict, dataset: str) -> dict[str, Any]:
    """A dataset's name and concrete parameters (image datasets' root from data_root)."""
    params = DATASETS.get(dataset).resolve_params(config["datasets"].get(dataset))
    if "root" in params and "root" not in config["datasets"].get(dataset, {}):
        params["root"] = config["data_root"]  # one data root for every image dataset
    return {"name": dataset, "params": params}


def resolve_eval(config: dict, dataset: str) -> dict[str, Any]:
    """Everything one evaluation job needs (kept apart from training, so changing
    an evaluation setting never retrains)."""
    from metrics import METRICS  # metrics depends on gans, not the reverse at import time

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
            raise ConfigError(f"metric '{name}' is measured by itself for conditional variants; "
                              f"remove it from config key 'evaluation.metrics.{modality}'")
    if modality == "images":
        from metrics.extractors import ExtractorError, resolve as resolve_extractor

        try:
            ev.update(resolve_extractor(config, dataset, names))
            names = ev.pop("metrics")
        except ExtractorError as exc:
            raise ConfigError(str(exc)) from None
    for key in ("extractors", "lenet", "inception"):  # already folded into the extractor spec
        ev.pop(key)
    return {"metrics": names, **ev}


def dump(obj: Any, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(obj, sort_keys=False))
