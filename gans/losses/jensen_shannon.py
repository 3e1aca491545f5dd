"""The original two-player game (Goodfellow et al., 2014).

D outputs a logit; D(x) = sigmoid(logit). D maximises log D(x) + log(1 - D(G(z))),
whose optimum makes the value 2*JS(p_data || p_g) - log 4. Losses are written with
softplus so they stay finite for any logit: -log sigmoid(t) = softplus(-t) and
-log(1 - sigmoid(t)) = softplus(t).
"""

from __future__ import annotations

import torch.nn.functional as F

from gans.losses import LOSSES, Loss
from gans.space import ADAM_BETA1, CRITIC_STEPS, LEARNING_RATES

# DCGAN's Adam settings became the standard for the JS-based losses.
DCGAN_ADAM = {"name": "adam", "lr_d": 2e-4, "lr_g": 2e-4, "betas": [0.5, 0.999]}


class JensenShannon(Loss):
    training = {"optimizer": DCGAN_ADAM, "n_critic": 1, "regularizers": {}}

    def d_loss(self, real_out, fake_out):
        return F.softplus(-real_out).mean() + F.softplus(fake_out).mean()

    def d_score(self, out):
        return out.sigmoid()

    def d_equilibrium(self):
        return 0.5  # D*(x) = p_data / (p_data + p_g)

    # compare_gan v1's wide ranges for (NS-)GAN (see gans/space.py)
    search_space = {**LEARNING_RATES, **ADAM_BETA1, **CRITIC_STEPS}


@LOSSES.register("minimax")
class Minimax(JensenShannon):
    """G minimises log(1 - D(G(z))): saturates (vanishing gradient) when D wins."""

    reference = "Goodfellow et al. 2014 (saturating)"

    def g_loss(self, fake_out, real_out=None):
        return -F.softplus(fake_out).mean()


@LOSSES.register("nonsaturating")
class NonSaturating(JensenShannon):
    """G minimises -log D(G(z)): same fixed point, strong gradients early on."""

    reference = "Goodfellow et al. 2014 (non-saturating)"

    def g_loss(self, fake_out, real_out=None):
        return F.softplus(-fake_out).mean()
