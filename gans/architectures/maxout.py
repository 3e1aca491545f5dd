"""The networks of PacGAN's 2-D experiments (which took them from ALI's code): a
ReLU MLP generator with batch norm before every ReLU, and a maxout discriminator.

  G: noise -> g_depth x [Linear(g_width, no bias) -> BatchNorm -> ReLU] -> Linear(2)
  D: d_depth x maxout(d_width units of `pieces` linear pieces) -> Linear(1)

every weight drawn from N(0, init_std^2), biases 0; batch norm's running statistics
updated with momentum 0.05 [fjxmlzn/PacGAN synthetic_data_experiments/
2DRing_GAN&PacGAN/pacgan_task.py L43-94, L149; config.py L17-22].
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gans.architectures import ARCHITECTURES, Architecture, Discriminator


class Maxout(nn.Module):
    """``units`` outputs, each the largest of ``pieces`` linear functions of the
    input (Goodfellow et al. 2013)."""

    # acts on the last dimension through its linear layer: a population stacks it (gans/stacking.py)
    stacks_over_members = True

    def __init__(self, in_dim: int, units: int, pieces: int):
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(in_dim, units * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).unflatten(-1, (self.units, self.pieces)).amax(-1)


def normal_init(module: nn.Module, std: float) -> nn.Module:
    """Every linear weight from N(0, std^2), every bias 0 (batch norm keeps 1 and 0)."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, 0.0, std)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
    return module


@ARCHITECTURES.register("maxout-mlp")
class MaxoutMLP(Architecture):
    modalities = ("points",)
    defaults = {
        "g_width": 400,
        "g_depth": 4,
        "d_width": 200,
        "d_depth": 3,
        "pieces": 5,
        "init_std": 0.02,
        "bn_momentum": 0.05,
    }

    def generator(self, data_shape, noise_dim):
        layers: list[nn.Module] = []
        width = noise_dim
        for _ in range(self.g_depth):
            layers += [
                nn.Linear(width, self.g_width, bias=False),
                nn.BatchNorm1d(self.g_width, momentum=self.bn_momentum),
                nn.ReLU(),
            ]
            width = self.g_width
        layers.append(nn.Linear(width, math.prod(data_shape)))
        return normal_init(nn.Sequential(*layers), self.init_std)

    def discriminator(self, data_shape, out_dim=1):
        layers = [
            Maxout(math.prod(data_shape) if i == 0 else self.d_width, self.d_width, self.pieces)
            for i in range(self.d_depth)
        ]
        return normal_init(Discriminator(nn.Sequential(*layers), self.d_width, out_dim), self.init_std)
