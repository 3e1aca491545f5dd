"""PacGAN (Lin et al., 2018): the discriminator judges m samples at once, packed
side by side (features of points, channels of images), which penalises a
generator whose samples lack diversity.

As in the authors' code, the batch size counts packs: a batch of B gives D B packs
of m real samples and B packs of m generated ones, and G draws B x m samples per
update [fjxmlzn/PacGAN pacgan/datasets.py L73-83, pacgan/bricks.py L62-67].

Stacked (a population, gans/stacking.py), every tensor has a member dimension in
front: packing and D's repeats act on the batch dimension after it, and each member
draws B x m samples from its own streams as it would alone."""

from __future__ import annotations

import torch

from gans.space import choice
from gans.variants import VARIANTS
from gans.variants.gan import GAN


def pack(x: torch.Tensor, m: int, dim: int = 0) -> torch.Tensor:
    """(..., B, C, ...) -> (..., B/m, m*C, ...), B at ``dim``: m consecutive samples
    become one input (their features, or channels, side by side)."""
    lead, (b, c), rest = x.shape[:dim], x.shape[dim : dim + 2], x.shape[dim + 2 :]
    return x.reshape(*lead, b // m, m * c, *rest)


@VARIANTS.register("pacgan")
class PacGAN(GAN):
    reference = "Lin et al. 2018"
    param_schema = {"pack": {"minimum": 2}}
    defaults = {"pack": 2}
    # the packing degrees of the paper's Table 1 (PacGAN2 to PacGAN4); batch_size must be a multiple of each
    search_space = {"variant.params.pack": choice(2, 3, 4)}

    def make_discriminator(self):
        shape = self.dataset.shape
        return self.arch.discriminator((self.pack * shape[0], *shape[1:]))

    def real_batch(self, n, generator):
        return super().real_batch(n * self.pack, generator)

    def g_step(self, batch_size, record=False):
        return super().g_step(batch_size * self.pack, record)

    def d_outputs(self, x):
        return self.discriminator(pack(x, self.pack, self._batch_dim()))

    def discriminate(self, x):
        # a single sample is judged as a pack of m copies of itself
        return super().discriminate(x.repeat_interleave(self.pack, dim=self._batch_dim()))
