"""The relativistic pairing GAN, RpGAN (Jolicoeur-Martineau 2019), as R3GAN trains it
(Huang et al. 2024, "The GAN is dead; long live the GAN!"): each generated sample is
paired with a real one and D scores their difference,

    D minimises E[softplus(D(G(z)) - D(x))],   G minimises E[softplus(D(x) - D(G(z)))],

averaged over the pairs (the i-th real with the i-th fake of a batch). With the
zero-centred penalties R1 and R2 (both in gans/regularizers/lipschitz.py) it is
R3GAN's objective."""

from __future__ import annotations

import torch.nn.functional as F

from gans.components import for_every_family
from gans.losses import LOSSES, Loss, adam, paper_setup
from gans.space import ADAM_BETA1, CRITIC_STEPS, LEARNING_RATES


@LOSSES.register("rpgan")
class RpGAN(Loss):
    reference = "Jolicoeur-Martineau 2019; Huang et al. 2024 (R3GAN)"
    g_needs_real = True
    # VAE-GAN pools its reconstructions with the fakes, so they have no real partner
    excluded_variants = {"vaegan": "rpgan pairs each fake with one real sample; VAE-GAN's pooled fakes have none"}
    # R3GAN's CIFAR-10 preset at the start of its schedules: Adam lr 2e-4, betas (0, 0.9),
    # gamma 0.05 for R1 and R2 alike, one D step per G step [brownvc/R3GAN train.py,
    # preset CIFAR10: lr, gamma and beta2 schedulers' base values; G_opt/D_opt betas].
    # R3GAN has no toy experiment: the 2-D mixtures get the same set-up.
    training = for_every_family(
        paper_setup(
            adam(2e-4, (0.0, 0.9)),
            "R3GAN code (brownvc/R3GAN train.py, CIFAR10 preset, schedules' start): "
            "Adam 2e-4, (0, 0.9), R1 and R2 gamma 0.05",
            regularizers={"r1": {"weight": 0.05}, "r2": {"weight": 0.05}},
        )
    )
    search_space = {**LEARNING_RATES, **ADAM_BETA1, **CRITIC_STEPS}

    def d_loss(self, real_out, fake_out):
        _check_pairs(real_out, fake_out)
        return F.softplus(fake_out - real_out).mean()

    def g_loss(self, fake_out, real_out=None):
        if real_out is None:
            raise ValueError("rpgan's generator loss pairs each fake with a real sample: pass D's real outputs")
        _check_pairs(real_out, fake_out)
        return F.softplus(real_out - fake_out).mean()

    def d_equilibrium(self):
        return 0.0  # D(x) - D(G(z)) = 0 on every pair when p_g = p_data


def _check_pairs(real_out, fake_out) -> None:
    if real_out.shape != fake_out.shape:
        raise ValueError(
            f"rpgan pairs real and fake samples one to one; got {tuple(real_out.shape)} real "
            f"and {tuple(fake_out.shape)} fake outputs"
        )
