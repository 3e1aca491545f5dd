"""One run's full set-up, resolved from the config: every component's parameters
concrete, the paper's training set-up under the config's overrides, a sweep's
values on top; and the checks that refuse a run that could not train."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import jsonschema
import torch
import yaml

from gans.architectures import ARCHITECTURES
from gans.config.grid import variant_labels
from gans.config.schema import ConfigError, load_schema
from gans.config.sweep import apply_setting
from gans.datasets import DATASETS
from gans.losses import LOSSES
from gans.optim import build_optimizer, merged_optimizer
from gans.registry import RegistryError
from gans.regularizers import REGULARIZERS
from gans.variants import VARIANTS


def _model(config: dict, dataset: str) -> dict:
    modality = DATASETS.get(dataset).modality
    if modality not in config["models"]:
        raise ConfigError(f"dataset '{dataset}' holds {modality}, but config key 'models.{modality}' is not set")
    return config["models"][modality]


def resolve_run(config: dict, dataset: str, variant: str, loss: str, seed: int) -> dict[str, Any]:
    """Everything one training run needs, concrete: saved as config.resolved.yaml.

    ``variant`` is a grid label (see ``variant_labels``): its preset and swept
    values are set on top of the run the registered variant resolves to, and
    recorded as ``setting`` (path -> value) and ``variant.label``; ``variant.name``
    stays the registered name. A search run's label (``<label>+search-<i>``) resolves
    to setting i of its cell (gans/config/search.py)."""
    if config.get("search") is not None and "+search-" in variant:
        from gans.config import search  # it builds on this module

        if search.parse_label(variant):
            return search.resolve(config, dataset, variant, loss, seed)
    labels = variant_labels(config)
    entry = labels.get(variant)
    if entry is None and "+" in variant:
        raise ConfigError(f"no variant label '{variant}' in the grid; its labels: {', '.join(labels)}")
    if entry is None:  # a registered variant outside the grid's labels: its plain run
        return _resolve_registered(config, dataset, variant, loss, seed)
    run = _resolve_registered(config, dataset, entry["variant"], loss, seed)
    if entry["setting"] or entry["preset"]:
        apply_setting(run, entry, f"{dataset}/{entry['variant']}/{loss}")
        run["variant"]["label"] = variant
        if entry["preset"]:
            run["variant"]["preset"] = entry["preset"]
        run["setting"] = copy.deepcopy(entry["setting"])
    return run


def _resolve_registered(config: dict, dataset: str, variant: str, loss: str, seed: int) -> dict[str, Any]:
    """The run of a registered variant, from the config's sections."""
    loss_cls = LOSSES.get(loss)
    paper = copy.deepcopy(loss_cls.training)
    override = config["losses"].get(loss, {})
    optimizer = merged_optimizer(dict(paper.get("optimizer", {})), override.get("optimizer", {}))
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
        "variant": {
            "name": variant,
            "params": VARIANTS.get(variant).resolve_params(variant_params(config, dataset, variant)),
        },
        "loss": {"name": loss, "params": loss_cls.resolve_params(override.get("params"))},
        "architecture": {"name": arch_cls.name, "params": arch_cls.resolve_params(model["params"])},
        "noise_dim": model["noise_dim"],
        "optimizer": optimizer,
        "n_critic": override.get("n_critic", paper.get("n_critic", 1)),
        "n_gen": override.get("n_gen", paper.get("n_gen", 1)),
        "regularizers": {name: REGULARIZERS.get(name).resolve_params(p) for name, p in sorted(regularizers.items())},
        "train": {**copy.deepcopy(config["train"]), **config["per_dataset"].get(dataset, {}).get("train", {})},
    }


def variant_params(config: dict, dataset: str, variant: str) -> dict[str, Any]:
    """The variant's parameters as the config sets them for ``dataset``: per_dataset over top level."""
    per_dataset = config["per_dataset"].get(dataset, {}).get("variants", {}).get(variant, {})
    return {**config["variants"].get(variant, {}), **per_dataset}


def resolve_dataset(config: dict, dataset: str) -> dict[str, Any]:
    """A dataset's name and concrete parameters (image datasets' root from data_root)."""
    params = DATASETS.get(dataset).resolve_params(config["datasets"].get(dataset))
    if "root" in params and "root" not in config["datasets"].get(dataset, {}):
        params["root"] = config["data_root"]  # one data root for every image dataset
    return {"name": dataset, "params": params}


def run_label(run: dict[str, Any]) -> str:
    """A resolved run's place on the grid's variant axis (its folder name)."""
    return run["variant"].get("label", run["variant"]["name"])


@functools.lru_cache(maxsize=1)
def _run_validator() -> jsonschema.Validator:
    """The config schema's rules for the keys of a resolved run config."""
    props = load_schema()["properties"]
    override = props["losses"]["additionalProperties"]["properties"]
    return jsonschema.Draft7Validator(
        {
            "type": "object",
            "properties": {
                "seed": {"type": "integer", "minimum": 0},
                "optimizer": {**override["optimizer"], "required": ["name", "lr_d", "lr_g"]},
                "n_critic": override["n_critic"],
                "n_gen": override["n_gen"],
                "noise_dim": props["models"]["properties"]["points"]["properties"]["noise_dim"],
                "train": props["train"],
            },
        }
    )


def check_run(run: dict[str, Any]) -> None:
    """Refuse a resolved run config that could not train, before any job starts:
    the schema's types and bounds, every component's name and parameters, the
    optimizer's arguments and the variant's own checks. Swept values are checked
    here, as part of the run they change."""
    where = f"run {run['dataset']['name']}/{run_label(run)}/{run['loss']['name']}"
    for err in sorted(_run_validator().iter_errors(run), key=lambda e: list(e.absolute_path)):
        raise ConfigError(f"{where}: '{'.'.join(map(str, err.absolute_path))}': {err.message}")
    try:
        for registry, section in (
            (DATASETS, "dataset"),
            (VARIANTS, "variant"),
            (LOSSES, "loss"),
            (ARCHITECTURES, "architecture"),
        ):
            registry.get(run[section]["name"]).resolve_params(run[section]["params"])
        for name, params in run["regularizers"].items():
            REGULARIZERS.get(name).resolve_params(params)
        modality = DATASETS.get(run["dataset"]["name"]).modality
        if modality not in ARCHITECTURES.get(run["architecture"]["name"]).modalities:
            raise ValueError(f"architecture '{run['architecture']['name']}' does not handle {modality}")
        if "lr" in run["optimizer"]:
            raise ValueError("optimizer: 'lr' is not a key; set lr_d and lr_g")
        try:
            for role in ("d", "g"):
                build_optimizer([torch.zeros(1, requires_grad=True)], run["optimizer"], role, updates=1)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"optimizer '{run['optimizer']['name']}': {exc}") from None
        VARIANTS.get(run["variant"]["name"]).check(run)
    except (ValueError, RegistryError) as exc:  # ParamError is a ValueError
        raise ConfigError(f"{where}: {exc}") from None


def dump(obj: Any, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(obj, sort_keys=False))
