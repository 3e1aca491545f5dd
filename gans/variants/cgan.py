"""Conditional GAN (Mirza & Osindero, 2014): G and D both see the class label.

A labelled sample travels as the data with its one-hot label attached (extra
features for points, constant label planes for images), so the plain game's
updates, losses and regularizers apply unchanged. A composite label is one-hot
per factor (the dataset's label_factors): Stacked MNIST's digit triple is 3 x 10
planes, not 1,000."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gans.datasets import DATASETS
from gans.variants import VARIANTS
from gans.variants.gan import GAN


def label_code(labels: torch.Tensor, factors: tuple[int, ...]) -> torch.Tensor:
    """Each label as the concatenated one-hots of its mixed-radix digits (most
    significant first); for one factor, the plain one-hot."""
    digits = []
    for base in reversed(factors):
        digits.append(F.one_hot(labels % base, base))
        labels = torch.div(labels, base, rounding_mode="floor")
    return torch.cat(digits[::-1], dim=1)


@VARIANTS.register("cgan")
class ConditionalGAN(GAN):
    reference = "Mirza & Osindero 2014"
    stackable = False  # its networks or steps are written for one seed
    conditional = True

    @classmethod
    def check(cls, run_cfg):
        dataset = run_cfg["dataset"]["name"]
        if not DATASETS.get(dataset).labeled:
            labeled = ", ".join(n for n, d in DATASETS.items() if d.labeled)
            raise ValueError(f"cgan needs class labels, which dataset '{dataset}' lacks; labelled datasets: {labeled}")

    @classmethod
    def latent_size(cls, params, noise_dim, dataset):
        return noise_dim + sum(dataset.label_factors)

    @property
    def classes(self) -> int:
        return self.dataset.num_classes

    @property
    def code_dim(self) -> int:
        """Width of a label's code: one one-hot block per label factor."""
        return sum(self.dataset.label_factors)

    def latent_dim(self):
        return self.noise_dim + self.code_dim

    def latent(self, n, generator=None, labels=None):
        z = torch.randn(n, self.noise_dim, device=self.device, generator=generator)
        if labels is None:
            labels = torch.randint(self.classes, (n,), device=self.device, generator=generator)
        return torch.cat([z, self.one_hot(labels, z)], dim=1), {"labels": labels}

    def one_hot(self, labels, like):
        return label_code(labels, self.dataset.label_factors).to(like.dtype)

    def attach(self, x, labels):
        """x with its one-hot label appended along the feature/channel axis."""
        onehot = self.one_hot(labels, x)
        return torch.cat([x, onehot.view(*onehot.shape, *(1,) * (x.dim() - 2)).expand(-1, -1, *x.shape[2:])], dim=1)

    def make_discriminator(self):
        shape = self.dataset.shape
        return self.arch.discriminator((shape[0] + self.code_dim, *shape[1:]))

    def generate(self, z, info):
        return self.attach(self.generator(z), info["labels"])

    def data_part(self, x):
        return x[:, : self.dataset.shape[0]]

    def real_batch(self, n, generator):
        x, labels = self.dataset.sample_labeled(n, generator, self.device)
        return self.attach(x, labels)

    @torch.no_grad()
    def sample_class(self, n, label, generator=None):
        labels = torch.full((n,), label, dtype=torch.long, device=self.device)
        return self.data_part(self.generate(*self.latent(n, generator, labels)))

    @torch.no_grad()
    def discriminate(self, x):
        # a point scored under its most 'real' label
        scores = [
            self.loss.d_score(self.d_outputs(self.attach(x, torch.full((len(x),), c, device=x.device))))
            for c in range(self.classes)
        ]
        return torch.stack(scores).max(0).values
