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
from gans.config import search
from gans.config.checks import check_buildable, run_problem
from gans.config.cost import check_arithmetic
from gans.config.grid import variant_labels
from gans.config.schema import ConfigError, StrictValidator, load_schema
from gans.config.setups import loss_training
from gans.config.sweep import apply_setting
from gans.datasets import DATASETS, build_dataset
from gans.losses import LOSSES
from gans.optim import build_optimizer
from gans.registry import RegistryError
from gans.regularizers import REGULARIZERS
from gans.variants import VARIANTS


def _model(config: dict, dataset: str) -> dict:
    """The dataset's model: per_dataset.<dataset>.model over models.<modality>."""
    modality = DATASETS.get(dataset).modality
    own = config["per_dataset"].get(dataset, {}).get("model")
    if modality not in config["models"] and not own:
        raise ConfigError(f"dataset '{dataset}' holds {modality}, but config key 'models.{modality}' is not set")
    base = config["models"].get(modality, {})
    if not own:
        return base
    params = base.get("params", {})
    if own.get("architecture", base.get("architecture")) != base.get("architecture"):
        params = {}  # another architecture: none of the modality's parameters carry over
    return {**base, **own, "params": {**params, **own.get("params", {})}}


def resolve_run(config: dict, dataset: str, variant: str, loss: str, seed: int) -> dict[str, Any]:
    """Everything one training run needs, concrete: saved as config.resolved.yaml.

    ``variant`` is a grid label (see ``variant_labels``): its preset and swept
    values are set on top of the run the registered variant resolves to, and
    recorded as ``setting`` (path -> value) and ``variant.label``; ``variant.name``
    stays the registered name. A search run's label (``<label>+search-<i>``) resolves
    to setting i of its cell (gans/config/search.py)."""
    found = search.parse_label(variant) if search.active(config) else None
    if found:  # the cell's run, then the search's setting on top
        base, _ = found
        return search.apply_search(config, dataset, variant, loss, resolve_run(config, dataset, base, loss, seed))
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
    """The run of a registered variant, from the config's sections: the loss's and
    the variant's paper set-ups for the dataset's family (gans/config/setups.py),
    under the config's settings."""
    loss_cls, variant_cls = LOSSES.get(loss), VARIANTS.get(variant)
    family = DATASETS.get(dataset).modality
    training = loss_training(loss_cls, family, config)
    for name in training["regularizers"]:
        allowed = REGULARIZERS.get(name).losses
        if allowed is not None and loss not in allowed:
            raise ConfigError(f"regularizer '{name}' applies only to the losses {', '.join(allowed)}, not to '{loss}'")
    model = _model(config, dataset)
    arch_cls = ARCHITECTURES.get(model["architecture"])
    data = resolve_dataset(config, dataset)
    data_obj = build_dataset(dataset, **data["params"])  # cheap: image data load only when sampled
    params = variant_cls.resolve_params(
        {**variant_cls.setup(family, data_obj), **variant_params(config, dataset, variant)}
    )
    setup = {**training["setup"], "latent_dim": variant_cls.latent_size(params, model["noise_dim"], data_obj)}
    train = {**copy.deepcopy(config["train"]), **config["per_dataset"].get(dataset, {}).get("train", {})}
    return {
        "seed": int(seed),
        "dataset": data,
        "variant": {"name": variant, "params": params},
        "loss": {"name": loss, "params": loss_cls.resolve_params(training["params"])},
        "architecture": {"name": arch_cls.name, "params": arch_cls.resolve_params(model["params"])},
        "noise_dim": model["noise_dim"],
        "optimizer": training["optimizer"],
        "n_critic": training["n_critic"],
        "n_gen": training["n_gen"],
        "regularizers": {
            name: REGULARIZERS.get(name).resolve_params(p) for name, p in sorted(training["regularizers"].items())
        },
        "train": train,
        "setup": setup,
        **({"stop": stop_at_bar(config, dataset)} if train.get("until") == "bar" else {}),
    }


def stop_at_bar(config: dict, dataset: str) -> dict[str, Any]:
    """What ``train.until: bar`` checks in training (gans/population.py): the analysis's
    bar for the dataset's modality, held for ``hold_points``, measured with the
    evaluation's protocol, so training stops where the analysis will say converged."""
    modality = DATASETS.get(dataset).modality
    if modality != "points":
        raise ConfigError(
            f"train.until: bar is checked in training on the Gaussian mixtures; '{dataset}' holds {modality}: "
            "use train.until: steps for it (per_dataset.<name>.train.until)"
        )
    bar, ev = config["analysis"]["quality_bar"][modality], config["evaluation"]
    if bar.get("fid_position") is not None:
        raise ConfigError(
            "train.until: bar checks the modes and hq_share criteria in training; "
            f"analysis.quality_bar.{modality}.fid_position must be null with it"
        )
    return {
        "modes": bar["modes"],
        "hq_share": bar["hq_share"],
        "hold_points": config["analysis"]["hold_points"],
        "num_samples": ev["num_samples"],
        "seed": ev["seed"],
        "hq_std": ev["modes"]["hq_std"],
        "min_count": ev["modes"]["min_count"],
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
    return StrictValidator(
        {
            "type": "object",
            "properties": {
                "seed": load_schema()["definitions"]["seed"],
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
    optimizer's arguments, the variant's own checks and an arithmetic no machine could
    finish (``gans.config.cost``). Swept values are checked here, as part of the run
    they change."""
    where = f"run {run['dataset']['name']}/{run_label(run)}/{run['loss']['name']}"
    for err in sorted(_run_validator().iter_errors(run), key=lambda e: list(e.absolute_path)):
        raise ConfigError(f"{where}: '{'.'.join(map(str, err.absolute_path))}': {err.message}")
    try:
        problem = run_problem(run)  # before the checks below use its values with operators
        if problem:
            raise ValueError(problem)
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
        check_buildable(run)
        check_arithmetic(run)  # after the networks are known to build
    except (ValueError, RegistryError) as exc:  # ParamError is a ValueError
        raise ConfigError(f"{where}: {exc}") from None


def dump(obj: Any, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(obj, sort_keys=False))


def first_difference(a: Any, b: Any, names: tuple[str, str] = ("A", "B"), path: str = "") -> str:
    """The first key at which two nested dicts differ, with both values."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if a.get(key) != b.get(key):
                return first_difference(a.get(key), b.get(key), names, f"{path}.{key}" if path else str(key))
    return f"{path or 'value'}: {names[0]} {a!r} vs {names[1]} {b!r}"
