"""Hinge loss (Lim & Ye 2017, Geometric GAN; the SNGAN/BigGAN standard):
D minimises E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]; G minimises -E[D(G(z))]."""

from __future__ import annotations

import torch.nn.functional as F

from gans.components import for_every_family
from gans.losses import LOSSES, Loss, adam, paper_setup
from gans.space import ADAM_BETA1, CRITIC_STEPS, LEARNING_RATES


@LOSSES.register("hinge")
class Hinge(Loss):
    reference = "Lim & Ye 2017; Miyato et al. 2018"
    # SNGAN's hinge setting: Adam lr 2e-4, beta1 0, beta2 0.9, n_dis 5, and spectral
    # normalisation of every D layer with one power iteration, which the setting assumes
    # [pfnet-research/sngan_projection configs/sn_cifar10_unconditional.yml;
    # dis_models/resblocks.py, source/links/sn_linear.py]. SNGAN has no toy experiment:
    # the mixtures get the same set-up.
    training = for_every_family(
        paper_setup(
            adam(2e-4, (0.0, 0.9)),
            "SNGAN code (pfnet-research/sngan_projection): Adam 2e-4, (0, 0.9), n_dis 5, SN in D",
            n_critic=5,
            regularizers={"spectral_norm": {"power_iterations": 1}},
        )
    )

    def d_loss(self, real_out, fake_out):
        return F.relu(1.0 - real_out).mean() + F.relu(1.0 + fake_out).mean()

    def g_loss(self, fake_out, real_out=None):
        return -fake_out.mean()

    # compare_gan v1's wide ranges (as for the GAN losses; see gans/space.py)
    search_space = {**LEARNING_RATES, **ADAM_BETA1, **CRITIC_STEPS}
