"""The 2-D Gaussian-mixture toy data of the mode-collapse literature.

``8gaussians`` and ``25gaussians`` follow the common setup of the WGAN-GP toy code
and VEEGAN/PacGAN: centres on a circle (radius 2) or a 5x5 grid ({-4,...,4}^2),
isotropic noise, then every point divided by ``scale``.
"""

from __future__ import annotations

import math

import torch

from gans.datasets import DATASETS, Dataset


class GaussianMixture(Dataset):
    modality = "points"
    labeled = True  # the label of a point is its mode

    @property
    def num_classes(self) -> int:
        return len(self.raw_centers())

    # an MLP on 2-D points: minutes on a GPU, under an hour on one CPU core at full length
    job_resources = {
        "train": {"runtime": 60, "mem_mb": 2000, "gpu": 1},
        "evaluate": {"runtime": 30, "mem_mb": 4000, "gpu": 0},
    }

    @property
    def shape(self) -> tuple[int, ...]:
        return (2,)

    def raw_centers(self) -> torch.Tensor:
        raise NotImplementedError

    @property
    def centers(self) -> torch.Tensor:
        """Mode centres in data space (after scaling), float64, shape (K, 2)."""
        return self.raw_centers().to(torch.float64) / self.scale

    @property
    def mode_std(self) -> float:
        """Per-coordinate std of each mode in data space (after scaling)."""
        return self.std / self.scale

    def _centers_on(self, device) -> torch.Tensor:
        # built once per device: no host-to-device copy in the training loop
        cache = self.__dict__.setdefault("_centers_cache", {})
        key = str(torch.device(device))
        if key not in cache:
            cache[key] = self.raw_centers().to(device=device, dtype=torch.float32)
        return cache[key]

    def sample_labeled(self, n, generator, device="cpu"):
        centers = self._centers_on(device)
        idx = torch.randint(len(centers), (n,), generator=generator, device=device)
        noise = torch.randn(n, 2, generator=generator, device=device)
        return (centers[idx] + self.std * noise) / self.scale, idx

    def sample(self, n, generator, device="cpu"):
        return self.sample_labeled(n, generator, device)[0]

    draws_stacked = True

    def sample_seeds(self, n, rng, device="cpu"):
        # the same draws per seed as sample(): its modes, then its noise; the
        # arithmetic once for all seeds
        centers = self._centers_on(device)
        idx = rng.randint(len(centers), n)
        noise = rng.randn(n, 2)
        return (centers[idx] + self.std * noise) / self.scale


@DATASETS.register("8gaussians")
class EightGaussians(GaussianMixture):
    param_schema = {
        "radius": {"exclusiveMinimum": 0},
        "std": {"exclusiveMinimum": 0},
        "scale": {"exclusiveMinimum": 0},
        "modes": {"minimum": 1},
    }
    defaults = {"radius": 2.0, "std": 0.02, "scale": 1.414, "modes": 8}

    def raw_centers(self):
        angles = torch.arange(self.modes, dtype=torch.float64) * (2 * math.pi / self.modes)
        return self.radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)


@DATASETS.register("25gaussians")
class TwentyFiveGaussians(GaussianMixture):
    param_schema = {
        "spacing": {"exclusiveMinimum": 0},
        "grid": {"minimum": 1},
        "std": {"exclusiveMinimum": 0},
        "scale": {"exclusiveMinimum": 0},
    }
    defaults = {"spacing": 2.0, "grid": 5, "std": 0.05, "scale": 2.828}

    def raw_centers(self):
        half = (self.grid - 1) / 2
        axis = (torch.arange(self.grid, dtype=torch.float64) - half) * self.spacing
        xx, yy = torch.meshgrid(axis, axis, indexing="ij")
        return torch.stack([xx.flatten(), yy.flatten()], dim=1)


# The 2-D data of PacGAN's synthetic experiments, unscaled: the ring's 8 modes on
# the unit circle with std 0.01, the grid's 25 modes at {-4, -2, 0, 2, 4}^2 with std
# 0.05 [fjxmlzn/PacGAN synthetic_data_experiments/2DRing_GAN&PacGAN/config.py L6-7,
# 2DGrid_GAN&PacGAN/config.py L5-7]. (PacGAN trains on a fixed pool of 100,000 draws;
# these draw afresh each batch, the same distribution.)
@DATASETS.register("2d-ring")
class PacGANRing(EightGaussians):
    defaults = {"radius": 1.0, "std": 0.01, "scale": 1.0, "modes": 8}


@DATASETS.register("2d-grid")
class PacGANGrid(TwentyFiveGaussians):
    defaults = {"spacing": 2.0, "grid": 5, "std": 0.05, "scale": 1.0}
