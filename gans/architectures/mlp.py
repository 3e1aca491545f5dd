"""Fully connected networks for 2-D points (the common toy setup: ReLU MLPs)."""

from __future__ import annotations

import math

from torch import nn

from gans.architectures import ARCHITECTURES, Architecture, Discriminator


def mlp(in_dim: int, width: int, depth: int, activation: type[nn.Module]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(in_dim if i == 0 else width, width), activation()]
    return nn.Sequential(*layers)


@ARCHITECTURES.register("mlp")
class MLP(Architecture):
    """``depth`` hidden layers of ``width`` ReLU units in G and D; a linear output."""

    modalities = ("points",)
    param_schema = {"width": {"minimum": 1}, "depth": {"minimum": 1}}
    defaults = {"width": 400, "depth": 3}

    def generator(self, data_shape, noise_dim):
        out_dim = math.prod(data_shape)
        return nn.Sequential(mlp(noise_dim, self.width, self.depth, nn.ReLU), nn.Linear(self.width, out_dim))

    def discriminator(self, data_shape, out_dim=1):
        trunk = mlp(math.prod(data_shape), self.width, self.depth, nn.ReLU)
        return Discriminator(trunk, self.width, out_dim)
