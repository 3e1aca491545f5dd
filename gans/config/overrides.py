"""Values given on Snakemake's command line, typed as in a config file.

``snakemake --config 'train={"steps": 500}'`` hands the Snakefile ``{"train":
{"steps": "500"}}``: Snakemake reads a nested value with YAML's BaseLoader, which
keeps every scalar inside as text ('500', 'true', 'null', '1e-4'). Each such text
is read again as a config file's YAML would read it (and '1e-4' as the number it
means), except where the key takes text (``train.device``, a dataset's ``root``, a
loss's f-GAN ``generator``), so every documented override form works:

    --config 'train={"steps": 500}'   'grid={"seeds": [0]}'   data_root=/scratch/data
    --config 'losses={"wgan": {"optimizer": {"lr_d": 1e-4}}}'   'variants={"pacgan": {"pack": 4}}'
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

import yaml

from gans.config.params import component_schema
from gans.config.schema import _defaulting_validator, _schema


def type_command_line(config: dict, given: Mapping[str, Any]) -> None:
    """Type, in place in ``config``, the values ``given`` on the command line
    (Snakemake's parsed --config, already merged into ``config``)."""
    filled = copy.deepcopy(config)
    for _ in _defaulting_validator(_schema()).iter_errors(filled):  # defaults, to find each component
        pass
    for key, value in given.items():
        if isinstance(value, (dict, list)):
            _type_nested(config, filled, [key], value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and _takes_text(filled, [key]):
            config[key] = str(value)  # data_root=2024: Snakemake made it a number


def _type_nested(config: dict, filled: dict, path: list, value: Any) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _type_nested(config, filled, [*path, k], v)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _type_nested(config, filled, [*path, i], v)
    elif isinstance(value, str) and not _keeps_text(filled, path, value):
        _set(config, path, typed(value))


def typed(text: str) -> Any:
    """A scalar's text as YAML reads it in a config file; '1e-4' as a number."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return text
        return number if math.isfinite(number) else text
    return value if value is None or isinstance(value, (bool, int, float)) else text


def _set(config: Any, path: list, value: Any) -> None:
    node = config
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _schemas_of(filled: dict, path: list) -> list[dict]:
    schema = _component_param_schema(filled, path)
    return [schema] if schema is not None else _schemas_at(_schema(), path)


def _takes_text(filled: dict, path: list) -> bool:
    """Does the key at ``path`` take text (a string type in the schema, or a
    component parameter whose default or declaration is text)?"""
    return any(_takes(node, "string") for node in _schemas_of(filled, path))


def _keeps_text(filled: dict, path: list, text: str) -> bool:
    """Text stays text where the key takes text, unless it reads as null where null is allowed."""
    nodes = _schemas_of(filled, path)
    if not any(_takes(node, "string") for node in nodes):
        return False
    return not (typed(text) is None and any(_takes(node, "null") for node in nodes))


def _takes(node: dict, kind: str) -> bool:
    types = node.get("type", [])
    types = [types] if isinstance(types, str) else types
    return kind in types or (kind == "string" and any(isinstance(v, str) for v in node.get("enum", [])))


def _alternatives(node: dict) -> list[dict]:
    return [node, *node.get("oneOf", []), *node.get("anyOf", [])]


def _schemas_at(schema: dict, path: list) -> list[dict]:
    nodes = [schema]
    for part in path:
        found = []
        for node in (alt for n in nodes for alt in _alternatives(n)):
            if isinstance(part, int) and isinstance(node.get("items"), dict):
                found.append(node["items"])
            elif isinstance(part, str) and part in node.get("properties", {}):
                found.append(node["properties"][part])
            elif isinstance(part, str) and isinstance(node.get("additionalProperties"), dict):
                found.append(node["additionalProperties"])
        nodes = found
    return nodes


def _component_param_schema(filled: dict, path: list) -> dict | None:
    """The schema of the component parameter at ``path`` (None: not a parameter)."""
    from gans.architectures import ARCHITECTURES
    from gans.datasets import DATASETS
    from gans.losses import LOSSES
    from gans.regularizers import REGULARIZERS
    from gans.variants import VARIANTS

    p = [str(x) for x in path]
    candidates = {
        ("datasets",): lambda: (DATASETS, p[1], 2),
        ("regularizers",): lambda: (REGULARIZERS, p[1], 2),
        ("variants",): lambda: (VARIANTS, p[1], 2),
        ("models", "params"): lambda: (ARCHITECTURES, filled["models"][p[1]]["architecture"], 3),
        ("losses", "params"): lambda: (LOSSES, p[1], 3),
        ("losses", "regularizers"): lambda: (REGULARIZERS, p[3], 4),
        ("per_dataset", "variants"): lambda: (VARIANTS, p[3], 4),
    }
    shape = (p[0],) if len(p) < 3 or p[0] in ("datasets", "regularizers", "variants") else (p[0], p[2])
    if shape not in candidates:
        return None
    try:
        registry, name, at = candidates[shape]()
        if len(p) <= at:
            return None
        return component_schema(registry.get(name)).get(p[at], {})
    except (KeyError, TypeError, IndexError):  # an unknown name: validation reports it
        return {}
