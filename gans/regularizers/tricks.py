"""Training tricks from the GAN folklore, as regularizers any run may switch on."""

from __future__ import annotations

import torch

from gans.regularizers import REGULARIZERS, Regularizer
from gans.space import log_uniform, uniform


@REGULARIZERS.register("instance_noise")
class InstanceNoise(Regularizer):
    """Gaussian noise on every input of D, real and fake, annealed linearly from
    ``std`` to 0 at ``anneal_until`` (a fraction of training) (Sønderby et al. 2017):
    it makes the two distributions overlap, so D's gradients stay informative.
    ``anneal: false`` keeps ``std`` throughout (the fixed noise of Mescheder et al.'s
    analysis, 2018)."""

    param_schema = {"std": {"minimum": 0}, "anneal_until": {"exclusiveMinimum": 0, "maximum": 1}}
    defaults = {"std": 0.1, "anneal_until": 1.0, "anneal": True}
    search_space = {"regularizers.instance_noise.std": log_uniform(0.01, 1.0)}
    stackable = True

    def inputs(self, x, progress):
        decay = max(0.0, 1.0 - progress / self.anneal_until) if self.anneal else 1.0
        if decay == 0 or (not isinstance(self.std, torch.Tensor) and self.std == 0):
            return x
        return x + self.member_view(self.std, x) * decay * self.randn(x)


@REGULARIZERS.register("label_smoothing")
class OneSidedLabelSmoothing(Regularizer):
    """One-sided label smoothing (Salimans et al. 2016): D's target on real data is
    ``real_label`` (0.9) instead of 1. For the logit losses BCE(r, t) =
    BCE(r, 1) + (1 - t) r, so this is a penalty of (1 - t) E[D's logit on real]."""

    losses = ("minimax", "nonsaturating")
    param_schema = {"real_label": {"exclusiveMinimum": 0, "maximum": 1}}
    defaults = {"real_label": 0.9}
    # the paper's 0.9 and its ImageNet code's 0.75 inside
    search_space = {"regularizers.label_smoothing.real_label": uniform(0.7, 1.0)}
    stackable = True

    def penalty(self, discriminator, real, fake, real_out, fake_out):
        return (1.0 - self.real_label) * real_out.flatten(self.lead - 1).mean(-1)
