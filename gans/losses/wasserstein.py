"""Wasserstein GAN: the critic estimates W1 via Kantorovich-Rubinstein duality,
which needs a 1-Lipschitz critic: weight clipping (Arjovsky et al., 2017) or a
gradient penalty on interpolates (Gulrajani et al., 2017), set as regularizers."""

from __future__ import annotations

from gans.losses import LOSSES, Loss, adam, paper_setup
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
    # Algorithm 1: RMSProp, lr 5e-5, clip 0.01, n_critic 5; the WGAN-GP authors' toy
    # and image code run WGAN with the same values [igul222/improved_wgan_training
    # gan_toy.py L109-133, gan_mnist.py L112-132].
    training = {
        family: paper_setup(
            {"name": "rmsprop", "lr_d": 5e-5, "lr_g": 5e-5},
            source,
            n_critic=5,
            regularizers={"weight_clipping": {"clip": 0.01}},
        )
        for family, source in (
            ("points", "WGAN-GP toy code (gan_toy.py, mode wgan): RMSProp 5e-5, clip 0.01, 5 critic steps"),
            ("images", "Arjovsky et al. 2017, Algorithm 1: RMSProp 5e-5, clip 0.01, n_critic 5"),
        )
    }


@LOSSES.register("wgan-gp")
class WGANGP(Wasserstein):
    # compare_gan v1's wide ranges; the penalty weight's range comes with gradient_penalty
    search_space = {**LEARNING_RATES, **ADAM_BETA1, **CRITIC_STEPS}
    reference = "Gulrajani et al. 2017"
    training = {
        # the authors' toy code: Adam 1e-4, betas (0.5, 0.9), lambda 0.1 ("smaller lambda
        # is faster for toy tasks"), 5 critic steps [gan_toy.py L23-25, L88-105]
        "points": paper_setup(
            adam(1e-4, (0.5, 0.9)),
            "WGAN-GP toy code (igul222/improved_wgan_training gan_toy.py): Adam 1e-4, (0.5, 0.9), lambda 0.1",
            n_critic=5,
            regularizers={"gradient_penalty": {"weight": 0.1}},
        ),
        # the authors' DCGAN-network image code: Adam 1e-4, betas (0.5, 0.9), lambda 10,
        # 5 critic steps [gan_mnist.py L25-26, L134-161; gan_cifar.py L26-31]
        # (the paper's Algorithm 1 lists beta1 0, used with its ResNets)
        "images": paper_setup(
            adam(1e-4, (0.5, 0.9)),
            "WGAN-GP image code (gan_mnist.py, gan_cifar.py): Adam 1e-4, (0.5, 0.9), lambda 10",
            n_critic=5,
            regularizers={"gradient_penalty": {"weight": 10.0}},
        ),
        # the Dirac-GAN's shared set-up (gans/config/setups.py) with the loss's penalty,
        # weight 1 (ours): it pulls |psi| to 1, so the equilibrium is not a fixed point
        # (Mescheder et al. 2018, Sec. 3.2)
        "dirac": paper_setup(
            {"name": "sgd", "lr_d": 0.1, "lr_g": 0.1},
            "Mescheder et al. 2018, Dirac-GAN with WGAN-GP: alternating gradient descent, lr 0.1, lambda 1 (ours)",
            regularizers={"gradient_penalty": {"weight": 1.0}},
        ),
    }
