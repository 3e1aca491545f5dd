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

    @property
    def label_factors(self) -> tuple[int, ...]:
        """The label as mixed-radix digits (most significant first) whose product is
        num_classes: a composite label such as Stacked MNIST's digit triple is (10, 10, 10),
        so a conditional model sees 30 one-hot features rather than 1,000."""
        return (self.num_classes,)

    def sample_labeled(
        self, n: int, generator: torch.Generator, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError(f"dataset '{self.name}' has no class labels")

    def labeled_subset(
        self, per_class: int, generator: torch.Generator, device: torch.device | str = "cpu", max_draws: int = 10**6
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``per_class`` labelled examples of every class (a semi-supervised run's
        labelled set), drawn with ``generator``; ordered by class."""
        k, xs, ys, drawn = self.num_classes, [], [], 0
        counts = torch.zeros(k, dtype=torch.long)
        while bool((counts < per_class).any()):
            if drawn >= max_draws:
                raise ValueError(
                    f"dataset '{self.name}': {int((counts < per_class).sum())} classes have fewer than "
                    f"{per_class} examples in {max_draws} draws"
                )
            x, y = self.sample_labeled(max(256, 4 * k * per_class), generator, device)
            drawn += len(y)
            for c in (counts < per_class).nonzero().flatten().tolist():
                take = (y == c).nonzero().flatten()[: per_class - counts[c]]
                xs.append(x[take])
                ys.append(y[take])
                counts[c] += len(take)
        x, y = torch.cat(xs), torch.cat(ys)
        order = torch.argsort(y.cpu(), stable=True).to(y.device)
        return x[order], y[order]

    # Typical size of one job on this dataset at full length, per pipeline step:
    # runtime in minutes, mem_mb in MB, gpu = GPUs per job. The workflow's rules request
    # these (on SLURM: -t, --mem, --gpus; locally gpu counts against --resources gpu=N);
    # a profile's or the command line's set-resources overrides them.
    job_resources: ClassVar[dict[str, dict[str, int]]] = {
        "train": {"runtime": 480, "mem_mb": 16000, "gpu": 1},
        "evaluate": {"runtime": 120, "mem_mb": 16000, "gpu": 0},  # evaluation's metrics run on the CPU
    }

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one sample."""
        raise NotImplementedError

    def declared_shape(self) -> tuple[int, ...]:
        """Shape of one sample, known without loading any file (checked against the
        architecture before any job starts)."""
        return self.shape

    def sample(self, n: int, generator: torch.Generator, device: torch.device | str = "cpu") -> torch.Tensor:
        raise NotImplementedError

    # True when sample_seeds draws through the SeedRNG's own methods, so it can serve
    # buffered draws (one op for all stacked seeds); else one sample() per seed
    draws_stacked: ClassVar[bool] = False

    def sample_seeds(self, n: int, rng, device: torch.device | str = "cpu") -> torch.Tensor:
        """One batch of ``n`` per stacked seed, shaped (S, n, ...), each from its seed's
        stream of ``rng`` (a gans.stacking.SeedRNG)."""
        if rng.buffered:
            raise ValueError(
                f"dataset '{self.name}' cannot serve buffered random draws; use train.random_draws: direct"
            )
        return torch.stack([self.sample(n, g, device) for g in rng.generators])


DATASETS: Registry[type[Dataset]] = Registry("dataset", base=Dataset, package=__name__)


def build_dataset(name: str, **params) -> Dataset:
    return DATASETS.get(name)(**params)
