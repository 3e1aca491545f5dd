"""Search spaces: the ranges a component's hyper-parameters are searched over, and
how a point of the unit cube becomes a value.

A space maps dotted paths of the resolved run config (as ``grid.sweep`` takes them)
to ranges. A range is a mapping with one key, written the same in Python and YAML:

    {log_uniform: [low, high]}   low * (high / low) ** u     (learning rates, penalty weights)
    {uniform: [low, high]}       low + u * (high - low)      (Adam's beta1)
    {int: [low, high]}           an integer, both ends included (critic steps)
    {choice: [a, b, ...]}        one of the listed values     (PacGAN's pack)

A path may end in a list index: ``optimizer.betas.0`` is Adam's beta1. Drawn numbers
are rounded to 3 significant digits, so a setting reads the same in every table and
on every machine (the unit points themselves are exact binary fractions).

This module imports nothing from the rest of the package, so every component can
declare its space with these helpers."""

from __future__ import annotations

import math
from typing import Any

KINDS = ("choice", "int", "log_uniform", "uniform")
SIGNIFICANT = 3


def log_uniform(low: float, high: float) -> dict[str, list]:
    return {"log_uniform": [low, high]}


def uniform(low: float, high: float) -> dict[str, list]:
    return {"uniform": [low, high]}


def integers(low: int, high: int) -> dict[str, list]:
    return {"int": [low, high]}


def choice(*options: Any) -> dict[str, list]:
    return {"choice": list(options)}


# compare_gan v1's wide ranges (Lucic et al. 2018, src/params.py), the anchor of the
# classic losses: one learning rate 10^U[-5, -2] there, here one for D and one for G
# (so a search can find the two time-scale rule); beta1 U[0, 1] there, here capped at
# 0.99 since torch's Adam refuses 1; discriminator steps {1, 5} there, here 1 to 5.
LEARNING_RATES = {"optimizer.lr_d": log_uniform(1e-5, 1e-2), "optimizer.lr_g": log_uniform(1e-5, 1e-2)}
ADAM_BETA1 = {"optimizer.betas.0": uniform(0.0, 0.99)}
CRITIC_STEPS = {"n_critic": integers(1, 5)}


class SpaceError(ValueError):
    """A range that cannot be drawn from."""


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def check_range(spec: Any) -> tuple[str, list]:
    """(kind, arguments) of a well-formed range; SpaceError saying what is wrong."""
    if not isinstance(spec, dict) or len(spec) != 1:
        raise SpaceError(f"a range is one of {', '.join(f'{{{k}: [...]}}' for k in KINDS)}; got {spec!r}")
    ((kind, args),) = spec.items()
    if kind not in KINDS:
        raise SpaceError(f"unknown range '{kind}'; choose one of: {', '.join(KINDS)}")
    if not isinstance(args, list) or not args:
        raise SpaceError(f"{kind} takes a non-empty list, got {args!r}")
    if kind == "choice":
        return kind, args
    if len(args) != 2 or not all(_is_number(a) for a in args):
        raise SpaceError(f"{kind} takes [low, high] as two numbers, got {args!r}")
    low, high = args
    if low > high:
        raise SpaceError(f"{kind} bound low {low} > high {high}")
    if kind == "int" and not all(isinstance(a, int) for a in args):
        raise SpaceError(f"int takes two integers, got {args!r}")
    if kind == "log_uniform" and low <= 0:
        raise SpaceError(f"log_uniform needs low > 0, got {low}")
    return kind, args


def rounded(x: float) -> float:
    """``x`` to SIGNIFICANT digits (Python's formatting rounds correctly, on any machine)."""
    return float(f"{x:.{SIGNIFICANT}g}")


def value_at(spec: dict[str, list], u: float) -> Any:
    """The value of a range at ``u`` in [0, 1)."""
    kind, args = check_range(spec)
    if kind == "choice":
        return args[min(int(u * len(args)), len(args) - 1)]
    low, high = args
    if kind == "int":
        return min(low + int(u * (high - low + 1)), high)
    if kind == "log_uniform":
        return rounded(low * (high / low) ** u)
    return rounded(low + u * (high - low))


def coordinate(spec: dict[str, list], value: Any) -> float:
    """Where ``value`` lies along the range, in units of the range's width (log scale
    for log_uniform); a choice is 0 for its first value, 1 for its last."""
    kind, args = check_range(spec)
    if kind == "choice":
        return args.index(value) / max(len(args) - 1, 1) if value in args else math.nan
    low, high = args
    if high == low:
        return 0.0
    if kind == "log_uniform":
        return math.log(value / low) / math.log(high / low) if value > 0 else math.nan
    return (value - low) / (high - low)


def distance(space: dict[str, dict], a: dict[str, Any], b: dict[str, Any]) -> dict[str, float]:
    """Per path, how far ``b`` lies from ``a`` in units of the range's width (log
    scale for log_uniform; a choice counts 1 when it differs)."""
    out = {}
    for path, spec in space.items():
        kind, _ = check_range(spec)
        if kind == "choice":
            out[path] = float(a[path] != b[path])
        else:
            out[path] = abs(coordinate(spec, b[path]) - coordinate(spec, a[path]))
    return out
