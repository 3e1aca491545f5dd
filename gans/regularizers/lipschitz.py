"""Ways to keep a Wasserstein critic (roughly) 1-Lipschitz, and the zero-centred
gradient penalties R1 (on real data) and R2 (on generated samples)."""

from __future__ import annotations

import torch
from torch import nn

from gans.regularizers import REGULARIZERS, Regularizer
from gans.space import log_uniform


@REGULARIZERS.register("gradient_penalty")
class GradientPenalty(Regularizer):
    """WGAN-GP: weight * E[(||grad D(x_hat)||_2 - 1)^2] on random interpolates x_hat."""

    param_schema = {"weight": {"minimum": 0}, "target": {"minimum": 0}}
    defaults = {"weight": 10.0, "target": 1.0}
    # compare_gan v1's wide range for lambda, 10^U[-1, 2]
    search_space = {"regularizers.gradient_penalty.weight": log_uniform(0.1, 100.0)}
    stackable = True
    differentiates_input = True

    def penalty(self, discriminator, real, fake, real_out=None, fake_out=None):
        eps = self.rand(real.shape[: self.lead] + (1,) * (real.dim() - self.lead), real)
        x_hat = (eps * real + (1 - eps) * fake.detach()).requires_grad_(True)
        out = discriminator(x_hat)
        (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
        norms = grad.flatten(self.lead).norm(2, dim=-1)
        return self.weight * ((norms - self.target) ** 2).mean(-1)


@REGULARIZERS.register("r1")
class R1(Regularizer):
    """R1 (Mescheder et al. 2018): weight/2 * E_real[||grad D(x)||^2], zero-centred
    on the data only."""

    param_schema = {"weight": {"minimum": 0}}
    defaults = {"weight": 10.0}
    # the range of the gradient penalty's weight (compare_gan v1's lambda)
    search_space = {"regularizers.r1.weight": log_uniform(0.1, 100.0)}
    stackable = True
    differentiates_input = True

    def penalty(self, discriminator, real, fake, real_out=None, fake_out=None):
        x = real.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(discriminator(x).sum(), x, create_graph=True)
        return 0.5 * self.weight * grad.flatten(self.lead).pow(2).sum(-1).mean(-1)


@REGULARIZERS.register("r2")
class R2(Regularizer):
    """R2 (Mescheder et al. 2018): weight/2 * E_fake[||grad D(x)||^2], zero-centred
    on the generated samples; with R1, R3GAN's pair of penalties (Huang et al. 2024)."""

    param_schema = {"weight": {"minimum": 0}}
    defaults = {"weight": 10.0}
    # the range of R1's weight
    search_space = {"regularizers.r2.weight": log_uniform(0.1, 100.0)}
    stackable = True
    differentiates_input = True

    def penalty(self, discriminator, real, fake, real_out=None, fake_out=None):
        x = fake.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(discriminator(x).sum(), x, create_graph=True)
        return 0.5 * self.weight * grad.flatten(self.lead).pow(2).sum(-1).mean(-1)


@REGULARIZERS.register("spectral_norm")
class SpectralNorm(Regularizer):
    """Spectral normalisation (Miyato et al. 2018) of every linear and conv layer of D.
    Stackable: a population stacks each member's normalised linear layers, with each
    member's own power iteration (gans/stacking.py, ``SeedSpectralNorm``); conv layers
    do not stack (``check_stackable``)."""

    param_schema = {"power_iterations": {"minimum": 1}}
    defaults = {"power_iterations": 1}
    stackable = True

    def wrap(self, discriminator):
        for module in list(discriminator.modules()):
            if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)):
                nn.utils.parametrizations.spectral_norm(module, n_power_iterations=self.power_iterations)
        return discriminator


@REGULARIZERS.register("weight_clipping")
class WeightClipping(Regularizer):
    """WGAN: clamp every critic parameter to [-clip, clip] after each update."""

    param_schema = {"clip": {"exclusiveMinimum": 0}}
    defaults = {"clip": 0.01}
    # compare_gan v1's wide range for the clip value, 10^U[-3, 0]
    search_space = {"regularizers.weight_clipping.clip": log_uniform(1e-3, 1.0)}
    stackable = True  # element-wise

    @torch.no_grad()
    def after_d_step(self, discriminator):
        for p in discriminator.parameters():
            clip = self.member_view(self.clip, p)
            p.clamp_(-clip, clip)
