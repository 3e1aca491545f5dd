"""Base class shared by every configurable component (datasets, architectures,
losses, regularizers): a registered name plus typed default parameters that the
config may override, and nothing else; and the data families a component's
paper set-ups are given for."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

# the data families, a dataset's ``modality``: the 2-D mixtures and images
FAMILIES = ("points", "images")


def for_every_family(setup: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One set-up used for every data family, e.g. where a paper has no toy experiment."""
    return {family: copy.deepcopy(setup) for family in FAMILIES}


class ParamError(ValueError):
    """A component was given a parameter it does not have."""


class Component:
    name: ClassVar[str] = "?"
    # Parameters and their defaults; the config may override any of them, and only them.
    defaults: ClassVar[dict[str, Any]] = {}
    # Each parameter takes its default's JSON type; this adds JSON-schema bounds, an enum,
    # or the type of a None default, e.g. {"width": {"minimum": 1}} (gans.config.params
    # checks them before any job starts).
    param_schema: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, **params: Any):
        self.params = self.resolve_params(params)
        for key, value in self.params.items():
            setattr(self, key, value)

    @classmethod
    def resolve_params(cls, params: dict[str, Any] | None) -> dict[str, Any]:
        params = dict(params or {})
        unknown = sorted(set(params) - set(cls.defaults))
        if unknown:
            valid = ", ".join(sorted(cls.defaults)) or "(none)"
            raise ParamError(
                f"{cls.__name__} '{cls.name}' has no parameter {', '.join(map(repr, unknown))}; valid parameters: {valid}"
            )
        return {**cls.defaults, **params}
