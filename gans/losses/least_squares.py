"""Least-squares GAN (Mao et al., 2017), with the 0-1 coding a=0, b=1, c=1:
D minimises 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2], G minimises 1/2 E[(D(G(z)) - c)^2]."""

from __future__ import annotations

from gans.components import for_every_family
from gans.losses import LOSSES, Loss, adam, paper_setup
from gans.space import ADAM_BETA1, CRITIC_STEPS, LEARNING_RATES


@LOSSES.register("lsgan")
class LeastSquares(Loss):
    reference = "Mao et al. 2017"
    defaults = {"a": 0.0, "b": 1.0, "c": 1.0}
    # Adam 2e-4, beta1 0.5 as in DCGAN (the paper's image set-up; no authors' code was
    # found, and its 2-D mixture experiment names no optimizer): both families.
    training = for_every_family(
        paper_setup(
            adam(2e-4, (0.5, 0.999)), "Mao et al. 2017 (image set-up, unverified against code): Adam 2e-4, beta1 0.5"
        )
    )

    def d_loss(self, real_out, fake_out):
        return 0.5 * ((real_out - self.b) ** 2).mean() + 0.5 * ((fake_out - self.a) ** 2).mean()

    def g_loss(self, fake_out, real_out=None):
        return 0.5 * ((fake_out - self.c) ** 2).mean()

    def d_equilibrium(self):
        return (self.a + self.b) / 2  # D*(x) = (b p_data + a p_g) / (p_data + p_g)

    # compare_gan v1's wide ranges for LSGAN (see gans/space.py)
    search_space = {**LEARNING_RATES, **ADAM_BETA1, **CRITIC_STEPS}
