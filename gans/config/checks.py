"""Checks of values that pass the schema but would fail inside a job, after other
work ran, and notices of settings no run uses.

- a run: its variant trains with its loss, its component parameters fit their
  types and bounds, its networks can be built for its data (an image size the
  architecture cannot make is found from the dataset class, without loading data);
- the device: a name torch knows, present on this machine when jobs run here;
- notices (said at launch, not refused): grid cells a variant does not train,
  per-dataset and per-component settings no run of the grid uses, evaluation or
  logging less often than a run is long.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import torch

from gans.config.grid import datasets_in_grid, losses_in_grid, skipped, variant_labels
from gans.config.params import run_param_problem
from gans.config.schema import ConfigError
from gans.datasets import DATASETS
from gans.runtime import visible_gpu_count
from gans.variants import VARIANTS

DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?|mps)$")


def run_problem(run: dict[str, Any]) -> str | None:
    """What makes a resolved run untrainable before its own checks run (they may use
    its values with Python operators), or None."""
    variant, loss = run["variant"]["name"], run["loss"]["name"]
    reason = VARIANTS.get(variant).unsupported(loss)
    if reason:
        return f"variant '{variant}' does not train with loss '{loss}': {reason}"
    return run_param_problem(run)


def check_buildable(run: dict[str, Any]) -> None:
    """Build the run's generator and discriminator for its data's shape (on the meta
    device: no memory, no data loaded); ValueError naming what cannot be built."""
    dataset = DATASETS.get(run["dataset"]["name"])(**run["dataset"]["params"])
    try:
        _build_networks(
            run["architecture"]["name"],
            json.dumps(run["architecture"]["params"], sort_keys=True),
            tuple(dataset.declared_shape()),
            run["noise_dim"],
        )
    except ValueError as exc:
        raise ValueError(
            f"{exc} (the shape of dataset '{dataset.name}' comes from config key 'datasets.{dataset.name}', "
            f"the architecture from 'models.{dataset.modality}')"
        ) from None


@functools.lru_cache(maxsize=256)
def _build_networks(arch: str, params: str, shape: tuple[int, ...], noise_dim: int) -> None:
    from gans.architectures import build_architecture

    architecture = build_architecture(arch, **json.loads(params))
    with torch.device("meta"):
        architecture.generator(shape, noise_dim)
        architecture.discriminator(shape)


def check_device(spec: str, key: str = "train.device", local: bool = True) -> None:
    """Refuse a device name torch does not know, and (when jobs run on this machine)
    a CUDA device that is not here."""
    if not DEVICE.match(spec):
        raise ConfigError(f"config key '{key}': unknown device '{spec}'; choose auto, cpu, cuda, cuda:N or mps")
    if not local or not spec.startswith("cuda"):
        return
    gpus = visible_gpu_count()
    index = int(spec.partition(":")[2] or 0)
    if index >= gpus:
        have = f"{gpus} GPU{'s' if gpus != 1 else ''}" if gpus else "no CUDA GPU"
        raise ConfigError(
            f"config key '{key}': '{spec}' is not on this machine ({have}), where the jobs run; use auto "
            "(CUDA when present, else CPU) or cpu, or run where the GPU is (e.g. --profile workflow/profiles/slurm)"
        )


def check_devices(config: dict, local: bool = True) -> None:
    """``train.device`` and each per-dataset override of it."""
    check_device(config["train"]["device"], "train.device", local)
    for dataset, override in config["per_dataset"].items():
        if "device" in override.get("train", {}):
            check_device(override["train"]["device"], f"per_dataset.{dataset}.train.device", local)


def notices(config: dict) -> list[str]:
    """What a validated config asks for that no run does: said at launch."""
    return [*_dropped_cells(config), *_unused_settings(config), *_short_runs(config)]


def _dropped_cells(config: dict) -> list[str]:
    cells = skipped(config)
    if not cells:
        return []
    losses: dict[str, dict[str, None]] = {}
    datasets: dict[str, dict[str, None]] = {}
    for cell in cells:
        losses.setdefault(cell["variant"], {})[cell["loss"]] = None
        datasets.setdefault(cell["variant"], {})[cell["dataset"]] = None
    parts = [f"{v} x {', '.join(losses[v])} on {', '.join(datasets[v])}" for v in losses]
    return [
        f"{len(cells)} grid cells are not run, their variant not training with their loss "
        f"(the reasons are in the summary table): {'; '.join(parts)}"
    ]


def _unused_settings(config: dict) -> list[str]:
    datasets, losses = set(datasets_in_grid(config)), set(losses_in_grid(config))
    variants = {entry["variant"] for entry in variant_labels(config).values()}
    unused = [f"per_dataset.{d}" for d in config["per_dataset"] if d not in datasets]
    unused += [f"datasets.{d}" for d in config["datasets"] if d not in datasets]
    unused += [f"losses.{loss}" for loss in config["losses"] if loss not in losses]
    unused += [f"variants.{v}" for v in config["variants"] if v not in variants]
    for dataset, override in config["per_dataset"].items():
        unused += [f"per_dataset.{dataset}.variants.{v}" for v in override.get("variants", {}) if v not in variants]
    if not unused:
        return []
    return [f"settings no run of the grid uses (their dataset, loss or variant is not in it): {', '.join(unused)}"]


def _short_runs(config: dict) -> list[str]:
    lines = []
    for dataset in datasets_in_grid(config):
        train = {**config["train"], **config["per_dataset"].get(dataset, {}).get("train", {})}
        for key, what in (("eval_every", "evaluated"), ("log_every", "logged")):
            if train[key] > train["steps"]:
                lines.append(
                    f"{dataset}: train.{key} ({train[key]}) exceeds train.steps ({train['steps']}): "
                    f"runs are {what} at the last step only"
                )
    return lines
