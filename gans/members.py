"""Which runs can train together as one population (gans/population.py).

A population is any mix of settings and seeds whose networks have the same shapes and
whose steps run the same code: the members may differ only in the values listed in
``MEMBER_KEYS`` (continuous hyper-parameters, held as tensors with a member dimension,
and critic steps: members with more critic steps come first and take their extra
steps as a smaller population, gans/train.py) and in their records (seed, label, search
record). Everything else (dataset, variant, loss, architecture, optimizer kind, batch
size, steps, ...) must be equal, so it splits members into separate populations.
"""

from __future__ import annotations

import copy
import json
from typing import Any

# dotted paths of a resolved run config that may differ between members of one population
MEMBER_KEYS = (
    "optimizer.lr_d",
    "optimizer.lr_g",
    "optimizer.betas",
    "optimizer.alpha",
    "regularizers.gradient_penalty.weight",
    "regularizers.r1.weight",
    "regularizers.r2.weight",
    "regularizers.instance_noise.std",
    "regularizers.label_smoothing.real_label",
    "regularizers.weight_clipping.clip",
    "n_critic",
)
# what names a member but does not change how it trains alongside the others
RECORD_KEYS = ("seed", "variant.label", "search", "setup")


def _drop(cfg: dict[str, Any], path: str) -> None:
    *parents, last = path.split(".")
    node: Any = cfg
    for part in parents:
        if not isinstance(node, dict) or part not in node:
            return
        node = node[part]
    if isinstance(node, dict):
        node.pop(last, None)


def population_key(cfg: dict[str, Any]) -> str:
    """A text equal for two resolved run configs exactly when they can be members of
    one population (the config without its member values and records)."""
    shared = copy.deepcopy(cfg)
    for path in MEMBER_KEYS + RECORD_KEYS:
        _drop(shared, path)
    return json.dumps(shared, sort_keys=True)


def differing_keys(cfgs: list[dict[str, Any]]) -> list[str]:
    """The top-level keys whose shared part differs between ``cfgs`` (empty: one population)."""
    parts = [json.loads(population_key(c)) for c in cfgs]
    keys = set().union(*parts)
    return sorted(k for k in keys if any(p.get(k) != parts[0].get(k) for p in parts[1:]))


def group_members(cfgs: list[dict[str, Any]], cap: int) -> list[list[int]]:
    """Indices of ``cfgs`` grouped into populations of at most ``cap`` members, each
    group from one population key, in the order the keys first appear."""
    if cap < 1:
        raise ValueError(f"a population holds at least one member, got a cap of {cap}")
    by_key: dict[str, list[int]] = {}
    for i, cfg in enumerate(cfgs):
        by_key.setdefault(population_key(cfg), []).append(i)
    return [idx[k : k + cap] for idx in by_key.values() for k in range(0, len(idx), cap)]
