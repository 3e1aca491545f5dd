"""The config schema (workflow/schemas/config.schema.yaml): loading it with local
``$ref``s inlined, a validator that fills in defaults, and errors that name the
key the user wrote and the valid choices."""

from __future__ import annotations

import copy
import functools
import math
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "workflow" / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """The config is malformed or names something that does not exist."""


def _is_integer(checker, instance) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


# JSON Schema counts 1.0 as an integer; Python's range() and torch's sizes do not, so
# an integer key takes integers only (1.0e+6 is refused, not handed on as 1000000.0)
StrictValidator = jsonschema.validators.extend(
    jsonschema.Draft7Validator, type_checker=jsonschema.Draft7Validator.TYPE_CHECKER.redefine("integer", _is_integer)
)


def _defaulting_validator(schema: dict) -> jsonschema.Validator:
    """A draft-7 validator (integers strict) that also fills in each property's default."""
    base = StrictValidator

    def properties(validator, props, instance, schema_):
        if isinstance(instance, dict):
            for key, sub in props.items():
                if "default" in sub and key not in instance:
                    instance[key] = copy.deepcopy(sub["default"])
        yield from base.VALIDATORS["properties"](validator, props, instance, schema_)

    cls = jsonschema.validators.extend(base, {"properties": properties})
    return cls(schema)


@functools.lru_cache(maxsize=1)
def _schema() -> dict:
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


def load_schema() -> dict:
    """The schema with local ``$ref``s inlined, so defaults on either side apply."""
    return copy.deepcopy(_schema())


TYPE_WORDS = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}


def kind_of(value: Any) -> str:
    """A value's JSON type in words ('a string', 'a number'...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    for cls, word in (
        (int, "an integer"),
        (float, "a number"),
        (str, "a string"),
        (list, "a list"),
        (dict, "a mapping"),
    ):
        if isinstance(value, cls):
            return word
    return type(value).__name__


def expected(schema: dict[str, Any]) -> str:
    types = schema.get("type", [])
    words = [TYPE_WORDS.get(t, t) for t in ([types] if isinstance(types, str) else types)]
    text = " or ".join(words) or "a value"
    if schema.get("type") == "array" and "items" in schema:
        size = schema.get("minItems") if schema.get("minItems") == schema.get("maxItems") else None
        item = TYPE_WORDS.get(schema["items"].get("type", ""), "value").split(" ", 1)[-1]
        text = f"a list of {size} {item}s" if size else f"a list of {item}s"
    return text


def number_hint(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return f" (write {int(value)})"
    if not isinstance(value, str) or not re.fullmatch(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*", value):
        return ""
    if re.search(r"[eE]", value) and "." not in value:
        return f" (YAML reads {value} as text: write {value.replace('e', '.0e').replace('E', '.0E')})"
    return " (a number in quotes is text: write it without quotes)"


def type_problem(value: Any, schema: dict[str, Any], owner: str = "the key") -> str:
    """'<value> is <its type>; <owner> takes <the schema's type>', with a hint for numbers written as text."""
    return f"{value!r} is {kind_of(value)}; {owner} takes {expected(schema)}{number_hint(value)}"


def schema_error(err: jsonschema.ValidationError) -> ConfigError:
    """A ConfigError naming the key and, for an unknown key, the valid keys there."""
    if err.validator == "oneOf" and err.context:
        # grid: one block or a list of blocks; report what is wrong in the form written
        branch = 1 if isinstance(err.instance, list) else 0
        errs = [e for e in err.context if e.relative_schema_path[0] == branch] or list(err.context)
        return schema_error(max(errs, key=lambda e: len(e.absolute_path)))
    where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
    msg = f"config key '{where}': {err.message}"
    if err.validator == "type":  # say what was written and what the key takes
        msg = f"config key '{where}': {type_problem(err.instance, err.schema)}"
    if err.validator == "pattern" and "patternHelp" in err.schema:  # the rule in words, not the regex
        msg = f"config key '{where}': {err.instance!r} is not {err.schema['patternHelp']}"
    if err.validator == "additionalProperties" and isinstance(err.schema.get("properties"), dict):
        msg += f"; valid keys: {', '.join(sorted(err.schema['properties']))}"
    return ConfigError(msg)


def check_finite(value: Any, path: tuple = ()) -> None:
    """Refuse NaN and infinity anywhere in a config: YAML reads `.nan` and `.inf` as
    numbers, every bound lets NaN through, and a run trained on one would be recorded
    as a GAN that diverged rather than as a mistake in the config."""
    if isinstance(value, dict):
        for k, v in value.items():
            check_finite(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_finite(v, (*path, i))
    elif isinstance(value, float) and not math.isfinite(value):
        where = ".".join(map(str, path)) or "(top level)"
        raise ConfigError(f"config key '{where}': {value} is not a finite number; write a finite value")


def check_schema(config: dict, schema: dict | None = None) -> dict:
    """Validate ``config`` against the schema (or ``schema``), filling in defaults in
    place; raise the first error as a ConfigError."""
    check_finite(config)
    validator = _defaulting_validator(schema or _schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        raise schema_error(errors[0])
    return config


def section_defaults(section: str, given: dict | None = None) -> dict:
    """One top-level section of the config with the schema's defaults filled in
    (and checked), without validating a whole config."""
    props = _schema()["properties"]
    if section not in props:
        raise ConfigError(f"no config section '{section}'; valid sections: {', '.join(sorted(props))}")
    return check_schema(
        {section: copy.deepcopy(given or {})}, {"type": "object", "properties": {section: props[section]}}
    )[section]
