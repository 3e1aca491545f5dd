"""Wasserstein GAN: the critic estimates W1 via Kantorovich-Rubinstein duality,
which needs a 1-Lipschitz critic: weight clipping (Arjovsky et al., 2017) or a
gradient penalty on interpolates (Gulrajani et al., 2017), set as regularizers."""

from __future__ import annotations

from gans.losses import LOSSES, Loss
from gans.space import ADAM_BETA1, CRITIC_STEPS, LEARNING_RATES


class Wasserstein(Loss):
    def d_loss(self, real_out, fake_out):
        return fake_out.mean() - real_out.mean()

    def g_loss(self, fake_out, real_out=None):
        return -fake_out.mean()


@LOSSES.register("wgan")
class WGAN(Wasserstein):
    # compare_gan v1's wide ranges; the clip value's range comes with weight_clipping.
    # Adam's beta1 is searched only where the set-up's optimizer is Adam (not RMSProp).
    search_space = {**LEARNING_RATES, **ADAM_BETA1, **CRITIC_STEPS}
    reference = "Arjovsky et al. 2017"
    # Algorithm 1: RMSProp, lr 5e-5, clip 0.01, n_critic 5.
    training = {
        "optimizer": {"name": "rmsprop", "lr_d": 5e-5, "lr_g": 5e-5},
        "n_critic": 5,
        "regularizers": {"weight_clipping": {"clip": 0.01}},
    }


@LOSSES.register("wgan-gp")
class WGANGP(Wasserstein):
    # compare_gan v1's wide ranges; the penalty weight's range comes with gradient_penalty
    search_space = {**LEARNING_RATES, **ADAM_BETA1, **CRITIC_STEPS}
    reference = "Gulrajani et al. 2017"
    # Algorithm 1: Adam lr 1e-4, beta1 0, beta2 0.9, lambda 10, n_critic 5.
    training = {
        "optimizer": {"name": "adam", "lr_d": 1e-4, "lr_g": 1e-4, "betas": [0.0, 0.9]},
        "n_critic": 5,
        "regularizers": {"gradient_penalty": {"weight": 10.0}},
    }
