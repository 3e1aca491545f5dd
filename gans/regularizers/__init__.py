"""Discriminator regularizers, one interface: an optional penalty added to the
discriminator loss, and an optional hook after each discriminator update."""
from __future__ import annotations

import torch
from torch import nn

from gans.components import Component
from gans.registry import Registry


class Regularizer(Component):
    def penalty(self, discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor | None:
        return None

    def after_d_step(self, discriminator: nn.Module) -> None:
        return None


REGULARIZERS: Registry[type[Regularizer]] = Registry("regularizer", base=Regularizer, package=__name__)


def build_regularizers(spec: dict[str, dict]) -> list[Regularizer]:
    return [REGULARIZERS.get(name)(**(params or {})) for name, params in sorted(spec.items())]
