"""The Dirac-GAN's players (Mescheder et al. 2018, Sec. 2): G_theta(z) = theta, one
parameter whatever the noise; D_psi(x) = psi * x, linear with no bias. Their start is
(theta0, psi0), (1, 1) as in the paper's figures."""

from __future__ import annotations

import torch
from torch import nn

from gans.architectures import ARCHITECTURES, Architecture, Discriminator


class DiracGenerator(nn.Module):
    def __init__(self, theta0: float):
        super().__init__()
        self.theta = nn.Parameter(torch.tensor([float(theta0)]))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.theta + torch.zeros_like(z[..., :1])  # theta for every z (a new tensor, not a view)


@ARCHITECTURES.register("dirac")
class DiracGAN(Architecture):
    """G(z) = theta; D(x) = psi * x (one weight, no bias), on 1-D data."""

    modalities = ("dirac",)
    snapshot_discriminator = True  # psi is half of the distance to the equilibrium
    defaults = {"theta0": 1.0, "psi0": 1.0}

    def generator(self, data_shape, noise_dim):
        _check(self, data_shape)
        return DiracGenerator(self.theta0)

    def discriminator(self, data_shape, out_dim=1):
        _check(self, data_shape)
        d = Discriminator(nn.Identity(), 1, out_dim)
        d.head = nn.Linear(1, out_dim, bias=False)
        with torch.no_grad():
            d.head.weight.fill_(self.psi0)
        return d


def theta_psi(generator: nn.Module, discriminator: nn.Module) -> tuple[float, float]:
    """The Dirac-GAN's two parameters, (theta, psi)."""
    return float(generator.theta.detach()[0]), float(discriminator.head.weight.detach().flatten()[0])


def _check(arch: Architecture, data_shape) -> None:
    if tuple(data_shape) != (1,):
        raise ValueError(f"architecture '{arch.name}' takes 1-D points (the Dirac-GAN); got shape {tuple(data_shape)}")
