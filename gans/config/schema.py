"""The config schema (workflow/schemas/config.schema.yaml): loading it with local
``$ref``s inlined, a validator that fills in defaults, and errors that name the
key the user wrote and the valid choices."""

from __future__ import annotations

import copy
import functools
from pathlib import Path

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
        from gans.config.params import type_problem

        msg = f"config key '{where}': {type_problem(err.instance, err.schema)}"
    if err.validator == "additionalProperties" and isinstance(err.schema.get("properties"), dict):
        msg += f"; valid keys: {', '.join(sorted(err.schema['properties']))}"
    return ConfigError(msg)


def check_schema(config: dict, schema: dict | None = None) -> dict:
    """Validate ``config`` against the schema (or ``schema``), filling in defaults in
    place; raise the first error as a ConfigError."""
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
