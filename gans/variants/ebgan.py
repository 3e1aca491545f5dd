"""EBGAN (Zhao et al., 2017): the discriminator is an auto-encoder and its output
is the energy, the per-sample reconstruction error. The encoder is the
architecture's discriminator trunk, the decoder its generator (fed the code), so
EBGAN works with every registered architecture. The pulling-away term (EBGAN-PT)
is an option."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gans.space import choice
from gans.variants import VARIANTS
from gans.variants.gan import GAN

ENERGIES = ("norm", "mean-square")


class AutoEncoder(nn.Module):
    """D as an auto-encoder; its output, the energy of each sample, is the Euclidean
    norm of the reconstruction error (``norm``: the paper's D(x) = ||Dec(Enc(x)) - x||)
    or its mean square over the coordinates (``mean-square``)."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module, feature_dim: int, energy: str = "norm"):
        super().__init__()
        self.encoder, self.decoder, self.feature_dim, self.energy = encoder, decoder, feature_dim, energy

    def features(self, x):
        return self.encoder(x)

    def reconstruct(self, x):
        return self.decoder(self.encoder(x))

    def forward(self, x):
        error = (self.reconstruct(x) - x).flatten(1)
        if self.energy == "norm":
            return error.pow(2).sum(1).add(1e-12).sqrt()  # finite gradient at a perfect reconstruction
        return error.pow(2).mean(1)


def pulling_away(s: torch.Tensor) -> torch.Tensor:
    """Mean squared cosine similarity between distinct codes of a batch."""
    s = F.normalize(s.flatten(1), dim=1)
    n = s.shape[0]
    cos2 = (s @ s.T) ** 2
    return (cos2.sum() - cos2.diagonal().sum()) / (n * (n - 1))


@VARIANTS.register("ebgan")
class EBGAN(GAN):
    reference = "Zhao et al. 2017"
    stackable = False  # its networks or steps are written for one seed
    supported_losses = ("ebgan",)
    param_schema = {"code_dim": {"minimum": 1}, "pull_away_weight": {"minimum": 0}, "energy": {"enum": list(ENERGIES)}}
    defaults = {"code_dim": 32, "pull_away_weight": 0.0, "energy": "norm"}
    # EBGAN or EBGAN-PT, with the paper's pulling-away weight 0.1
    search_space = {"variant.params.pull_away_weight": choice(0.0, 0.1)}

    def make_discriminator(self):
        plain = self.arch.discriminator(self.dataset.shape)
        encoder = nn.Sequential(plain.trunk, nn.Linear(plain.feature_dim, self.code_dim))
        decoder = self.arch.generator(self.dataset.shape, self.code_dim)
        return AutoEncoder(encoder, decoder, self.code_dim, self.energy)

    def g_extra(self, fake, info):
        if not self.pull_away_weight:
            return {}
        return {"pull_away": self.pull_away_weight * pulling_away(self.discriminator.features(fake))}
