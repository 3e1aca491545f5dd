"""f-GAN (Nowozin et al., 2016): variational divergence minimisation.

D outputs v; the variational function is T = g_f(v), with the output activation
g_f that keeps T in the domain of the Fenchel conjugate f*. D maximises
E_P[T] - E_Q[f*(T)], a lower bound on D_f(P || Q) that is tight at
T*(x) = f'(p(x)/q(x)). Each subclass gives g_f and f*(g_f(v)) in a closed form
that stays finite for any v (Table 2 of the paper).

G either minimises the saddle objective -E_Q[f*(T)] (``generator: saddle``) or,
as in the paper's experiments and by analogy with -log D, maximises E_Q[T]
(``generator: trick``, the default).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from gans.losses import LOSSES, Loss, paper_setup
from gans.losses.jensen_shannon import DCGAN_ADAM
from gans.space import ADAM_BETA1, CRITIC_STEPS, LEARNING_RATES

# No authors' code was found and the paper's only toy experiment is 1-D; its image
# experiments use DCGAN networks, so DCGAN's optimizer is the set-up for both families.
FGAN_SOURCE = "no authors' code found; DCGAN's Adam 2e-4, beta1 0.5 (f-GAN used DCGAN networks)"


def fgan_training(points_deviations: list[str]) -> dict:
    """The f-GAN set-up per family; ``points_deviations``: what the suite adds on
    the 2-D mixtures (see the subclasses)."""
    return {
        "points": paper_setup(DCGAN_ADAM, FGAN_SOURCE, deviations=points_deviations),
        "images": paper_setup(DCGAN_ADAM, FGAN_SOURCE),
    }


# A critic whose objective grows without bound where it separates real from fake
# (KL, reverse KL, Pearson, squared Hellinger: T or f*(T) unbounded) diverged or
# collapsed on 8gaussians at equal rates (MLP 3x128, 2,000 steps); with an R1 penalty
# of weight 1 and D faster than G (TTUR) every one covered 8 of 8 modes (docs/setups.md).
UNBOUNDED_CRITIC = ["r1", "ttur"]


class FDivergence(Loss):
    param_schema = {"generator": {"enum": ["trick", "saddle"]}}
    defaults = {"generator": "trick"}
    training = fgan_training(UNBOUNDED_CRITIC)
    reference = "Nowozin et al. 2016"

    def __init__(self, **params):
        super().__init__(**params)
        if self.generator not in ("trick", "saddle"):
            raise ValueError(f"f-GAN generator objective '{self.generator}' unknown; choose one of: saddle, trick")

    # The paper varies the divergence (one loss each here), not a knob of its own:
    # each f-GAN loss is searched over the optimizer, as the GAN losses
    search_space = {**LEARNING_RATES, **ADAM_BETA1, **CRITIC_STEPS}

    def activation(self, v: torch.Tensor) -> torch.Tensor:
        """T = g_f(v)."""
        raise NotImplementedError

    def conjugate_of_activation(self, v: torch.Tensor) -> torch.Tensor:
        """f*(g_f(v))."""
        raise NotImplementedError

    def d_loss(self, real_out, fake_out):
        return -(self.activation(real_out).mean() - self.conjugate_of_activation(fake_out).mean())

    def g_loss(self, fake_out, real_out=None):
        if self.generator == "saddle":
            return -self.conjugate_of_activation(fake_out).mean()
        return -self.activation(fake_out).mean()


@LOSSES.register("fgan-kl")
class KL(FDivergence):
    """f(u) = u log u; g_f(v) = v; f*(t) = exp(t - 1)."""

    def activation(self, v):
        return v

    def conjugate_of_activation(self, v):
        return torch.exp(v - 1)


@LOSSES.register("fgan-reverse-kl")
class ReverseKL(FDivergence):
    """f(u) = -log u; g_f(v) = -exp(-v); f*(t) = -1 - log(-t), so f*(g_f(v)) = v - 1."""

    def activation(self, v):
        return -torch.exp(-v)

    def conjugate_of_activation(self, v):
        return v - 1


@LOSSES.register("fgan-pearson")
class Pearson(FDivergence):
    """f(u) = (u - 1)^2; g_f(v) = v; f*(t) = t^2 / 4 + t."""

    def activation(self, v):
        return v

    def conjugate_of_activation(self, v):
        return v * v / 4 + v


@LOSSES.register("fgan-hellinger")
class SquaredHellinger(FDivergence):
    """f(u) = (sqrt(u) - 1)^2; g_f(v) = 1 - exp(-v); f*(t) = t / (1 - t), so f*(g_f(v)) = exp(v) - 1."""

    def activation(self, v):
        return 1 - torch.exp(-v)

    def conjugate_of_activation(self, v):
        return torch.expm1(v)


@LOSSES.register("fgan-js")
class JensenShannon(FDivergence):
    """f(u) = -(u + 1) log((1 + u) / 2) + u log u (twice the JS divergence);
    g_f(v) = log 2 - log(1 + exp(-v)); f*(t) = -log(2 - exp(t)),
    so f*(g_f(v)) = softplus(v) - log 2."""

    # D's loss is the non-saturating GAN's plus constants (bounded): no deviation
    training = fgan_training([])

    def activation(self, v):
        return math.log(2) - F.softplus(-v)

    def conjugate_of_activation(self, v):
        return F.softplus(v) - math.log(2)
