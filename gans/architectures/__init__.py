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
        out = self.head(self.features(x)).float()  # float32 scores (and losses) under bf16 autocast
        return out.squeeze(-1) if out.shape[-1] == 1 else out


class Architecture(Component):
    modalities: ClassVar[tuple[str, ...]] = ()  # data modalities this architecture supports
    # True when evaluation reads D's parameters: D is then stored at each evaluation point too
    snapshot_discriminator: ClassVar[bool] = False

    def generator(self, data_shape: tuple[int, ...], noise_dim: int) -> nn.Module:
        raise NotImplementedError

    def discriminator(self, data_shape: tuple[int, ...], out_dim: int = 1) -> Discriminator:
        raise NotImplementedError


def check_image_shape(
    arch: Architecture, data_shape: tuple[int, ...], sizes, channels: tuple[int, ...] | None = (1, 3)
) -> tuple[int, int]:
    """(channels, size) of a square C x H x W image the architecture supports, or a
    clear error naming the supported sizes and channel counts. ``channels=None``
    takes any count: a discriminator's input may carry more than the image (packed
    samples, label planes)."""
    if (
        len(data_shape) != 3
        or data_shape[1] != data_shape[2]
        or data_shape[1] not in sizes
        or (channels is not None and data_shape[0] not in channels)
    ):
        what = "images of " + (f"{' or '.join(map(str, channels))} channels and " if channels else "") + "size"
        raise ValueError(
            f"architecture '{arch.name}' supports {what} "
            f"{' or '.join(f'{s}x{s}' for s in sorted(sizes))}; got shape {tuple(data_shape)}"
        )
    return data_shape[0], data_shape[1]


ARCHITECTURES: Registry[type[Architecture]] = Registry("architecture", base=Architecture, package=__name__)


def build_architecture(name: str, **params) -> Architecture:
    return ARCHITECTURES.get(name)(**params)
