"""The Dirac-GAN's data (Mescheder, Geiger & Nowozin 2018, "Which training methods for
GANs actually converge?", Sec. 2): every real sample is the point ``at`` (0), so the
generator's one parameter and the discriminator's one weight have their equilibrium
at (0, 0). The ``dirac`` modality takes the ``dirac`` architecture and is measured by
its distance to that equilibrium (metrics/library/equilibrium.py)."""

from __future__ import annotations

import torch

from gans.datasets import DATASETS, Dataset


@DATASETS.register("dirac")
class Dirac(Dataset):
    modality = "dirac"
    defaults = {"at": 0.0}
    # two scalars: seconds per run on one core
    job_resources = {
        "train": {"runtime": 10, "mem_mb": 1000, "gpu": 0},
        "evaluate": {"runtime": 10, "mem_mb": 1000, "gpu": 0},
    }

    @property
    def shape(self) -> tuple[int, ...]:
        return (1,)

    def sample(self, n, generator, device="cpu"):
        return torch.full((n, 1), float(self.at), device=device)

    draws_stacked = True  # no random draw at all

    def sample_seeds(self, n, rng, device="cpu"):
        return torch.full((len(rng), n, 1), float(self.at), device=device)
