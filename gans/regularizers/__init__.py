"""Discriminator regularizers and training tricks, one interface. Each may
  - ``wrap`` D once when it is built (spectral normalisation),
  - change what D sees, real and fake, in both players' steps (instance noise),
  - add a ``penalty`` to D's loss (gradient penalties, label smoothing),
  - act ``after_d_step`` (weight clipping).
``losses`` names the losses a regularizer makes sense for (None: any)."""
from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from gans.components import Component
from gans.registry import Registry


class Regularizer(Component):
    losses: ClassVar[tuple[str, ...] | None] = None

    def wrap(self, discriminator: nn.Module) -> nn.Module:
        return discriminator

    def inputs(self, x: torch.Tensor, progress: float) -> torch.Tensor:
        """D's input at training ``progress`` in [0, 1]."""
        return x

    def penalty(self, discriminator, real: torch.Tensor, fake: torch.Tensor, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor | None:
        return None

    def after_d_step(self, discriminator: nn.Module) -> None:
        return None


REGULARIZERS: Registry[type[Regularizer]] = Registry("regularizer", base=Regularizer, package=__name__)


def build_regularizers(spec: dict[str, dict]) -> list[Regularizer]:
    return [REGULARIZERS.get(name)(**(params or {})) for name, params in sorted(spec.items())]
