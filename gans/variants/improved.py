"""The Improved-GAN techniques (Salimans et al., 2016), each switched on or off by
the variant's parameters:
  feature_matching        G matches the mean of D's trunk features on real data
                          instead of fooling D's output
  minibatch_features      minibatch discrimination: D's head also sees, for each
                          sample, its L1 closeness to the others in the batch
                          (0 = off; else the number of kernels B)
  real_label              one-sided label smoothing for the logit losses (1.0 = off;
                          the paper used 0.9)
  historical_averaging    weight of ||theta - mean of past theta||^2 for both players
Virtual batch normalisation is not implemented yet: the MLP generators have no
batch-norm layers for it to act on."""
from __future__ import annotations

import torch
from torch import nn

from gans.architectures import Discriminator
from gans.regularizers.tricks import OneSidedLabelSmoothing
from gans.variants import VARIANTS
from gans.variants.gan import GAN


class MinibatchDiscrimination(nn.Module):
    """o(x_i)_b = sum_j exp(-||M_ib - M_jb||_1), M = f(x) T, T of shape (A, B, C)."""

    def __init__(self, in_features: int, kernels: int, kernel_dim: int):
        super().__init__()
        self.kernels, self.kernel_dim = kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(in_features, kernels * kernel_dim) * 0.1)

    def forward(self, f):
        m = (f @ self.T).view(-1, self.kernels, self.kernel_dim)
        l1 = (m.unsqueeze(0) - m.unsqueeze(1)).abs().sum(3)  # (N, N, B)
        return torch.exp(-l1).sum(1) - 1  # minus each sample's closeness to itself


class MinibatchDiscriminator(Discriminator):
    def __init__(self, base: Discriminator, kernels: int, kernel_dim: int):
        super().__init__(base.trunk, base.feature_dim)
        self.mbd = MinibatchDiscrimination(base.feature_dim, kernels, kernel_dim)
        self.head = nn.Linear(base.feature_dim + kernels, 1)

    def forward(self, x):
        f = self.features(x)
        return self.head(torch.cat([f, self.mbd(f)], dim=1)).squeeze(-1)


@VARIANTS.register("improved")
class ImprovedGAN(GAN):
    reference = "Salimans et al. 2016"
    defaults = {"feature_matching": True, "minibatch_features": 8, "minibatch_kernel_dim": 4,
                "real_label": 1.0, "historical_averaging": 0.0}

    @classmethod
    def check(cls, run_cfg):
        p = cls.resolve_params(run_cfg["variant"]["params"])
        if p["real_label"] != 1.0 and run_cfg["loss"]["name"] not in OneSidedLabelSmoothing.losses:
            raise ValueError(f"real_label {p['real_label']} (label smoothing) needs a logit loss "
                             f"({', '.join(OneSidedLabelSmoothing.losses)}); set real_label: 1.0 for others")

    def build(self):
        super().build()
        if self.real_label != 1.0:
            self.regularizers.append(OneSidedLabelSmoothing(real_label=self.real_label))
        self.history: dict[str, dict[str, torch.Tensor]] = {"d": {}, "g": {}}
        self.updates = {"d": 0, "g": 0}

    def make_discriminator(self):
        base = self.arch.discriminator(self.dataset.shape)
        if not self.minibatch_features:
            return base
        return MinibatchDiscriminator(base, self.minibatch_features, self.minibatch_kernel_dim)

    def g_adversarial(self, fake_out):
        return torch.zeros((), device=self.device) if self.feature_matching else super().g_adversarial(fake_out)

    def g_extra(self, fake, info):
        terms = {}
        if self.feature_matching:
            real_f = self.discriminator.features(self.last_real).mean(0).detach()
            terms["feature_matching"] = ((self.discriminator.features(fake).mean(0) - real_f) ** 2).sum()
        if self.historical_averaging:
            terms["historical_averaging"] = self.averaging_penalty("g", self.generator)
        return terms

    def d_extra(self, real, fake, info):
        if not self.historical_averaging:
            return {}
        return {"historical_averaging": self.averaging_penalty("d", self.discriminator)}

    def averaging_penalty(self, player, module):
        past = self.history[player]
        if not past:
            return torch.zeros((), device=self.device)
        return self.historical_averaging * sum(((p - past[n]) ** 2).sum() for n, p in module.named_parameters())

    @torch.no_grad()
    def after_step(self, player):
        if not self.historical_averaging:
            return
        module = self.discriminator if player == "d" else self.generator
        self.updates[player] += 1
        t, past = self.updates[player], self.history[player]
        for n, p in module.named_parameters():
            past[n] = p.detach().clone() if n not in past else past[n] + (p.detach() - past[n]) / t
