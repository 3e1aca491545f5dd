"""The search (the protocol of Lucic et al. 2018) as a config section: for every
dataset x variant x loss cell of the grid, ``budget`` settings drawn from the cell's
search space, setting 0 being the cell's set-up (what ``resolve_run`` gives), each
trained with ``seeds_per_setting`` seeds from ``train_seed``; the best by the chosen
metric (its mean over those seeds) is then trained with ``seeds_for_best`` new seeds
(the selection: ``analysis.search``, in a Snakemake checkpoint). With ``finalists: K``
the K best settings first train ``seeds_per_finalist`` more seeds each, and the best is
the finalist with the best mean over all its seeds (a second checkpoint): a pick made
on many seeds, so that its new seeds do not fall back (the winner's curse).

A cell's space joins the ranges its components declare (``search_space`` of the
loss, of each regularizer of the run and of the variant; gans/space.py) and the
config's ``search.space``, ``search.losses.<loss>`` and ``search.variants.<variant>``
(a range replaces the declared one, null removes it; ``search.replace`` drops the
declared ranges). An optimizer argument the set-up's optimizer does not take (Adam's
beta1 under RMSProp) is left out of a declared space.

A search run's label is its cell's label and ``+search-<i>`` (gan+search-3); its
resolved config records ``search: {index, values}`` (setting 0's values are the
set-up's). Values depend on the design's seed, the cell and its space, never on the
budget: raising the budget adds settings and leaves the others as they were.

The design: Sobol' points (scipy.stats.qmc, Joe & Kuo's direction numbers), each
coordinate scrambled by a random lower-triangular binary matrix and a digital shift
(Matousek's linear matrix scrambling) whose bits are SHA-256 digests of (seed, cell,
path). No random number generator's stream is involved, so the same seed gives the
same settings on any machine and with any numpy.
"""

from __future__ import annotations

import functools
import hashlib
import re
from typing import Any

import numpy as np

from gans.config.grid import block_cells, grid_blocks, variant_labels
from gans.config.schema import ConfigError
from gans.config.sweep import _same_kind, apply_setting, block_labels
from gans.losses import LOSSES
from gans.regularizers import REGULARIZERS
from gans.space import SpaceError, check_range, value_at
from gans.variants import VARIANTS

SEARCH_LABEL = re.compile(r"^(?P<base>.+)\+search-(?P<index>0|[1-9][0-9]*)$")
BITS = 30  # bits of each Sobol' coordinate (scipy's default)
UNTUNED = "paper set-up, untuned"


def active(config: dict) -> bool:
    return config.get("search") is not None


def search_label(base: str, index: int) -> str:
    return f"{base}+search-{index}"


def parse_label(label: str) -> tuple[str, int] | None:
    """(cell label, setting index) of a search run's label; None for another label."""
    m = SEARCH_LABEL.match(label)
    return (m["base"], int(m["index"])) if m else None


def cells(config: dict) -> list[tuple[str, str, str]]:
    """The grid's cells that run, as (dataset, variant label, loss), in grid order."""
    out = []
    for block in grid_blocks(config):
        entries = block_labels(block)
        for dataset, label, loss in block_cells(block):
            if VARIANTS.get(entries[label]["variant"]).supports(loss):
                out.append((dataset, label, loss))
    return out


def setting_seeds(config: dict) -> list[int]:
    """The seeds every setting trains with: ``seeds_per_setting`` from ``train_seed``."""
    s = config["search"]
    return [s["train_seed"] + k for k in range(s["seeds_per_setting"])]


def finalist_seeds(config: dict) -> list[int]:
    """The seeds each finalist trains next, after the settings' seeds (none without finalists)."""
    s = config["search"]
    first = s["train_seed"] + s["seeds_per_setting"]
    return [first + k for k in range(s["seeds_per_finalist"])] if s["finalists"] else []


def best_seeds(config: dict) -> list[int]:
    """The seeds the best setting trains with: new ones, after the search's own."""
    s = config["search"]
    first = s["train_seed"] + s["seeds_per_setting"] + len(finalist_seeds(config))
    return [first + k for k in range(s["seeds_for_best"])]


def cell_runs(config: dict, dataset: str, label: str, loss: str) -> list[dict[str, Any]]:
    """A cell's search runs, as grid runs: every setting at the first seed, then at the
    next (so that raising seeds_per_setting only adds runs)."""
    return [
        {"dataset": dataset, "variant": search_label(label, i), "loss": loss, "seed": seed}
        for seed in setting_seeds(config)
        for i in range(config["search"]["budget"])
    ]


def runs(config: dict) -> list[dict[str, Any]]:
    """Every search run (``budget`` settings of each cell, ``seeds_per_setting`` seeds
    each), as grid runs."""
    return [run for d, label, loss in cells(config) for run in cell_runs(config, d, label, loss)]


def labels(config: dict) -> list[str]:
    """Every search run's label (the workflow's variant wildcard)."""
    bases = dict.fromkeys(label for _, label, _ in cells(config))
    return [search_label(base, i) for base in bases for i in range(config["search"]["budget"])]


# -- paths of a resolved run: dotted keys, a list index as the last part -----------------
def _get(run: dict, path: str) -> Any:
    node: Any = run
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(path)
    return node


def has_path(run: dict, path: str) -> bool:
    try:
        _get(run, path)
    except KeyError:
        return False
    return True


def apply_values(run: dict, values: dict[str, Any], where: str) -> None:
    """Set ``values`` on ``run`` through the sweep's checks (a list element as its whole list)."""
    setting: dict[str, Any] = {}
    for path, value in values.items():
        parent, _, last = path.rpartition(".")
        if last.isdigit():
            items = list(setting.get(parent, _get(run, parent)))
            items[int(last)] = value
            setting[parent] = items
        else:
            setting[path] = value
    apply_setting(run, {"setting": setting, "sources": {p: "search" for p in setting}}, where)


# -- a cell's space -----------------------------------------------------------------------
def declared_space(run: dict) -> dict[str, tuple[dict, str]]:
    """path -> (range, who declared it) from the run's loss, regularizers and variant."""
    parts = [(LOSSES.get(run["loss"]["name"]), f"loss '{run['loss']['name']}'")]
    parts += [(REGULARIZERS.get(name), f"regularizer '{name}'") for name in run["regularizers"]]
    parts.append((VARIANTS.get(run["variant"]["name"]), f"variant '{run['variant']['name']}'"))
    out = {}
    for cls, who in parts:
        for path, spec in cls.search_space.items():
            if path.startswith("optimizer.") and path.split(".")[1] not in run["optimizer"]:
                continue  # an argument the set-up's optimizer does not take
            out[path] = (spec, f"the search space of {who} ('{path}')")
    return out


def cell_space(config: dict, dataset: str, label: str, loss: str, run: dict) -> dict[str, dict]:
    """The cell's space, path -> range, in path order (the order of the design's
    dimensions). ``run``: the cell's resolved run (``resolve_run`` of the cell's label
    and the search's train_seed). Raises ConfigError naming the key of a range that
    cannot be drawn or does not fit the run."""
    space = space_entries(config, dataset, label, loss, run)
    return {path: space[path][0] for path in sorted(space)}


def space_entries(config: dict, dataset: str, label: str, loss: str, run: dict) -> dict[str, tuple[Any, str]]:
    """path -> (range, the config key that gives it) of a cell's space, each checked."""
    s = config["search"]
    where = f"{dataset}/{label}/{loss}"
    space = {} if s["replace"] else declared_space(run)
    variant = run["variant"]["name"]
    layers = [
        ("search.space", s["space"], False),  # applies to the cells whose run has the path
        (f"search.losses.{loss}", s["losses"].get(loss, {}), True),
        (f"search.variants.{variant}", s["variants"].get(variant, {}), True),
    ]
    for prefix, given, strict in layers:
        for path, spec in given.items():
            if not has_path(run, path):
                if strict:
                    raise ConfigError(
                        f"config key '{prefix}.{path}': no '{path}' in the resolved run config of {where}"
                    )
                continue
            if spec is None:
                space.pop(path, None)
            else:
                space[path] = (spec, f"config key '{prefix}.{path}'")
    if not space:
        raise ConfigError(
            f"config key 'search': the search space of {where} is empty; declare ranges in "
            "search.space, search.losses or search.variants (or keep the components' with replace: false)"
        )
    for path, (spec, source) in space.items():
        _check_dimension(run, path, spec, source, where)
    return space


def _check_dimension(run: dict, path: str, spec: Any, source: str, where: str) -> None:
    try:
        kind, args = check_range(spec)
    except SpaceError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    if not has_path(run, path):
        raise ConfigError(f"{source}: no '{path}' in the resolved run config of {where}")
    current = _get(run, path)
    if isinstance(current, (dict, list)):
        raise ConfigError(f"{source}: '{path}' is a section or list in the resolved run config of {where}")
    values = args if kind == "choice" else [float(a) for a in args] if kind != "int" else args
    for value in values:
        if not _same_kind(current, value):
            raise ConfigError(
                f"{source}: a {kind} range gives {value!r}, but '{path}' holds {current!r} "
                f"in the resolved run config of {where}"
            )


# -- the design ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=4096)
def _scramble_bits(text: str) -> tuple[int, ...]:
    """Bits (most significant first) of SHA-256(text|0) and SHA-256(text|1)."""
    digest = b"".join(hashlib.sha256(f"{text}|{i}".encode()).digest() for i in (0, 1))
    return tuple((byte >> (7 - b)) & 1 for byte in digest for b in range(8))


def scramble(x: int, text: str) -> int:
    """A ``BITS``-bit coordinate through the linear matrix scrambling keyed by ``text``:
    output bit k = input bit k + sum of L[k][i] * input bit i over i < k, + shift bit k
    (mod 2), most significant first; the shift is the first BITS bits, L's lower
    triangle the next ones, row by row."""
    bits = _scramble_bits(text)
    shift, lower = bits[:BITS], bits[BITS:]
    xb = [(x >> (BITS - 1 - k)) & 1 for k in range(BITS)]
    out, pos = 0, 0
    for k in range(BITS):
        bit = xb[k] ^ shift[k]
        for i in range(k):
            bit ^= lower[pos] & xb[i]
            pos += 1
        out = (out << 1) | bit
    return out


def unit_point(key: str, paths: list[str], index: int) -> list[float]:
    """Sobol' point ``index`` (0-based) of len(paths) dimensions, each coordinate
    scrambled with the bits of ``key/path``: exact binary fractions in [0, 1)."""
    from scipy.stats import qmc  # here: scipy.stats takes seconds to import, and training never draws

    sobol = qmc.Sobol(len(paths), scramble=False, bits=BITS)
    if index:
        sobol.fast_forward(index)
    ints = np.rint(sobol.random(1)[0] * 2**BITS).astype(np.int64)
    return [scramble(int(x), f"{key}/{path}") / 2**BITS for x, path in zip(ints, paths, strict=True)]


def setting_values(config: dict, dataset: str, label: str, loss: str, index: int, run: dict) -> dict[str, Any]:
    """Setting ``index`` of a cell: the set-up's values (index 0) or design point index - 1.
    ``run``: the cell's resolved run (the set-up)."""
    space = cell_space(config, dataset, label, loss, run)
    if index == 0:
        return {path: _get(run, path) for path in space}
    key = f"{config['search']['seed']}/{dataset}/{label}/{loss}"
    u = unit_point(key, list(space), index - 1)
    return {path: value_at(space[path], x) for path, x in zip(space, u, strict=True)}


def apply_search(config: dict, dataset: str, label: str, loss: str, run: dict[str, Any]) -> dict[str, Any]:
    """The resolved run of a search label (``<cell label>+search-<i>``), from ``run``,
    its cell's resolved run (changed in place): what ``resolve_run`` gives for it."""
    base, index = parse_label(label)
    values = setting_values(config, dataset, base, loss, index, run)
    if index:
        apply_values(run, values, f"{dataset}/{label}/{loss}")
    run["variant"]["label"] = label
    run["search"] = {"index": index, "values": values}
    return run


# -- the words the tables use ---------------------------------------------------------
def budget_text(budget: int, seeds: int, finalists: int = 0, finalist_seeds: int = 0) -> str:
    """How a search chose its best, in words: "best of 64 settings (2 seeds each); of
    its 4 finalists on 8 more seeds"."""
    text = f"best of {budget} settings" + (f" ({seeds} seeds each)" if seeds > 1 else "")
    more = f"{finalist_seeds} more seed" + ("s" if finalist_seeds > 1 else "")
    return text + (f"; of its {finalists} finalists on {more}" if finalists else "")


def search_budget_text(config: dict) -> str:
    """budget_text of a config's search."""
    s = config["search"]
    return budget_text(s["budget"], s["seeds_per_setting"], s["finalists"], len(finalist_seeds(config)))


def tuning(config: dict) -> list[dict[str, str]]:
    """How each cell's setting was chosen, in words, for the tables: the search's
    best, the paper's set-up untouched, or which config keys changed it."""
    if active(config):
        text = search_budget_text(config)
        return [{"dataset": d, "variant": v, "loss": loss, "tuning": text} for d, v, loss in cells(config)]
    out, entries = [], variant_labels(config)
    for dataset, label, loss in cells(config):
        variant = entries[label]["variant"]
        override = config["losses"].get(loss, {})
        keys = [f"losses.{loss}.{k}" for k, v in override.items() if k != "params" or v]  # params: {} is the default
        keys += [f"regularizers.{name}" for name in config["regularizers"]]
        searched = VARIANTS.get(variant).search_space
        keys += [
            f"variants.{variant}.{k}" for k in config["variants"].get(variant, {}) if f"variant.params.{k}" in searched
        ]
        per_dataset = config["per_dataset"].get(dataset, {}).get("variants", {}).get(variant, {})
        keys += [
            f"per_dataset.{dataset}.variants.{variant}.{k}" for k in per_dataset if f"variant.params.{k}" in searched
        ]
        keys += list(entries[label]["sources"].values())
        text = f"config override: {', '.join(keys)}" if keys else UNTUNED
        out.append({"dataset": dataset, "variant": label, "loss": loss, "tuning": text})
    return out
