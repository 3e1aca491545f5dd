"""Ways to keep a Wasserstein critic (roughly) 1-Lipschitz."""
from __future__ import annotations

import torch

from gans.regularizers import REGULARIZERS, Regularizer


@REGULARIZERS.register("gradient_penalty")
class GradientPenalty(Regularizer):
    """WGAN-GP: weight * E[(||grad D(x_hat)||_2 - 1)^2] on random interpolates x_hat."""

    defaults = {"weight": 10.0, "target": 1.0}

    def penalty(self, discriminator, real, fake):
        eps_shape = (real.shape[0],) + (1,) * (real.dim() - 1)
        eps = torch.rand(eps_shape, device=real.device, dtype=real.dtype)
        x_hat = (eps * real + (1 - eps) * fake.detach()).requires_grad_(True)
        out = discriminator(x_hat)
        (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
        norms = grad.flatten(1).norm(2, dim=1)
        return self.weight * ((norms - self.target) ** 2).mean()


@REGULARIZERS.register("weight_clipping")
class WeightClipping(Regularizer):
    """WGAN: clamp every critic parameter to [-clip, clip] after each update."""

    defaults = {"clip": 0.01}

    @torch.no_grad()
    def after_d_step(self, discriminator):
        for p in discriminator.parameters():
            p.clamp_(-self.clip, self.clip)
