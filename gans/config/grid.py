"""The grid: its blocks, their dataset x variant x loss cells and each cell's seeds
(how runs group into jobs: gans/config/populations.py). The workflow builds its jobs
from these functions, so what runs is decided here, where unit tests reach it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from gans.config.schema import ConfigError
from gans.config.sweep import block_labels
from gans.variants import VARIANTS


def grid_blocks(config: dict) -> list[dict[str, Any]]:
    """The grid's blocks: ``grid`` is one block, or a list of them whose runs are pooled."""
    return config["grid"] if isinstance(config["grid"], list) else [config["grid"]]


def _in_order(items) -> list:
    return list(dict.fromkeys(items))


def datasets_in_grid(config: dict) -> list[str]:
    return _in_order(d for block in grid_blocks(config) for d in block["datasets"])


def losses_in_grid(config: dict) -> list[str]:
    return _in_order(loss for block in grid_blocks(config) for loss in block["losses"])


def variant_labels(config: dict) -> dict[str, dict[str, Any]]:
    """The grid's variant axis: label -> {variant, preset, setting, sources} (see
    ``gans.config.sweep.block_labels``). Without grid.sweep and grid.presets the
    labels are the variant names."""
    out: dict[str, dict[str, Any]] = {}
    for block in grid_blocks(config):
        out.update(block_labels(block))
    return out


def block_cells(block: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(dataset, label, loss) of every cell a block spans, supported or not."""
    return itertools.product(block["datasets"], block_labels(block), block["losses"])


def check_blocks_disjoint(config: dict) -> None:
    # one cell in two blocks would have two seed lists, and two jobs for its runs
    seen: dict[tuple[str, str, str], int] = {}
    for i, block in enumerate(grid_blocks(config)):
        for cell in block_cells(block):
            if cell in seen:
                raise ConfigError(
                    f"config key 'grid': the cell {'/'.join(cell)} is in block {seen[cell]} and "
                    f"block {i}; each dataset x variant x loss cell belongs to one block"
                )
            seen[cell] = i


def grid(config: dict) -> Iterator[dict[str, Any]]:
    """Every run of the grid, as dicts with keys dataset, variant, loss, seed; the
    variant is its grid label (see ``variant_labels``). Variant x loss cells the
    variant does not support are left out (see ``skipped``)."""
    for block in grid_blocks(config):
        labels = block_labels(block)
        for dataset, label, loss in block_cells(block):
            if VARIANTS.get(labels[label]["variant"]).supports(loss):
                for seed in seeds(config, dataset, block):
                    yield {"dataset": dataset, "variant": label, "loss": loss, "seed": seed}


def seeds(config: dict, dataset: str, block: dict[str, Any] | None = None) -> list[int]:
    """A dataset's seeds in ``block`` (default: the first block holding it); per_dataset may override."""
    block = block or next(b for b in grid_blocks(config) if dataset in b["datasets"])
    return list(config["per_dataset"].get(dataset, {}).get("seeds", block["seeds"]))


def cells_by_dataset(config: dict) -> dict[str, list[tuple[str, str]]]:
    """Each dataset's (variant label, loss) cells that run, in grid order."""
    out: dict[str, list[tuple[str, str]]] = {}
    for run in grid(config):
        cells = out.setdefault(run["dataset"], [])
        if (run["variant"], run["loss"]) not in cells:
            cells.append((run["variant"], run["loss"]))
    return out


def skipped(config: dict) -> list[dict[str, str]]:
    """Grid cells that are not applicable, with the reason (for tables and the report)."""
    out = []
    for block in grid_blocks(config):
        labels = block_labels(block)
        for dataset, label, loss in block_cells(block):
            reason = VARIANTS.get(labels[label]["variant"]).unsupported(loss)
            if reason:
                out.append({"dataset": dataset, "variant": label, "loss": loss, "reason": reason})
    return out
