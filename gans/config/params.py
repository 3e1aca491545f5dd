"""Typed component parameters, checked before any job starts.

A component's parameters (dataset, architecture, loss, regularizer, variant) take
the JSON type of their defaults (an integer default takes integers, a list of
integers takes such a list), narrowed or widened by the component's
``param_schema`` (bounds such as ``{"minimum": 1}``, an enum, or the type of a
parameter whose default is None). A torch optimizer's arguments take the types of
its signature's defaults. A value that does not fit is refused with the config key
that holds it, before it reaches Python operators or torch.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Iterator
from typing import Any

from gans.config.schema import ConfigError, StrictValidator, type_problem
from gans.optim import OPTIMIZERS
from gans.registry import RegistryError

# keys of an optimizer section the benchmark reads itself (typed by the config schema)
OWN_OPTIMIZER_KEYS = ("name", "lr_d", "lr_g", "lr_decay")


def type_schema(default: Any, integers_are_numbers: bool = False) -> dict[str, Any]:
    """The JSON schema of a default's type (nothing for None: declare it)."""
    if isinstance(default, bool):
        return {"type": "boolean"}
    if isinstance(default, int):
        return {"type": "number" if integers_are_numbers else "integer"}
    if isinstance(default, float):
        return {"type": "number"}
    if isinstance(default, str):
        return {"type": "string"}
    if isinstance(default, dict):
        return {"type": "object"}
    if isinstance(default, (list, tuple)):
        items = [type_schema(v, integers_are_numbers) for v in default]
        out: dict[str, Any] = {"type": "array"}
        if items and all(i == items[0] for i in items):
            out["items"] = items[0]
        if isinstance(default, tuple):  # a fixed-size argument: torch's betas
            out["minItems"] = out["maxItems"] = len(default)
        return out
    return {}


def component_schema(cls) -> dict[str, dict[str, Any]]:
    """Each parameter's schema: its default's type, then the component's declarations."""
    declared = getattr(cls, "param_schema", {})
    return {key: {**type_schema(default), **declared.get(key, {})} for key, default in cls.defaults.items()}


def possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def problem(owner: str, key: str, value: Any, schema: dict[str, Any]) -> tuple[str, str] | None:
    """(path below the key, what is wrong) when ``value`` does not fit ``schema``; None when it does."""
    try:  # a grid's runs repeat the same values: each is checked once
        return _problem(owner, key, json.dumps(value), json.dumps(schema, sort_keys=True))
    except TypeError:  # not JSON: checked as it is
        return _check(owner, key, value, schema)


@functools.lru_cache(maxsize=4096)
def _problem(owner: str, key: str, value: str, schema: str) -> tuple[str, str] | None:
    return _check(owner, key, json.loads(value), json.loads(schema))


def _check(owner: str, key: str, value: Any, schema: dict[str, Any]) -> tuple[str, str] | None:
    errors = sorted(StrictValidator(schema).iter_errors(value), key=lambda e: len(e.absolute_path))
    if not errors:
        return None
    err = errors[0]
    sub = "".join(f".{p}" for p in err.absolute_path)
    if err.validator == "type":
        return sub, type_problem(
            err.instance, schema if not err.absolute_path else err.schema, f"{possessive(owner)} {key}"
        )
    return sub, f"{err.message} ({possessive(owner)} {key})"


@functools.cache
def optimizer_schema(name: str) -> dict[str, dict[str, Any]]:
    """A torch optimizer's arguments and their types, from its signature's defaults."""
    params = inspect.signature(OPTIMIZERS[name].__init__).parameters
    return {
        arg: type_schema(p.default, integers_are_numbers=True)
        for arg, p in params.items()
        if arg not in ("self", "params", "lr") and p.default is not inspect.Parameter.empty
    }


def optimizer_problem(optimizer: dict[str, Any]) -> tuple[str, str] | None:
    """(argument, what is wrong) for the first torch argument of a resolved or
    overriding optimizer section that the optimizer lacks or that has the wrong type."""
    name = optimizer.get("name")
    if name not in OPTIMIZERS:
        return None  # the schema's enum names the choices
    schemas = optimizer_schema(name)
    for arg, value in optimizer.items():
        if arg in OWN_OPTIMIZER_KEYS:
            continue
        if arg not in schemas:
            valid = ", ".join(sorted([*OWN_OPTIMIZER_KEYS, *schemas]))
            return arg, f"optimizer '{name}' has no argument '{arg}'; valid keys: {valid}"
        found = problem(f"optimizer {name}", arg, value, schemas[arg])
        if found:
            return arg + found[0], found[1]
    return None


def config_params(config: dict) -> Iterator[tuple[type, dict[str, Any], str]]:
    """(component class, parameters, config key) of every parameter section of a config."""
    from gans.architectures import ARCHITECTURES
    from gans.datasets import DATASETS
    from gans.losses import LOSSES
    from gans.regularizers import REGULARIZERS
    from gans.variants import VARIANTS

    for name, params in config["datasets"].items():
        yield DATASETS.get(name), params, f"datasets.{name}"
    for modality, model in config["models"].items():
        yield ARCHITECTURES.get(model["architecture"]), model["params"], f"models.{modality}.params"
    for name, override in config["losses"].items():
        yield LOSSES.get(name), override.get("params", {}), f"losses.{name}.params"
        for reg, params in override.get("regularizers", {}).items():
            yield (
                _get(REGULARIZERS, reg, f"losses.{name}.regularizers.{reg}"),
                params,
                f"losses.{name}.regularizers.{reg}",
            )
    for reg, params in config["regularizers"].items():
        yield _get(REGULARIZERS, reg, f"regularizers.{reg}"), params, f"regularizers.{reg}"
    for name, params in config["variants"].items():
        yield VARIANTS.get(name), params, f"variants.{name}"
    for dataset, override in config["per_dataset"].items():
        for name, params in override.get("variants", {}).items():
            yield VARIANTS.get(name), params, f"per_dataset.{dataset}.variants.{name}"


def _get(registry, name: str, key: str):
    try:
        return registry.get(name)
    except RegistryError as exc:
        raise ConfigError(f"config key '{key}': {exc}") from None


def check_config_params(config: dict) -> None:
    """Every component parameter and optimizer argument a config sets, typed and
    bounded, named by its config key (after the schema and the names are checked)."""
    from gans.losses import LOSSES

    for cls, params, key in config_params(config):
        for name, value in (params or {}).items():
            schema = component_schema(cls).get(name)
            found = schema is not None and problem(cls.name, name, value, schema)
            if found:
                raise ConfigError(f"config key '{key}.{name}{found[0]}': {found[1]}")
    for loss, override in config["losses"].items():
        given = override.get("optimizer", {})
        for setup in LOSSES.get(loss).training.values():  # one paper set-up per data family
            found = optimizer_problem({"name": setup["optimizer"].get("name"), **given})
            if found and found[0].split(".")[0] in given:
                raise ConfigError(f"config key 'losses.{loss}.optimizer.{found[0]}': {found[1]}")


def run_param_problem(run: dict[str, Any]) -> str | None:
    """What is wrong with a resolved run's component parameters or optimizer
    arguments (swept values land here), or None."""
    from gans.architectures import ARCHITECTURES
    from gans.datasets import DATASETS
    from gans.losses import LOSSES
    from gans.regularizers import REGULARIZERS
    from gans.variants import VARIANTS

    sections = [
        (DATASETS, "dataset"),
        (VARIANTS, "variant"),
        (LOSSES, "loss"),
        (ARCHITECTURES, "architecture"),
    ]
    checks = [(registry.get(run[s]["name"]), run[s]["params"], f"{s}.params") for registry, s in sections]
    checks += [(REGULARIZERS.get(name), p, f"regularizers.{name}") for name, p in run["regularizers"].items()]
    for cls, params, path in checks:
        schemas = component_schema(cls)
        for name, value in (params or {}).items():
            found = name in schemas and problem(cls.name, name, value, schemas[name])
            if found:
                return f"'{path}.{name}{found[0]}': {found[1]}"
    found = optimizer_problem(run["optimizer"])
    return f"'optimizer.{found[0]}': {found[1]}" if found else None
