"""InfoGAN (Chen et al., 2016): G's input is noise z plus latent codes c (one
categorical code of K values, some continuous codes in [-1, 1]); an auxiliary head
Q on D's trunk predicts c from G's samples, and the variational lower bound on the
mutual information I(c; G(z, c)) is added, weighted by lambda, to G's objective
and to Q's, which shares D's trunk and learns in D's update."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gans.space import log_uniform
from gans.variants import VARIANTS
from gans.variants.gan import GAN


@VARIANTS.register("infogan")
class InfoGAN(GAN):
    reference = "Chen et al. 2016"
    stackable = False  # its networks or steps are written for one seed
    param_schema = {
        "categories": {"minimum": 1},
        "continuous": {"minimum": 0},
        "lambda_cat": {"minimum": 0},
        "lambda_cont": {"minimum": 0},
    }
    defaults = {"categories": 10, "continuous": 2, "lambda_cat": 1.0, "lambda_cont": 1.0}
    setups = {
        # the authors' MNIST launcher: one 10-way categorical code, 2 continuous codes in
        # [-1, 1], lambda 1 for both (Q's Gaussian has its std fixed to 1)
        # [openai/InfoGAN launchers/run_mnist_exp.py L36-41, L60; distributions.py]
        "images": {"continuous": 2, "lambda_cat": 1.0, "lambda_cont": 1.0},
        # the paper has no 2-D experiment: the categorical code alone, one value per mode
        # (a continuous code would enlarge G's input, which on its own collapses a plain GAN)
        "points": {"continuous": 0, "lambda_cat": 1.0, "lambda_cont": 1.0},
    }
    # searched around the authors' lambda of 1, continuous codes' weight below it
    search_space = {
        "variant.params.lambda_cat": log_uniform(0.1, 10.0),
        "variant.params.lambda_cont": log_uniform(0.01, 1.0),
    }

    @classmethod
    def setup(cls, family, dataset):
        """The family's set-up with the categorical code sized to the data's classes
        (modes of a mixture, digit classes), as the paper sized it to MNIST's 10."""
        params = super().setup(family, dataset)
        if dataset.labeled:
            params["categories"] = dataset.num_classes
        return params

    @classmethod
    def latent_size(cls, params, noise_dim, dataset):
        return noise_dim + params["categories"] + params["continuous"]

    def latent_dim(self):
        return self.noise_dim + self.categories + self.continuous

    def latent(self, n, generator=None):
        z = torch.randn(n, self.noise_dim, device=self.device, generator=generator)
        cat = torch.randint(self.categories, (n,), device=self.device, generator=generator)
        cont = torch.rand(n, self.continuous, device=self.device, generator=generator) * 2 - 1
        return self.code_input(z, cat, cont), {"cat": cat, "cont": cont}

    def code_input(self, z, cat, cont):
        return torch.cat([z, F.one_hot(cat, self.categories).to(z.dtype), cont], dim=1)

    def extra_modules(self):
        width = self.discriminator.feature_dim
        q = nn.Sequential(
            nn.Linear(width, width), nn.LeakyReLU(0.1), nn.Linear(width, self.categories + self.continuous)
        )
        return {"q": q}

    def q_outputs(self, x):
        out = self.extras["q"](self.discriminator.features(x))
        return out[:, : self.categories], out[:, self.categories :]

    def d_extra(self, real, fake, info):
        return self.info_terms(fake, info)

    def g_extra(self, fake, info):
        return self.info_terms(fake, info)

    def info_terms(self, fake, info):
        logits, cont_mean = self.q_outputs(fake)
        # -log Q(c|x): cross-entropy for the categorical code; a unit-variance Gaussian
        # for the continuous ones (the constant dropped)
        terms = {"info_cat": self.lambda_cat * F.cross_entropy(logits, info["cat"])}
        if self.continuous:
            terms["info_cont"] = self.lambda_cont * 0.5 * ((cont_mean - info["cont"]) ** 2).sum(1).mean()
        return terms

    @torch.no_grad()
    def predict_codes(self, x):
        logits, cont = self.q_outputs(x)
        return logits.argmax(1), cont
