"""Adversarial losses, one interface (compare_gan style): discriminator outputs in,
a scalar loss out. The training loop calls whatever is registered; no branches.

Each loss also carries the training set-up its authors used, per data family
(``training``: "points" for the 2-D mixtures, "images"), each value with its
source; the config may override it key by key (see gans/config/setups.py).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from gans.components import Component
from gans.registry import Registry


class Loss(Component):
    # The authors' training set-up per data family ("points", "images"): optimizer, learning
    # rates, critic steps (n_critic), generator steps (n_gen, 1 unless given), regularizers,
    # loss params, the suite's named deviations (gans/config/setups.py) and the source.
    training: ClassVar[dict[str, dict[str, Any]]] = {}
    # Short citation shown in tables and the report.
    reference: ClassVar[str] = ""
    # The ranges this loss's hyper-parameters are searched over (gans/space.py), by
    # dotted path of the resolved run config; its set-up (``training``) is setting 0.
    search_space: ClassVar[dict[str, dict]] = {}
    # Variants whose own objective this is (e.g. EBGAN's margin loss); None: any variant.
    variants: ClassVar[tuple[str, ...] | None] = None
    # d_loss and g_loss are pure functions of D's outputs, so stacked seeds compute
    # them per seed with torch.vmap (gans/stacking.py); a loss that is not sets False.
    stackable: ClassVar[bool] = True
    # True when G's loss compares its samples with real ones (g_loss gets D's outputs on
    # the last real batch D saw as ``real_out``); else g_loss gets the fakes' alone.
    g_needs_real: ClassVar[bool] = False
    # Variants this loss cannot train, each with the reason (tables say it).
    excluded_variants: ClassVar[dict[str, str]] = {}

    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def g_loss(self, fake_out: torch.Tensor, real_out: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError

    def d_score(self, out: torch.Tensor) -> torch.Tensor:
        """What the discriminator says about a sample, for logs and plots: a probability
        of 'real' for the logit-based losses, the raw score otherwise."""
        return out

    def d_equilibrium(self) -> float | None:
        """What ``d_score`` gives every sample at the game's equilibrium (p_g = p_data),
        drawn as a reference line in the figures; None where no fixed value exists."""
        return None


LOSSES: Registry[type[Loss]] = Registry("loss", base=Loss, package=__name__)


def adam(lr: float, betas: tuple[float, float]) -> dict[str, Any]:
    """Adam at learning rate ``lr`` for both players."""
    return {"name": "adam", "lr_d": lr, "lr_g": lr, "betas": list(betas)}


def paper_setup(
    optimizer: dict[str, Any],
    source: str,
    n_critic: int = 1,
    regularizers: dict[str, dict[str, Any]] | None = None,
    **more: Any,
) -> dict[str, Any]:
    """One data family's entry of ``Loss.training``; ``more``: its other keys (loss
    ``params``, ``n_gen``, ``deviations``; see gans/config/setups.py)."""
    return {"optimizer": optimizer, "n_critic": n_critic, "regularizers": regularizers or {}, **more, "source": source}


def build_loss(name: str, **params) -> Loss:
    return LOSSES.get(name)(**params)
