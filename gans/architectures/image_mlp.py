"""Fully connected networks for images (the original GAN papers' MNIST MLPs):
G 256-512-1024 with LeakyReLU(0.2) and a tanh output reshaped to the image,
D 512-256 with LeakyReLU(0.2). Registered apart from the points ``mlp``, whose
width/depth parameters do not describe this layout."""

from __future__ import annotations

import math

from torch import nn

from gans.architectures import ARCHITECTURES, Architecture, Discriminator


def leaky_stack(in_dim: int, widths: list[int]) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for width in widths:
        layers += [nn.Linear(in_dim, width), nn.LeakyReLU(0.2, True)]
        in_dim = width
    return layers


@ARCHITECTURES.register("image-mlp")
class ImageMLP(Architecture):
    modalities = ("images",)
    param_schema = {
        "g_widths": {"minItems": 1, "items": {"type": "integer", "minimum": 1}},
        "d_widths": {"minItems": 1, "items": {"type": "integer", "minimum": 1}},
    }
    defaults = {"g_widths": [256, 512, 1024], "d_widths": [512, 256]}

    def generator(self, data_shape, noise_dim):
        return nn.Sequential(
            *leaky_stack(noise_dim, self.g_widths),
            nn.Linear(self.g_widths[-1], math.prod(data_shape)),
            nn.Tanh(),
            nn.Unflatten(1, tuple(data_shape)),
        )

    def discriminator(self, data_shape, out_dim=1):
        trunk = nn.Sequential(nn.Flatten(), *leaky_stack(math.prod(data_shape), self.d_widths))
        return Discriminator(trunk, self.d_widths[-1], out_dim)
