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
    # The ranges its parameters are searched over (gans/space.py), by dotted path of
    # the resolved run config; used where a run has this regularizer.
    search_space: ClassVar[dict[str, dict]] = {}
    # True when it works on stacked seeds (gans/stacking.py): inputs shaped (S, batch,
    # ...), a penalty per seed, random draws from ``seed_rng`` (set when stacked).
    stackable: ClassVar[bool] = False
    # True when the penalty backpropagates through D's gradient w.r.t. its input
    # (gradient penalties): every layer of D must then be twice differentiable
    differentiates_input: ClassVar[bool] = False
    seed_rng = None
    # parameters that differ between the members of a population, held as (P,) tensors
    member_params: tuple[str, ...] = ()

    @property
    def lead(self) -> int:
        """Leading dimensions before a sample's own: (batch,) or (seeds, batch)."""
        return 1 if self.seed_rng is None else 2

    def rand(self, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        """Uniform noise of ``shape``, from each seed's own stream when stacked."""
        if self.seed_rng is None:
            return torch.rand(shape, device=like.device, dtype=like.dtype)
        return self.seed_rng.rand(*shape[1:], device=like.device).to(like.dtype)

    def randn(self, like: torch.Tensor) -> torch.Tensor:
        if self.seed_rng is None:
            return torch.randn_like(like)
        return self.seed_rng.randn(*like.shape[1:], device=like.device).to(like.dtype)

    def stack_members(self, members: list[Regularizer]) -> None:
        """Take each population member's value of every parameter that differs between
        ``members`` (this regularizer as each member would build it) as a (P,) tensor."""
        names = []
        for name in self.defaults:
            values = [getattr(m, name) for m in members]
            if any(v != values[0] for v in values):
                setattr(self, name, torch.tensor([float(v) for v in values]))
                names.append(name)
        self.member_params = tuple(names)

    def keep(self, index: torch.Tensor) -> None:
        """Keep the members at ``index`` of every per-member parameter."""
        for name in self.member_params:
            setattr(self, name, getattr(self, name)[index])

    def narrow(self, m: int):
        """The first ``m`` members' values of every per-member parameter, until the
        returned function is called."""
        saved = {name: getattr(self, name) for name in self.member_params}
        for name, value in saved.items():
            setattr(self, name, value[:m])

        def restore() -> None:
            for name, value in saved.items():
                setattr(self, name, value)

        return restore

    def member_view(self, value, like: torch.Tensor):
        """A parameter as it multiplies ``like``: a number as it is, a (P,) tensor of
        member values shaped (P, 1, ...) against the member dimension of ``like``."""
        if not isinstance(value, torch.Tensor):
            return value
        return value.to(device=like.device, dtype=like.dtype).view(-1, *([1] * (like.dim() - 1)))

    def wrap(self, discriminator: nn.Module) -> nn.Module:
        return discriminator

    def inputs(self, x: torch.Tensor, progress: float) -> torch.Tensor:
        """D's input at training ``progress`` in [0, 1]."""
        return x

    def penalty(
        self, discriminator, real: torch.Tensor, fake: torch.Tensor, real_out: torch.Tensor, fake_out: torch.Tensor
    ) -> torch.Tensor | None:
        return None

    def after_d_step(self, discriminator: nn.Module) -> None:
        return None


REGULARIZERS: Registry[type[Regularizer]] = Registry("regularizer", base=Regularizer, package=__name__)


def build_regularizers(spec: dict[str, dict]) -> list[Regularizer]:
    return [REGULARIZERS.get(name)(**(params or {})) for name, params in sorted(spec.items())]
