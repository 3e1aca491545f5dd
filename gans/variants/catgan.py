"""CatGAN (Springenberg, 2016): the discriminator is a K-way classifier trained
with the entropy objectives of the ``catgan`` loss."""
from __future__ import annotations

from gans.variants import VARIANTS
from gans.variants.gan import GAN


@VARIANTS.register("catgan")
class CatGAN(GAN):
    reference = "Springenberg 2016"
    supported_losses = ("catgan",)
    defaults = {"classes": 10}

    def make_discriminator(self):
        return self.arch.discriminator(self.dataset.shape, out_dim=self.classes)
