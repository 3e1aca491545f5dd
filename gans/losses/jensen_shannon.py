"""The original two-player game (Goodfellow et al., 2014).

D outputs a logit; D(x) = sigmoid(logit). D maximises log D(x) + log(1 - D(G(z))),
whose optimum makes the value 2*JS(p_data || p_g) - log 4. Losses are written with
softplus so they stay finite for any logit: -log sigmoid(t) = softplus(-t) and
-log(1 - sigmoid(t)) = softplus(t).
"""

from __future__ import annotations

import torch.nn.functional as F

from gans.losses import LOSSES, Loss, adam, paper_setup
from gans.space import ADAM_BETA1, CRITIC_STEPS, LEARNING_RATES

# DCGAN's Adam: lr 2e-4, beta1 0.5 (beta2 the 0.999 default), one D step per G step
# [Newmu/dcgan_code faces/train_uncond_dcgan.py L36-49, lib/updates.py L142]
DCGAN_ADAM = adam(2e-4, (0.5, 0.999))
DCGAN_SOURCE = "DCGAN code (Newmu/dcgan_code): Adam 2e-4, beta1 0.5, k=1"

# The JS game on 2-D mixtures in its authors' toy code: PacGAN's GAN baseline is this
# non-saturating loss, trained with Adam lr 1e-4, beta1 0.8 (beta2 Blocks' 0.999)
# [fjxmlzn/PacGAN synthetic_data_experiments/2DRing_GAN&PacGAN/config.py L23-24,
# pacgan/bricks.py L69-72]. minimax shares it, so the two differ only in G's objective.
PACGAN_TOY_ADAM = adam(1e-4, (0.8, 0.999))
PACGAN_TOY_SOURCE = "PacGAN 2-D code (fjxmlzn/PacGAN config.py): Adam 1e-4, beta1 0.8"


class JensenShannon(Loss):
    training = {
        "points": paper_setup(PACGAN_TOY_ADAM, PACGAN_TOY_SOURCE),
        "images": paper_setup(DCGAN_ADAM, DCGAN_SOURCE),
    }

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
