"""Datasets: each module registers samplers under a name used in the config grid."""
from __future__ import annotations

from typing import ClassVar

import torch

from gans.components import Component
from gans.registry import Registry


class Dataset(Component):
    """A source of real samples in the range the generator produces."""

    modality: ClassVar[str] = "points"  # picks the architecture family ("points" or "images")
    labeled: ClassVar[bool] = False  # whether sample_labeled() gives class labels

    @property
    def num_classes(self) -> int:
        raise NotImplementedError(f"dataset '{self.name}' has no class labels")

    def sample_labeled(self, n: int, generator: torch.Generator, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError(f"dataset '{self.name}' has no class labels")
    # Typical size of one job on this dataset at full length, per pipeline step:
    # runtime in minutes, mem_mb in MB, gpu = GPUs per job. The workflow's rules request
    # these (on SLURM: -t, --mem, --gpus; locally gpu counts against --resources gpu=N);
    # a profile's or the command line's set-resources overrides them.
    job_resources: ClassVar[dict[str, dict[str, int]]] = {
        "train": {"runtime": 480, "mem_mb": 16000, "gpu": 1},
        "evaluate": {"runtime": 120, "mem_mb": 16000, "gpu": 0},  # metrics run on the CPU today
    }

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one sample."""
        raise NotImplementedError

    def sample(self, n: int, generator: torch.Generator, device: torch.device | str = "cpu") -> torch.Tensor:
        raise NotImplementedError


DATASETS: Registry[type[Dataset]] = Registry("dataset", base=Dataset, package=__name__)


def build_dataset(name: str, **params) -> Dataset:
    return DATASETS.get(name)(**params)
