"""Sweeps and presets: any key of a resolved run config as an axis of the grid.

Each combination of swept values (and each preset) is a label on the grid's variant
axis; ``apply_setting`` sets its values on top of a resolved run, checking that each
path exists and keeps its kind of value."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from gans.config.schema import ConfigError, number_hint
from gans.optim import merged_optimizer

# A label is the variant's name, then '+preset' for a grid.presets entry, then
# '+path=value' for each grid.sweep key, in the config's order:
#   gan+optimizer.name=sgd+n_critic=5      gan+sgd-fast+train.batch_size=64
# Paths hold no '+' or '=' and preset names no '=', so a label reads back one way.
LABEL_VALUE = re.compile(r"^[A-Za-z0-9_.-]+$")
MAX_LABEL = 200  # a folder name must stay under the file system's 255 bytes
GRID_AXES = {
    "seed": "grid.seeds",
    "dataset.name": "grid.datasets",
    "variant.name": "grid.variants",
    "loss.name": "grid.losses",
}
# sections that accept keys the resolved config lacks: any torch optimizer argument (checked in check_run)
OPEN_SECTIONS = ("optimizer",)
DEFAULT_SETTING = "default"  # the setting column of a run with no preset or swept value


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
    raise ConfigError(
        f"config key '{key}': the value {value!r} cannot name a run folder; sweep numbers, "
        "booleans, null, flat lists or strings of letters, digits, '_', '.', '-' "
        "(and a section's keys one by one rather than the section)"
    )


def _check_presets_differ(presets: dict[str, dict[str, Any]]) -> None:
    """Two presets with the same settings would train the same runs twice, under two labels."""
    named: dict[str, str] = {}  # a preset's settings as text -> the first preset giving them
    for preset, fixed in presets.items():
        text = repr(sorted(fixed.items()))
        if text in named:
            raise ConfigError(
                f"config key 'grid.presets.{preset}': the same settings as grid.presets.{named[text]}; "
                "give each preset settings of its own"
            )
        named[text] = preset


def block_labels(g: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One block's variant axis: label -> {variant, preset, setting, sources}, where
    setting maps each dotted path of the resolved run config to its value and
    sources names the config key that set it."""
    sweep, presets = g.get("sweep", {}), g.get("presets", {})
    combos = [dict(zip(sweep, values, strict=True)) for values in itertools.product(*sweep.values())]
    for preset, fixed in presets.items():
        for path in sorted(set(fixed) & set(sweep)):
            raise ConfigError(
                f"config key 'grid.sweep.{path}': also set by grid.presets.{preset}; "
                "a key is either swept or fixed by a preset"
            )
    _check_presets_differ(presets)
    out: dict[str, dict[str, Any]] = {}
    for variant in g["variants"]:
        for preset, fixed in list(presets.items()) or [(None, {})]:
            for combo in combos:
                parts = [
                    variant,
                    *([preset] if preset else []),
                    *(f"{path}={_label_value(f'grid.sweep.{path}', v)}" for path, v in combo.items()),
                ]
                label = "+".join(parts)
                if label in out:
                    raise ConfigError(
                        f"config key 'grid.sweep': two settings share the label '{label}'; "
                        "make each swept key's values distinct as text"
                    )
                if len(label) > MAX_LABEL:
                    raise ConfigError(
                        f"config key 'grid.sweep': the label '{label}' is longer than {MAX_LABEL} "
                        "characters; sweep fewer keys or use a preset"
                    )
                sources = {**{p: f"grid.presets.{preset}.{p}" for p in fixed}, **{p: f"grid.sweep.{p}" for p in combo}}
                out[label] = {"variant": variant, "preset": preset, "setting": {**fixed, **combo}, "sources": sources}
    return out


def split_label(label: str) -> tuple[str, str]:
    """(registered variant, setting) of a label on the variant axis; the setting is
    what follows the variant's name ('default' for the variant's plain run)."""
    variant, _, setting = label.partition("+")
    return variant, setting or DEFAULT_SETTING


def join_label(variant: str, setting: str) -> str:
    """The label of a variant run with ``setting`` (the inverse of ``split_label``)."""
    return variant if setting == DEFAULT_SETTING else f"{variant}+{setting}"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return {int: "an integer", float: "a number", str: "a string", list: "a list", dict: "a section"}.get(
        type(value), type(value).__name__
    )


def _same_kind(old: Any, new: Any) -> bool:
    """May ``new`` replace ``old``? Same JSON type (an integer may replace a number)."""
    if old is None or isinstance(old, bool) or isinstance(new, bool):
        return old is None or (isinstance(old, bool) and isinstance(new, bool))
    if isinstance(old, float):
        return isinstance(new, (int, float))
    return type(old) is type(new)


def _locate(run: dict, path: str, key: str, where: str) -> tuple[dict, str]:
    """The section of ``run`` that holds ``path``'s last key, and that key; refuses
    paths the resolved config does not have, naming the valid keys there."""
    if path in GRID_AXES:
        raise ConfigError(f"config key '{key}': '{path}' is a grid axis; set {GRID_AXES[path]} instead")
    if path == "train.population_size":  # it groups runs into jobs: one value per dataset
        raise ConfigError(
            f"config key '{key}': 'train.population_size' cannot vary along the grid; "
            "set train.population_size or per_dataset.<name>.train.population_size"
        )

    def missing(part, at, section):
        place = f"in '{'.'.join(at)}'" if at else "at the top level"
        return ConfigError(
            f"config key '{key}': no key '{part}' {place} of the resolved run config of {where}; "
            f"valid keys: {', '.join(sorted(section)) or '(none)'}"
        )

    *parents, leaf = path.split(".")
    node = run
    for i, part in enumerate(parents):
        if part not in node:
            raise missing(part, parents[:i], node)
        node = node[part]
        if not isinstance(node, dict):
            raise ConfigError(
                f"config key '{key}': '{'.'.join(parents[: i + 1])}' is a value ({node!r}), "
                f"not a section, in the resolved run config of {where}"
            )
    if leaf not in node and ".".join(parents) not in OPEN_SECTIONS:
        raise missing(leaf, parents, node)
    if isinstance(node.get(leaf), dict):
        raise ConfigError(
            f"config key '{key}': '{path}' is a section in the resolved run config of {where}; "
            f"sweep its keys: {', '.join(sorted(node[leaf])) or '(none)'}"
        )
    return node, leaf


def _add_regularizer(run: dict, path: str, key: str) -> None:
    """A preset's ``regularizers.<name>.<param>`` for a registered regularizer the run
    lacks adds it with its defaults: a preset may switch a regularizer on. (A swept
    path the run lacks stays an error: sweeping wgan-gp's penalty weight must not give
    every other loss a penalty.)"""
    from gans.regularizers import REGULARIZERS

    parts = path.split(".")
    if (
        not key.startswith("grid.presets.")
        or len(parts) != 3
        or parts[0] != "regularizers"
        or parts[1] in run["regularizers"]
        or parts[1] not in REGULARIZERS
    ):
        return
    cls = REGULARIZERS.get(parts[1])
    if cls.losses is not None and run["loss"]["name"] not in cls.losses:
        raise ConfigError(
            f"config key '{key}': regularizer '{parts[1]}' applies only to the losses "
            f"{', '.join(cls.losses)}, not to '{run['loss']['name']}'"
        )
    run["regularizers"][parts[1]] = cls.resolve_params(None)


def apply_setting(run: dict, entry: dict[str, Any], where: str) -> None:
    """Set each swept path of ``run``, which must exist and keep its kind of value.
    Optimizer keys go through the same merge as a loss's override (a new optimizer
    name drops the old one's arguments)."""
    optimizer = {}
    for path, value in entry["setting"].items():
        key = entry["sources"][path]
        _add_regularizer(run, path, key)
        node, leaf = _locate(run, path, key, where)
        if leaf in node and not _same_kind(node[leaf], value):
            hint = number_hint(value)
            raise ConfigError(
                f"config key '{key}': {value!r} is {_kind(value)}, but '{path}' holds "
                f"{_kind(node[leaf])} ({node[leaf]!r}) in the resolved run config of {where}{hint}"
            )
        if path.startswith("optimizer."):
            optimizer[leaf] = value
        else:
            node[leaf] = value
    if optimizer:
        run["optimizer"] = merged_optimizer(run["optimizer"], optimizer)
