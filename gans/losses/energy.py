"""Objectives that belong to one variant: they read that variant's discriminator
output, so the grid pairs them with it alone."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gans.components import for_every_family
from gans.losses import LOSSES, Loss, adam, paper_setup
from gans.space import ADAM_BETA1, CRITIC_STEPS, LEARNING_RATES, choice


@LOSSES.register("ebgan")
class EBGANMargin(Loss):
    """EBGAN (Zhao et al., 2017): D's output is an energy (an auto-encoder's
    reconstruction error). D minimises E(x) + [m - E(G(z))]^+, G minimises E(G(z))."""

    reference = "Zhao et al. 2017"
    variants = ("ebgan",)
    param_schema = {"margin": {"exclusiveMinimum": 0}}
    defaults = {"margin": 1.0}
    # The paper's MNIST grid search: Adam lr 1e-3 for both players, margin m = 10 "not
    # tuned" (Sec. 4.1; beta1 not stated, 0.5 here as in DCGAN). It has no 2-D experiment:
    # on the mixtures the margin is set to the scale of the energies there (docs/setups.md).
    training = {
        "points": paper_setup(
            adam(1e-3, (0.5, 0.999)),
            "Zhao et al. 2017 Sec. 4.1 optimizer (Adam 1e-3); no 2-D set-up published, margin 1",
            params={"margin": 1.0},
        ),
        "images": paper_setup(
            adam(1e-3, (0.5, 0.999)), "Zhao et al. 2017 Sec. 4.1 (MNIST): Adam 1e-3, margin 10", params={"margin": 10.0}
        ),
    }

    def d_loss(self, real_out, fake_out):
        return real_out.mean() + F.relu(self.margin - fake_out).mean()

    def g_loss(self, fake_out, real_out=None):
        return fake_out.mean()

    def d_score(self, out):
        return -out  # low energy = real-looking

    # the margins of the paper's Fig. 9 (m in {1, 2, 4, 6, 8, 12, 16, 32}), with the optimizer's ranges
    search_space = {
        **LEARNING_RATES,
        **ADAM_BETA1,
        **CRITIC_STEPS,
        "loss.params.margin": choice(1.0, 2.0, 4.0, 6.0, 8.0, 12.0, 16.0, 32.0),
    }


def entropy(p: torch.Tensor) -> torch.Tensor:
    return -(p * torch.log(p.clamp_min(1e-12))).sum(-1)


@LOSSES.register("catgan")
class CatGANEntropy(Loss):
    """CatGAN (Springenberg, 2016): D is a K-way classifier, certain on real data
    (low conditional entropy), uncertain on generated data, and using every class
    (high marginal entropy); G wants certain, class-balanced predictions."""

    reference = "Springenberg 2016"
    variants = ("catgan",)
    # No authors' code was found. lr 1e-3: a uniform prediction is a stationary point of
    # the entropy terms, and at 2e-4 D stayed there for hundreds of steps on 8gaussians
    # (measured).
    training = for_every_family(
        paper_setup(
            adam(1e-3, (0.5, 0.999)),
            "no authors' code found: Adam 1e-3, beta1 0.5 (measured to leave the uniform start)",
        )
    )

    def d_loss(self, real_out, fake_out):
        p_real, p_fake = real_out.softmax(-1), fake_out.softmax(-1)
        return -(entropy(p_real.mean(0)) - entropy(p_real).mean() + entropy(p_fake).mean())

    def g_loss(self, fake_out, real_out=None):
        p_fake = fake_out.softmax(-1)
        return entropy(p_fake).mean() - entropy(p_fake.mean(0))

    def d_score(self, out):
        return -entropy(out.softmax(-1))  # certainty: high on what D takes for real

    # the paper's ranges were not found: the optimizer's, as for the GAN losses
    search_space = {**LEARNING_RATES, **ADAM_BETA1, **CRITIC_STEPS}
