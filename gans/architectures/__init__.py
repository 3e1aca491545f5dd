"""Generator/discriminator architectures, registered by name.

Every discriminator is split into a ``trunk`` (features) and a ``head`` (one output
per sample), so variants can attach auxiliary heads to the trunk's features.
"""
from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from gans.components import Component
from gans.registry import Registry


class Discriminator(nn.Module):
    def __init__(self, trunk: nn.Module, feature_dim: int, out_dim: int = 1):
        super().__init__()
        self.trunk = trunk
        self.feature_dim = feature_dim
        self.head = nn.Linear(feature_dim, out_dim)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.trunk(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.head(self.features(x))
        return out.squeeze(-1) if out.shape[-1] == 1 else out


class Architecture(Component):
    modalities: ClassVar[tuple[str, ...]] = ()  # data modalities this architecture supports

    def generator(self, data_shape: tuple[int, ...], noise_dim: int) -> nn.Module:
        raise NotImplementedError

    def discriminator(self, data_shape: tuple[int, ...], out_dim: int = 1) -> Discriminator:
        raise NotImplementedError


ARCHITECTURES: Registry[type[Architecture]] = Registry("architecture", base=Architecture, package=__name__)


def build_architecture(name: str, **params) -> Architecture:
    return ARCHITECTURES.get(name)(**params)
