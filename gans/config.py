"""The one config channel: load, validate (JSON schema with defaults filled, then
every name against its registry), expand the grid, and resolve each run's full
set-up. The Snakefile and the CLIs all go through these functions."""
from __future__ import annotations

import copy
import functools
import itertools
import json
import re
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import torch
import yaml

from gans.architectures import ARCHITECTURES
from gans.components import ParamError
from gans.datasets import DATASETS
from gans.losses import LOSSES
from gans.optim import build_optimizer
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
    if err.validator == "oneOf" and err.context:
        # grid: one block or a list of blocks; report what is wrong in the form written
        branch = 1 if isinstance(err.instance, list) else 0
        errs = [e for e in err.context if e.relative_schema_path[0] == branch] or list(err.context)
        return _schema_error(max(errs, key=lambda e: len(e.absolute_path)))
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
            check_run(resolve_run(config, **run))
        for dataset in datasets_in_grid(config):
            resolve_eval(config, dataset)
    except (RegistryError, ParamError) as exc:
        raise ConfigError(str(exc)) from None
    return config


def _check_names(config: dict) -> None:
    for block in grid_blocks(config):
        for registry, names in ((DATASETS, block["datasets"]), (VARIANTS, block["variants"]), (LOSSES, block["losses"])):
            for name in names:
                registry.get(name)
    _check_blocks_disjoint(config)
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
def grid_blocks(config: dict) -> list[dict[str, Any]]:
    """The grid's blocks: ``grid`` is one block, or a list of them whose runs are pooled."""
    return config["grid"] if isinstance(config["grid"], list) else [config["grid"]]


def _in_order(items) -> list:
    return list(dict.fromkeys(items))


def datasets_in_grid(config: dict) -> list[str]:
    return _in_order(d for block in grid_blocks(config) for d in block["datasets"])


def losses_in_grid(config: dict) -> list[str]:
    return _in_order(loss for block in grid_blocks(config) for loss in block["losses"])


def _block_cells(block: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(dataset, label, loss) of every cell a block spans, supported or not."""
    return itertools.product(block["datasets"], _block_labels(block), block["losses"])


def _check_blocks_disjoint(config: dict) -> None:
    # one cell in two blocks would have two seed lists, and two rules for its runs
    seen: dict[tuple[str, str, str], int] = {}
    for i, block in enumerate(grid_blocks(config)):
        for cell in _block_cells(block):
            if cell in seen:
                raise ConfigError(f"config key 'grid': the cell {'/'.join(cell)} is in block {seen[cell]} and "
                                  f"block {i}; each dataset x variant x loss cell belongs to one block")
            seen[cell] = i


def grid(config: dict) -> Iterator[dict[str, Any]]:
    """Every run of the grid, as dicts with keys dataset, variant, loss, seed; the
    variant is its grid label (see ``variant_labels``). Variant x loss cells the
    variant does not support are left out (see ``skipped``)."""
    for block in grid_blocks(config):
        labels = _block_labels(block)
        for dataset, label, loss in _block_cells(block):
            if VARIANTS.get(labels[label]["variant"]).supports(loss):
                for seed in seeds(config, dataset, block):
                    yield {"dataset": dataset, "variant": label, "loss": loss, "seed": seed}


def seeds(config: dict, dataset: str, block: dict[str, Any] | None = None) -> list[int]:
    """A dataset's seeds in ``block`` (default: the first block holding it); per_dataset may override."""
    block = block or next(b for b in grid_blocks(config) if dataset in b["datasets"])
    return list(config["per_dataset"].get(dataset, {}).get("seeds", block["seeds"]))


def seeds_per_job(config: dict, dataset: str) -> int:
    return {**config["train"], **config["per_dataset"].get(dataset, {}).get("train", {})}["seeds_per_job"]


def seed_chunks(config: dict, dataset: str, block: dict[str, Any] | None = None) -> list[tuple[int, ...]]:
    """The seeds of ``dataset`` (in ``block``) grouped into jobs of ``train.seeds_per_job``."""
    all_seeds, k = seeds(config, dataset, block), seeds_per_job(config, dataset)
    return [tuple(all_seeds[i : i + k]) for i in range(0, len(all_seeds), k)]


def skipped(config: dict) -> list[dict[str, str]]:
    """Grid cells that are not applicable, with the reason (for tables and the report)."""
    out = []
    for block in grid_blocks(config):
        labels = _block_labels(block)
        for dataset, label, loss in _block_cells(block):
            reason = VARIANTS.get(labels[label]["variant"]).unsupported(loss)
            if reason:
                out.append({"dataset": dataset, "variant": label, "loss": loss, "reason": reason})
    return out


# -- sweeps: any key of the resolved run config as a grid axis ------------------------
# A label is the variant's name, then '+preset' for a grid.presets entry, then
# '+path=value' for each grid.sweep key, in the config's order:
#   gan+optimizer.name=sgd+n_critic=5      gan+sgd-fast+train.batch_size=64
# Paths hold no '+' or '=' and preset names no '=', so a label reads back one way.
LABEL_VALUE = re.compile(r"^[A-Za-z0-9_.-]+$")
MAX_LABEL = 200  # a folder name must stay under the file system's 255 bytes
GRID_AXES = {"seed": "grid.seeds", "dataset.name": "grid.datasets", "variant.name": "grid.variants",
             "loss.name": "grid.losses"}
# sections that accept keys the resolved config lacks: any torch optimizer argument (checked in check_run)
OPEN_SECTIONS = ("optimizer",)


def _label_value(key: str, value: Any) -> str:
    """A swept value as it appears in the label (and so in run folder names)."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str) and LABEL_VALUE.match(value):
        return value
    if isinstance(value, list) and value and not any(isinstance(v, (list, dict)) for v in value):
        return ",".join(_label_value(key, v) for v in value)
    raise ConfigError(f"config key '{key}': the value {value!r} cannot name a run folder; sweep numbers, "
                      "booleans, null, flat lists or strings of letters, digits, '_', '.', '-' "
                      "(and a section's keys one by one rather than the section)")


def variant_labels(config: dict) -> dict[str, dict[str, Any]]:
    """The grid's variant axis: label -> {variant, preset, setting, sources}, where
    setting maps each dotted path of the resolved run config to its value and
    sources names the config key that set it. Without grid.sweep and grid.presets
    the labels are the variant names."""
    out: dict[str, dict[str, Any]] = {}
    for block in grid_blocks(config):
        out.update(_block_labels(block))
    return out


def _block_labels(g: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One block's variant axis (see ``variant_labels``)."""
    sweep, presets = g.get("sweep", {}), g.get("presets", {})
    combos = [dict(zip(sweep, values)) for values in itertools.product(*sweep.values())]
    for preset, fixed in presets.items():
        for path in sorted(set(fixed) & set(sweep)):
            raise ConfigError(f"config key 'grid.sweep.{path}': also set by grid.presets.{preset}; "
                              "a key is either swept or fixed by a preset")
    out: dict[str, dict[str, Any]] = {}
    for variant in g["variants"]:
        for preset, fixed in list(presets.items()) or [(None, {})]:
            for combo in combos:
                parts = [variant, *([preset] if preset else []),
                         *(f"{path}={_label_value(f'grid.sweep.{path}', v)}" for path, v in combo.items())]
                label = "+".join(parts)
                if label in out:
                    raise ConfigError(f"config key 'grid.sweep': two settings share the label '{label}'; "
                                      "make each swept key's values distinct as text")
                if len(label) > MAX_LABEL:
                    raise ConfigError(f"config key 'grid.sweep': the label '{label}' is longer than {MAX_LABEL} "
                                      "characters; sweep fewer keys or use a preset")
                sources = {**{p: f"grid.presets.{preset}.{p}" for p in fixed}, **{p: f"grid.sweep.{p}" for p in combo}}
                out[label] = {"variant": variant, "preset": preset, "setting": {**fixed, **combo}, "sources": sources}
    return out


def run_label(run: dict[str, Any]) -> str:
    """A resolved run's place on the grid's variant axis (its folder name)."""
    return run["variant"].get("label", run["variant"]["name"])


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return {int: "an integer", float: "a number", str: "a string", list: "a list", dict: "a section"}.get(
        type(value), type(value).__name__)


def _same_kind(old: Any, new: Any) -> bool:
    """May ``new`` replace ``old``? Same JSON type (an integer may replace a number)."""
    if old is None or isinstance(old, bool) or isinstance(new, bool):
        return old is None or (isinstance(old, bool) and isinstance(new, bool))
    if isinstance(old, float):
        return isinstance(new, (int, float))
    return type(old) is type(new)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _locate(run: dict, path: str, key: str, where: str) -> tuple[dict, str]:
    """The section of ``run`` that holds ``path``'s last key, and that key; refuses
    paths the resolved config does not have, naming the valid keys there."""
    if path in GRID_AXES:
        raise ConfigError(f"config key '{key}': '{path}' is a grid axis; set {GRID_AXES[path]} instead")
    if path == "train.seeds_per_job":  # it groups a cell's seeds into jobs: one value per dataset
        raise ConfigError(f"config key '{key}': 'train.seeds_per_job' cannot vary along the grid; "
                          "set train.seeds_per_job or per_dataset.<name>.train.seeds_per_job")

    def missing(part, at, section):
        place = f"in '{'.'.join(at)}'" if at else "at the top level"
        return ConfigError(f"config key '{key}': no key '{part}' {place} of the resolved run config of {where}; "
                           f"valid keys: {', '.join(sorted(section)) or '(none)'}")

    *parents, leaf = path.split(".")
    node = run
    for i, part in enumerate(parents):
        if part not in node:
            raise missing(part, parents[:i], node)
        node = node[part]
        if not isinstance(node, dict):
            raise ConfigError(f"config key '{key}': '{'.'.join(parents[:i + 1])}' is a value ({node!r}), "
                              f"not a section, in the resolved run config of {where}")
    if leaf not in node and ".".join(parents) not in OPEN_SECTIONS:
        raise missing(leaf, parents, node)
    if isinstance(node.get(leaf), dict):
        raise ConfigError(f"config key '{key}': '{path}' is a section in the resolved run config of {where}; "
                          f"sweep its keys: {', '.join(sorted(node[leaf])) or '(none)'}")
    return node, leaf


def _apply_setting(run: dict, entry: dict[str, Any], where: str) -> None:
    """Set each swept path of ``run``, which must exist and keep its kind of value.
    Optimizer keys go through the same merge as a loss's override (a new optimizer
    name drops the old one's arguments)."""
    optimizer = {}
    for path, value in entry["setting"].items():
        key = entry["sources"][path]
        node, leaf = _locate(run, path, key, where)
        if leaf in node and not _same_kind(node[leaf], value):
            hint = " (YAML reads 1e-4 as text: write 1.0e-4)" if isinstance(value, str) and _is_number(value) else ""
            raise ConfigError(f"config key '{key}': {value!r} is {_kind(value)}, but '{path}' holds "
                              f"{_kind(node[leaf])} ({node[leaf]!r}) in the resolved run config of {where}{hint}")
        if path.startswith("optimizer."):
            optimizer[leaf] = value
        else:
            node[leaf] = value
    if optimizer:
        run["optimizer"] = _merged_optimizer(run["optimizer"], optimizer)


@functools.lru_cache(maxsize=1)
def _run_validator() -> jsonschema.Validator:
    """The config schema's rules for the keys of a resolved run config."""
    props = load_schema()["properties"]
    override = props["losses"]["additionalProperties"]["properties"]
    return jsonschema.Draft7Validator({"type": "object", "properties": {
        "seed": {"type": "integer", "minimum": 0},
        "optimizer": {**override["optimizer"], "required": ["name", "lr_d", "lr_g"]},
        "n_critic": override["n_critic"],
        "n_gen": override["n_gen"],
        "noise_dim": props["models"]["properties"]["points"]["properties"]["noise_dim"],
        "train": props["train"],
    }})


def check_run(run: dict[str, Any]) -> None:
    """Refuse a resolved run config that could not train, before any job starts:
    the schema's types and bounds, every component's name and parameters, the
    optimizer's arguments and the variant's own checks. Swept values are checked
    here, as part of the run they change."""
    where = f"run {run['dataset']['name']}/{run_label(run)}/{run['loss']['name']}"
    for err in sorted(_run_validator().iter_errors(run), key=lambda e: list(e.absolute_path)):
        raise ConfigError(f"{where}: '{'.'.join(map(str, err.absolute_path))}': {err.message}")
    try:
        for registry, section in ((DATASETS, "dataset"), (VARIANTS, "variant"), (LOSSES, "loss"), (ARCHITECTURES, "architecture")):
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


# -- resolving one run ----------------------------------------------------------------
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
    stays the registered name."""
    labels = variant_labels(config)
    entry = labels.get(variant)
    if entry is None and "+" in variant:
        raise ConfigError(f"no variant label '{variant}' in the grid; its labels: {', '.join(labels)}")
    if entry is None:  # a registered variant outside the grid's labels: its plain run
        return _resolve_registered(config, dataset, variant, loss, seed)
    run = _resolve_registered(config, dataset, entry["variant"], loss, seed)
    if entry["setting"] or entry["preset"]:
        _apply_setting(run, entry, f"{dataset}/{entry['variant']}/{loss}")
        run["variant"]["label"] = variant
        if entry["preset"]:
            run["variant"]["preset"] = entry["preset"]
        run["setting"] = copy.deepcopy(entry["setting"])
    return run


def _merged_optimizer(optimizer: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``optimizer`` updated by ``override``; a different optimizer keeps only the
    learning rates of the old one (adam's betas mean nothing to sgd)."""
    if "name" in override and override["name"] != optimizer.get("name"):
        optimizer = {k: v for k, v in optimizer.items() if k in ("lr_d", "lr_g")}
    return {**optimizer, **override}


def _resolve_registered(config: dict, dataset: str, variant: str, loss: str, seed: int) -> dict[str, Any]:
    """The run of a registered variant, from the config's sections."""
    loss_cls = LOSSES.get(loss)
    paper = copy.deepcopy(loss_cls.training)
    override = config["losses"].get(loss, {})
    optimizer = _merged_optimizer(dict(paper.get("optimizer", {})), override.get("optimizer", {}))
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
        "variant": {"name": variant, "params": VARIANTS.get(variant).resolve_params(variant_params(config, dataset, variant))},
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
